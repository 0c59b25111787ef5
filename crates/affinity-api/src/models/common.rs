//! Shapes shared by many resources.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::null_as_default;

/// An offset-aware instant. Reads ISO 8601 with `Z` or `±hh:mm`, the legacy webhook form
/// `2021-11-11 06:58:31 -0800`, and bare dates (`2021-11-30`, taken as midnight UTC).
/// Writes ISO 8601 with milliseconds, keeping the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    /// Parses any of the accepted forms.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Timestamp(t));
        }
        for format in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"] {
            if let Ok(t) = DateTime::parse_from_str(s, format) {
                return Some(Timestamp(t));
            }
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
            return Some(Timestamp(FixedOffset::east_opt(0)?.from_utc_datetime(&t)));
        }
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(Timestamp(FixedOffset::east_opt(0)?.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?)))
    }

    /// ISO 8601 with milliseconds and the original offset.
    pub fn to_iso(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| de::Error::custom(format!("not a date or datetime: {s:?}")))
    }
}

/// An open integer enum: any code is kept; the named constants are the documented ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Code<K>(pub i64, #[serde(skip)] PhantomData<K>);

impl<K> Code<K> {
    /// The code with that number.
    pub const fn new(code: i64) -> Self {
        Code(code, PhantomData)
    }
    /// The number on the wire.
    pub const fn code(self) -> i64 {
        self.0
    }
}

impl<K> Default for Code<K> {
    fn default() -> Self {
        Code::new(0)
    }
}

/// Marker for [`EntityType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityTypeKind {}
/// List type and entity type: 0 person, 1 organization, 8 opportunity.
pub type EntityType = Code<EntityTypeKind>;
impl EntityType {
    /// A person (a person list).
    pub const PERSON: EntityType = Code::new(0);
    /// An organization (an organization list).
    pub const ORGANIZATION: EntityType = Code::new(1);
    /// An opportunity (an opportunity list).
    pub const OPPORTUNITY: EntityType = Code::new(8);
}

/// Marker for [`PersonType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonTypeKind {}
/// Person type: 0 external, 1 internal (a colleague with an Affinity account).
pub type PersonType = Code<PersonTypeKind>;
impl PersonType {
    /// Someone outside the team (the default).
    pub const EXTERNAL: PersonType = Code::new(0);
    /// A colleague: someone with an Affinity account on the team.
    pub const INTERNAL: PersonType = Code::new(1);
}

/// One page of a paged endpoint. Reads `{"<resource>": [...], "next_page_token": ...}`
/// whatever the resource key is (`persons`, `emails`, `list_entries`, …), and also a bare
/// array (a single, final page), which some endpoints return against their docs. Other keys
/// are ignored wherever they come, as in every model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// The token of the next page, sent back as `page_token`; `None` on the last page.
    pub next_page_token: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page { items: Vec::new(), next_page_token: None }
    }
}

/// The keys v1 (and v2, `data`) pages keep their items under.
const PAGE_KEYS: &[&str] = &[
    "persons",
    "organizations",
    "opportunities",
    "notes",
    "reminders",
    "entity_files",
    "emails",
    "events",
    "chat_messages",
    "interactions",
    "list_entries",
    "field_value_changes",
    "data",
];

impl<'de, T: DeserializeOwned> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PageVisitor<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for PageVisitor<T> {
            type Value = Page<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a page object or an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Page<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Page { items, next_page_token: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
                let mut items: Option<Vec<T>> = None;
                // An array under a key we do not know, read as items if it reads as them.
                let mut guess: Option<Vec<T>> = None;
                let mut next_page_token = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "next_page_token" {
                        next_page_token = match map.next_value::<serde_json::Value>()? {
                            serde_json::Value::String(t) => Some(t),
                            _ => None,
                        };
                    } else if items.is_none() && PAGE_KEYS.contains(&key.as_str()) {
                        // `null` is empty. Errors name the item that failed.
                        let value: Option<Vec<T>> = map.next_value()?;
                        items = Some(value.unwrap_or_default());
                    } else if items.is_none() && guess.is_none() {
                        let raw = map.next_value::<serde_json::Value>()?;
                        if raw.is_array() {
                            // Read again from its text, as the items are read from the
                            // body's: one deserializer's code for `T`, not two.
                            guess = serde_json::from_str(&raw.to_string()).ok();
                        }
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(Page {
                    items: items.or(guess).unwrap_or_default(),
                    next_page_token: next_page_token.filter(|t| !t.is_empty()),
                })
            }
        }
        d.deserialize_any(PageVisitor(PhantomData))
    }
}

/// `{"success": true}` from deletes and file uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Success {
    /// Whether the request succeeded.
    #[serde(default)]
    pub success: bool,
}

/// A person as embedded elsewhere (list entry `entity`, `changer`, interaction people…).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PersonSummary {
    /// The person's id.
    #[serde(default)]
    pub id: i64,
    /// Whether the person is external or internal.
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
}

