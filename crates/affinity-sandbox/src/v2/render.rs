//! The v2 shapes of the world's records: persons, companies, their fields and values, lists,
//! list entries, opportunities, notes and field metadata, as the 2026-07-15 document has them.

use serde_json::{Value, json};

use super::FieldSelection;
use crate::world::{self, Activity, Touch, World};

// ---- entities -------------------------------------------------------------------------------

/// `PersonData`.
pub(super) fn person_data(p: &world::Person) -> Value {
    json!({
        "id": p.id,
        "firstName": p.first_name,
        "lastName": p.last_name,
        "primaryEmailAddress": p.emails.first(),
        "type": if p.person_type == 1 { "internal" } else { "external" },
    })
}

/// `RelationshipPerson`.
pub(super) fn relationship_person(p: &world::Person) -> Value {
    json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name, "primaryEmailAddress": p.emails.first() })
}

/// `CompanyData`.
pub(super) fn company_data(o: &world::Organization) -> Value {
    json!({ "id": o.id, "name": o.name, "domain": o.domain })
}

/// `Company`, with the fields `fields` selects (none: no `fields` key).
pub(super) fn company(w: &World, o: &world::Organization, fields: &FieldSelection) -> Value {
    let mut v = json!({ "id": o.id, "name": o.name, "domain": o.domain, "domains": o.domains, "isGlobal": o.global });
    if fields.any() {
        v["fields"] = Value::Array(company_fields(w, o).into_iter().filter(|f| selected(fields, f)).collect());
    }
    v
}

/// `Person`, with the fields `fields` selects.
pub(super) fn person(w: &World, p: &world::Person, fields: &FieldSelection) -> Value {
    let mut v = json!({
        "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
        "primaryEmailAddress": p.emails.first(), "emailAddresses": p.emails,
        "type": if p.person_type == 1 { "internal" } else { "external" },
    });
    if fields.any() {
        v["fields"] = Value::Array(person_fields(w, p).into_iter().filter(|f| selected(fields, f)).collect());
    }
    v
}

fn selected(fields: &FieldSelection, f: &Value) -> bool {
    fields.wants(f["id"].as_str().unwrap_or_default(), f["type"].as_str().unwrap_or_default())
}

/// Every field of a company: global, enriched and relationship intelligence.
pub(super) fn company_fields(w: &World, o: &world::Organization) -> Vec<Value> {
    let mut out = global_fields(w, 1, o.id);
    out.extend(enriched_fields(o.enriched.as_ref()));
    out.extend(intelligence(w, o.id, &o.activity, None));
    out
}

/// Every field of a person: global and relationship intelligence.
pub(super) fn person_fields(w: &World, p: &world::Person) -> Vec<Value> {
    let mut out = global_fields(w, 0, p.id);
    out.extend(intelligence(w, p.id, &p.activity, None));
    out
}

fn attendee(p: &world::Person) -> Value {
    json!({ "emailAddress": p.emails.first(), "person": person_data(p) })
}

/// An interaction value's data from a touch: an email, meeting or chat message between the
/// colleagues in it (and `with`, the person whose value it is).
fn interaction(w: &World, kind: &str, id: i64, touch: &Touch, with: Option<&world::Person>) -> Value {
    let mut people: Vec<&world::Person> = touch.person_ids.iter().filter_map(|id| w.person(*id)).collect();
    people.extend(with);
    let Some((first, rest)) = people.split_first() else { return Value::Null };
    match kind {
        "email" => json!({
            "type": "email", "id": id, "sentAt": touch.date, "subject": null,
            "from": attendee(first), "to": rest.iter().map(|p| attendee(p)).collect::<Vec<_>>(), "cc": [],
        }),
        "chat-message" => json!({
            "type": "chat-message", "id": id, "sentAt": touch.date, "direction": "sent",
            "manualCreator": person_data(first), "participants": rest.iter().map(|p| person_data(p)).collect::<Vec<_>>(),
        }),
        _ => json!({
            "type": "meeting", "id": id, "title": null, "allDay": false, "startTime": touch.date, "endTime": null,
            "attendees": people.iter().map(|p| attendee(p)).collect::<Vec<_>>(),
        }),
    }
}

