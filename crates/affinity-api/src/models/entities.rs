//! Persons, organizations, opportunities and relationship strengths.

use serde::{Deserialize, Serialize};

use super::common::{InteractionDates, Interactions, ListEntryRef, PersonType};
use super::null_as_default;

/// A person (`GET /persons`, `GET /persons/{id}`, writes).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Person {
    /// The person's id.
    pub id: i64,
    /// Whether the person is external or internal (a colleague with an Affinity account).
    #[serde(default, rename = "type")]
    pub person_type: PersonType,
    /// The person's first name (empty when missing).
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    /// The person's last name (empty when missing).
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_name: String,
    /// The person's main email address.
    #[serde(default)]
    pub primary_email: Option<String>,
    /// Every email address of the person.
    #[serde(default, deserialize_with = "null_as_default")]
    pub emails: Vec<String>,
    /// On `GET /persons/{id}` and writes, not in search results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<i64>>,
    /// With `with_opportunities=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity_ids: Option<Vec<i64>>,
    /// With `with_current_organizations=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_organization_ids: Option<Vec<i64>>,
    /// On `GET /persons/{id}` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_entries: Option<Vec<ListEntryRef>>,
    /// First and last emails, meetings and chat messages (with `with_interaction_dates=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_dates: Option<InteractionDates>,
    /// The same interactions with, for each, the internal persons involved when asked for
    /// (with `with_interaction_dates=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactions: Option<Interactions>,
}

impl Person {
    /// "First Last", trimmed.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_owned()
    }

    /// The primary email, else the first one.
    pub fn email(&self) -> Option<&str> {
        self.primary_email.as_deref().or(self.emails.first().map(String::as_str))
    }
}

/// An organization (`GET /organizations`, `GET /organizations/{id}`, writes); also the
/// organization summary embedded elsewhere.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Organization {
    /// The organization's id.
    pub id: i64,
    /// The organization's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Its main domain (`acme.com`), if any.
    #[serde(default)]
    pub domain: Option<String>,
    /// Every domain of the organization.
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<String>,
    /// Its Crunchbase id, if known (no longer documented, still returned).
    #[serde(default)]
    pub crunchbase_uuid: Option<String>,
    /// Whether it comes from Affinity's global organization database rather than the team's
    /// own (its name and domain cannot be changed, nor can it be deleted).
    #[serde(default, deserialize_with = "null_as_default")]
    pub global: bool,
    /// On `GET /organizations/{id}` and writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<i64>>,
    /// With `with_opportunities=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity_ids: Option<Vec<i64>>,
    /// On `GET /organizations/{id}` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_entries: Option<Vec<ListEntryRef>>,
    /// First and last emails, meetings and chat messages (with `with_interaction_dates=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_dates: Option<InteractionDates>,
    /// The same interactions with, for each, the internal persons involved when asked for
    /// (with `with_interaction_dates=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactions: Option<Interactions>,
}

impl Organization {
    /// Every domain the organization has, `domain` first, lower-cased, without repeats.
    pub fn all_domains(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for d in self.domain.iter().chain(self.domains.iter()) {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if !d.is_empty() && !all.contains(&d) {
                all.push(d);
            }
        }
        all
    }
}

/// An opportunity summary (`{id, name}`), as embedded in list entries and reminders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunitySummary {
    /// The opportunity's id.
    pub id: i64,
    /// The opportunity's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

/// An opportunity (`GET /opportunities`, `GET /opportunities/{id}`, writes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    /// The opportunity's id.
    pub id: i64,
    /// The opportunity's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Ids of the persons associated with it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub person_ids: Vec<i64>,
    /// Ids of the organizations associated with it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_ids: Vec<i64>,
    /// Zero or one entry (empty when the key's user cannot see the list).
    #[serde(default, deserialize_with = "null_as_default")]
    pub list_entries: Vec<ListEntryRef>,
}

/// `GET /relationships-strengths`: how well a colleague knows an external person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationshipStrength {
    /// The internal person's id (a colleague).
    pub internal_id: i64,
    /// The external person's id.
    pub external_id: i64,
    /// Currently 0.0 to 1.0.
    #[serde(default)]
    pub strength: f64,
}
