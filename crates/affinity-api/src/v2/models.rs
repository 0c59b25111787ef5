//! Models of the API v2 answers this client reads (`shared/docs/affinity-api-v2.md`, and
//! Affinity's OpenAPI subset for 2026-07-15 in `shared/real-world/affinity-v2`).
//!
//! The same policy as the v1 models: unknown fields are ignored, `null` is read as empty
//! where a list is expected, string enums are open (an unknown value is kept, never an
//! error), and a field value's `data` is kept raw and read on demand
//! ([`FieldValue::data`]), so that a value type added after 2026-07-15 (`note`,
//! `reminder`, `list-multi`, …) never fails a whole answer.

use serde::{Deserialize, Serialize};

use crate::models::Timestamp;
use crate::models::null_as_default;

/// A string enum that keeps values it does not know (`Other`).
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the crate does not know, as it came.
            Other(String),
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)+
                    _ => $name::Other(s),
                }
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }
        impl $name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }
        impl Default for $name {
            fn default() -> Self {
                $name::Other(String::new())
            }
        }
    };
}

open_enum!(
    /// `internal` (a colleague), `external` or `collaborator`.
    PersonType {
        /// A colleague: someone with an Affinity account on the team.
        Internal = "internal",
        /// Someone outside the team.
        External = "external",
        /// A collaborator (a kind the API names without describing it).
        Collaborator = "collaborator",
    }
);
open_enum!(
    /// A user's account status.
    UserStatus {
        /// An active user.
        Active = "active",
        /// Invited, and not yet joined.
        Invited = "invited",
        /// Deactivated: no longer has access.
        Deactivated = "deactivated",
    }
);
open_enum!(
    /// A field's category.
    FieldType {
        /// Filled in by a data source (`affinity-data-*`, `dealroom-*`).
        Enriched = "enriched",
        /// The team's own field on every company or person.
        Global = "global",
        /// A field of one list, on that list's entries.
        List = "list",
        /// Computed by Affinity from emails and meetings (`last-email`, `next-event`,
        /// `source-of-introduction`, …).
        RelationshipIntelligence = "relationship-intelligence",
        /// A masked field of a restricted opportunity.
        Hidden = "hidden",
    }
);
open_enum!(
    /// An interaction's kind.
    InteractionKind {
        /// An email.
        Email = "email",
        /// A meeting (a calendar event).
        Meeting = "meeting",
        /// A call.
        Call = "call",
        /// A chat message.
        ChatMessage = "chat-message",
    }
);

/// `pagination` of a page: follow `nextUrl` as it is until it is `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// The URL of the next page, cursor included; `None` on the last page.
    #[serde(default)]
    pub next_url: Option<String>,
    /// The URL of the previous page; `None` on the first.
    #[serde(default)]
    pub prev_url: Option<String>,
    /// Only with `totalCount=true` (relationships, notes).
    #[serde(default)]
    pub total_count: Option<i64>,
}

/// One page: `{data: [...], pagination}`. A `null` `data` is an empty page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Paged<T> {
    /// The page's items.
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    pub data: Vec<T>,
    /// Links to the next and previous pages.
    #[serde(default)]
    pub pagination: Pagination,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged { data: Vec::new(), pagination: Pagination::default() }
    }
}

/// `GET /v2/auth/whoami`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// The firm the key belongs to.
    pub tenant: Tenant,
    /// The key's user.
    pub user: User,
    /// How the caller was authenticated.
    #[serde(default)]
    pub grant: Option<Grant>,
}

/// The firm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The firm's id.
    pub id: i64,
    /// The firm's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The firm's subdomain of `affinity.co`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subdomain: String,
}

/// The key's user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id (their person id).
    pub id: i64,
    /// The user's first name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    /// The user's last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The user's email address.
    #[serde(default)]
    pub email_address: Option<String>,
}