/// The relationship-intelligence fields: id, name and the kind of interaction.
const INTELLIGENCE: [(&str, &str, &str); 8] = [
    ("first-email", "First Email", "email"),
    ("last-email", "Last Email", "email"),
    ("first-event", "First Event", "meeting"),
    ("last-event", "Last Event", "meeting"),
    ("next-event", "Next Event", "meeting"),
    ("first-chat-message", "First Chat Message", "chat-message"),
    ("last-chat-message", "Last Chat Message", "chat-message"),
    ("last-contact", "Last Contact", "email"),
];

/// The relationship-intelligence fields of an entity's activity.
pub(super) fn intelligence(w: &World, entity_id: i64, a: &Activity, with: Option<&world::Person>) -> Vec<Value> {
    let touches: [&Option<Touch>; 8] = [
        &a.first_email,
        &a.last_email,
        &a.first_event,
        &a.last_event,
        &a.next_event,
        &None,
        &a.last_chat_message,
        &a.last_interaction,
    ];
    let mut out: Vec<Value> = INTELLIGENCE
        .iter()
        .zip(touches)
        .enumerate()
        .map(|(i, ((id, name, kind), touch))| {
            let data = touch
                .as_ref()
                .map(|t| interaction(w, kind, entity_id * 16 + i as i64 + 1, t, with))
                .unwrap_or(Value::Null);
            json!({ "id": id, "name": name, "type": "relationship-intelligence", "enrichmentSource": null,
                    "value": { "type": "interaction", "data": data } })
        })
        .collect();
    out.push(json!({ "id": "source-of-introduction", "name": "Source of Introduction",
                     "type": "relationship-intelligence", "enrichmentSource": null,
                     "value": { "type": "person", "data": null } }));
    out
}

/// The enriched fields (`affinity-data-*`): id, name and value type.
pub(super) const ENRICHED: [(&str, &str, &str); 11] = [
    ("affinity-data-description", "Description", "text"),
    ("affinity-data-industry", "Industry", "filterable-text-multi"),
    ("affinity-data-investment-stage", "Investment Stage", "filterable-text"),
    ("affinity-data-investors", "Investors", "filterable-text-multi"),
    ("affinity-data-last-funding-amount", "Last Funding Amount (USD)", "number"),
    ("affinity-data-last-funding-date", "Last Funding Date", "datetime"),
    ("affinity-data-linkedin-url", "LinkedIn URL", "text"),
    ("affinity-data-location", "Location", "location"),
    ("affinity-data-number-of-employees", "Number of Employees", "number"),
    ("affinity-data-total-funding-amount", "Total Funding Amount (USD)", "number"),
    ("affinity-data-year-founded", "Year Founded", "number"),
];

/// A company's enriched fields, each present (with `data: null` where enrichment knows
/// nothing), as Affinity answers `fieldTypes=enriched`.
pub(super) fn enriched_fields(e: Option<&world::Enrichment>) -> Vec<Value> {
    let texts = |items: &[String]| match items {
        [] => json!({ "data": null }),
        items => json!({ "data": items, "totalCount": items.len() }),
    };
    ENRICHED
        .iter()
        .map(|(id, name, value_type)| {
            let mut value = match (e, *id) {
                (None, _) => json!({ "data": null }),
                (Some(e), "affinity-data-description") => json!({ "data": e.description }),
                (Some(e), "affinity-data-industry") => texts(&e.industries),
                (Some(e), "affinity-data-investment-stage") => json!({ "data": e.investment_stage }),
                (Some(e), "affinity-data-investors") => texts(&e.investors),
                (Some(e), "affinity-data-last-funding-amount") => json!({ "data": e.last_funding_usd }),
                (Some(e), "affinity-data-last-funding-date") => json!({ "data": e.last_funding_date }),
                (Some(e), "affinity-data-linkedin-url") => json!({ "data": e.linkedin_url }),
                (Some(e), "affinity-data-location") if e.city.is_some() || e.country.is_some() => json!({ "data": {
                    "streetAddress": null, "city": e.city, "state": e.state, "country": e.country, "continent": null,
                } }),
                (Some(e), "affinity-data-number-of-employees") => json!({ "data": e.employees }),
                (Some(e), "affinity-data-total-funding-amount") => json!({ "data": e.total_funding_usd }),
                (Some(e), "affinity-data-year-founded") => json!({ "data": e.year_founded }),
                _ => json!({ "data": null }),
            };
            value["type"] = json!(value_type);
            json!({ "id": id, "name": name, "type": "enriched", "enrichmentSource": "affinity-data", "value": value })
        })
        .collect()
}

