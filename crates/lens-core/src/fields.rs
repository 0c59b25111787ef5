//! A list entry's fields on the card (`Card::fields`), and what the card writes to them.
//!
//! Every field of the entry's list is shown with its value, read from API v2's list entries
//! or from v1's field values into one shape, so that either key gives the same card. A value
//! (`CardField::value`) is, by the field's type (API v2's words):
//!
//! | `type` | `value` |
//! |---|---|
//! | `text` | a string |
//! | `number` | a number |
//! | `datetime` | an ISO 8601 date-time |
//! | `dropdown`, `ranked-dropdown` | `{"id", "text", "color"}` (the option; `color` 0 unless ranked) |
//! | `person` | `{"id", "name", "email"}` |
//! | `company` | `{"id", "name", "domain"}` |
//! | `location` | a string ("San Francisco, California, United States") |
//! | `…-multi` | an array of the above (`[]` when empty) |
//!
//! and `null` when empty. A type the Lens does not know keeps API v2's `data` as it came,
//! and is not editable.
//!
//! What the user types is checked here ([`parse_input`]) before anything is asked of
//! Affinity: "abc" is no number, 2026-02-30 no date.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use affinity_api::models::{Field, FieldValue, Timestamp, ValueType};
use affinity_api::v2;

use crate::card::{CardField, FieldOption, PersonRef};

/// The value types the card has a control for.
const EDITABLE: [&str; 11] = [
    "text",
    "number",
    "datetime",
    "dropdown",
    "dropdown-multi",
    "ranked-dropdown",
    "person",
    "person-multi",
    "company",
    "company-multi",
    "filterable-text",
];

/// The name of a list's Status field.
pub const STATUS: &str = "Status";

/// Whether a field is its list's Status (the look-up's Status pill, the index's, the card's
/// Status picker and its field list all take the same one).
pub fn is_status(name: &str) -> bool {
    name == STATUS
}

/// Whether the card offers a control for a field of this type.
pub fn is_editable_type(value_type: &str) -> bool {
    EDITABLE.contains(&value_type)
}

/// Whether a type holds several values.
pub fn is_multi(value_type: &str) -> bool {
    value_type.ends_with("-multi")
}

/// The type of a field's single value (`person-multi` → `person`).
pub fn item_type(value_type: &str) -> &str {
    value_type.strip_suffix("-multi").unwrap_or(value_type)
}

/// API v2's value type of a v1 field.
pub fn value_type(f: &Field) -> &'static str {
    let (one, many) = match f.value_type {
        t if t == ValueType::PERSON => ("person", "person-multi"),
        t if t == ValueType::ORGANIZATION => ("company", "company-multi"),
        t if t == ValueType::DROPDOWN || t == ValueType::LEGACY_DROPDOWN => ("dropdown", "dropdown-multi"),
        t if t == ValueType::NUMBER => ("number", "number-multi"),
        t if t == ValueType::DATE => ("datetime", "datetime"),
        t if t == ValueType::LOCATION => ("location", "location-multi"),
        t if t == ValueType::RANKED_DROPDOWN => ("ranked-dropdown", "ranked-dropdown"),
        t if t == ValueType::FILTERABLE_TEXT => ("filterable-text", "filterable-text-multi"),
        _ => ("text", "text"),
    };
    if f.allows_multiple { many } else { one }
}

/// A dropdown field's options in rank order (the colour only for a ranked dropdown).
pub fn options(f: &Field) -> Vec<FieldOption> {
    let ranked = f.value_type == ValueType::RANKED_DROPDOWN;
    let mut options = f.dropdown_options.clone();
    options.sort_by_key(|o| o.rank.unwrap_or(i64::MAX));
    options
        .into_iter()
        .map(|o| FieldOption { id: o.id, text: o.text, color: if ranked { o.color.unwrap_or(0) } else { 0 } })
        .collect()
}

/// The names of people and organizations that v1 values give by id only.
#[derive(Debug, Default)]
pub struct Names {
    pub persons: HashMap<i64, PersonRef>,
    /// Organization id → `{"id", "name", "domain"}`.
    pub companies: HashMap<i64, Value>,
}