/// How the caller was authenticated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// `api-key` or `access-token` (OAuth).
    #[serde(default, rename = "type")]
    pub grant_type: String,
    /// What the grant allows (`api`, `api.read`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// When the key or token was granted.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// A company (`Company`; also its summary `CompanyData`, which has no `domains`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    /// The company's id (the same as v1's organization id).
    pub id: i64,
    /// The company's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Its main domain, if any.
    #[serde(default)]
    pub domain: Option<String>,
    /// Every domain of the company (not on a company summary).
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<String>,
    /// Whether it comes from Affinity's global company database rather than the team's own.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_global: bool,
    /// Only when asked for with `fieldIds` or `fieldTypes`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
}

impl Company {
    /// Every domain, `domain` first, lower-cased, without repeats (as v1's organization).
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

    /// The field with this id (`last-email`, `field-1234`, …), if it came.
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }
}

/// A person as embedded in values (`PersonData`) and relationships (`RelationshipPerson`,
/// which has no `type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonData {
    /// The person's id.
    pub id: i64,
    /// The person's first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The person's last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The person's main email address.
    #[serde(default)]
    pub primary_email_address: Option<String>,
    /// Absent on relationship persons.
    #[serde(default, rename = "type")]
    pub person_type: Option<PersonType>,
}

impl PersonData {
    /// "First Last", trimmed.
    pub fn name(&self) -> String {
        let first = self.first_name.as_deref().unwrap_or_default();
        let last = self.last_name.as_deref().unwrap_or_default();
        format!("{first} {last}").trim().to_owned()
    }
}

/// A person (`GET /v2/persons/{id}`, searches).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// The person's id.
    pub id: i64,
    /// The person's first name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    /// The person's last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The person's main email address.
    #[serde(default)]
    pub primary_email_address: Option<String>,
    /// Every email address of the person.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_addresses: Vec<String>,
    /// Internal (a colleague), external or collaborator.
    #[serde(default, rename = "type")]
    pub person_type: PersonType,
    /// The fields asked for with `fieldIds` or `fieldTypes` (none otherwise).
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
}

/// Two persons who know each other, strongest first in a page (`-interactionScore`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    /// One of the two persons.
    pub person1: PersonData,
    /// The other person.
    pub person2: PersonData,
    /// 0.0 to 1.0; a LinkedIn-only connection scores 0.
    #[serde(default, deserialize_with = "null_as_default")]
    pub interaction_score: f64,
    /// When they connected on LinkedIn, if they did.
    #[serde(default)]
    pub linked_in: Option<LinkedInConnection>,
}

/// When two persons connected on LinkedIn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedInConnection {
    /// The date of the connection (`YYYY-MM-DD`).
    #[serde(default)]
    pub connected_on: Option<String>,
}

/// A row of a list holding the company or person, with all its fields
/// (`GET /v2/companies/{id}/list-entries`, `GET /v2/persons/{id}/list-entries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEntry {
    /// The list entry's id.
    pub id: i64,
    /// The list it belongs to.
    pub list_id: i64,
    /// The list's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub list_name: String,
    /// When the entry was added to the list.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// The user who added it, if known.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// Every field of the entry, list-specific ones included.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
}

impl ListEntry {
    /// The list field named `name` (Status, Owners, Amount: ids differ per list).
    pub fn field_named(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name && f.field_type != FieldType::Global)
    }
}

/// A row of a list with the record on it (`GET /v2/lists/{id}/list-entries`): for a company
/// list `E` is [`Company`] (its `fields` hold what `fieldIds` or `fieldTypes` asked for), for
/// others read it as `serde_json::Value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "E: Deserialize<'de>"))]
pub struct ListEntryWithEntity<E = serde_json::Value> {
    /// The list entry's id.
    pub id: i64,
    /// The list it belongs to.
    pub list_id: i64,
    /// `company`, `person` or `opportunity` (open).
    #[serde(default, rename = "type")]
    pub entry_type: String,
    /// When the entry was added to the list.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// The user who added it, if known.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// The company, person or opportunity on the list (`null` when Affinity sends none).
    #[serde(default = "Option::default")]
    pub entity: Option<E>,
}

