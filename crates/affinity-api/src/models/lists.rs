//! Lists, list entries, fields, field values and their changes.

use serde::{Deserialize, Serialize};

use super::common::{Code, DropdownOption, EntityType, Location, PersonSummary, Timestamp};
use super::entities::{OpportunitySummary, Organization};
use super::null_as_default;

/// Marker for [`ValueType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueTypeKind {}
/// A field's value type (reference §4.3).
pub type ValueType = Code<ValueTypeKind>;
impl ValueType {
    /// Person: the value is a person id.
    pub const PERSON: ValueType = Code::new(0);
    /// Organization: the value is an organization id.
    pub const ORGANIZATION: ValueType = Code::new(1);
    /// Dropdown: the value is the option's text.
    pub const DROPDOWN: ValueType = Code::new(2);
    /// Number: the value is a number.
    pub const NUMBER: ValueType = Code::new(3);
    /// Date: the value is an ISO 8601 datetime.
    pub const DATE: ValueType = Code::new(4);
    /// Location: the value is a [`Location`].
    pub const LOCATION: ValueType = Code::new(5);
    /// Text (long text): the value is a string.
    pub const TEXT: ValueType = Code::new(6);
    /// Ranked dropdown (a status, say): the value is a [`DropdownOption`].
    pub const RANKED_DROPDOWN: ValueType = Code::new(7);
    /// Filterable text (not in the docs; a third-party client's mapping): the value is a string.
    pub const FILTERABLE_TEXT: ValueType = Code::new(10);
    /// Dropdown in the 2020–2021 docs.
    pub const LEGACY_DROPDOWN: ValueType = Code::new(17);
}

/// Marker for [`ActionType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionTypeKind {}
/// A field value change's action: 0 create, 1 delete, 2 update.
pub type ActionType = Code<ActionTypeKind>;
impl ActionType {
    /// The value was created.
    pub const CREATE: ActionType = Code::new(0);
    /// The value was deleted.
    pub const DELETE: ActionType = Code::new(1);
    /// The value was updated.
    pub const UPDATE: ActionType = Code::new(2);
}

/// A list (`GET /lists`, `GET /lists/{id}` with its `fields`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List {
    /// The list's id.
    pub id: i64,
    /// What the list holds: persons, organizations or opportunities.
    #[serde(default, rename = "type")]
    pub list_type: EntityType,
    /// The list's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Whether everyone on the team can see it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub public: bool,
    /// The user who owns it.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// The user who created it.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// How many entries it has.
    #[serde(default)]
    pub list_size: Option<i64>,
    /// Extra roles on the list, as they came (`{internal_person_id, role_id}`: 0 admin, 1 basic,
    /// 2 standard).
    #[serde(default, deserialize_with = "null_as_default")]
    pub additional_permissions: Vec<serde_json::Value>,
    /// On `GET /lists/{id}` only.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
}

/// The entity of a list entry, told apart by the entry's `entity_type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ListEntity {
    /// A person on a person list.
    Person(PersonSummary),
    /// An organization on an organization list.
    Organization(Box<Organization>),
    /// An opportunity on an opportunity list.
    Opportunity(OpportunitySummary),
}

/// A list entry (a row). The same entity can be on one list several times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The list entry's id.
    pub id: i64,
    /// The list it belongs to.
    pub list_id: i64,
    /// The user who added it, when known.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// The id of the person, organization or opportunity on the list.
    pub entity_id: i64,
    /// What kind of entity that is.
    #[serde(default)]
    pub entity_type: Option<EntityType>,
    /// When it was added to the list.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Raw: its shape depends on `entity_type`; read it with [`ListEntry::entity`].
    #[serde(default)]
    pub entity: Option<serde_json::Value>,
}

impl ListEntry {
    /// The entity, typed by its keys (a person has `first_name`, an organization `domain`),
    /// else by `entity_type`: the docs' own webhook example pairs `entity_type: 1` with a
    /// person body, so the keys win.
    pub fn entity(&self) -> Option<ListEntity> {
        let raw = self.entity.clone()?;
        let kind = if raw.get("first_name").is_some() || raw.get("primary_email").is_some() {
            EntityType::PERSON
        } else if raw.get("domain").is_some() || raw.get("domains").is_some() {
            EntityType::ORGANIZATION
        } else {
            self.entity_type.unwrap_or(EntityType::OPPORTUNITY)
        };
        match kind {
            EntityType::PERSON => serde_json::from_value(raw).ok().map(ListEntity::Person),
            EntityType::ORGANIZATION => serde_json::from_value(raw).ok().map(|o| ListEntity::Organization(Box::new(o))),
            _ => serde_json::from_value(raw).ok().map(ListEntity::Opportunity),
        }
    }
}

/// A field (a column, or a global attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The field's id.
    pub id: i64,
    /// The field's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// `null` for a global field.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// What its values are (person, number, dropdown...).
    #[serde(default)]
    pub value_type: ValueType,
    /// Whether an entity may have several values of it (one field value each).
    #[serde(default, deserialize_with = "null_as_default")]
    pub allows_multiple: bool,
    /// The options of a dropdown or ranked dropdown field.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dropdown_options: Vec<DropdownOption>,
    /// Where its values come from: `"none"` for a custom field, else a data source
    /// (`"crunchbase"`, `"dealroom"`...).
    #[serde(default)]
    pub enrichment_source: Option<String>,
    /// Whether its changes are kept (readable with `GET /field-value-changes`).
    #[serde(default)]
    pub track_changes: Option<bool>,
}