/// A person as a field value.
pub fn person_value(p: &PersonRef) -> Value {
    json!({ "id": p.id, "name": p.name, "email": p.email })
}

/// An organization as a field value.
pub fn company_value(id: i64, name: &str, domain: Option<&str>) -> Value {
    json!({ "id": id, "name": name, "domain": domain })
}

fn option_value(id: Option<i64>, text: &str, color: i64) -> Value {
    json!({ "id": id, "text": text, "color": color })
}

fn location_text(parts: [Option<&str>; 4]) -> Option<Value> {
    let parts: Vec<&str> = parts.into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| Value::String(parts.join(", ")))
}

fn iso(text: &str) -> Option<Value> {
    Timestamp::parse(text).map(|t| Value::String(t.to_iso()))
}

/// One v1 value of `f` in the card's shape (`None` when it does not read).
fn v1_item(f: &Field, v: &Value, names: &Names) -> Option<Value> {
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    match item_type(value_type(f)) {
        "person" => {
            let id = v.as_i64()?;
            let fallback = PersonRef { id, name: format!("Person {id}"), email: None };
            Some(person_value(names.persons.get(&id).unwrap_or(&fallback)))
        }
        "company" => {
            let id = v.as_i64()?;
            Some(
                names
                    .companies
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| company_value(id, &format!("Organization {id}"), None)),
            )
        }
        "dropdown" => {
            let t = v.as_str()?;
            Some(option_value(f.dropdown_options.iter().find(|o| o.text == t).map(|o| o.id), t, 0))
        }
        "ranked-dropdown" => {
            let id = v.get("id").and_then(Value::as_i64).or_else(|| v.as_i64())?;
            let o = f.dropdown_options.iter().find(|o| o.id == id);
            let t = text("text").or(o.map(|o| o.text.as_str()))?;
            Some(option_value(
                Some(id),
                t,
                v.get("color").and_then(Value::as_i64).or(o.and_then(|o| o.color)).unwrap_or(0),
            ))
        }
        "number" => v.as_f64().map(Value::from),
        "datetime" => iso(v.as_str()?),
        "location" => location_text([text("street_address"), text("city"), text("state"), text("country")]),
        _ => v.as_str().map(|t| Value::String(t.to_owned())),
    }
}

/// One v2 value item (`data`, or an item of a multi-valued `data`) in the card's shape.
fn v2_item(item_type: &str, d: &Value) -> Option<Value> {
    let text = |k: &str| d.get(k).and_then(Value::as_str);
    match item_type {
        "person" => {
            let name = format!("{} {}", text("firstName").unwrap_or_default(), text("lastName").unwrap_or_default());
            let p = PersonRef {
                id: d.get("id")?.as_i64()?,
                name: name.trim().to_owned(),
                email: text("primaryEmailAddress").map(str::to_owned),
            };
            Some(person_value(&p))
        }
        "company" => Some(company_value(d.get("id")?.as_i64()?, text("name").unwrap_or_default(), text("domain"))),
        "dropdown" => Some(option_value(d.get("dropdownOptionId").and_then(Value::as_i64), text("text")?, 0)),
        "ranked-dropdown" => {
            let color = v2::color_number(text("color"));
            Some(option_value(d.get("dropdownOptionId").and_then(Value::as_i64), text("text")?, color))
        }
        "number" => d.as_f64().map(Value::from),
        "formula-number" => d.get("calculatedValue").and_then(Value::as_f64).map(Value::from),
        "datetime" => iso(d.as_str()?),
        "location" => location_text([text("streetAddress"), text("city"), text("state"), text("country")]),
        "text" | "filterable-text" => d.as_str().map(|t| Value::String(t.to_owned())),
        _ => Some(d.clone()),
    }
}

/// A field's value from its items: `[]`/`null` when empty.
fn value_of(value_type: &str, items: Vec<Value>) -> Value {
    if is_multi(value_type) { Value::Array(items) } else { items.into_iter().next().unwrap_or(Value::Null) }
}