// ---- fields of the world ------------------------------------------------------------------

/// A v1 field's v2 value type: single and multiple.
pub(super) fn value_type(f: &world::Field) -> &'static str {
    let (one, many) = match f.value_type {
        0 => ("person", "person-multi"),
        1 => ("company", "company-multi"),
        2 | 17 => ("dropdown", "dropdown-multi"),
        3 => ("number", "number-multi"),
        4 => ("datetime", "datetime"),
        5 => ("location", "location-multi"),
        7 => ("ranked-dropdown", "ranked-dropdown"),
        10 => ("filterable-text", "filterable-text-multi"),
        _ => ("text", "text"),
    };
    if f.allows_multiple { many } else { one }
}

/// Whether a value type holds several values.
pub(super) fn is_multi(value_type: &str) -> bool {
    value_type.ends_with("-multi")
}

/// One stored v1 value as v2's `data` (of one item, for multi-valued fields).
fn one_value(w: &World, f: &world::Field, v: &world::FieldValue) -> Value {
    let option_by_text = |text: &str| f.dropdown_options.iter().find(|o| o.text == text);
    match f.value_type {
        0 => v.value.as_i64().and_then(|id| w.person(id)).map(person_data).unwrap_or(Value::Null),
        1 => v.value.as_i64().and_then(|id| w.organization(id)).map(company_data).unwrap_or(Value::Null),
        2 | 17 => match &v.value {
            Value::String(t) => json!({ "dropdownOptionId": option_by_text(t).map(|o| o.id), "text": t }),
            _ => Value::Null,
        },
        7 => {
            let id = v.value.get("id").and_then(Value::as_i64);
            match id.and_then(|id| f.dropdown_options.iter().find(|o| o.id == id)) {
                Some(o) => json!({ "dropdownOptionId": o.id, "text": o.text, "rank": o.rank,
                                   "color": affinity_api::v2::color_name(o.color) }),
                None => Value::Null,
            }
        }
        5 => json!({
            "streetAddress": v.value.get("street_address").cloned().unwrap_or(Value::Null),
            "city": v.value.get("city").cloned().unwrap_or(Value::Null),
            "state": v.value.get("state").cloned().unwrap_or(Value::Null),
            "country": v.value.get("country").cloned().unwrap_or(Value::Null),
            "continent": v.value.get("continent").cloned().unwrap_or(Value::Null),
        }),
        _ => v.value.clone(),
    }
}

/// A v1 field and its values (of one entity, or one list entry) as a v2 `Field`.
pub(super) fn field(w: &World, f: &world::Field, values: &[&world::FieldValue]) -> Value {
    let kind = value_type(f);
    let data = if is_multi(kind) {
        let items: Vec<Value> = values.iter().map(|v| one_value(w, f, v)).filter(|v| !v.is_null()).collect();
        if items.is_empty() { Value::Null } else { Value::Array(items) }
    } else {
        values.first().map(|v| one_value(w, f, v)).unwrap_or(Value::Null)
    };
    json!({
        "id": format!("field-{}", f.id),
        "name": f.name,
        "type": if f.list_id.is_some() { "list" } else { "global" },
        "enrichmentSource": null,
        "value": { "type": kind, "data": data },
    })
}

/// The global fields of an entity (`entity_type` 0 person, 1 organization), with its values.
pub(super) fn global_fields(w: &World, entity_type: i64, entity_id: i64) -> Vec<Value> {
    w.fields
        .iter()
        .filter(|f| f.list_id.is_none() && f.entity_type == entity_type)
        .map(|f| {
            let values: Vec<&world::FieldValue> = w
                .field_values
                .iter()
                .filter(|v| v.field_id == f.id && v.entity_id == entity_id && v.list_entry_id.is_none())
                .collect();
            field(w, f, &values)
        })
        .collect()
}