/// An internal user (`GET /v2/users`); a user's id is their person id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserData {
    /// The user's id (their person id).
    pub id: i64,
    /// The user's first name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    /// The user's last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The user's main email address.
    #[serde(default)]
    pub primary_email_address: Option<String>,
    /// The URL of the user's photo.
    #[serde(default)]
    pub photo_url: Option<String>,
    /// Active, invited or deactivated.
    #[serde(default)]
    pub status: UserStatus,
    /// Only for callers with the "Manage Users" permission.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_addresses: Vec<String>,
}

impl UserData {
    /// "First Last", trimmed.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name.as_deref().unwrap_or_default()).trim().to_owned()
    }
}

/// An opportunity (`GET /v2/opportunities`); a redacted one is named `[Hidden]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    /// The opportunity's id.
    pub id: i64,
    /// The opportunity's name (`[Hidden]` when redacted).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The opportunity list it is on.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// That list's name.
    #[serde(default)]
    pub list_name: Option<String>,
    /// Whether access to it is restricted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_restricted: bool,
    /// Whether it is hidden from the caller (its name redacted).
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_redacted: bool,
}

/// A field and its value on an entity or a list entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// `field-1234`, `affinity-data-location`, `last-email`, …
    pub id: String,
    /// The field's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Enriched, global, list, relationship intelligence, or hidden.
    #[serde(default, rename = "type")]
    pub field_type: FieldType,
    /// Where an enriched field's values come from (`affinity-data`, `dealroom`...); `None` for
    /// others.
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// The field's value on this entity or entry.
    #[serde(default)]
    pub value: FieldValue,
}

/// `{type, data}`: read `data` with [`FieldValue::data`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldValue {
    /// `text`, `number`, `ranked-dropdown`, `person-multi`, `interaction`, … (open).
    #[serde(default, rename = "type")]
    pub value_type: String,
    /// The value itself, raw: its shape depends on `type`.
    #[serde(default)]
    pub data: serde_json::Value,
    /// 2026-09-17: on interaction values, the colleague Affinity credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_person: Option<PersonData>,
}

/// A dropdown option as a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropdown {
    /// The option's id (what a value is written as).
    #[serde(default)]
    pub dropdown_option_id: Option<i64>,
    /// The option's text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// Ranked dropdowns only.
    #[serde(default)]
    pub rank: Option<i64>,
    /// Ranked dropdowns only: a colour name (`gray`, `blue`, …) or `null`.
    #[serde(default)]
    pub color: Option<String>,
}

/// A location value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// Someone in an email, meeting or call: an address, and the person when Affinity knows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    /// The email address, if any.
    #[serde(default)]
    pub email_address: Option<String>,
    /// The person with that address, if Affinity knows them.
    #[serde(default)]
    pub person: Option<PersonData>,
}

/// An email, meeting, call or chat message (the `data` of an interaction value). One
/// lenient struct for the four kinds: each has the keys of its kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interaction {
    /// The interaction's id.
    #[serde(default)]
    pub id: i64,
    /// Email, meeting, call or chat message.
    #[serde(default, rename = "type")]
    pub kind: InteractionKind,
    /// Emails and chat messages.
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    /// Meetings and calls.
    #[serde(default)]
    pub start_time: Option<Timestamp>,
    /// When the meeting or call ends, if known.
    #[serde(default)]
    pub end_time: Option<Timestamp>,
    /// The email's subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// The meeting's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether the meeting lasts all day.
    #[serde(default)]
    pub all_day: Option<bool>,
    /// The email's sender.
    #[serde(default)]
    pub from: Option<Attendee>,
    /// The email's recipients.
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: Vec<Attendee>,
    /// The email's copied recipients.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cc: Vec<Attendee>,
    /// The meeting's or call's attendees.
    #[serde(default, deserialize_with = "null_as_default")]
    pub attendees: Vec<Attendee>,
    /// Who logged the chat message.
    #[serde(default)]
    pub manual_creator: Option<PersonData>,
    /// The chat message's participants.
    #[serde(default, deserialize_with = "null_as_default")]
    pub participants: Vec<PersonData>,
    /// `sent` or `received` (chat messages).
    #[serde(default)]
    pub direction: Option<String>,
}