fn card_field(f: &Field, value: Value, writes: bool) -> CardField {
    let value_type = value_type(f);
    let enriched = f.enrichment_source.as_deref().is_some_and(|s| !s.is_empty() && s != "none");
    CardField {
        id: f.id,
        name: f.name.clone(),
        value_type: value_type.to_owned(),
        value,
        editable: writes && !enriched && is_editable_type(value_type),
        options: options(f),
    }
}

/// The fields of `list_id` (in `fields`' order) on the entry `entry_id`, from v1's values.
pub fn from_v1(
    list_id: i64,
    entry_id: i64,
    fields: &[Field],
    values: &[FieldValue],
    names: &Names,
    writes: bool,
) -> Vec<CardField> {
    (fields.iter().filter(|f| f.list_id == Some(list_id)))
        .map(|f| {
            let items = (values.iter())
                .filter(|v| v.field_id == f.id && v.list_entry_id == Some(entry_id))
                .filter_map(|v| v1_item(f, &v.value, names))
                .collect();
            card_field(f, value_of(value_type(f), items), writes)
        })
        .collect()
}

/// The fields of a v2 list entry's list: the list's own (`type: list`), described by the
/// v1 `fields` (options, several values) where they are known, in their order.
pub fn from_v2(entry: &v2::ListEntry, fields: &[Field], writes: bool) -> Vec<CardField> {
    let own: Vec<&v2::Field> = entry.fields.iter().filter(|f| f.field_type == v2::FieldType::List).collect();
    let number = |f: &v2::Field| f.id.strip_prefix("field-").and_then(|n| n.parse::<i64>().ok());
    let known: Vec<CardField> = (fields.iter().filter(|f| f.list_id == Some(entry.list_id)))
        .map(|f| {
            let value = own.iter().find(|v| number(v) == Some(f.id)).map(|v| v2_value(v));
            card_field(f, value.unwrap_or_else(|| value_of(value_type(f), Vec::new())), writes)
        })
        .collect();
    // A field the remembered schema does not know yet (created since): as v2 says it.
    let unknown = own.iter().filter_map(|v| {
        let id = number(v)?;
        (!known.iter().any(|k| k.id == id)).then(|| CardField {
            id,
            name: v.name.clone(),
            value_type: v.value.value_type.clone(),
            value: v2_value(v),
            editable: false,
            options: Vec::new(),
        })
    });
    let unknown: Vec<CardField> = unknown.collect();
    known.into_iter().chain(unknown).collect()
}

/// The ids of the persons and organizations v1 values of `list_id` fields name.
pub fn v1_references(fields: &[Field], values: &[FieldValue], list_ids: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut persons, mut companies) = (Vec::new(), Vec::new());
    for f in fields.iter().filter(|f| f.list_id.is_some_and(|l| list_ids.contains(&l))) {
        let ids =
            values.iter().filter(|v| v.field_id == f.id && v.list_entry_id.is_some()).filter_map(|v| v.value.as_i64());
        match item_type(value_type(f)) {
            "person" => persons.extend(ids),
            "company" => companies.extend(ids),
            _ => {}
        }
    }
    for ids in [&mut persons, &mut companies] {
        ids.sort_unstable();
        ids.dedup();
    }
    (persons, companies)
}

// ---- what the card writes --------------------------------------------------------------------

/// One value the card writes to a field: what the user chose or typed, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldInput {
    Text {
        text: String,
    },
    Number {
        number: f64,
    },
    /// `YYYY-MM-DD`.
    Date {
        date: String,
    },
    /// A dropdown's option, by id.
    Option {
        id: i64,
    },
    Person {
        id: i64,
    },
    Company {
        id: i64,
    },
}

