//! The search body of Affinity API v2's `POST /v2/companies/search` and `POST /v2/persons/search`
//! (`SearchCriteria` of the 2026-07-15 OpenAPI document): reading it as strictly as the schema
//! says, and applying it to the sandbox's records.
//!
//! Schemas implemented: `SearchCriteria`, `FilterGroup`, `ValueFilter` and every filter it
//! references (`CompanyFilter`, `CompaniesFilter`, `PersonFilter`, `PersonsFilter`,
//! `DropdownFilter`, `DropdownsFilter`, `RankedDropdownFilter`, `DateFilter` with its one-value,
//! range, relative-window, relative-date and no-value forms, `NumberFilter`,
//! `FilterableTextFilter`, `FilterableTextsFilter`, `TextFilter`, `LocationFilter`,
//! `LocationsFilter`), their value shapes (`CompanyReference`, `PersonReference`,
//! `DropdownReference`, `RankedDropdownReference`, `LocationFilterValue`, `RelativeDates`,
//! `RelativeDate`), `SearchTerm` and `SearchSort`.
//!
//! Reading: every object of these schemas has `additionalProperties: false`, so an unknown key
//! is refused, as is a wrong type, an operator the filter's `valueType` does not define, a
//! `value` an operator needs but lacks (or does not take but has), and every limit the schemas
//! and the endpoints' descriptions give. Each refusal is an [`Invalid`] whose `param` is the
//! JSON path of the offending part (`filters.filters[2].value`), which v2 answers as a
//! validation error. Where a description says more than its schema, the description is held to:
//! a range (`is-between`, `is-between-relative`) gives its lower bound first, the relative
//! windows take one amount and `is-between-relative` two. Groups nest at most 10 deep.
//!
//! Applying: a filter reads the record's field value as v2 renders it (`{type, data}`), so
//! the search agrees with what `GET` shows. A field value's items are its `data` (one item, or
//! each element of a multi-value). Rules the schemas leave open, chosen here:
//! - every negative operator (`is-none-of`, `has-none-of`, `is-not-empty`, `is-not-equal-to`,
//!   `is-not-on`, `does-not-contain`, `is-not-within-the-last`, `is-not-within-the-next`,
//!   `is-not-exactly-relative`) is exactly the complement of its positive one, so a record
//!   without a value passes it;
//! - the other operators ask whether any item passes (for multi-values, e.g. `number-multi`);
//! - filterable texts are predefined options, so they match exactly; free text (`contains` …)
//!   and location parts ignore case; a location filter value matches when every part it gives
//!   does;
//! - an empty group constrains nothing, whether `and` or `or`;
//! - dates compare in UTC: `is-on`, `is-before` … by calendar day; the relative windows
//!   (`is-within-the-last` …) by instant, from `now`; the relative thresholds
//!   (`is-more-than-relative` …) by whole calendar units between the date and `now` (weeks start
//!   on Monday), so that exactly / more / less split every date in three;
//! - the one attribute the documents name, `date-of-activity`, is the date of an interaction
//!   (`sentAt` or `startTime`); any other `attributeId` reads no value.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::params::Invalid;

/// Most items (filters or nested groups) in one group (`FilterGroup.filters.maxItems`).
const MAX_GROUP_ITEMS: usize = 50;
/// Most values of one filter (`maxItems` of every list-valued `value`).
const MAX_FILTER_VALUES: usize = 100;
/// Most sort criteria (`SearchCriteria.sorts.maxItems`).
const MAX_SORTS: usize = 5;
/// Fewest characters of a search term (`SearchTerm.term.minLength`).
const MIN_TERM_CHARS: usize = 3;
/// Most extra fields a term searches (`SearchTerm.fieldIds.maxItems`).
const MAX_TERM_FIELD_IDS: usize = 100;
/// The deepest nesting of groups, the top group being level 1. The examples say groups nest "to
/// arbitrary depth"; a bound keeps the recursive reading far from the end of the stack and
/// refuses what is surely a client's runaway rather than a query.
const MAX_DEPTH: usize = 10;
/// The largest id (`maximum` of the references' ids): 2^53 - 1.
const MAX_ID: i64 = 9_007_199_254_740_991;
/// The largest relative amount (`RelativeDate.amount`, int32).
const MAX_AMOUNT: i64 = 2_147_483_647;
/// The attribute of relationship-intelligence fields (`last-email` …): the interaction's date.
const DATE_OF_ACTIVITY: &str = "date-of-activity";

/// A parsed search body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Criteria {
    /// The filter tree (`filters`), if any.
    filters: Option<Group>,
    /// `search.term`.
    term: Option<String>,
    /// `search.fieldIds`.
    term_field_ids: Vec<String>,
    /// `sorts`, in order.
    sorts: Vec<Sort>,
}

/// A `FilterGroup`.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    /// `true` for `and`, `false` for `or`.
    all: bool,
    items: Vec<Node>,
}

/// An item of a group.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Group(Group),
    Filter(Filter),
}

/// A `ValueFilter`: a test of one field's value, negated for the negative operators.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    field_id: String,
    attribute_id: Option<String>,
    test: Test,
    negated: bool,
}

/// What a filter asks of a value's items (the positive form of its operator).
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// `is-empty`: no item.
    Empty,
    /// `is-any-of` / `has-any-of` (`all` false): some item is one of these; `has-all-of` (`all`
    /// true): each of these is some item.
    Among { all: bool, values: Vec<Wanted> },
    /// `is-equal-to`, `is-greater-than` …: some item compares so with the number.
    Number(Cmp, f64),
    /// `is-between` of numbers, inclusive.
    NumberBetween(f64, f64),
    /// `is-on`, `is-before` …: some item's day compares so with the day.
    Day(Cmp, NaiveDate),
    /// `is-between` of dates, inclusive.
    DayBetween(NaiveDate, NaiveDate),
    /// `is-within-the-last` (`future` false) / `is-within-the-next`: some item lies between
    /// `now` and `amount` units before (after) it.
    Window { future: bool, amount: u32, unit: Unit },
    /// `is-between-relative`: some item lies between `far` and `near` units before `now`.
    WindowBetween { near: u32, far: u32, unit: Unit },
    /// `is-exactly-relative`, `is-more-than-relative` …: the whole units between some item and
    /// `now` compare so with the amount.
    Ago(Cmp, u32, Unit),
    /// `contains`, `starts-with`, `ends-with`: some item's text does so, ignoring case.
    Text(TextOp, String),
}

/// A comparison of a record's value (left) with the filter's (right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Cmp::Eq => ordering == Ordering::Equal,
            Cmp::Lt => ordering == Ordering::Less,
            Cmp::Le => ordering != Ordering::Greater,
            Cmp::Gt => ordering == Ordering::Greater,
            Cmp::Ge => ordering != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

/// A relative date's unit (`RelativeDate.unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

const UNITS: [(&str, Unit); 7] = [
    ("minute", Unit::Minute),
    ("hour", Unit::Hour),
    ("day", Unit::Day),
    ("week", Unit::Week),
    ("month", Unit::Month),
    ("quarter", Unit::Quarter),
    ("year", Unit::Year),
];

/// One value of a list-valued filter, and how it is found among a record's items.
#[derive(Debug, Clone, PartialEq)]
enum Wanted {
    /// A reference: the item whose `key` (`id`, `dropdownOptionId`) is `id`.
    Ref { key: &'static str, id: i64 },
    /// A filterable text: the item that is this text, exactly (the options are predefined).
    Text(String),
    /// A location: the item whose every part given here is the same, ignoring case.
    Place(Vec<(&'static str, String)>),
}

impl Wanted {
    fn is(&self, item: &Value) -> bool {
        match self {
            Wanted::Ref { key, id } => item.get(key).and_then(Value::as_i64) == Some(*id),
            Wanted::Text(text) => item.as_str() == Some(text.as_str()),
            Wanted::Place(parts) => parts.iter().all(|(part, want)| {
                item.get(part).and_then(Value::as_str).is_some_and(|have| have.to_lowercase() == want.to_lowercase())
            }),
        }
    }
}

/// A `SearchSort`.
#[derive(Debug, Clone, PartialEq)]
struct Sort {
    field_id: String,
    attribute_id: Option<String>,
    descending: bool,
}

// ---- the filter types -------------------------------------------------------------------------

/// A `ValueFilter`'s `valueType`: which filter schema applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Company,
    Companies,
    Person,
    Persons,
    Dropdown,
    Dropdowns,
    RankedDropdown,
    Date,
    Number,
    FilterableText,
    FilterableTexts,
    Text,
    Location,
    Locations,
}

const KINDS: [(&str, Kind); 14] = [
    ("company", Kind::Company),
    ("company-multi", Kind::Companies),
    ("person", Kind::Person),
    ("person-multi", Kind::Persons),
    ("dropdown", Kind::Dropdown),
    ("dropdown-multi", Kind::Dropdowns),
    ("ranked-dropdown", Kind::RankedDropdown),
    ("date", Kind::Date),
    ("number", Kind::Number),
    ("filterable-text", Kind::FilterableText),
    ("filterable-text-multi", Kind::FilterableTexts),
    ("text", Kind::Text),
    ("location", Kind::Location),
    ("location-multi", Kind::Locations),
];

/// Operators of single-valued list filters (`CompanyFilter`, `DropdownFilter` …).
const ONE_OF: &[&str] = &["is-any-of", "is-none-of", "is-empty", "is-not-empty"];
/// Operators of multi-valued list filters (`CompaniesFilter`, `DropdownsFilter` …).
const MANY_OF: &[&str] = &["has-any-of", "has-none-of", "has-all-of", "is-empty", "is-not-empty"];
/// `NumberFilter`'s operators.
const NUMBER_OPS: &[&str] = &[
    "is-equal-to",
    "is-not-equal-to",
    "is-greater-than",
    "is-greater-than-or-equal-to",
    "is-less-than",
    "is-less-than-or-equal-to",
    "is-between",
    "is-empty",
    "is-not-empty",
];
/// `DateFilter`'s operators.
const DATE_OPS: &[&str] = &[
    "is-on",
    "is-not-on",
    "is-before",
    "is-on-or-before",
    "is-after",
    "is-on-or-after",
    "is-between",
    "is-within-the-last",
    "is-not-within-the-last",
    "is-within-the-next",
    "is-not-within-the-next",
    "is-between-relative",
    "is-exactly-relative",
    "is-not-exactly-relative",
    "is-more-than-relative",
    "is-more-than-or-equal-to-relative",
    "is-less-than-relative",
    "is-less-than-or-equal-to-relative",
    "is-empty",
    "is-not-empty",
];
/// `TextFilter`'s operators.
const TEXT_OPS: &[&str] = &["contains", "does-not-contain", "starts-with", "ends-with", "is-empty", "is-not-empty"];

/// What a list filter's values are.
#[derive(Debug, Clone, Copy)]
enum Members {
    /// References with this key (`CompanyReference.id`, `DropdownReference.dropdownOptionId`).
    Refs(&'static str),
    Texts,
    Places,
}

impl Kind {
    fn named(name: &str) -> Option<Kind> {
        KINDS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    fn name(self) -> &'static str {
        KINDS.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }

    fn operators(self) -> &'static [&'static str] {
        match self {
            Kind::Company | Kind::Person | Kind::Dropdown | Kind::RankedDropdown => ONE_OF,
            Kind::FilterableText | Kind::Location => ONE_OF,
            Kind::Companies | Kind::Persons | Kind::Dropdowns | Kind::FilterableTexts | Kind::Locations => MANY_OF,
            Kind::Number => NUMBER_OPS,
            Kind::Date => DATE_OPS,
            Kind::Text => TEXT_OPS,
        }
    }

    /// Whether the kind's schemas have an `attributeId` property (the dropdown, filterable-text
    /// and location ones do not, so there it is an unknown key).
    fn takes_attribute(self) -> bool {
        matches!(
            self,
            Kind::Company | Kind::Companies | Kind::Person | Kind::Persons | Kind::Date | Kind::Number | Kind::Text
        )
    }

    fn members(self) -> Option<Members> {
        match self {
            Kind::Company | Kind::Companies | Kind::Person | Kind::Persons => Some(Members::Refs("id")),
            Kind::Dropdown | Kind::Dropdowns | Kind::RankedDropdown => Some(Members::Refs("dropdownOptionId")),
            Kind::FilterableText | Kind::FilterableTexts => Some(Members::Texts),
            Kind::Location | Kind::Locations => Some(Members::Places),
            Kind::Date | Kind::Number | Kind::Text => None,
        }
    }
}

/// The positive operator a negative one complements, and whether `op` is negative.
fn positive(op: &str) -> (&str, bool) {
    match op {
        "is-none-of" => ("is-any-of", true),
        "has-none-of" => ("has-any-of", true),
        "is-not-empty" => ("is-empty", true),
        "is-not-equal-to" => ("is-equal-to", true),
        "is-not-on" => ("is-on", true),
        "does-not-contain" => ("contains", true),
        "is-not-within-the-last" => ("is-within-the-last", true),
        "is-not-within-the-next" => ("is-within-the-next", true),
        "is-not-exactly-relative" => ("is-exactly-relative", true),
        _ => (op, false),
    }
}

// ---- the interface ----------------------------------------------------------------------------

impl Criteria {
    /// Parses a search body (`None` or JSON `null`/empty object = no criteria). Every violation
    /// of the schema is an [`Invalid`] naming the JSON path of the offending part as `param`.
    pub fn parse(body: Option<&Value>) -> Result<Criteria, Invalid> {
        let mut criteria = Criteria { filters: None, term: None, term_field_ids: Vec::new(), sorts: Vec::new() };
        let body = match body {
            None | Some(Value::Null) => return Ok(criteria),
            Some(Value::Object(body)) => body,
            Some(other) => {
                let message = format!("the search body must be an object (SearchCriteria), not {}", type_of(other));
                return Err(Invalid::new("body", message));
            }
        };
        known_keys(body, "", &["filters", "search", "sorts"])?;
        if let Some(group) = body.get("filters") {
            criteria.filters = Some(parse_group(group, "filters", 1)?);
        }
        if let Some(search) = body.get("search") {
            let (term, field_ids) = parse_search(search, "search")?;
            criteria.term = Some(term);
            criteria.term_field_ids = field_ids;
        }
        if let Some(sorts) = body.get("sorts") {
            criteria.sorts = parse_sorts(sorts, "sorts")?;
        }
        Ok(criteria)
    }

    /// The search term, if any (the caller matches it against name / primary domain or emails
    /// itself).
    pub fn term(&self) -> Option<&str> {
        self.term.as_deref()
    }

    /// The extra field ids the term also searches (`search.fieldIds`).
    pub fn term_field_ids(&self) -> &[String] {
        &self.term_field_ids
    }

    /// Whether a record passes the filters. `value_of(field_id)` gives the record's value of
    /// that field as v2 renders it, i.e. the `value` object `{"type": ..., "data": ...}` (None
    /// when the record has no such field). `now` is the current time, for relative date filters.
    pub fn matches(&self, value_of: &dyn Fn(&str) -> Option<Value>, now: DateTime<Utc>) -> bool {
        self.filters.as_ref().is_none_or(|group| group.matches(value_of, now))
    }

    /// Sorts records by the sorts, in order (stable; records without a value sort last in
    /// either direction).
    pub fn sort<T>(&self, items: &mut [T], value_of: impl Fn(&T, &str) -> Option<Value>) {
        if self.sorts.is_empty() {
            return;
        }
        // Each record's keys are read once; `sort_by_cached_key` keeps equal records in order.
        items.sort_by_cached_key(|item| {
            SortKey(
                self.sorts
                    .iter()
                    .map(|s| (sort_key(value_of(item, &s.field_id).as_ref(), s.attribute_id.as_deref()), s.descending))
                    .collect(),
            )
        });
    }

    /// Every field id the filters and sorts name, once each, in the order they appear (so the
    /// caller can refuse unknown fields with a validation error naming them).
    pub fn field_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let mut add = |id: &str| {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        };
        if let Some(group) = &self.filters {
            group.each_field_id(&mut add);
        }
        for sort in &self.sorts {
            add(&sort.field_id);
        }
        ids
    }
}

// ---- reading ----------------------------------------------------------------------------------

/// The path of `key` inside the part at `path` (the top is `""`).
fn at(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The path of the `i`th element of the array at `path`.
fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// How a JSON value's type is named in messages.
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The part at `path` as an object (`what` names its schema in the message).
fn object<'a>(value: &'a Value, path: &str, what: &str) -> Result<&'a Map<String, Value>, Invalid> {
    value.as_object().ok_or_else(|| Invalid::new(path, format!("{path} must be {what}, not {}", type_of(value))))
}