/// The list's own fields of one entry, with the entry's values.
fn list_fields(w: &World, e: &world::ListEntry) -> Vec<Value> {
    w.fields
        .iter()
        .filter(|f| f.list_id == Some(e.list_id))
        .map(|f| {
            let values: Vec<&world::FieldValue> =
                w.field_values.iter().filter(|v| v.field_id == f.id && v.list_entry_id == Some(e.id)).collect();
            field(w, f, &values)
        })
        .collect()
}

/// Every field of a list entry: the entity's (global, enriched and relationship
/// intelligence) and the list's own.
pub(super) fn entry_fields(w: &World, e: &world::ListEntry) -> Vec<Value> {
    let mut fields = match e.entity_type {
        0 => w.person(e.entity_id).map(|p| person_fields(w, p)).unwrap_or_default(),
        1 => w.organization(e.entity_id).map(|o| company_fields(w, o)).unwrap_or_default(),
        _ => Vec::new(),
    };
    fields.extend(list_fields(w, e));
    fields
}

// ---- lists and entries ----------------------------------------------------------------------

/// The v2 name of a v1 entity or list type code.
pub(super) fn list_type(code: i64) -> &'static str {
    match code {
        0 => "person",
        8 => "opportunity",
        _ => "company",
    }
}

/// `List`, or `ListWithType`.
pub(super) fn list(l: &world::List, with_type: bool) -> Value {
    let mut v = json!({
        "id": l.id, "name": l.name, "creatorId": l.creator_id, "ownerId": l.owner_id,
        "isPublic": l.public, "createdAt": "2020-01-06T00:00:00Z",
    });
    if with_type {
        v["type"] = json!(list_type(l.list_type));
    }
    v
}

/// An entity's list entries (`ListEntry`), each with all its fields: "field data for the
/// Company, including list-specific field data" (the operation's description): the entity's
/// global, enriched and relationship-intelligence fields, and the list's own. Like v1's, they
/// include entries on lists the key cannot open itself.
pub(super) fn entity_list_entries(w: &World, entity_type: i64, entity_id: i64) -> Vec<Value> {
    w.list_entries
        .iter()
        .filter(|e| e.entity_type == entity_type && e.entity_id == entity_id)
        .map(|e| {
            json!({
                "id": e.id, "listId": e.list_id, "listName": w.list(e.list_id).map(|l| l.name.as_str()).unwrap_or(""),
                "createdAt": e.created_at, "creatorId": e.creator_id, "fields": entry_fields(w, e),
            })
        })
        .collect()
}

/// `Opportunity`.
pub(super) fn opportunity(w: &World, o: &world::Opportunity) -> Value {
    json!({ "id": o.id, "name": o.name, "listId": o.list_id,
            "listName": w.list(o.list_id).map(|l| l.name.as_str()).unwrap_or(""),
            "isRestricted": false, "isRedacted": false })
}

/// `ListEntryWithEntity`: the entry and its entity, with the fields `fields` selects of the
/// entry's every field.
pub(super) fn entry_with_entity(w: &World, e: &world::ListEntry, fields: &FieldSelection) -> Value {
    let chosen = || -> Vec<Value> { entry_fields(w, e).into_iter().filter(|f| selected(fields, f)).collect() };
    let entity = match e.entity_type {
        0 => w.person(e.entity_id).map(|p| {
            let mut v = person(w, p, &FieldSelection::default());
            if fields.any() {
                v["fields"] = Value::Array(chosen());
            }
            v
        }),
        1 => w.organization(e.entity_id).map(|o| {
            let mut v = company(w, o, &FieldSelection::default());
            if fields.any() {
                v["fields"] = Value::Array(chosen());
            }
            v
        }),
        _ => w.opportunities.iter().find(|o| o.id == e.entity_id).map(|o| {
            let mut v =
                json!({ "id": o.id, "name": o.name, "listId": o.list_id, "isRestricted": false, "isRedacted": false });
            if fields.any() {
                v["fields"] = Value::Array(chosen());
            }
            v
        }),
    };
    json!({ "id": e.id, "listId": e.list_id, "type": list_type(e.entity_type), "createdAt": e.created_at,
            "creatorId": e.creator_id, "entity": entity.unwrap_or(Value::Null) })
}