impl FieldInput {
    /// Whether the value is one a field can hold, checked before any call (an input that
    /// did not come through [`parse_input`]: a date that does not exist, a text too long):
    /// why not, in words for the card.
    pub fn check(&self) -> Result<(), String> {
        match self {
            FieldInput::Text { text } if text.trim().is_empty() => {
                Err("An empty text clears the field instead.".into())
            }
            FieldInput::Text { text } if text.chars().count() > MAX_TEXT => {
                Err(format!("A field takes at most {MAX_TEXT} characters."))
            }
            FieldInput::Number { number } if !number.is_finite() || number.abs() >= 1e15 => {
                Err(format!("{number} is not a number a field keeps."))
            }
            FieldInput::Date { date } if parse_date(date).as_deref() != Some(date.as_str()) => {
                Err(format!("\"{}\" is not a date (YYYY-MM-DD).", shown(date)))
            }
            FieldInput::Option { id } | FieldInput::Person { id } | FieldInput::Company { id } if *id <= 0 => {
                Err(format!("{id} is not an id."))
            }
            _ => Ok(()),
        }
    }

    /// Whether it is a value of a field of `value_type` (a number for a number field, an
    /// option for a dropdown, …); a type the card has no control for takes none.
    pub fn fits(&self, value_type: &str) -> bool {
        if !is_editable_type(value_type) {
            return false;
        }
        let item = item_type(value_type);
        match self {
            FieldInput::Text { .. } => item == "text" || item == "filterable-text",
            FieldInput::Number { .. } => item == "number",
            FieldInput::Date { .. } => item == "datetime",
            FieldInput::Option { .. } => item == "dropdown" || item == "ranked-dropdown",
            FieldInput::Person { .. } => item == "person",
            FieldInput::Company { .. } => item == "company",
        }
    }
}

/// What a write does to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldOp {
    /// Sets a single value (`value: null` clears it).
    Set,
    /// Adds a value to a multi-valued field.
    Add,
    /// Removes a value from a multi-valued field.
    Remove,
}

/// The longest text a field takes from the card.
pub const MAX_TEXT: usize = 10_000;

/// What the user typed into a field's input, checked for its type: the value to write
/// (`None`: clear the field), or why not, in words for the card. Called before any request.
pub fn parse_input(name: &str, value_type: &str, raw: &str) -> Result<Option<FieldInput>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match item_type(value_type) {
        "number" => parse_number(raw)
            .map(|number| Some(FieldInput::Number { number }))
            .ok_or_else(|| format!("{name} takes a number, like 5000 or 2.5: \"{}\" is not one.", shown(raw))),
        "datetime" => parse_date(raw)
            .map(|date| Some(FieldInput::Date { date }))
            .ok_or_else(|| format!("{name} takes a date (YYYY-MM-DD): \"{}\" is not one.", shown(raw))),
        "text" | "filterable-text" if raw.chars().count() > MAX_TEXT => {
            Err(format!("{name} takes at most {MAX_TEXT} characters."))
        }
        "text" | "filterable-text" => Ok(Some(FieldInput::Text { text: raw.to_owned() })),
        _ => Err(format!("{name} is chosen from a list, not typed.")),
    }
}

/// What the user typed, cut for a message.
fn shown(raw: &str) -> String {
    let mut s: String = raw.chars().take(24).collect();
    if raw.chars().count() > 24 {
        s.push('…');
    }
    s
}

/// "5000", "-2.5", "5,000,000.50": digits, an optional sign and decimal point, commas only
/// between groups of three. Finite, and within what Affinity keeps exactly.
pub fn parse_number(raw: &str) -> Option<f64> {
    let (sign, digits) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = grouped
        && groups.iter().all(|g| all_digits(g))
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty))
        && fraction.is_none_or(|f| !f.is_empty() && all_digits(f));
    if !ok {
        return None;
    }
    let plain = format!("{sign}{}{}", whole.replace(',', ""), fraction.map(|f| format!(".{f}")).unwrap_or_default());
    plain.parse::<f64>().ok().filter(|n| n.is_finite() && n.abs() < 1e15)
}

/// "2026-03-01" if it is a real date (not 2026-02-30), between the years 1000 and 9999.
pub fn parse_date(raw: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    (1000..=9999).contains(&d.year()).then(|| d.format("%Y-%m-%d").to_string())
}