/// Refuses a key the schema does not list (`additionalProperties: false`).
fn known_keys(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), Invalid> {
    match map.keys().find(|key| !allowed.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => {
            let place = if path.is_empty() { "the search body".to_owned() } else { path.to_owned() };
            let message = format!("unknown property {key:?} in {place}; it takes {}", allowed.join(", "));
            Err(Invalid::new(&at(path, key), message))
        }
    }
}

/// The required `key` of the object at `path`.
fn required<'a>(map: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a Value, Invalid> {
    let param = at(path, key);
    map.get(key).ok_or_else(|| Invalid::new(&param, format!("{param} is required")))
}

fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, Invalid> {
    value.as_str().ok_or_else(|| Invalid::new(path, format!("{path} must be a string, not {}", type_of(value))))
}

/// A string of at least one character (`minLength: 1`).
fn non_empty_string<'a>(value: &'a Value, path: &str) -> Result<&'a str, Invalid> {
    match string(value, path)? {
        "" => Err(Invalid::new(path, format!("{path} must not be empty"))),
        text => Ok(text),
    }
}

/// An array of `min` to `max` elements (`what` names them in the message).
fn array<'a>(value: &'a Value, path: &str, min: usize, max: usize, what: &str) -> Result<&'a [Value], Invalid> {
    let items = value
        .as_array()
        .ok_or_else(|| Invalid::new(path, format!("{path} must be an array of {what}, not {}", type_of(value))))?;
    if items.len() < min || items.len() > max {
        let bounds = if min == max { format!("exactly {min}") } else { format!("{min} to {max}") };
        let message = format!("{path} has {} {what}; it takes {bounds}", items.len());
        return Err(Invalid::new(path, message));
    }
    Ok(items)
}

/// An integer in `min..=max`.
fn integer(value: &Value, path: &str, min: i64, max: i64) -> Result<i64, Invalid> {
    value
        .as_i64()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| Invalid::new(path, format!("{path} must be an integer from {min} to {max}")))
}

fn number(value: &Value, path: &str) -> Result<f64, Invalid> {
    value.as_f64().ok_or_else(|| Invalid::new(path, format!("{path} must be a number, not {}", type_of(value))))
}

/// A `format: date` string: `YYYY-MM-DD`, a day that exists.
fn date(value: &Value, path: &str) -> Result<NaiveDate, Invalid> {
    let text = string(value, path)?;
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| Invalid::new(path, format!("{path} must be a date as YYYY-MM-DD, not {text:?}")))
}

/// Two values, read by `read`, the first not above the second (the schemas put the lower
/// bound first).
fn range<T: PartialOrd>(
    value: &Value,
    path: &str,
    what: &str,
    read: impl Fn(&Value, &str) -> Result<T, Invalid>,
) -> Result<(T, T), Invalid> {
    let [low, high] = array(value, path, 2, 2, what)? else {
        return Err(Invalid::new(path, format!("{path} must hold exactly 2 {what}")));
    };
    let (low, high) = (read(low, &index(path, 0))?, read(high, &index(path, 1))?);
    if low > high {
        return Err(Invalid::new(path, format!("{path} must give the lower bound first, the upper bound second")));
    }
    Ok((low, high))
}

/// A `FilterGroup` at nesting level `depth`.
fn parse_group(value: &Value, path: &str, depth: usize) -> Result<Group, Invalid> {
    if depth > MAX_DEPTH {
        return Err(Invalid::new(path, format!("{path}: filter groups nest at most {MAX_DEPTH} deep")));
    }
    let map = object(value, path, "a filter group (FilterGroup)")?;
    known_keys(map, path, &["operator", "filters"])?;
    let operator_path = at(path, "operator");
    let all = match string(required(map, path, "operator")?, &operator_path)? {
        "and" => true,
        "or" => false,
        other => {
            let message = format!("{operator_path} must be \"and\" or \"or\", not {other:?}");
            return Err(Invalid::new(&operator_path, message));
        }
    };
    let filters_path = at(path, "filters");
    let list = array(required(map, path, "filters")?, &filters_path, 0, MAX_GROUP_ITEMS, "filters or groups")?;
    let items = list
        .iter()
        .enumerate()
        .map(|(i, item)| parse_node(item, &index(&filters_path, i), depth))
        .collect::<Result<_, _>>()?;
    Ok(Group { all, items })
}

/// An item of a group at level `depth`: a `ValueFilter` (it has a `valueType`) or a nested group.
fn parse_node(value: &Value, path: &str, depth: usize) -> Result<Node, Invalid> {
    let map = object(value, path, "a filter (ValueFilter) or a filter group (FilterGroup)")?;
    if map.contains_key("valueType") {
        parse_filter(map, path).map(Node::Filter)
    } else if map.contains_key("filters") {
        parse_group(value, path, depth + 1).map(Node::Group)
    } else if map.contains_key("fieldId") || map.contains_key("value") {
        let param = at(path, "valueType");
        Err(Invalid::new(&param, format!("{param} is required")))
    } else {
        let message = format!(
            "{path} must be a filter (valueType, fieldId, operator, value) or a filter group (operator, filters)"
        );
        Err(Invalid::new(path, message))
    }
}

/// A `ValueFilter`.
fn parse_filter(map: &Map<String, Value>, path: &str) -> Result<Filter, Invalid> {
    let kind = parse_kind(map, path)?;
    if let Some(key) = map.keys().find(|key| !matches!(key.as_str(), "valueType" | "fieldId" | "operator" | "value"))
        && (key != "attributeId" || !kind.takes_attribute())
    {
        let param = at(path, key);
        let message = if key == "attributeId" {
            format!("{param}: a filter of valueType {:?} takes no attributeId", kind.name())
        } else {
            let attribute = if kind.takes_attribute() { ", attributeId" } else { "" };
            format!("unknown property {key:?} in {path}; a filter takes valueType, fieldId, operator, value{attribute}")
        };
        return Err(Invalid::new(&param, message));
    }
    let field_id = string(required(map, path, "fieldId")?, &at(path, "fieldId"))?.to_owned();
    let attribute_id = match map.get("attributeId") {
        Some(value) => Some(string(value, &at(path, "attributeId"))?.to_owned()),
        None => None,
    };
    let operator_path = at(path, "operator");
    let operator = string(required(map, path, "operator")?, &operator_path)?;
    if !kind.operators().contains(&operator) {
        let message = format!(
            "{operator_path}: {operator:?} is not an operator of valueType {:?}; it takes {}",
            kind.name(),
            kind.operators().join(", ")
        );
        return Err(Invalid::new(&operator_path, message));
    }
    let (op, negated) = positive(operator);
    let value_path = at(path, "value");
    let test = match (op, map.get("value")) {
        ("is-empty", None) => Test::Empty,
        ("is-empty", Some(_)) => {
            let message = format!("{value_path} must be absent: {operator} takes no value");
            return Err(Invalid::new(&value_path, message));
        }
        (_, None) => return Err(Invalid::new(&value_path, format!("{value_path} is required by {operator}"))),
        (_, Some(value)) => parse_test(kind, op, value, &value_path)?,
    };
    Ok(Filter { field_id, attribute_id, test, negated })
}

fn parse_kind(map: &Map<String, Value>, path: &str) -> Result<Kind, Invalid> {
    let param = at(path, "valueType");
    let name = string(required(map, path, "valueType")?, &param)?;
    Kind::named(name).ok_or_else(|| {
        let names: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
        Invalid::new(&param, format!("{param}: {name:?} is not a filter valueType; it is one of {}", names.join(", ")))
    })
}

