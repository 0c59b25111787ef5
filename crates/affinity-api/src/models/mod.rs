//! Models of every Affinity API v1 resource (shared/docs/affinity-api-v1.md), following
//! the serde policy of the reference: unknown fields ignored, `null` accepted where a list
//! is expected, integer enums open (an unknown code is kept, not an error), `i64` ids,
//! offset-aware datetimes that also accept the legacy webhook format.

mod common;
mod entities;
mod lists;
mod misc;

pub use common::{
    Code, DropdownOption, EntityType, InteractionDates, InteractionRef, Interactions, ListEntryRef, Location, Page,
    PersonSummary, PersonType, Success, Timestamp,
};
pub use entities::{Opportunity, OpportunitySummary, Organization, Person, RelationshipStrength};
pub use lists::{
    ActionType, Field, FieldValue, FieldValueChange, FieldValueData, List, ListEntity, ListEntry, ValueType,
};
pub use misc::{
    Direction, EntityFile, Grant, Interaction, InteractionType, Note, NoteType, OrganizationMerged, RateLimit,
    RateLimitValue, RateLimits, RateWindow, Reminder, ReminderStatus, Tenant, WebhookEvent, WebhookSubscription,
    WhoAmI, WhoAmIUser,
};

use serde::{Deserialize, Deserializer};

/// Deserialises `null` as the type's default (an empty list, say).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