/// A date as a value written to Affinity: noon UTC, which is that same day from UTC−11 to
/// UTC+11 (Affinity keeps dates as date-times).
pub fn date_time_of(date: &str) -> String {
    format!("{date}T12:00:00Z")
}

/// The same value, as both sides compare them: texts, numbers, dates (the day), ids.
pub fn same_item(card_value: &Value, input: &FieldInput) -> bool {
    let id = card_value.get("id").and_then(Value::as_i64);
    match input {
        FieldInput::Text { text } => card_value.as_str() == Some(text.as_str()),
        FieldInput::Number { number } => card_value.as_f64() == Some(*number),
        FieldInput::Date { date } => {
            card_value
                .as_str()
                .and_then(Timestamp::parse)
                .map(|t| t.0.naive_utc().date().format("%Y-%m-%d").to_string())
                == Some(date.clone())
        }
        FieldInput::Option { id: want } | FieldInput::Person { id: want } | FieldInput::Company { id: want } => {
            id == Some(*want)
        }
    }
}

/// A value (or one item of a multi-valued one) in words, as the card and the CLI show it: a
/// text, a number (written by `number`), a date (the day), an option's text, a person's or
/// an organization's name; several joined by commas; `""` when empty. A type the Lens does
/// not know shows its data as JSON text.
pub fn value_text(value_type: &str, value: &Value, number: &dyn Fn(f64) -> String) -> String {
    match value {
        Value::Null => String::new(),
        Value::Array(all) => all.iter().map(|v| value_text(value_type, v, number)).collect::<Vec<_>>().join(", "),
        Value::String(s) if item_type(value_type) == "datetime" => s.get(..10).unwrap_or(s).to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
        Value::Bool(b) => (if *b { "Yes" } else { "No" }).to_owned(),
        Value::Object(o) => match o.get("text").or_else(|| o.get("name")).and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => value.to_string(),
        },
    }
}

/// The items of a card value (one for a single value, none when empty).
pub fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}

/// A v2 field's value read into the card's shape (for a write's check).
pub fn v2_value(f: &v2::Field) -> Value {
    let t = f.value.value_type.as_str();
    let items = match &f.value.data {
        Value::Null => Vec::new(),
        Value::Array(items) if is_multi(t) => items.iter().filter_map(|i| v2_item(item_type(t), i)).collect(),
        one => v2_item(t, one).into_iter().collect(),
    };
    value_of(t, items)
}

/// One value as API v2 writes it (`data`, or an item of a multi-valued `data`).
pub fn v2_data(input: &FieldInput) -> Value {
    match input {
        FieldInput::Text { text } => json!(text),
        FieldInput::Number { number } => json!(number),
        FieldInput::Date { date } => json!(date_time_of(date)),
        FieldInput::Option { id } => json!({ "dropdownOptionId": id }),
        FieldInput::Person { id } | FieldInput::Company { id } => json!({ "id": id }),
    }
}

/// A card value item as API v2 writes it back (to keep the other values of a multi-valued
/// field when one is added or removed).
pub fn v2_data_of_item(item_type: &str, item: &Value) -> Option<Value> {
    let id = item.get("id").and_then(Value::as_i64);
    Some(match item_type {
        "dropdown" | "ranked-dropdown" => json!({ "dropdownOptionId": id? }),
        "person" | "company" => json!({ "id": id? }),
        _ => item.clone(),
    })
}

/// One value as v1 writes it for field `f`: a ranked dropdown takes the option's id, a plain
/// one its text.
pub fn v1_data(f: &Field, input: &FieldInput) -> Option<Value> {
    Some(match input {
        FieldInput::Text { text } => json!(text),
        FieldInput::Number { number } => json!(number),
        FieldInput::Date { date } => json!(date_time_of(date)),
        FieldInput::Option { id } if f.value_type == ValueType::RANKED_DROPDOWN => json!(id),
        FieldInput::Option { id } => json!(f.dropdown_options.iter().find(|o| o.id == *id)?.text),
        FieldInput::Person { id } | FieldInput::Company { id } => json!(id),
    })
}