impl Interaction {
    /// When it happened: sent, or started.
    pub fn date(&self) -> Option<Timestamp> {
        self.sent_at.or(self.start_time)
    }

    /// Everyone Affinity names in it, in the order the kind lists them.
    pub fn people(&self) -> Vec<&PersonData> {
        let attendees = self.from.iter().chain(&self.to).chain(&self.cc).chain(&self.attendees);
        attendees
            .filter_map(|a| a.person.as_ref())
            .chain(self.manual_creator.iter())
            .chain(self.participants.iter())
            .collect()
    }
}

/// A field value's `data`, read by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldData {
    /// Text (`text`, `filterable-text`).
    Text(String),
    /// Several texts (`filterable-text-multi`).
    Texts(Vec<String>),
    /// A number (`number`, `formula-number`).
    Number(f64),
    /// Several numbers (`number-multi`).
    Numbers(Vec<f64>),
    /// A date and time (`datetime`).
    DateTime(Timestamp),
    /// A location (`location`).
    Location(Location),
    /// Several locations (`location-multi`).
    Locations(Vec<Location>),
    /// A dropdown option (`dropdown`, `ranked-dropdown`).
    Dropdown(Dropdown),
    /// Several dropdown options (`dropdown-multi`).
    Dropdowns(Vec<Dropdown>),
    /// A person (`person`).
    Person(PersonData),
    /// Several persons (`person-multi`).
    Persons(Vec<PersonData>),
    /// A company (`company`).
    Company(Company),
    /// Several companies (`company-multi`).
    Companies(Vec<Company>),
    /// An email, meeting, call or chat message (`interaction`).
    Interaction(Box<Interaction>),
    /// `null` data (an empty value, a hidden field).
    Empty,
    /// A type this version does not know, or data that does not fit its type: as it came.
    Other(serde_json::Value),
}

impl FieldValue {
    /// The data, typed by `type`. Never fails: what does not read is [`FieldData::Other`].
    pub fn data(&self) -> FieldData {
        use serde_json::Value;
        fn read<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
            serde_json::from_value(v.clone()).ok()
        }
        let v = &self.data;
        if v.is_null() {
            return FieldData::Empty;
        }
        let other = || FieldData::Other(v.clone());
        let typed = match self.value_type.as_str() {
            "text" | "filterable-text" => v.as_str().map(|s| FieldData::Text(s.to_owned())),
            // Real answers also hold LinkedIn objects `{link, text}` here: their text.
            "filterable-text-multi" => v.as_array().map(|items| {
                FieldData::Texts(
                    items
                        .iter()
                        .filter_map(|i| i.as_str().or_else(|| i.get("text").and_then(Value::as_str)))
                        .map(str::to_owned)
                        .collect(),
                )
            }),
            "number" => v.as_f64().map(FieldData::Number),
            "number-multi" => read::<Vec<f64>>(v).map(FieldData::Numbers),
            "formula-number" => v.get("calculatedValue").and_then(Value::as_f64).map(FieldData::Number),
            "datetime" => v.as_str().and_then(Timestamp::parse).map(FieldData::DateTime),
            "location" => read(v).map(FieldData::Location),
            "location-multi" => read(v).map(FieldData::Locations),
            "dropdown" | "ranked-dropdown" => read(v).map(FieldData::Dropdown),
            "dropdown-multi" => read(v).map(FieldData::Dropdowns),
            "person" => read(v).map(FieldData::Person),
            "person-multi" => read(v).map(FieldData::Persons),
            "company" => read(v).map(FieldData::Company),
            "company-multi" => read(v).map(FieldData::Companies),
            "interaction" => read(v).map(|i| FieldData::Interaction(Box::new(i))),
            _ => None,
        };
        typed.unwrap_or_else(other)
    }
}