/// The test of the positive operator `op` (one `kind` defines) with its `value`.
fn parse_test(kind: Kind, op: &str, value: &Value, path: &str) -> Result<Test, Invalid> {
    match (kind, op) {
        (_, "is-any-of" | "has-any-of") => Ok(Test::Among { all: false, values: parse_values(kind, value, path)? }),
        (_, "has-all-of") => Ok(Test::Among { all: true, values: parse_values(kind, value, path)? }),
        (Kind::Number, "is-between") => {
            let (low, high) = range(value, path, "numbers", number)?;
            Ok(Test::NumberBetween(low, high))
        }
        (Kind::Number, _) => Ok(Test::Number(comparison(op), number(value, path)?)),
        (Kind::Date, "is-between") => {
            let (start, end) = range(value, path, "dates", date)?;
            Ok(Test::DayBetween(start, end))
        }
        (Kind::Date, "is-within-the-last" | "is-within-the-next" | "is-between-relative") => {
            parse_window(op, value, path)
        }
        (Kind::Date, _) if op.ends_with("-relative") => {
            let (amount, unit) = parse_relative_date(value, path)?;
            Ok(Test::Ago(comparison(op), amount, unit))
        }
        (Kind::Date, _) => Ok(Test::Day(comparison(op), date(value, path)?)),
        (_, "contains" | "starts-with" | "ends-with") => {
            let text_op = match op {
                "contains" => TextOp::Contains,
                "starts-with" => TextOp::StartsWith,
                _ => TextOp::EndsWith,
            };
            Ok(Test::Text(text_op, string(value, path)?.to_owned()))
        }
        // Unreachable: `parse_filter` only passes operators the kind defines.
        _ => Err(Invalid::new(path, format!("{path}: {op:?} takes no value for valueType {:?}", kind.name()))),
    }
}

/// The comparison a positive number, date or relative operator names.
fn comparison(op: &str) -> Cmp {
    match op.trim_end_matches("-relative") {
        "is-less-than" | "is-before" => Cmp::Lt,
        "is-less-than-or-equal-to" | "is-on-or-before" => Cmp::Le,
        "is-greater-than" | "is-after" | "is-more-than" => Cmp::Gt,
        "is-greater-than-or-equal-to" | "is-on-or-after" | "is-more-than-or-equal-to" => Cmp::Ge,
        _ => Cmp::Eq,
    }
}

/// The 1 to 100 values of a list filter of `kind`.
fn parse_values(kind: Kind, value: &Value, path: &str) -> Result<Vec<Wanted>, Invalid> {
    let Some(members) = kind.members() else {
        return Err(Invalid::new(path, format!("{path}: valueType {:?} takes no list of values", kind.name())));
    };
    let what = match members {
        Members::Refs("id") => "references ({id})",
        Members::Refs(_) => "references ({dropdownOptionId})",
        Members::Texts => "strings",
        Members::Places => "locations",
    };
    array(value, path, 1, MAX_FILTER_VALUES, what)?
        .iter()
        .enumerate()
        .map(|(i, item)| parse_member(members, item, &index(path, i)))
        .collect()
}

fn parse_member(members: Members, value: &Value, path: &str) -> Result<Wanted, Invalid> {
    match members {
        Members::Refs(key) => {
            let map = object(value, path, &format!("a reference ({{{key}}})"))?;
            known_keys(map, path, &[key])?;
            let id = integer(required(map, path, key)?, &at(path, key), 1, MAX_ID)?;
            Ok(Wanted::Ref { key, id })
        }
        Members::Texts => Ok(Wanted::Text(string(value, path)?.to_owned())),
        Members::Places => {
            const PARTS: [&str; 5] = ["streetAddress", "city", "state", "country", "continent"];
            let map = object(value, path, "a location (LocationFilterValue)")?;
            known_keys(map, path, &PARTS)?;
            let mut parts = Vec::new();
            for part in PARTS {
                if let Some(text) = map.get(part) {
                    parts.push((part, string(text, &at(path, part))?.to_owned()));
                }
            }
            Ok(Wanted::Place(parts))
        }
    }
}

/// A `RelativeDates` value: one amount for the windows, two (near, far) for
/// `is-between-relative`, as its description says.
fn parse_window(op: &str, value: &Value, path: &str) -> Result<Test, Invalid> {
    let map = object(value, path, "a relative window ({amount: [n], unit})")?;
    known_keys(map, path, &["amount", "unit"])?;
    let amount_path = at(path, "amount");
    let amounts = array(required(map, path, "amount")?, &amount_path, 1, 2, "amounts")?;
    let amounts: Vec<u32> =
        amounts.iter().enumerate().map(|(i, n)| amount(n, &index(&amount_path, i))).collect::<Result<_, _>>()?;
    let unit = parse_unit(map, path)?;
    match (op, amounts.as_slice()) {
        ("is-between-relative", [near, far]) if near <= far => Ok(Test::WindowBetween { near: *near, far: *far, unit }),
        ("is-between-relative", [_, _]) => {
            let message = format!("{amount_path} must give the nearer offset first (e.g. [7, 30]: 7 to 30 ago)");
            Err(Invalid::new(&amount_path, message))
        }
        ("is-between-relative", _) => {
            Err(Invalid::new(&amount_path, format!("{amount_path} must hold 2 amounts (start, end) for {op}")))
        }
        (_, [amount]) => Ok(Test::Window { future: op == "is-within-the-next", amount: *amount, unit }),
        _ => Err(Invalid::new(&amount_path, format!("{amount_path} must hold 1 amount for {op}"))),
    }
}

/// A `RelativeDate` value: `{amount, unit}`.
fn parse_relative_date(value: &Value, path: &str) -> Result<(u32, Unit), Invalid> {
    let map = object(value, path, "a relative date ({amount, unit})")?;
    known_keys(map, path, &["amount", "unit"])?;
    let amount = amount(required(map, path, "amount")?, &at(path, "amount"))?;
    Ok((amount, parse_unit(map, path)?))
}

fn amount(value: &Value, path: &str) -> Result<u32, Invalid> {
    let n = integer(value, path, 0, MAX_AMOUNT)?;
    u32::try_from(n).map_err(|_| Invalid::new(path, format!("{path} must be an integer from 0 to {MAX_AMOUNT}")))
}

fn parse_unit(map: &Map<String, Value>, path: &str) -> Result<Unit, Invalid> {
    let param = at(path, "unit");
    let name = string(required(map, path, "unit")?, &param)?;
    UNITS.iter().find(|(n, _)| *n == name).map(|(_, unit)| *unit).ok_or_else(|| {
        let names: Vec<&str> = UNITS.iter().map(|(n, _)| *n).collect();
        Invalid::new(&param, format!("{param}: {name:?} is not a unit; it is one of {}", names.join(", ")))
    })
}

/// A `SearchTerm`: the term and the extra fields it searches.
fn parse_search(value: &Value, path: &str) -> Result<(String, Vec<String>), Invalid> {
    let map = object(value, path, "a search term ({term, fieldIds})")?;
    known_keys(map, path, &["term", "fieldIds"])?;
    let term_path = at(path, "term");
    let term = string(required(map, path, "term")?, &term_path)?;
    if term.chars().count() < MIN_TERM_CHARS {
        let message = format!("{term_path} must have at least {MIN_TERM_CHARS} characters, not {term:?}");
        return Err(Invalid::new(&term_path, message));
    }
    let mut field_ids = Vec::new();
    if let Some(ids) = map.get("fieldIds") {
        let ids_path = at(path, "fieldIds");
        for (i, id) in array(ids, &ids_path, 1, MAX_TERM_FIELD_IDS, "field ids")?.iter().enumerate() {
            field_ids.push(string(id, &index(&ids_path, i))?.to_owned());
        }
    }
    Ok((term.to_owned(), field_ids))
}

/// `sorts`: 1 to 5 `SearchSort`s.
fn parse_sorts(value: &Value, path: &str) -> Result<Vec<Sort>, Invalid> {
    let list = array(value, path, 1, MAX_SORTS, "sorts")?;
    let mut sorts = Vec::with_capacity(list.len());
    for (i, sort) in list.iter().enumerate() {
        let path = index(path, i);
        let map = object(sort, &path, "a sort ({fieldId, direction, attributeId})")?;
        known_keys(map, &path, &["fieldId", "direction", "attributeId"])?;
        let field_id = non_empty_string(required(map, &path, "fieldId")?, &at(&path, "fieldId"))?.to_owned();
        let direction_path = at(&path, "direction");
        let descending = match string(required(map, &path, "direction")?, &direction_path)? {
            "asc" => false,
            "desc" => true,
            other => {
                let message = format!("{direction_path} must be \"asc\" or \"desc\", not {other:?}");
                return Err(Invalid::new(&direction_path, message));
            }
        };
        let attribute_id = match map.get("attributeId") {
            Some(id) => Some(non_empty_string(id, &at(&path, "attributeId"))?.to_owned()),
            None => None,
        };
        sorts.push(Sort { field_id, attribute_id, descending });
    }
    Ok(sorts)
}

// ---- applying ---------------------------------------------------------------------------------

impl Group {
    fn matches(&self, value_of: &dyn Fn(&str) -> Option<Value>, now: DateTime<Utc>) -> bool {
        let passes = |node: &Node| match node {
            Node::Group(group) => group.matches(value_of, now),
            Node::Filter(filter) => filter.matches(value_of, now),
        };
        if self.all { self.items.iter().all(passes) } else { self.items.is_empty() || self.items.iter().any(passes) }
    }

    fn each_field_id(&self, add: &mut dyn FnMut(&str)) {
        for node in &self.items {
            match node {
                Node::Group(group) => group.each_field_id(add),
                Node::Filter(filter) => add(&filter.field_id),
            }
        }
    }
}

impl Filter {
    fn matches(&self, value_of: &dyn Fn(&str) -> Option<Value>, now: DateTime<Utc>) -> bool {
        let value = value_of(&self.field_id);
        let items = items(value.as_ref(), self.attribute_id.as_deref());
        self.test.holds(&items, now) != self.negated
    }
}

/// A field value's items, the attribute `attribute` of it if given: none when the value is
/// absent, its `data` null or an empty array, or the attribute unknown; else `data` or each
/// non-null element of it.
fn items<'a>(value: Option<&'a Value>, attribute: Option<&str>) -> Vec<&'a Value> {
    let Some(value) = value else { return Vec::new() };
    if let Some(attribute) = attribute {
        let kind = value.get("type").and_then(Value::as_str);
        // The interaction's date is read from the item by `time_of`, as for a datetime.
        if attribute != DATE_OF_ACTIVITY || !matches!(kind, Some("interaction" | "datetime")) {
            return Vec::new();
        }
    }
    match value.get("data") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(elements)) => elements.iter().filter(|e| !e.is_null()).collect(),
        Some(one) => vec![one],
    }
}

impl Test {
    fn holds(&self, items: &[&Value], now: DateTime<Utc>) -> bool {
        let numbers = || items.iter().filter_map(|item| number_of(item));
        let times = || items.iter().filter_map(|item| time_of(item));
        match self {
            Test::Empty => items.is_empty(),
            Test::Among { all, values } => {
                let found = |wanted: &Wanted| items.iter().any(|item| wanted.is(item));
                if *all { values.iter().all(found) } else { values.iter().any(found) }
            }
            Test::Number(cmp, n) => numbers().any(|x| x.partial_cmp(n).is_some_and(|o| cmp.holds(o))),
            Test::NumberBetween(low, high) => numbers().any(|x| *low <= x && x <= *high),
            Test::Day(cmp, day) => times().any(|t| cmp.holds(t.date_naive().cmp(day))),
            Test::DayBetween(start, end) => times().any(|t| (*start..=*end).contains(&t.date_naive())),
            Test::Window { future: false, amount, unit } => {
                let from = shift(now, *unit, *amount, false);
                times().any(|t| from <= t && t <= now)
            }
            Test::Window { future: true, amount, unit } => {
                let until = shift(now, *unit, *amount, true);
                times().any(|t| now <= t && t <= until)
            }
            Test::WindowBetween { near, far, unit } => {
                let (from, until) = (shift(now, *unit, *far, false), shift(now, *unit, *near, false));
                times().any(|t| from <= t && t <= until)
            }
            Test::Ago(cmp, amount, unit) => {
                times().any(|t| cmp.holds((period(now, *unit) - period(t, *unit)).cmp(&i64::from(*amount))))
            }
            Test::Text(op, needle) => {
                let needle = needle.to_lowercase();
                items.iter().filter_map(|item| item.as_str()).map(str::to_lowercase).any(|text| match op {
                    TextOp::Contains => text.contains(&needle),
                    TextOp::StartsWith => text.starts_with(&needle),
                    TextOp::EndsWith => text.ends_with(&needle),
                })
            }
        }
    }
}