/// A field value's `value`, read with the field's value type.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValueData {
    /// A person, by id.
    Person(i64),
    /// An organization, by id.
    Organization(i64),
    /// A dropdown option's text.
    Dropdown(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(Timestamp),
    /// A location.
    Location(Location),
    /// Text.
    Text(String),
    /// A ranked dropdown option.
    RankedDropdown(DropdownOption),
    /// `null` (e.g. Crunchbase fields).
    Empty,
    /// A value that does not fit its type, or an unknown type: kept as it came.
    Other(serde_json::Value),
}

/// A field value (a cell). One object per value when the field allows several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    /// The field value's id.
    pub id: i64,
    /// The field it is a value of.
    pub field_id: i64,
    /// The person, organization or opportunity it belongs to.
    pub entity_id: i64,
    /// The list entry it belongs to; `None` for a global field.
    #[serde(default)]
    pub list_entry_id: Option<i64>,
    /// What kind of entity it belongs to.
    #[serde(default)]
    pub entity_type: Option<EntityType>,
    /// The field's value type, when given.
    #[serde(default)]
    pub value_type: Option<ValueType>,
    /// Raw: read it with [`FieldValue::data`] and the field's value type.
    #[serde(default)]
    pub value: serde_json::Value,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// When it was last updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl FieldValue {
    /// The value, typed by `value_type` (the field's, or the one on the value itself).
    pub fn data(&self, value_type: Option<ValueType>) -> FieldValueData {
        read_value(&self.value, value_type.or(self.value_type))
    }
}

/// Reads a raw value. Without a value type, the JSON shape decides.
pub(crate) fn read_value(value: &serde_json::Value, value_type: Option<ValueType>) -> FieldValueData {
    use serde_json::Value;
    let other = || FieldValueData::Other(value.clone());
    if value.is_null() {
        return FieldValueData::Empty;
    }
    match value_type {
        Some(ValueType::PERSON) => value.as_i64().map(FieldValueData::Person).unwrap_or_else(other),
        Some(ValueType::ORGANIZATION) => value.as_i64().map(FieldValueData::Organization).unwrap_or_else(other),
        Some(ValueType::NUMBER) => value.as_f64().map(FieldValueData::Number).unwrap_or_else(other),
        Some(ValueType::DATE) => {
            value.as_str().and_then(Timestamp::parse).map(FieldValueData::Date).unwrap_or_else(other)
        }
        Some(ValueType::LOCATION) => {
            serde_json::from_value(value.clone()).map(FieldValueData::Location).unwrap_or_else(|_| other())
        }
        Some(ValueType::RANKED_DROPDOWN) => {
            serde_json::from_value(value.clone()).map(FieldValueData::RankedDropdown).unwrap_or_else(|_| other())
        }
        Some(ValueType::DROPDOWN) | Some(ValueType::LEGACY_DROPDOWN) => match value {
            Value::String(s) => FieldValueData::Dropdown(s.clone()),
            // Some accounts still send dropdown values as options.
            Value::Object(_) => serde_json::from_value::<DropdownOption>(value.clone())
                .map(|o| FieldValueData::Dropdown(o.text))
                .unwrap_or_else(|_| other()),
            _ => other(),
        },
        Some(ValueType::TEXT) | Some(ValueType::FILTERABLE_TEXT) => {
            value.as_str().map(|s| FieldValueData::Text(s.to_owned())).unwrap_or_else(other)
        }
        Some(_) => other(),
        None => match value {
            Value::Number(n) if n.is_i64() => FieldValueData::Other(value.clone()),
            Value::Number(n) => n.as_f64().map(FieldValueData::Number).unwrap_or_else(other),
            Value::String(s) => FieldValueData::Text(s.clone()),
            Value::Object(o) if o.contains_key("text") && o.contains_key("id") => {
                serde_json::from_value(value.clone()).map(FieldValueData::RankedDropdown).unwrap_or_else(|_| other())
            }
            Value::Object(o) if o.contains_key("city") || o.contains_key("country") => {
                serde_json::from_value(value.clone()).map(FieldValueData::Location).unwrap_or_else(|_| other())
            }
            _ => other(),
        },
    }
}

/// A change of a field value (`GET /field-value-changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValueChange {
    /// The change's id.
    pub id: i64,
    /// The field whose value changed.
    pub field_id: i64,
    /// The person, organization or opportunity whose value changed.
    pub entity_id: i64,
    /// The list entry whose value changed; `None` for a global field.
    #[serde(default)]
    pub list_entry_id: Option<i64>,
    /// Whether the value was created, deleted or updated.
    #[serde(default)]
    pub action_type: ActionType,
    /// Who made the change.
    #[serde(default)]
    pub changer: Option<PersonSummary>,
    /// When the change was made.
    #[serde(default)]
    pub changed_at: Option<Timestamp>,
    /// The new value, or the old one for a delete. Read it like [`FieldValue::data`].
    #[serde(default)]
    pub value: serde_json::Value,
}

impl FieldValueChange {
    /// The value, typed by the field's value type.
    pub fn data(&self, value_type: Option<ValueType>) -> FieldValueData {
        read_value(&self.value, value_type)
    }
}