/// Readers of the most used value types, without [`FieldValue::data`]'s reading of every
/// type (they keep a wasm build small; the tests check they agree with `data`).
impl FieldValue {
    /// The option of a `dropdown` or `ranked-dropdown` value.
    pub fn dropdown(&self) -> Option<Dropdown> {
        use serde_json::Value;
        if !matches!(self.value_type.as_str(), "dropdown" | "ranked-dropdown") {
            return None;
        }
        let d = self.data.as_object()?;
        Some(Dropdown {
            dropdown_option_id: d.get("dropdownOptionId").and_then(Value::as_i64),
            text: d.get("text")?.as_str()?.to_owned(),
            rank: d.get("rank").and_then(Value::as_i64),
            color: d.get("color").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// The persons of a `person` or `person-multi` value (none when empty).
    pub fn persons(&self) -> Vec<PersonData> {
        use serde_json::Value;
        let text = |p: &Value, k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        let one = |p: &Value| -> Option<PersonData> {
            Some(PersonData {
                id: p.get("id")?.as_i64()?,
                first_name: text(p, "firstName"),
                last_name: text(p, "lastName"),
                primary_email_address: text(p, "primaryEmailAddress"),
                person_type: text(p, "type").map(PersonType::from),
            })
        };
        match self.value_type.as_str() {
            "person" => one(&self.data).into_iter().collect(),
            "person-multi" => self.data.as_array().map(|a| a.iter().filter_map(one).collect()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The number of a `number` value.
    pub fn number(&self) -> Option<f64> {
        if self.value_type == "number" { self.data.as_f64() } else { None }
    }
}

/// The v1 colour number of a ranked dropdown's v2 colour name (v1 documents no mapping;
/// this follows a third-party client's guess, which fits the numbers observed).
pub fn color_number(name: Option<&str>) -> i64 {
    match name.unwrap_or_default() {
        "blue" => 1,
        "green" => 2,
        "yellow" => 3,
        "orange" => 4,
        "red" => 5,
        "purple" => 6,
        "gray" | "grey" => 7,
        _ => 0,
    }
}

/// The v2 colour name of a v1 colour number (the inverse of [`color_number`]; `white` for 0
/// and anything unknown).
pub fn color_name(number: i64) -> &'static str {
    match number {
        1 => "blue",
        2 => "green",
        3 => "yellow",
        4 => "orange",
        5 => "red",
        6 => "purple",
        7 => "gray",
        _ => "white",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_and_value_types_are_kept() {
        let p: PersonData = serde_json::from_str(r#"{"id":1,"type":"robot"}"#).unwrap();
        assert_eq!(p.person_type, Some(PersonType::Other("robot".into())));
        let f: Field =
            serde_json::from_str(r#"{"id":"x","name":"N","type":"list","value":{"type":"reminder","data":{"id":1}}}"#)
                .unwrap();
        assert!(matches!(f.value.data(), FieldData::Other(_)));
        let bad: FieldValue = serde_json::from_str(r#"{"type":"number","data":"not a number"}"#).unwrap();
        assert!(matches!(bad.data(), FieldData::Other(_)));
    }

    #[test]
    fn a_null_page_is_empty() {
        let p: Paged<Company> = serde_json::from_str(r#"{"data":null,"pagination":{"nextUrl":null}}"#).unwrap();
        assert!(p.data.is_empty());
    }

    #[test]
    fn colours_round_trip_between_v1_numbers_and_v2_names() {
        for n in 0..=7 {
            assert_eq!(color_number(Some(color_name(n))), n);
        }
        assert_eq!(color_number(None), 0);
    }
}