impl PersonSummary {
    /// "First Last", trimmed.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_owned()
    }
}

/// A list entry as listed on a person, organization or opportunity (no `entity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEntryRef {
    /// The list entry's id.
    pub id: i64,
    /// The list it belongs to.
    pub list_id: i64,
    /// The user who added it, when known.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// The id of the person, organization or opportunity on the list.
    #[serde(default)]
    pub entity_id: Option<i64>,
    /// What kind of entity that is.
    #[serde(default)]
    pub entity_type: Option<EntityType>,
    /// When it was added to the list.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// An option of a dropdown or ranked dropdown field; also a ranked dropdown's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropdownOption {
    /// The option's id (what a ranked dropdown value is written as).
    pub id: i64,
    /// The option's text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// Its rank, for a ranked dropdown (lower comes first).
    #[serde(default)]
    pub rank: Option<i64>,
    /// Its colour, an undocumented integer code (0 to 6 seen).
    #[serde(default)]
    pub color: Option<i64>,
}

/// A location value. Every part may be missing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    /// The street address.
    #[serde(default)]
    pub street_address: Option<String>,
    /// The city.
    #[serde(default)]
    pub city: Option<String>,
    /// The state or region.
    #[serde(default)]
    pub state: Option<String>,
    /// The country.
    #[serde(default)]
    pub country: Option<String>,
    /// The continent.
    #[serde(default)]
    pub continent: Option<String>,
}

/// `interaction_dates` (with `with_interaction_dates=true`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InteractionDates {
    /// The first email exchanged.
    #[serde(default)]
    pub first_email_date: Option<Timestamp>,
    /// The latest email exchanged.
    #[serde(default)]
    pub last_email_date: Option<Timestamp>,
    /// The first meeting (calendar event).
    #[serde(default)]
    pub first_event_date: Option<Timestamp>,
    /// The latest past meeting.
    #[serde(default)]
    pub last_event_date: Option<Timestamp>,
    /// The next upcoming meeting.
    #[serde(default)]
    pub next_event_date: Option<Timestamp>,
    /// The latest chat message.
    #[serde(default)]
    pub last_chat_message_date: Option<Timestamp>,
    /// The latest interaction of any kind.
    #[serde(default)]
    pub last_interaction_date: Option<Timestamp>,
}

/// One entry of `interactions`: when, and (with `with_interaction_persons=true`) which
/// internal people took part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRef {
    /// When it took place.
    #[serde(default)]
    pub date: Option<Timestamp>,
    /// The internal persons who took part (only with `with_interaction_persons=true`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub person_ids: Vec<i64>,
}

/// `interactions` (with `with_interaction_dates=true`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Interactions {
    /// The first email exchanged.
    #[serde(default)]
    pub first_email: Option<InteractionRef>,
    /// The latest email exchanged.
    #[serde(default)]
    pub last_email: Option<InteractionRef>,
    /// The first meeting (calendar event).
    #[serde(default)]
    pub first_event: Option<InteractionRef>,
    /// The latest past meeting.
    #[serde(default)]
    pub last_event: Option<InteractionRef>,
    /// The next upcoming meeting.
    #[serde(default)]
    pub next_event: Option<InteractionRef>,
    /// The latest chat message.
    #[serde(default)]
    pub last_chat_message: Option<InteractionRef>,
    /// The latest interaction of any kind.
    #[serde(default)]
    pub last_interaction: Option<InteractionRef>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Person;

    /// Items under a key a page does not know are read again from their text: they read as
    /// under a known key (escapes, other scripts, nested objects, dates), and an array that
    /// is not of items is no items.
    #[test]
    fn items_under_an_unknown_key_read_as_under_a_known_one() {
        let items = r#"[{"id": 7, "type": 1, "first_name": "Zo\u00eb \"Z\" \\ O\u2019Neil", "last_name": null,
            "emails": ["z@acme.test"], "organization_ids": [1, 2],
            "interaction_dates": {"first_email_date": "2021-11-11 06:58:31 -0800"},
            "interactions": {"last_event": {"date": "2024-01-02T03:04:05.678Z", "person_ids": [3]}},
            "list_entries": [{"id": 1, "list_id": 2, "created_at": "2021-11-30"}], "extra": {"x": [1.5, -2]}}]"#;
        let known: Page<Person> = serde_json::from_str(&format!(r#"{{"persons": {items}}}"#)).unwrap();
        let guessed: Page<Person> = serde_json::from_str(&format!(r#"{{"people": {items}}}"#)).unwrap();
        assert_eq!(known.items.len(), 1);
        assert_eq!(guessed, known);
        assert_eq!(guessed.items[0].first_name, "Zoë \"Z\" \\ O’Neil");
        let other: Page<Person> =
            serde_json::from_str(r#"{"people": [{"name": "x"}], "next_page_token": "t"}"#).unwrap();
        assert_eq!((other.items.len(), other.next_page_token.as_deref()), (0, Some("t")));
    }
}