// ---- notes ------------------------------------------------------------------------------------

/// A note's content as HTML: as written for an HTML note (type 2), else its text escaped.
pub(super) fn note_html(n: &world::Note) -> String {
    if n.note_type == 2 {
        return n.content.clone();
    }
    let escaped = n.content.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!("<p>{}</p>", escaped.replace('\n', "<br>"))
}

/// `notes.Note` (an `entities` or `user-reply` note), with the previews `includes` asks for.
pub(super) fn note(w: &World, n: &world::Note, includes: &[String]) -> Value {
    let creator = w.person(n.creator_id).map(person_data).unwrap_or(Value::Null);
    let mut v = json!({
        "id": n.id, "type": if n.parent_id.is_some() { "user-reply" } else { "entities" },
        "content": { "html": note_html(n) }, "creator": creator, "mentions": [],
        "createdAt": n.created_at, "updatedAt": null,
    });
    if let Some(parent) = n.parent_id {
        v["parent"] = json!({ "id": parent });
        return v;
    }
    let wants = |what: &str| includes.iter().any(|i| i == what);
    if wants("companiesPreview") {
        let data: Vec<Value> =
            n.organization_ids.iter().filter_map(|id| w.organization(*id)).map(company_data).collect();
        v["companiesPreview"] = json!({ "data": data.iter().take(100).collect::<Vec<_>>(), "totalCount": data.len() });
    }
    if wants("personsPreview") {
        let data: Vec<Value> = n.person_ids.iter().filter_map(|id| w.person(*id)).map(person_data).collect();
        v["personsPreview"] = json!({ "data": data.iter().take(100).collect::<Vec<_>>(), "totalCount": data.len() });
    }
    if wants("opportunitiesPreview") {
        let data: Vec<Value> = (n.opportunity_ids.iter())
            .filter_map(|id| w.opportunities.iter().find(|o| o.id == *id))
            .map(|o| opportunity(w, o))
            .collect();
        v["opportunitiesPreview"] =
            json!({ "data": data.iter().take(100).collect::<Vec<_>>(), "totalCount": data.len() });
    }
    if wants("repliesCount") {
        v["repliesCount"] = json!(w.notes.iter().filter(|r| r.parent_id == Some(n.id)).count());
    }
    v
}

// ---- field metadata ---------------------------------------------------------------------------

/// What `GET …/fields` says of one field.
pub(super) struct Meta {
    pub id: String,
    pub name: String,
    /// `global`, `list`, `enriched` or `relationship-intelligence`.
    pub kind: &'static str,
    pub value_type: &'static str,
    pub source: Option<&'static str>,
    pub created_at: Option<&'static str>,
}

/// The fields of a company or person directory (`entity_type` 1 or 0).
pub(super) fn entity_metadata(w: &World, entity_type: i64) -> Vec<Meta> {
    let mut out: Vec<Meta> = (w.fields.iter())
        .filter(|f| f.list_id.is_none() && f.entity_type == entity_type)
        .map(|f| Meta {
            id: format!("field-{}", f.id),
            name: f.name.clone(),
            kind: "global",
            value_type: value_type(f),
            source: None,
            created_at: Some("2020-01-06T00:00:00Z"),
        })
        .collect();
    if entity_type == 1 {
        out.extend(ENRICHED.iter().map(|(id, name, value_type)| Meta {
            id: (*id).to_owned(),
            name: (*name).to_owned(),
            kind: "enriched",
            value_type,
            source: Some("affinity-data"),
            created_at: Some("2024-03-07T20:21:42Z"),
        }));
    }
    out.extend(INTELLIGENCE.iter().map(|(id, name, _)| Meta {
        id: (*id).to_owned(),
        name: (*name).to_owned(),
        kind: "relationship-intelligence",
        value_type: "interaction",
        source: None,
        created_at: None,
    }));
    out.push(Meta {
        id: "source-of-introduction".into(),
        name: "Source of Introduction".into(),
        kind: "relationship-intelligence",
        value_type: "person",
        source: None,
        created_at: None,
    });
    out
}