/// An item's number: a number, or a formula's `calculatedValue`.
fn number_of(item: &Value) -> Option<f64> {
    item.as_f64().or_else(|| item.get("calculatedValue").and_then(Value::as_f64))
}

/// An item's instant: a date-time string, or an interaction's `sentAt` (emails, chat messages)
/// or `startTime` (meetings, calls).
fn time_of(item: &Value) -> Option<DateTime<Utc>> {
    let text = match item {
        Value::String(text) => text.as_str(),
        Value::Object(map) => map.get("sentAt").or_else(|| map.get("startTime")).and_then(Value::as_str)?,
        _ => return None,
    };
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
}

/// `now` moved `amount` units forward (or back); past the calendar's end, its end.
fn shift(now: DateTime<Utc>, unit: Unit, amount: u32, forward: bool) -> DateTime<Utc> {
    let by_duration = |delta: Option<TimeDelta>| {
        delta.and_then(|d| if forward { now.checked_add_signed(d) } else { now.checked_sub_signed(d) })
    };
    let by_months = |months_per_unit: u32| {
        amount
            .checked_mul(months_per_unit)
            .map(Months::new)
            .and_then(|m| if forward { now.checked_add_months(m) } else { now.checked_sub_months(m) })
    };
    let n = i64::from(amount);
    let shifted = match unit {
        Unit::Minute => by_duration(TimeDelta::try_minutes(n)),
        Unit::Hour => by_duration(TimeDelta::try_hours(n)),
        Unit::Day => by_duration(TimeDelta::try_days(n)),
        Unit::Week => by_duration(TimeDelta::try_weeks(n)),
        Unit::Month => by_months(1),
        Unit::Quarter => by_months(3),
        Unit::Year => by_months(12),
    };
    shifted.unwrap_or(if forward { DateTime::<Utc>::MAX_UTC } else { DateTime::<Utc>::MIN_UTC })
}

/// The number of the calendar `unit` that `t` falls in (UTC), counted from a fixed start, so
/// that the difference of two is the whole units between them.
fn period(t: DateTime<Utc>, unit: Unit) -> i64 {
    let day = i64::from(t.date_naive().num_days_from_ce());
    match unit {
        Unit::Minute => t.timestamp().div_euclid(60),
        Unit::Hour => t.timestamp().div_euclid(3600),
        Unit::Day => day,
        // Day 1 of the common era was a Monday.
        Unit::Week => (day - 1).div_euclid(7),
        Unit::Month => i64::from(t.year()) * 12 + i64::from(t.month0()),
        Unit::Quarter => i64::from(t.year()) * 4 + i64::from(t.month0() / 3),
        Unit::Year => i64::from(t.year()),
    }
}

// ---- sorting ----------------------------------------------------------------------------------

/// What a record sorts by in one sort.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Number(f64),
    Time(DateTime<Utc>),
    /// Lowercased, for a case-insensitive order.
    Text(String),
}

impl Key {
    fn compare(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Number(a), Key::Number(b)) => a.total_cmp(b),
            (Key::Time(a), Key::Time(b)) => a.cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            // A field holds one kind of value; should two differ, they keep a fixed order.
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Key::Number(_) => 0,
            Key::Time(_) => 1,
            Key::Text(_) => 2,
        }
    }
}

/// A record's keys for all sorts, each with whether it is descending: ordered sort by sort,
/// a missing key after any present one in either direction.
#[derive(Debug)]
struct SortKey(Vec<(Option<Key>, bool)>);