/// Whether a v1 value of `f` is the value `input` (to find an earlier write).
pub fn v1_is(f: &Field, value: &Value, input: &FieldInput) -> bool {
    v1_item(f, value, &Names::default()).is_some_and(|v| same_item(&v, input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_digits_with_an_optional_sign_point_and_thousands() {
        for (raw, want) in [
            ("5000", Some(5000.0)),
            ("-2.5", Some(-2.5)),
            ("+7", Some(7.0)),
            ("5,000,000.50", Some(5_000_000.5)),
            (".5", Some(0.5)),
            ("12.", None),
            ("abc", None),
            ("1,5", None),
            ("1,50,000", None),
            ("1e6", None),
            ("NaN", None),
            ("inf", None),
            ("", None),
            ("-", None),
            ("1 000", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(parse_number(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn dates_must_exist() {
        assert_eq!(parse_date("2026-03-01").as_deref(), Some("2026-03-01"));
        assert_eq!(parse_date("2028-02-29").as_deref(), Some("2028-02-29"));
        for bad in ["2026-02-30", "2026-13-01", "01/03/2026", "tomorrow", "0999-01-01", "2026-3-1x"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_input_is_refused_in_words_before_any_call() {
        let e = parse_input("Amount", "number", "abc").unwrap_err();
        assert_eq!(e, "Amount takes a number, like 5000 or 2.5: \"abc\" is not one.");
        let e = parse_input("Close Date", "datetime", "2026-02-30").unwrap_err();
        assert_eq!(e, "Close Date takes a date (YYYY-MM-DD): \"2026-02-30\" is not one.");
        assert_eq!(parse_input("Amount", "number", " 2,500 ").unwrap(), Some(FieldInput::Number { number: 2500.0 }));
        assert_eq!(parse_input("Next Step", "text", "  "), Ok(None), "empty clears");
        assert!(parse_input("Source", "dropdown", "Referral").is_err());
    }

    #[test]
    fn an_input_that_did_not_come_through_parse_input_is_checked_too() {
        assert!(FieldInput::Date { date: "2026-02-30".into() }.check().is_err());
        assert!(FieldInput::Date { date: "2026-2-3".into() }.check().is_err(), "not the form written");
        assert!(FieldInput::Date { date: "2026-02-28".into() }.check().is_ok());
        assert!(FieldInput::Text { text: "x".repeat(MAX_TEXT + 1) }.check().is_err());
        assert!(FieldInput::Text { text: " ".into() }.check().is_err());
        assert!(FieldInput::Number { number: 1e300 }.check().is_err());
        assert!(FieldInput::Option { id: 0 }.check().is_err());
        assert!(FieldInput::Number { number: 5.0 }.fits("number"));
        assert!(!FieldInput::Text { text: "abc".into() }.fits("number"));
        assert!(FieldInput::Person { id: 1 }.fits("person-multi"));
        assert!(!FieldInput::Text { text: "SF".into() }.fits("location"), "no control for a location");
        assert!(!FieldInput::Option { id: 1 }.fits("person"));
    }

    #[test]
    fn inputs_travel_in_a_tagged_shape() {
        let i: FieldInput = serde_json::from_value(json!({"type": "option", "id": 7})).unwrap();
        assert_eq!(i, FieldInput::Option { id: 7 });
        assert_eq!(
            serde_json::to_value(FieldInput::Date { date: "2026-03-01".into() }).unwrap(),
            json!({"type": "date", "date": "2026-03-01"})
        );
    }

    #[test]
    fn a_written_date_is_that_day_and_compares_by_day() {
        let written = json!(date_time_of("2026-03-01"));
        assert!(same_item(&written, &FieldInput::Date { date: "2026-03-01".into() }));
        assert!(same_item(&json!("2026-03-01T08:00:00.000Z"), &FieldInput::Date { date: "2026-03-01".into() }));
        assert!(!same_item(&json!("2026-03-02T08:00:00.000Z"), &FieldInput::Date { date: "2026-03-01".into() }));
    }
}