/// The fields of a list's entries: the entity's and the list's own.
pub(super) fn list_metadata(w: &World, l: &world::List) -> Vec<Meta> {
    let mut out = match l.list_type {
        0 | 1 => entity_metadata(w, l.list_type),
        _ => Vec::new(),
    };
    out.extend(w.fields.iter().filter(|f| f.list_id == Some(l.id)).map(|f| Meta {
        id: format!("field-{}", f.id),
        name: f.name.clone(),
        kind: "list",
        value_type: value_type(f),
        source: None,
        created_at: Some("2020-01-06T00:00:00Z"),
    }));
    out
}

/// `FieldMetadata`, with `filterability` and `sortability` when `includes` asks.
pub(super) fn metadata(m: &Meta, includes: &[String]) -> Value {
    let mut v = json!({
        "id": m.id, "name": m.name, "type": m.kind, "enrichmentSource": m.source,
        "valueType": m.value_type, "createdAt": m.created_at,
    });
    if includes.iter().any(|i| i == "filterability") {
        v["filterability"] = filterability(m.value_type);
    }
    if includes.iter().any(|i| i == "sortability") {
        v["sortability"] = match m.value_type {
            "interaction" => json!({ "sortableFieldType": "attribute-on-field",
                "attributes": [{ "id": "date-of-activity", "name": "Date of Activity", "valueType": "date" }] }),
            t if is_multi(t) || t == "location" => Value::Null,
            _ => json!({ "sortableFieldType": "field-only" }),
        };
    }
    v
}

fn operators(ids: &[&str]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let name = {
                let text = id.replace('-', " ");
                let mut chars = text.chars();
                chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
            };
            let count = match *id {
                "is-empty" | "is-not-empty" => "none",
                "is-between" => "two",
                "is-any-of" | "is-none-of" | "has-any-of" | "has-all-of" | "has-none-of" | "has-exactly" => "multi",
                _ => "one",
            };
            let mut op = json!({ "id": id, "name": name, "numberOfValuesRequired": count });
            if id.contains("within") {
                op["relativeDateUnits"] = json!(["day", "week", "month", "quarter", "year"]);
            }
            op
        })
        .collect()
}

const DATE_OPERATORS: [&str; 13] = [
    "is-not-within-the-next",
    "is-within-the-next",
    "is-not-within-the-last",
    "is-within-the-last",
    "is-between",
    "is-after",
    "is-on-or-after",
    "is-before",
    "is-on-or-before",
    "is-on",
    "is-not-on",
    "is-not-empty",
    "is-empty",
];

/// How a field of `value_type` filters: its operators (`FieldFilterability`), the ones the
/// search evaluates ([`crate::search`]).
fn filterability(value_type: &str) -> Value {
    let ops: &[&str] = match value_type {
        "interaction" => {
            return json!({ "filterableFieldType": "attribute-on-field", "attributes": [{
                "id": "date-of-activity", "name": "Date of Activity", "valueType": "date",
                "operators": operators(&DATE_OPERATORS) }] });
        }
        "number" | "formula-number" => &[
            "is-between",
            "is-greater-than",
            "is-greater-than-or-equal-to",
            "is-less-than",
            "is-less-than-or-equal-to",
            "is-equal-to",
            "is-not-equal-to",
            "is-not-empty",
            "is-empty",
        ],
        "datetime" => &DATE_OPERATORS,
        "text" => &["contains", "does-not-contain", "starts-with", "ends-with", "is-not-empty", "is-empty"],
        t if is_multi(t) => &["has-any-of", "has-all-of", "has-none-of", "is-not-empty", "is-empty"],
        _ => &["is-any-of", "is-none-of", "is-not-empty", "is-empty"],
    };
    json!({ "filterableFieldType": "field-only", "operators": operators(ops) })
}