impl Ord for SortKey {
    fn cmp(&self, other: &SortKey) -> Ordering {
        for ((a, descending), (b, _)) in self.0.iter().zip(&other.0) {
            let ordering = match (a, b) {
                (Some(a), Some(b)) if *descending => b.compare(a),
                (Some(a), Some(b)) => a.compare(b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &SortKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &SortKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

/// What a field value sorts by: numbers by value, dates by instant, ranked dropdowns by rank,
/// dropdowns by text, persons and companies by name, locations by city, state and country, text
/// ignoring case; a multi-value by its first item.
fn sort_key(value: Option<&Value>, attribute: Option<&str>) -> Option<Key> {
    let first = *items(value, attribute).first()?;
    let text = |part: Option<&Value>| part.and_then(Value::as_str).map(|t| Key::Text(t.to_lowercase()));
    let kind = value.and_then(|v| v.get("type")).and_then(Value::as_str).unwrap_or_default();
    match kind {
        "number" | "number-multi" | "formula-number" => number_of(first).map(Key::Number),
        "datetime" | "interaction" => time_of(first).map(Key::Time),
        "ranked-dropdown" => first.get("rank").and_then(Value::as_f64).map(Key::Number),
        "dropdown" | "dropdown-multi" => text(first.get("text")),
        "company" | "company-multi" => text(first.get("name")),
        "person" | "person-multi" => {
            let name: Vec<&str> = ["firstName", "lastName"].iter().filter_map(|k| first.get(*k)?.as_str()).collect();
            if name.is_empty() {
                text(first.get("primaryEmailAddress"))
            } else {
                Some(Key::Text(name.join(" ").to_lowercase()))
            }
        }
        "location" | "location-multi" => {
            let parts: Vec<&str> =
                ["city", "state", "country"].iter().filter_map(|k| first.get(*k)?.as_str()).collect();
            (!parts.is_empty()).then(|| Key::Text(parts.join(", ").to_lowercase()))
        }
        _ => match first {
            Value::Number(_) => number_of(first).map(Key::Number),
            _ => text(Some(first)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    /// Stands for "no `value`" in the tables of filters.
    const NO: Value = Value::Null;

    /// The instant the tests run at: Friday 2026-11-20 17:00 UTC (the seed's anchor).
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 17, 0, 0).single().expect("a valid instant")
    }

    fn parse(body: Value) -> Criteria {
        Criteria::parse(Some(&body)).unwrap_or_else(|e| panic!("{body} should parse, got {e:?}"))
    }

    /// The param and message a body is refused with.
    fn refused(body: &Value) -> (String, String) {
        match Criteria::parse(Some(body)) {
            Ok(criteria) => panic!("{body} should be refused, parsed as {criteria:?}"),
            Err(Invalid { param, message }) => (param, message),
        }
    }

    /// A body whose top group `and`s the filters.
    fn and(filters: Vec<Value>) -> Value {
        json!({ "filters": { "operator": "and", "filters": filters } })
    }

    /// A filter of field `f`; `value` [`NO`] for none.
    fn filter(value_type: &str, operator: &str, value: Value) -> Value {
        let mut f = json!({ "valueType": value_type, "fieldId": "f", "operator": operator });
        if !value.is_null() {
            f["value"] = value;
        }
        f
    }

    /// A field value as v2 renders it.
    fn val(kind: &str, data: Value) -> Option<Value> {
        Some(json!({ "type": kind, "data": data }))
    }

    /// Whether a record whose field `f` is `value` passes `filter`.
    fn passes(filter: &Value, value: &Option<Value>) -> bool {
        parse(and(vec![filter.clone()])).matches(&|id| if id == "f" { value.clone() } else { None }, now())
    }

    /// Checks cases `(operator, value, the record's value of f, whether it passes)` of filters of
    /// `value_type`, with `attribute` as their `attributeId` if given.
    fn check(value_type: &str, attribute: Option<&str>, cases: &[(&str, Value, Option<Value>, bool)]) {
        for (operator, value, record, expected) in cases {
            let mut f = filter(value_type, operator, value.clone());
            if let Some(attribute) = attribute {
                f["attributeId"] = json!(attribute);
            }
            assert_eq!(passes(&f, record), *expected, "{f} on {record:?}");
        }
    }

    /// `days` days before `now`, at `hour` UTC, as v2 writes date-times.
    fn ago(days: i64, hour: u32) -> String {
        let day = now().date_naive() - TimeDelta::days(days);
        format!("{}T{hour:02}:00:00Z", day.format("%Y-%m-%d"))
    }

    // ---- evaluation, per value type and operator ----------------------------------------------

    #[test]
    fn company_filters_match_by_id() {
        let acme = || val("company", json!({ "id": 2, "name": "Acme", "domain": "acme.com" }));
        let one = || json!([{ "id": 1 }]);
        check(
            "company",
            None,
            &[
                ("is-any-of", json!([{ "id": 1 }, { "id": 2 }]), acme(), true),
                ("is-any-of", one(), acme(), false),
                ("is-any-of", one(), val("company", json!({ "id": 1, "name": "X", "domain": null })), true),
                ("is-any-of", one(), val("company", NO), false),
                ("is-any-of", one(), None, false),
                ("is-none-of", one(), acme(), true),
                ("is-none-of", json!([{ "id": 2 }]), acme(), false),
                ("is-none-of", one(), None, true),
                ("is-empty", NO, None, true),
                ("is-empty", NO, val("company", NO), true),
                ("is-empty", NO, acme(), false),
                ("is-not-empty", NO, acme(), true),
                ("is-not-empty", NO, val("company", NO), false),
            ],
        );
    }

    #[test]
    fn multi_company_filters_match_any_none_or_all() {
        let two = || val("company-multi", json!([{ "id": 1, "name": "A" }, { "id": 2, "name": "B" }]));
        check(
            "company-multi",
            None,
            &[
                ("has-any-of", json!([{ "id": 2 }, { "id": 9 }]), two(), true),
                ("has-any-of", json!([{ "id": 9 }]), two(), false),
                ("has-none-of", json!([{ "id": 9 }]), two(), true),
                ("has-none-of", json!([{ "id": 1 }]), two(), false),
                ("has-none-of", json!([{ "id": 1 }]), val("company-multi", json!([])), true),
                ("has-all-of", json!([{ "id": 1 }, { "id": 2 }]), two(), true),
                ("has-all-of", json!([{ "id": 1 }, { "id": 3 }]), two(), false),
                ("is-empty", NO, val("company-multi", json!([])), true),
                ("is-empty", NO, val("company-multi", NO), true),
                ("is-empty", NO, two(), false),
                ("is-not-empty", NO, two(), true),
            ],
        );
    }

    #[test]
    fn person_filters_match_by_id() {
        let jane = json!({ "id": 7, "firstName": "Jane", "lastName": "Doe", "type": "external" });
        let joe = json!({ "id": 8, "firstName": "Joe", "lastName": null, "type": "internal" });
        let one = || val("person", jane.clone());
        let many = || val("person-multi", json!([jane, joe]));
        check(
            "person",
            None,
            &[
                ("is-any-of", json!([{ "id": 7 }]), one(), true),
                ("is-any-of", json!([{ "id": 8 }]), one(), false),
                ("is-none-of", json!([{ "id": 8 }]), one(), true),
                ("is-empty", NO, val("person", NO), true),
                ("is-not-empty", NO, one(), true),
            ],
        );
        check(
            "person-multi",
            None,
            &[
                ("has-any-of", json!([{ "id": 8 }]), many(), true),
                ("has-all-of", json!([{ "id": 7 }, { "id": 8 }]), many(), true),
                ("has-all-of", json!([{ "id": 7 }, { "id": 9 }]), many(), false),
                ("has-none-of", json!([{ "id": 7 }]), many(), false),
                ("is-empty", NO, None, true),
            ],
        );
        // The schema allows an attribute here, but persons have none the sandbox knows: no value.
        check("person", Some("date-of-activity"), &[("is-any-of", json!([{ "id": 7 }]), one(), false)]);
    }

    #[test]
    fn dropdown_filters_match_by_option_id_not_text() {
        let option = |id: i64| json!([{ "dropdownOptionId": id }]);
        let lead = || val("dropdown", json!({ "dropdownOptionId": 7, "text": "Lead" }));
        check(
            "dropdown",
            None,
            &[
                ("is-any-of", option(7), lead(), true),
                ("is-any-of", option(8), lead(), false),
                ("is-any-of", option(8), val("dropdown", json!({ "dropdownOptionId": 9, "text": "8" })), false),
                ("is-none-of", option(8), lead(), true),
                ("is-none-of", option(7), lead(), false),
                ("is-empty", NO, val("dropdown", NO), true),
                ("is-not-empty", NO, lead(), true),
            ],
        );
        let hot = || val("ranked-dropdown", json!({ "dropdownOptionId": 3, "text": "Hot", "rank": 0, "color": "red" }));
        check(
            "ranked-dropdown",
            None,
            &[
                ("is-any-of", option(3), hot(), true),
                ("is-none-of", option(3), hot(), false),
                ("is-empty", NO, None, true),
                ("is-not-empty", NO, hot(), true),
            ],
        );
        let tags = || val("dropdown-multi", json!([{ "dropdownOptionId": 1, "text": "A" }, { "dropdownOptionId": 2 }]));
        let both = |a: i64, b: i64| json!([{ "dropdownOptionId": a }, { "dropdownOptionId": b }]);
        check(
            "dropdown-multi",
            None,
            &[
                ("has-any-of", option(2), tags(), true),
                ("has-all-of", both(1, 2), tags(), true),
                ("has-all-of", both(1, 5), tags(), false),
                ("has-none-of", option(5), tags(), true),
                ("is-empty", NO, val("dropdown-multi", json!([])), true),
                ("is-not-empty", NO, tags(), true),
            ],
        );
    }

    #[test]
    fn filterable_text_filters_match_the_exact_option() {
        let stage = || val("filterable-text", json!("Series A"));
        check(
            "filterable-text",
            None,
            &[
                ("is-any-of", json!(["Seed", "Series A"]), stage(), true),
                ("is-any-of", json!(["series a"]), stage(), false),
                ("is-none-of", json!(["Seed"]), stage(), true),
                ("is-none-of", json!(["Series A"]), stage(), false),
                ("is-empty", NO, val("filterable-text", NO), true),
                ("is-not-empty", NO, stage(), true),
            ],
        );
        let industries = || val("filterable-text-multi", json!(["SaaS", "Fintech"]));
        check(
            "filterable-text-multi",
            None,
            &[
                ("has-any-of", json!(["Climate", "SaaS"]), industries(), true),
                ("has-any-of", json!(["Climate"]), industries(), false),
                ("has-all-of", json!(["Fintech", "SaaS"]), industries(), true),
                ("has-all-of", json!(["Fintech", "Climate"]), industries(), false),
                ("has-none-of", json!(["Climate"]), industries(), true),
                ("is-empty", NO, val("filterable-text-multi", json!([])), true),
                ("is-not-empty", NO, industries(), true),
            ],
        );
    }

    #[test]
    fn text_filters_match_ignoring_case() {
        let name = || val("text", json!("Acme Rockets"));
        check(
            "text",
            None,
            &[
                ("contains", json!("ME RO"), name(), true),
                ("contains", json!("anvil"), name(), false),
                ("contains", json!("x"), None, false),
                ("contains", json!("ÉTÉ"), val("text", json!("l'été")), true),
                ("does-not-contain", json!("anvil"), name(), true),
                ("does-not-contain", json!("rocket"), name(), false),
                ("does-not-contain", json!("x"), None, true),
                ("starts-with", json!("acme"), name(), true),
                ("starts-with", json!("rockets"), name(), false),
                ("ends-with", json!("ROCKETS"), name(), true),
                ("ends-with", json!("acme"), name(), false),
                ("is-empty", NO, val("text", NO), true),
                ("is-empty", NO, name(), false),
                ("is-not-empty", NO, name(), true),
            ],
        );
    }

    #[test]
    fn number_filters_compare_numerically() {
        let n = |x: f64| val("number", json!(x));
        check(
            "number",
            None,
            &[
                ("is-equal-to", json!(100), n(100.0), true),
                ("is-equal-to", json!(100), n(100.5), false),
                ("is-not-equal-to", json!(100), n(100.5), true),
                ("is-not-equal-to", json!(100), n(100.0), false),
                ("is-not-equal-to", json!(100), None, true),
                ("is-greater-than", json!(100), n(101.0), true),
                ("is-greater-than", json!(100), n(100.0), false),
                ("is-greater-than", json!(100), None, false),
                ("is-greater-than", json!(-1.5), n(-1.0), true),
                ("is-greater-than-or-equal-to", json!(100), n(100.0), true),
                ("is-greater-than-or-equal-to", json!(100), n(99.9), false),
                ("is-less-than", json!(100), n(99.0), true),
                ("is-less-than", json!(100), n(100.0), false),
                ("is-less-than-or-equal-to", json!(100), n(100.0), true),
                ("is-less-than-or-equal-to", json!(100), n(100.1), false),
                ("is-between", json!([10, 100]), n(10.0), true),
                ("is-between", json!([10, 100]), n(100.0), true),
                ("is-between", json!([10, 100]), n(100.5), false),
                ("is-between", json!([10, 10]), n(10.0), true),
                // A multi-value passes when any of its numbers does; a formula by its result.
                ("is-greater-than", json!(100), val("number-multi", json!([5, 500])), true),
                ("is-less-than", json!(1), val("number-multi", json!([5, 500])), false),
                ("is-equal-to", json!(5), val("formula-number", json!({ "calculatedValue": 5 })), true),
                ("is-empty", NO, n(0.0), false),
                ("is-empty", NO, val("number", NO), true),
                ("is-not-empty", NO, n(0.0), true),
            ],
        );
    }

    #[test]
    fn date_filters_compare_calendar_days_in_utc() {
        let at = || val("datetime", json!("2026-11-20T09:30:00Z"));
        check(
            "date",
            None,
            &[
                ("is-on", json!("2026-11-20"), at(), true),
                ("is-on", json!("2026-11-19"), at(), false),
                // 23:30 in New York on the 20th is the 21st in UTC.
                ("is-on", json!("2026-11-20"), val("datetime", json!("2026-11-20T23:30:00-05:00")), false),
                ("is-not-on", json!("2026-11-19"), at(), true),
                ("is-not-on", json!("2026-11-20"), at(), false),
                ("is-not-on", json!("2026-11-20"), None, true),
                ("is-before", json!("2026-11-20"), at(), false),
                ("is-before", json!("2026-11-21"), at(), true),
                ("is-on-or-before", json!("2026-11-20"), at(), true),
                ("is-on-or-before", json!("2026-11-19"), at(), false),
                ("is-after", json!("2026-11-20"), at(), false),
                ("is-after", json!("2026-11-19"), at(), true),
                ("is-on-or-after", json!("2026-11-20"), at(), true),
                ("is-on-or-after", json!("2026-11-21"), at(), false),
                ("is-on-or-after", json!("2026-11-21"), None, false),
                ("is-between", json!(["2026-11-01", "2026-11-20"]), at(), true),
                ("is-between", json!(["2026-11-20", "2026-11-20"]), at(), true),
                ("is-between", json!(["2026-11-21", "2026-12-01"]), at(), false),
                ("is-empty", NO, val("datetime", NO), true),
                ("is-not-empty", NO, at(), true),
            ],
        );
    }

    #[test]
    fn relative_windows_count_back_or_forward_from_now() {
        let window = |amount: Value, unit: &str| json!({ "amount": amount, "unit": unit });
        let days = || window(json!([30]), "day");
        let weeks = || window(json!([2]), "week");
        let on = |t: &str| val("datetime", json!(t));
        let back = |days: i64| on(&ago(days, 12));
        let ahead = |days: i64| on(&(now() + TimeDelta::days(days)).to_rfc3339());
        check(
            "date",
            None,
            &[
                ("is-within-the-last", days(), back(10), true),
                ("is-within-the-last", days(), back(31), false),
                ("is-within-the-last", days(), ahead(1), false),
                ("is-within-the-last", days(), None, false),
                ("is-not-within-the-last", days(), back(31), true),
                ("is-not-within-the-last", days(), back(10), false),
                ("is-not-within-the-last", days(), None, true),
                ("is-within-the-next", weeks(), ahead(10), true),
                ("is-within-the-next", weeks(), ahead(15), false),
                ("is-within-the-next", weeks(), ahead(-1), false),
                ("is-not-within-the-next", weeks(), ahead(15), true),
                ("is-between-relative", window(json!([7, 30]), "day"), back(10), true),
                ("is-between-relative", window(json!([7, 30]), "day"), back(3), false),
                ("is-between-relative", window(json!([7, 30]), "day"), back(40), false),
                ("is-within-the-last", window(json!([1]), "month"), on("2026-10-25T00:00:00Z"), true),
                ("is-within-the-last", window(json!([1]), "month"), on("2026-10-19T00:00:00Z"), false),
                ("is-within-the-last", window(json!([1]), "quarter"), on("2026-08-21T00:00:00Z"), true),
                ("is-within-the-last", window(json!([1]), "quarter"), on("2026-08-19T00:00:00Z"), false),
                ("is-within-the-last", window(json!([1]), "year"), on("2025-11-21T00:00:00Z"), true),
                ("is-within-the-last", window(json!([1]), "year"), on("2025-11-19T00:00:00Z"), false),
                ("is-within-the-last", window(json!([2]), "hour"), on("2026-11-20T15:30:00Z"), true),
                ("is-within-the-last", window(json!([2]), "hour"), on("2026-11-20T14:30:00Z"), false),
                ("is-within-the-last", window(json!([5]), "minute"), on("2026-11-20T16:56:00Z"), true),
                ("is-within-the-last", window(json!([5]), "minute"), on("2026-11-20T16:54:00Z"), false),
                ("is-within-the-last", window(json!([0]), "day"), on(&now().to_rfc3339()), true),
                // A window past the calendar's end reaches to the end.
                ("is-within-the-last", window(json!([2_147_483_647]), "year"), on("0001-01-01T00:00:00Z"), true),
                ("is-within-the-next", window(json!([2_147_483_647]), "week"), ahead(365 * 5000), true),
            ],
        );
    }

    #[test]
    fn relative_thresholds_count_whole_calendar_units() {
        let by = |amount: u32, unit: &str| json!({ "amount": amount, "unit": unit });
        let on = |t: &str| val("datetime", json!(t));
        // Now is Friday 2026-11-20 17:00; the 17th at 23:00 is three calendar days back.
        let three_days = || on("2026-11-17T23:00:00Z");
        check(
            "date",
            None,
            &[
                ("is-exactly-relative", by(3, "day"), three_days(), true),
                ("is-exactly-relative", by(2, "day"), three_days(), false),
                ("is-not-exactly-relative", by(3, "day"), three_days(), false),
                ("is-not-exactly-relative", by(2, "day"), three_days(), true),
                ("is-not-exactly-relative", by(2, "day"), None, true),
                ("is-more-than-relative", by(2, "day"), three_days(), true),
                ("is-more-than-relative", by(3, "day"), three_days(), false),
                ("is-more-than-or-equal-to-relative", by(3, "day"), three_days(), true),
                ("is-more-than-or-equal-to-relative", by(4, "day"), three_days(), false),
                ("is-less-than-relative", by(4, "day"), three_days(), true),
                ("is-less-than-relative", by(3, "day"), three_days(), false),
                ("is-less-than-relative", by(3, "day"), None, false),
                ("is-less-than-or-equal-to-relative", by(3, "day"), three_days(), true),
                ("is-less-than-or-equal-to-relative", by(2, "day"), three_days(), false),
                // Weeks start on Monday: Sunday the 15th is last week, Monday the 16th this one.
                ("is-exactly-relative", by(1, "week"), on("2026-11-15T12:00:00Z"), true),
                ("is-exactly-relative", by(0, "week"), on("2026-11-16T00:00:00Z"), true),
                ("is-exactly-relative", by(2, "week"), on("2026-11-08T12:00:00Z"), true),
                ("is-exactly-relative", by(2, "month"), on("2026-09-30T23:59:00Z"), true),
                ("is-exactly-relative", by(1, "quarter"), on("2026-07-01T00:00:00Z"), true),
                ("is-exactly-relative", by(2, "year"), on("2024-12-31T00:00:00Z"), true),
                ("is-exactly-relative", by(1, "hour"), on("2026-11-20T16:00:00Z"), true),
                ("is-exactly-relative", by(30, "minute"), on("2026-11-20T16:30:59Z"), true),
                // A future date is less than any amount ago.
                ("is-less-than-relative", by(0, "day"), on("2026-11-25T00:00:00Z"), true),
            ],
        );
    }

    #[test]
    fn interaction_fields_filter_on_the_date_of_activity() {
        let email = |days: i64| val("interaction", json!({ "type": "email", "id": 1, "sentAt": ago(days, 9) }));
        let meeting = |days: i64| val("interaction", json!({ "type": "meeting", "id": 2, "startTime": ago(days, 9) }));
        let last_30 = || json!({ "amount": [30], "unit": "day" });
        check(
            "date",
            Some("date-of-activity"),
            &[
                ("is-within-the-last", last_30(), email(10), true),
                ("is-within-the-last", last_30(), email(45), false),
                ("is-within-the-last", last_30(), meeting(2), true),
                ("is-on", json!(ago(2, 0)[..10]), meeting(2), true),
                ("is-empty", NO, val("interaction", NO), true),
                ("is-empty", NO, email(1), false),
                ("is-not-empty", NO, email(1), true),
            ],
        );
        // An attribute the sandbox does not know reads no value.
        check(
            "date",
            Some("sender"),
            &[("is-within-the-last", last_30(), email(10), false), ("is-empty", NO, email(10), true)],
        );
        // Without the attribute the interaction's date is read all the same.
        check("date", None, &[("is-within-the-last", last_30(), email(10), true)]);
    }

    #[test]
    fn location_filters_match_every_part_given_ignoring_case() {
        let place = |city: &str, country: &str| json!({ "city": city, "state": null, "country": country });
        let paris = || val("location", place("Paris", "France"));
        check(
            "location",
            None,
            &[
                ("is-any-of", json!([{ "city": "paris" }]), paris(), true),
                ("is-any-of", json!([{ "city": "Paris", "country": "France" }]), paris(), true),
                ("is-any-of", json!([{ "city": "Paris", "country": "United States" }]), paris(), false),
                ("is-any-of", json!([{ "state": "Texas" }, { "country": "FRANCE" }]), paris(), true),
                ("is-any-of", json!([{ "state": "Île-de-France" }]), paris(), false),
                ("is-none-of", json!([{ "country": "Germany" }]), paris(), true),
                ("is-none-of", json!([{ "country": "France" }]), paris(), false),
                ("is-empty", NO, val("location", NO), true),
                ("is-not-empty", NO, paris(), true),
            ],
        );
        let offices = || val("location-multi", json!([place("Paris", "France"), place("Berlin", "Germany")]));
        check(
            "location-multi",
            None,
            &[
                ("has-any-of", json!([{ "city": "Berlin" }]), offices(), true),
                ("has-all-of", json!([{ "country": "France" }, { "country": "Germany" }]), offices(), true),
                ("has-all-of", json!([{ "country": "France" }, { "country": "Spain" }]), offices(), false),
                ("has-none-of", json!([{ "country": "Spain" }]), offices(), true),
                ("is-empty", NO, val("location-multi", json!([])), true),
            ],
        );
    }

    #[test]
    fn every_operator_the_schemas_define_is_accepted_for_its_value_type() {
        let mut accepted = 0;
        for (name, kind) in KINDS {
            for op in kind.operators() {
                parse(and(vec![filter(name, op, example_value(kind, op))]));
                accepted += 1;
            }
        }
        // 6 single-valued list types × 4, 5 multi-valued × 5, number 9, date 20, text 6.
        assert_eq!(accepted, 6 * 4 + 5 * 5 + 9 + 20 + 6);
    }

    /// A value `op` of `kind` takes ([`NO`] for none).
    fn example_value(kind: Kind, op: &str) -> Value {
        match (kind, kind.members(), op) {
            (_, _, "is-empty" | "is-not-empty") => NO,
            (_, Some(Members::Refs(key)), _) => json!([{ key: 1 }]),
            (_, Some(Members::Texts), _) => json!(["Seed"]),
            (_, Some(Members::Places), _) => json!([{ "city": "Paris" }]),
            (Kind::Number, _, "is-between") => json!([1, 2]),
            (Kind::Number, _, _) => json!(1),
            (Kind::Date, _, "is-between") => json!(["2026-01-01", "2026-12-31"]),
            (Kind::Date, _, "is-between-relative") => json!({ "amount": [1, 2], "unit": "week" }),
            (Kind::Date, _, op) if op.contains("-within-") => json!({ "amount": [1], "unit": "day" }),
            (Kind::Date, _, op) if op.ends_with("-relative") => json!({ "amount": 1, "unit": "month" }),
            (Kind::Date, _, _) => json!("2026-11-20"),
            _ => json!("acme"),
        }
    }

    // ---- groups -------------------------------------------------------------------------------

    /// The example `grouped-filter`: a dropdown AND (more than 100 employees OR none known),
    /// with one more group inside.
    #[test]
    fn a_nested_and_or_tree_combines_its_groups() {
        let criteria = parse(json!({ "filters": { "operator": "and", "filters": [
            { "fieldId": "stage", "operator": "is-any-of", "value": [{ "dropdownOptionId": 1 }],
              "valueType": "dropdown" },
            { "operator": "or", "filters": [
                { "fieldId": "employees", "operator": "is-greater-than", "value": 100, "valueType": "number" },
                { "fieldId": "employees", "operator": "is-empty", "valueType": "number" },
                { "operator": "and", "filters": [
                    { "fieldId": "name", "operator": "starts-with", "value": "Acme", "valueType": "text" },
                    { "fieldId": "employees", "operator": "is-equal-to", "value": 7, "valueType": "number" },
                ] },
            ] },
        ] } }));
        let cases = [
            (Some(1), Some(500.0), "Beta", true),
            (Some(1), Some(50.0), "Beta", false),
            (Some(1), None, "Beta", true),
            (Some(2), Some(500.0), "Beta", false),
            (None, Some(500.0), "Beta", false),
            (Some(1), Some(7.0), "Acme Corp", true),
            (Some(1), Some(7.0), "Beta", false),
            (Some(1), Some(8.0), "Acme Corp", false),
        ];
        for (stage, employees, name, expected) in cases {
            let value_of = |field: &str| match field {
                "stage" => {
                    stage.map(|id| json!({ "type": "dropdown", "data": { "dropdownOptionId": id, "text": "x" } }))
                }
                "employees" => employees.map(|n| json!({ "type": "number", "data": n })),
                "name" => Some(json!({ "type": "text", "data": name })),
                _ => None,
            };
            assert_eq!(criteria.matches(&value_of, now()), expected, "{stage:?} {employees:?} {name}");
        }
    }

    #[test]
    fn empty_groups_and_empty_bodies_constrain_nothing() {
        let anything = |_: &str| Some(json!({ "type": "text", "data": "x" }));
        for body in [json!({ "filters": { "operator": "or", "filters": [] } }), and(vec![]), json!({})] {
            assert!(parse(body).matches(&anything, now()));
        }
        for body in [None, Some(&Value::Null)] {
            let criteria = Criteria::parse(body).expect("no body is no criteria");
            assert!(criteria.matches(&|_| None, now()));
            assert_eq!((criteria.term(), criteria.term_field_ids(), criteria.field_ids()), (None, &[][..], vec![]));
        }
        let mut items = vec![3, 1, 2];
        parse(json!({})).sort(&mut items, |n, _| Some(json!({ "type": "number", "data": n })));
        assert_eq!(items, [3, 1, 2], "no sorts keep the order");
    }

    #[test]
    fn groups_nest_ten_deep_and_no_deeper() {
        let nested = |depth: usize| {
            let mut group = json!({ "operator": "and", "filters": [filter("number", "is-empty", NO)] });
            for _ in 1..depth {
                group = json!({ "operator": "or", "filters": [group] });
            }
            json!({ "filters": group })
        };
        let ten = parse(nested(10));
        assert!(ten.matches(&|_| None, now()));
        assert_eq!(ten.field_ids(), ["f"]);
        let (param, message) = refused(&nested(11));
        assert_eq!(param, format!("filters{}", ".filters[0]".repeat(10)));
        assert!(message.contains("at most 10"), "{message}");
    }

    // ---- refusals -----------------------------------------------------------------------------

    #[test]
    fn limits_are_refused_with_the_path_of_what_exceeds_them() {
        let empties = |n: usize| and(vec![filter("number", "is-empty", NO); n]);
        parse(empties(50));
        let (param, message) = refused(&empties(51));
        assert_eq!(param, "filters.filters");
        assert!(message.contains("51") && message.contains("50"), "{message}");

        let ids = |n: i64| and(vec![filter("company", "is-any-of", (1..=n).map(|id| json!({ "id": id })).collect())]);
        parse(ids(100));
        let (param, message) = refused(&ids(101));
        assert_eq!(param, "filters.filters[0].value");
        assert!(message.contains("101") && message.contains("100"), "{message}");

        let sorts = |n: usize| json!({ "sorts": vec![json!({ "fieldId": "f", "direction": "asc" }); n] });
        parse(sorts(5));
        assert_eq!(refused(&sorts(6)).0, "sorts");
        assert_eq!(refused(&sorts(0)).0, "sorts");

        let term = |t: &str| json!({ "search": { "term": t } });
        assert_eq!(parse(term("Acm")).term(), Some("Acm"));
        let (param, message) = refused(&term("Ac"));
        assert_eq!(param, "search.term");
        assert!(message.contains("at least 3 characters"), "{message}");
        // Characters, not bytes.
        assert_eq!(refused(&term("éé")).0, "search.term");
        parse(term("日本語"));

        let field_ids = |n: usize| json!({ "search": { "term": "Acme", "fieldIds": vec![json!("f"); n] } });
        assert_eq!(parse(field_ids(100)).term_field_ids().len(), 100);
        assert_eq!(refused(&field_ids(101)).0, "search.fieldIds");
        assert_eq!(refused(&field_ids(0)).0, "search.fieldIds");
    }

    /// Checks cases `(body, param, a fragment of the message)` of refused bodies.
    fn check_refused(cases: &[(Value, &str, &str)]) {
        for (body, param, fragment) in cases {
            let (got, message) = refused(body);
            assert_eq!(got, *param, "{body}: {message}");
            assert!(message.contains(fragment), "{body}: {message:?} should say {fragment:?}");
        }
    }

    #[test]
    fn bodies_groups_searches_and_sorts_off_the_schema_are_refused_with_their_path() {
        let group = |filters: Value| json!({ "filters": { "operator": "and", "filters": filters } });
        let sort = |sort: Value| json!({ "sorts": [sort] });
        check_refused(&[
            (json!([]), "body", "must be an object"),
            (json!("filters"), "body", "must be an object"),
            (json!({ "filter": {} }), "filter", "unknown property \"filter\""),
            (json!({ "filters": null }), "filters", "must be a filter group"),
            (json!({ "filters": { "operator": "and", "filters": [], "not": 1 } }), "filters.not", "unknown property"),
            (json!({ "filters": { "operator": "xor", "filters": [] } }), "filters.operator", "\"and\" or \"or\""),
            (json!({ "filters": { "filters": [] } }), "filters.operator", "is required"),
            (json!({ "filters": { "operator": "and" } }), "filters.filters", "is required"),
            (group(json!({})), "filters.filters", "must be an array"),
            (group(json!([5])), "filters.filters[0]", "must be a filter"),
            (group(json!([{}])), "filters.filters[0]", "must be a filter"),
            (group(json!([{ "fieldId": "f", "operator": "is-empty" }])), "filters.filters[0].valueType", "is required"),
            (
                group(json!([{ "operator": "or", "filters": [{ "operator": "and", "filters": 3 }] }])),
                "filters.filters[0].filters[0].filters",
                "must be an array",
            ),
            (json!({ "search": null }), "search", "must be a search term"),
            (json!({ "search": "Acme" }), "search", "must be a search term"),
            (json!({ "search": {} }), "search.term", "is required"),
            (json!({ "search": { "term": 123 } }), "search.term", "must be a string"),
            (json!({ "search": { "term": "Acme", "fields": [] } }), "search.fields", "unknown property"),
            (json!({ "search": { "term": "Acme", "fieldIds": [1] } }), "search.fieldIds[0]", "must be a string"),
            (json!({ "sorts": { "fieldId": "f", "direction": "asc" } }), "sorts", "must be an array"),
            (json!({ "sorts": [{ "fieldId": "f", "direction": "asc" }, 5] }), "sorts[1]", "must be a sort"),
            (sort(json!({ "fieldId": "f", "direction": "up" })), "sorts[0].direction", "\"asc\" or \"desc\""),
            (sort(json!({ "fieldId": "f" })), "sorts[0].direction", "is required"),
            (sort(json!({ "direction": "asc" })), "sorts[0].fieldId", "is required"),
            (sort(json!({ "fieldId": "", "direction": "asc" })), "sorts[0].fieldId", "must not be empty"),
            (sort(json!({ "fieldId": "f", "direction": "asc", "attributeId": "" })), "sorts[0].attributeId", "empty"),
            (
                sort(json!({ "fieldId": "f", "direction": "asc", "nulls": "last" })),
                "sorts[0].nulls",
                "unknown property",
            ),
        ]);
    }

    /// A body of one filter: `valueType`, `operator`, `value` ([`NO`] for none) and extra keys.
    fn one(value_type: &str, operator: &str, value: Value, extra: Value) -> Value {
        let mut f = filter(value_type, operator, value);
        for (key, value) in extra.as_object().into_iter().flatten() {
            f[key] = value.clone();
        }
        and(vec![f])
    }

    #[test]
    fn filters_off_the_schema_are_refused_with_their_path() {
        let x = || json!({});
        let f = "filters.filters[0]";
        let at = |rest: &str| format!("{f}{rest}");
        let cases: Vec<(Value, String, &str)> = vec![
            // Keys: every filter schema has additionalProperties: false.
            (one("dropdown", "is-empty", NO, json!({ "bogus": 1 })), at(".bogus"), "unknown property"),
            (
                one("dropdown", "is-empty", NO, json!({ "attributeId": "a" })),
                at(".attributeId"),
                "takes no attributeId",
            ),
            (
                one("location", "is-empty", NO, json!({ "attributeId": "a" })),
                at(".attributeId"),
                "takes no attributeId",
            ),
            (one("filterable-text", "is-empty", NO, json!({ "attributeId": "a" })), at(".attributeId"), "attributeId"),
            (one("text", "is-empty", NO, json!({ "attributeId": 5 })), at(".attributeId"), "must be a string"),
            (one("number", "is-empty", NO, json!({ "fieldId": 5 })), at(".fieldId"), "must be a string"),
            (and(vec![json!({ "valueType": "number", "operator": "is-empty" })]), at(".fieldId"), "is required"),
            (one("number", "is-empty", NO, json!({ "valueType": null })), at(".valueType"), "must be a string"),
            (one("datetime", "is-empty", NO, x()), at(".valueType"), "not a filter valueType"),
            // Operators: those of the filter's valueType only.
            (one("number", "is-empty", NO, json!({ "operator": 1 })), at(".operator"), "must be a string"),
            (
                one("dropdown", "is-greater-than", json!(1), x()),
                at(".operator"),
                "not an operator of valueType \"dropdown\"",
            ),
            (one("company-multi", "is-any-of", json!([{ "id": 1 }]), x()), at(".operator"), "has-any-of"),
            (one("company", "has-any-of", json!([{ "id": 1 }]), x()), at(".operator"), "is-any-of"),
            (one("text", "is-any-of", json!(["a"]), x()), at(".operator"), "contains"),
            (one("number", "contains", json!("1"), x()), at(".operator"), "not an operator"),
            (one("number", "is-more-than", json!(1), x()), at(".operator"), "not an operator"),
            (one("date", "is-equal-to", json!("2026-01-01"), x()), at(".operator"), "not an operator"),
            (one("filterable-text-multi", "has-exactly", json!(["a"]), x()), at(".operator"), "not an operator"),
            // Values: present exactly when the operator takes one, of its shape.
            (one("dropdown", "is-any-of", NO, x()), at(".value"), "is required by is-any-of"),
            (one("dropdown", "is-empty", json!([{ "dropdownOptionId": 1 }]), x()), at(".value"), "must be absent"),
            (one("dropdown", "is-not-empty", NO, json!({ "value": null })), at(".value"), "must be absent"),
            (one("dropdown", "is-any-of", json!([]), x()), at(".value"), "1 to 100"),
            (one("dropdown", "is-any-of", json!({ "dropdownOptionId": 1 }), x()), at(".value"), "must be an array"),
            (one("dropdown", "is-any-of", json!([{ "id": 1 }]), x()), at(".value[0].id"), "unknown property"),
            (
                one("company", "is-any-of", json!([{ "id": 1, "name": "A" }]), x()),
                at(".value[0].name"),
                "unknown property",
            ),
            (one("company", "is-any-of", json!([{ "id": 0 }]), x()), at(".value[0].id"), "from 1 to 9007199254740991"),
            (one("company", "is-any-of", json!([{ "id": 1.5 }]), x()), at(".value[0].id"), "integer"),
            (one("company", "is-any-of", json!([{ "id": "1" }]), x()), at(".value[0].id"), "integer"),
            (
                one("person", "is-any-of", json!([{ "id": 9_007_199_254_740_992_i64 }]), x()),
                at(".value[0].id"),
                "integer",
            ),
            (one("person", "is-any-of", json!([{}]), x()), at(".value[0].id"), "is required"),
            (one("person-multi", "has-all-of", json!([{ "id": 1 }, 2]), x()), at(".value[1]"), "must be a reference"),
            (one("filterable-text", "is-any-of", json!([1]), x()), at(".value[0]"), "must be a string"),
            (one("location", "is-any-of", json!([{ "zip": "75001" }]), x()), at(".value[0].zip"), "unknown property"),
            (one("location", "is-any-of", json!([{ "city": 1 }]), x()), at(".value[0].city"), "must be a string"),
            (one("text", "contains", json!(5), x()), at(".value"), "must be a string"),
            (one("number", "is-greater-than", json!("100"), x()), at(".value"), "must be a number"),
            (one("number", "is-between", json!([1, 2, 3]), x()), at(".value"), "exactly 2"),
            (one("number", "is-between", json!(5), x()), at(".value"), "must be an array"),
            (one("number", "is-between", json!([5, 1]), x()), at(".value"), "lower bound first"),
            (one("number", "is-between", json!([1, "2"]), x()), at(".value[1]"), "must be a number"),
        ];
        for (body, param, fragment) in &cases {
            check_refused(&[(body.clone(), param, fragment)]);
        }
    }

    #[test]
    fn date_values_off_the_schema_are_refused_with_their_path() {
        let date = |op: &str, value: Value| one("date", op, value, json!({}));
        let window = |amount: Value, unit: &str| date("is-within-the-last", json!({ "amount": amount, "unit": unit }));
        let v = "filters.filters[0].value";
        let amount = "filters.filters[0].value.amount";
        check_refused(&[
            (date("is-on", json!("2026/01/01")), v, "YYYY-MM-DD"),
            (date("is-on", json!("2026-02-30")), v, "YYYY-MM-DD"),
            (date("is-on", json!("2026-1-05")), v, "YYYY-MM-DD"),
            (date("is-on", json!("+026-01-05")), v, "YYYY-MM-DD"),
            (date("is-after", json!("2026-01-01T00:00:00Z")), v, "YYYY-MM-DD"),
            (date("is-before", json!(20260101)), v, "must be a string"),
            (date("is-between", json!(["2026-12-31", "2026-01-01"])), v, "lower bound first"),
            (date("is-between", json!(["2026-01-01"])), v, "exactly 2"),
            (date("is-between", json!(["2026-01-01", "soon"])), "filters.filters[0].value[1]", "YYYY-MM-DD"),
            (date("is-within-the-last", json!(30)), v, "must be a relative window"),
            (
                date("is-within-the-last", json!({ "amount": [1], "unit": "day", "from": 0 })),
                "filters.filters[0].value.from",
                "unknown",
            ),
            (window(json!(30), "day"), amount, "must be an array"),
            (window(json!([]), "day"), amount, "1 to 2"),
            (window(json!([1, 2, 3]), "day"), amount, "1 to 2"),
            (window(json!([1, 2]), "day"), amount, "1 amount"),
            (window(json!([-1]), "day"), "filters.filters[0].value.amount[0]", "from 0 to 2147483647"),
            (window(json!([2_147_483_648_i64]), "day"), "filters.filters[0].value.amount[0]", "from 0 to 2147483647"),
            (window(json!([30]), "days"), "filters.filters[0].value.unit", "not a unit"),
            (date("is-within-the-next", json!({ "amount": [30] })), "filters.filters[0].value.unit", "is required"),
            (date("is-between-relative", json!({ "amount": [7], "unit": "day" })), amount, "2 amounts"),
            (date("is-between-relative", json!({ "amount": [30, 7], "unit": "day" })), amount, "nearer offset first"),
            (date("is-exactly-relative", json!({ "amount": [3], "unit": "day" })), amount, "integer"),
            (date("is-more-than-relative", json!({ "unit": "day" })), amount, "is required"),
            (
                date("is-less-than-relative", json!({ "amount": 3, "unit": "fortnight" })),
                "filters.filters[0].value.unit",
                "not a unit",
            ),
            (date("is-less-than-relative", json!([3, "day"])), v, "must be a relative date"),
        ]);
    }

    #[test]
    fn an_error_deep_in_the_tree_names_its_whole_path() {
        let empty = || filter("number", "is-empty", NO);
        let body = and(vec![
            empty(),
            empty(),
            json!({ "operator": "or", "filters": [
            empty(),
            filter("number", "is-between", json!([2, 1])),
        ] }),
        ]);
        assert_eq!(refused(&body).0, "filters.filters[2].filters[1].value");
    }

    // ---- sorting ------------------------------------------------------------------------------

    fn sorted<T: Clone>(sorts: Value, items: &[T], value_of: impl Fn(&T, &str) -> Option<Value>) -> Vec<T> {
        let mut items = items.to_vec();
        parse(json!({ "sorts": sorts })).sort(&mut items, value_of);
        items
    }

    #[test]
    fn numbers_sort_numerically_and_records_without_a_value_last_in_either_direction() {
        // (name, employees): "b" has no such field, "d" has it empty.
        let items =
            [("a", Some(Some(5.0))), ("b", None), ("c", Some(Some(10.0))), ("d", Some(None)), ("e", Some(Some(-1.0)))];
        let value_of = |item: &(&str, Option<Option<f64>>), field: &str| {
            (field == "n").then_some(item.1).flatten().map(|n| json!({ "type": "number", "data": n }))
        };
        let names = |direction: &str| -> Vec<&str> {
            let sorts = json!([{ "fieldId": "n", "direction": direction }]);
            sorted(sorts, &items, value_of).into_iter().map(|(name, _)| name).collect()
        };
        assert_eq!(names("asc"), ["e", "a", "c", "b", "d"]);
        assert_eq!(names("desc"), ["c", "a", "e", "b", "d"]);
    }

    /// The order of `data` ascending, as indices, when each is a value of type `kind`.
    fn order_of(kind: &str, data: &[Value]) -> Vec<usize> {
        let items: Vec<usize> = (0..data.len()).collect();
        let value_of = |i: &usize, _: &str| Some(json!({ "type": kind, "data": data[*i] }));
        sorted(json!([{ "fieldId": "f", "direction": "asc" }]), &items, value_of)
    }

    #[test]
    fn each_value_type_sorts_by_what_it_means() {
        // Text ignores case, and equal texts keep their order.
        assert_eq!(order_of("text", &[json!("banana"), json!("Apple"), json!("cherry"), json!("apple")]), [1, 3, 0, 2]);
        let dates = [json!("2026-03-01T00:00:00Z"), json!("2025-12-31T23:00:00-05:00"), json!("2026-01-01T00:00:00Z")];
        assert_eq!(order_of("datetime", &dates), [2, 1, 0]);
        let ranked = |rank: i64, text: &str| json!({ "dropdownOptionId": rank + 1, "text": text, "rank": rank });
        assert_eq!(order_of("ranked-dropdown", &[ranked(2, "A"), ranked(0, "C"), ranked(1, "B")]), [1, 2, 0]);
        let option = |id: i64, text: &str| json!({ "dropdownOptionId": id, "text": text });
        assert_eq!(order_of("dropdown", &[option(1, "Won"), option(2, "lead"), option(3, "Qualified")]), [1, 2, 0]);
        assert_eq!(
            order_of("dropdown-multi", &[json!([option(1, "z")]), json!([option(2, "b"), option(3, "a")])]),
            [1, 0]
        );
        let company = |name: &str| json!({ "id": 1, "name": name, "domain": null });
        assert_eq!(order_of("company", &[company("Zeta"), company("alpha")]), [1, 0]);
        let person = |first: &str, last: Value| json!({ "id": 1, "firstName": first, "lastName": last });
        let persons = [person("Jane", json!("Doe")), person("adam", NO), person("Jane", json!("Ames"))];
        assert_eq!(order_of("person", &persons), [1, 2, 0]);
        assert_eq!(order_of("number-multi", &[json!([3, 1]), json!([2])]), [1, 0]);
        assert_eq!(
            order_of("formula-number", &[json!({ "calculatedValue": 9 }), json!({ "calculatedValue": 1 })]),
            [1, 0]
        );
        let place = |city: &str| json!({ "city": city, "state": null, "country": "X" });
        assert_eq!(order_of("location", &[place("Paris"), place("Berlin")]), [1, 0]);
    }

    #[test]
    fn interactions_sort_by_their_date_of_activity() {
        let data = [
            json!({ "type": "email", "id": 1, "sentAt": "2026-10-01T00:00:00Z" }),
            json!({ "type": "meeting", "id": 2, "startTime": "2026-11-01T00:00:00Z" }),
            json!({ "type": "email", "id": 3, "sentAt": "2026-09-01T00:00:00Z" }),
        ];
        let value_of = |i: &usize, _: &str| Some(json!({ "type": "interaction", "data": data[*i] }));
        let sorts = json!([{ "fieldId": "last-contact", "attributeId": "date-of-activity", "direction": "desc" }]);
        assert_eq!(sorted(sorts, &[0, 1, 2], value_of), [1, 0, 2]);
    }

    #[test]
    fn later_sorts_break_the_ties_of_earlier_ones_and_ties_keep_their_order() {
        let items = [("x", 2, "b"), ("y", 1, "a"), ("z", 2, "a"), ("w", 2, "a")];
        let value_of = |item: &(&str, i64, &str), field: &str| match field {
            "n" => Some(json!({ "type": "number", "data": item.1 })),
            "t" => Some(json!({ "type": "text", "data": item.2 })),
            _ => None,
        };
        let sorts = json!([{ "fieldId": "n", "direction": "desc" }, { "fieldId": "t", "direction": "asc" }]);
        let names: Vec<&str> = sorted(sorts, &items, value_of).into_iter().map(|i| i.0).collect();
        assert_eq!(names, ["z", "w", "x", "y"]);
    }

    // ---- the rest of the interface ------------------------------------------------------------

    #[test]
    fn field_ids_name_every_filtered_and_sorted_field_once() {
        let criteria = parse(json!({
            "filters": { "operator": "or", "filters": [
                { "valueType": "number", "fieldId": "b", "operator": "is-empty" },
                { "operator": "and", "filters": [
                    { "valueType": "text", "fieldId": "a", "operator": "is-empty" },
                    { "valueType": "number", "fieldId": "b", "operator": "is-not-empty" },
                ] },
            ] },
            "search": { "term": "Acme", "fieldIds": ["s"] },
            "sorts": [{ "fieldId": "c", "direction": "asc" }, { "fieldId": "a", "direction": "desc" }],
        }));
        assert_eq!(criteria.field_ids(), ["b", "a", "c"]);
        assert_eq!(criteria.term(), Some("Acme"));
        assert_eq!(criteria.term_field_ids(), ["s"]);
    }

    /// The search-body examples the OpenAPI document gives for both searches, by
    /// `endpoint name`.
    fn openapi_examples() -> Vec<(String, Value)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/real-world/affinity-v2/openapi-2026-07-15-subset.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let document: Value = serde_json::from_str(&text).expect("the OpenAPI document is JSON");
        let mut found = Vec::new();
        for endpoint in ["/v2/companies/search", "/v2/persons/search"] {
            let body = &document["paths"][endpoint]["post"]["requestBody"]["content"]["application/json"];
            let examples = body["examples"].as_object().unwrap_or_else(|| panic!("{endpoint} has examples"));
            for (name, example) in examples {
                let example = match example["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/examples/")) {
                    Some(reference) => &document["components"]["examples"][reference],
                    None => example,
                };
                assert!(example["value"].is_object(), "{endpoint} {name} has a body");
                found.push((format!("{endpoint} {name}"), example["value"].clone()));
            }
        }
        found
    }

    /// Every search-body example of the OpenAPI document parses, and means what its description
    /// says.
    #[test]
    fn the_openapi_examples_parse() {
        let examples = openapi_examples();
        assert_eq!(examples.len(), 8, "{:?}", examples.iter().map(|e| &e.0).collect::<Vec<_>>());
        let parsed: Vec<(String, Criteria)> = examples
            .into_iter()
            .map(|(name, body)| {
                let criteria = Criteria::parse(Some(&body)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                (name, criteria)
            })
            .collect();
        let example = |name: &str| &parsed.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("{name}")).1;

        // Persons with a last email within the past 30 days, sorted by their last contact.
        let criteria = example("/v2/persons/search filter-and-sort");
        let last_email = |days: i64| {
            move |field: &str| {
                let email = json!({ "type": "email", "id": 1, "sentAt": ago(days, 8) });
                (field == "last-email").then(|| json!({ "type": "interaction", "data": email }))
            }
        };
        assert!(criteria.matches(&last_email(10), now()));
        assert!(!criteria.matches(&last_email(40), now()));
        assert_eq!(criteria.field_ids(), ["last-email", "last-contact"]);
        // A keyword and a dropdown that is not empty.
        let criteria = example("/v2/companies/search search-with-filter");
        assert_eq!(criteria.term(), Some("Acme"));
        let stage = |data: Value| move |_: &str| Some(json!({ "type": "dropdown", "data": data }));
        assert!(criteria.matches(&stage(json!({ "dropdownOptionId": 1, "text": "Lead" })), now()));
        assert!(!criteria.matches(&stage(NO), now()));
    }

    // ---- properties ---------------------------------------------------------------------------

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::select;

        /// Keys and strings the schemas use, so that random bodies reach deep into the reading.
        const WORDS: &[&str] = &[
            "filters",
            "operator",
            "and",
            "or",
            "valueType",
            "fieldId",
            "value",
            "attributeId",
            "search",
            "term",
            "fieldIds",
            "sorts",
            "direction",
            "asc",
            "desc",
            "amount",
            "unit",
            "id",
            "dropdownOptionId",
            "city",
            "country",
            "is-any-of",
            "has-all-of",
            "is-empty",
            "is-between",
            "is-within-the-last",
            "is-on",
            "is-exactly-relative",
            "contains",
            "is-greater-than",
            "company",
            "dropdown",
            "date",
            "number",
            "text",
            "location-multi",
            "day",
            "week",
            "month",
            "2026-11-20",
            "date-of-activity",
            "",
            "ab",
            "Acme",
        ];

        fn word() -> impl Strategy<Value = String> {
            prop_oneof![3 => select(WORDS).prop_map(str::to_owned), 1 => any::<String>()]
        }

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                (-3i64..12).prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
                word().prop_map(Value::from),
            ]
        }

        /// Any JSON, its objects' keys mostly the schemas' own.
        fn json() -> impl Strategy<Value = Value> {
            scalar().prop_recursive(8, 256, 10, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..10).prop_map(Value::Array),
                    prop::collection::vec((word(), inner), 0..8)
                        .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
                ]
            })
        }

        /// A filter the schemas accept: any value type, any of its operators, a value of the
        /// shape the operator takes, varied (and sometimes an attribute where the schema has one).
        fn valid_filter() -> impl Strategy<Value = Value> {
            let operator =
                select(&KINDS[..]).prop_flat_map(|(name, kind)| (Just((name, kind)), select(kind.operators())));
            (operator, 1i64..4, 1i64..4, 0u32..40, 0u32..40, select(&UNITS[..]), any::<bool>()).prop_map(
                |(((name, kind), op), a, b, x, y, (unit, _), attribute)| {
                    let mut f = filter(name, op, example_value(kind, op));
                    f["fieldId"] = json!(if a % 2 == 0 { "f" } else { "g" });
                    vary(f.get_mut("value"), kind, op, (a, b, x, y, unit));
                    if attribute && kind.takes_attribute() {
                        f["attributeId"] = json!(DATE_OF_ACTIVITY);
                    }
                    f
                },
            )
        }

        /// Changes an example value within its shape.
        fn vary(value: Option<&mut Value>, kind: Kind, op: &str, (a, b, x, y, unit): (i64, i64, u32, u32, &str)) {
            match value {
                Some(Value::Array(items)) if kind.members().is_some() => {
                    let mut another = items[0].clone();
                    if let Some(Members::Refs(key)) = kind.members() {
                        another[key] = json!(b);
                    }
                    items.push(another);
                }
                Some(value @ Value::Number(_)) => *value = json!(a - b),
                Some(Value::Object(window)) => {
                    window["amount"] = match op {
                        "is-between-relative" => json!([x.min(y), x.max(y)]),
                        _ if window["amount"].is_array() => json!([x]),
                        _ => json!(x),
                    };
                    window["unit"] = json!(unit);
                }
                _ => {}
            }
        }

        fn valid_group() -> impl Strategy<Value = Value> {
            prop::collection::vec(valid_filter(), 0..4)
                .prop_map(|filters| json!({ "operator": "and", "filters": filters }))
                .prop_recursive(3, 24, 4, |inner| {
                    (any::<bool>(), prop::collection::vec(prop_oneof![inner, valid_filter()], 0..4)).prop_map(
                        |(all, filters)| json!({ "operator": if all { "and" } else { "or" }, "filters": filters }),
                    )
                })
        }

        /// A field value of some type v2 renders, its data plausible or anything.
        fn field_value() -> impl Strategy<Value = Option<Value>> {
            const TYPES: &[&str] = &[
                "company",
                "company-multi",
                "person",
                "person-multi",
                "dropdown",
                "dropdown-multi",
                "ranked-dropdown",
                "datetime",
                "number",
                "number-multi",
                "formula-number",
                "filterable-text",
                "filterable-text-multi",
                "text",
                "location",
                "location-multi",
                "interaction",
            ];
            let plausible = prop_oneof![
                (1i64..4).prop_map(|id| json!({ "id": id, "dropdownOptionId": id, "text": "Seed", "rank": id })),
                (-3i64..4).prop_map(Value::from),
                (0i64..60).prop_map(|days| json!(ago(days, 12))),
                (0i64..60).prop_map(|days| json!({ "type": "email", "sentAt": ago(days, 12) })),
                Just(json!({ "city": "Paris", "country": "France", "state": null })),
                Just(json!("Acme")),
            ];
            let data = prop_oneof![
                plausible.clone(),
                prop::collection::vec(plausible, 0..3).prop_map(Value::Array),
                Just(Value::Null),
                json(),
            ];
            prop::option::of((select(TYPES), data).prop_map(|(kind, data)| json!({ "type": kind, "data": data })))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

            /// Whatever a client sends, reading it answers a `Criteria` or an `Invalid`.
            #[test]
            fn parse_never_panics_on_any_json(body in json()) {
                let _ = Criteria::parse(Some(&body));
                let _ = Criteria::parse(Some(&json!({ "filters": body.clone() })));
                let _ = Criteria::parse(Some(&json!({ "filters": { "operator": "and", "filters": [body] } })));
            }

            /// Every body built from the schemas' own shapes is read, and applying it to any
            /// record neither panics nor breaks the complement of negative operators.
            #[test]
            fn valid_bodies_parse_and_apply_to_any_record(
                group in valid_group(),
                f in field_value(),
                g in field_value(),
                records in prop::collection::vec((field_value(), field_value()), 0..6),
            ) {
                let criteria = Criteria::parse(Some(&json!({
                    "filters": group,
                    "sorts": [
                        { "fieldId": "f", "direction": "desc" },
                        { "fieldId": "g", "direction": "asc", "attributeId": DATE_OF_ACTIVITY },
                    ],
                })));
                prop_assert!(criteria.is_ok(), "{} was refused: {:?}", group, criteria);
                let criteria = criteria.expect("checked above");
                let value_of = |field: &str| if field == "f" { f.clone() } else { g.clone() };
                let _ = criteria.matches(&value_of, now());
                let mut records = records;
                criteria.sort(&mut records, |(f, g), field| if field == "f" { f.clone() } else { g.clone() });
                for node in criteria.filters.iter().flat_map(|group| &group.items) {
                    if let Node::Filter(filter) = node {
                        let flipped = Filter { negated: !filter.negated, ..filter.clone() };
                        prop_assert_eq!(flipped.matches(&value_of, now()), !filter.matches(&value_of, now()));
                    }
                }
            }
        }
    }
}
