//! Writing a field's value through v2 (`FieldValueUpdate`): checked against the field, then
//! stored in the world as v1 stores it, so that v1 reads the same value, with the webhook
//! events v1's writes make (`field_value.created`, `.updated`, `.deleted`).

use serde_json::{Value, json};

use super::render;
use crate::params::Invalid;
use crate::world::{self, World};

/// Where a value is written: an entity's global field, or a list entry's field.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    pub entity_id: i64,
    pub entity_type: i64,
    pub list_entry_id: Option<i64>,
}

/// The values to store for `update` (`{type, data}`) on `field`, in v1's stored form: none to
/// clear it, one, or several for a multi-valued field.
pub(super) fn stored(w: &World, f: &world::Field, update: &Value, at: &str) -> Result<Vec<Value>, Invalid> {
    let expected = render::value_type(f);
    let given = update.get("type").and_then(Value::as_str).unwrap_or_default();
    if given != expected && !(expected == "text" && given == "filterable-text") {
        return Err(Invalid::new(
            &format!("{at}.type"),
            format!("{} is a {expected} field; the value's type is {given:?}", f.name),
        ));
    }
    if let Some(extra) = update.as_object().into_iter().flatten().map(|(k, _)| k).find(|k| *k != "type" && *k != "data")
    {
        return Err(Invalid::new(&format!("{at}.{extra}"), format!("{extra} is not part of a field value")));
    }
    let data =
        update.get("data").ok_or_else(|| Invalid::new(&format!("{at}.data"), "data is required (null clears)"))?;
    let items: Vec<&Value> = match data {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) if render::is_multi(expected) => {
            if items.len() > 100 {
                return Err(Invalid::new(&format!("{at}.data"), "at most 100 values"));
            }
            items.iter().collect()
        }
        one if !render::is_multi(expected) => vec![one],
        _ => return Err(Invalid::new(&format!("{at}.data"), format!("{} takes an array of values", f.name))),
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = if render::is_multi(expected) { format!("{at}.data[{i}]") } else { format!("{at}.data") };
        let value = one_stored(w, f, item).map_err(|message| Invalid::new(&path, message))?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

/// One value as v1 stores it, or what is wrong with it.
fn one_stored(w: &World, f: &world::Field, item: &Value) -> Result<Value, String> {
    let id_of = |key: &str| item.get(key).and_then(Value::as_i64).ok_or_else(|| format!("expected {{\"{key}\": …}}"));
    match f.value_type {
        0 => {
            let id = id_of("id")?;
            w.person(id).map(|_| json!(id)).ok_or_else(|| format!("no person {id}"))
        }
        1 => {
            let id = id_of("id")?;
            w.organization(id).map(|_| json!(id)).ok_or_else(|| format!("no company {id}"))
        }
        2 | 17 => {
            let id = id_of("dropdownOptionId")?;
            let option = f.dropdown_options.iter().find(|o| o.id == id);
            option.map(|o| json!(o.text)).ok_or_else(|| format!("{id} is not an option of {}", f.name))
        }
        7 => {
            let id = id_of("dropdownOptionId")?;
            match f.dropdown_options.iter().find(|o| o.id == id) {
                Some(o) => Ok(json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color })),
                None => Err(format!("{id} is not an option of {}", f.name)),
            }
        }
        3 => item.as_f64().filter(|n| n.is_finite()).map(|_| item.clone()).ok_or_else(|| "expected a number".into()),
        4 => item
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| json!(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
            .ok_or_else(|| "expected an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z".into()),
        5 => {
            let o = item.as_object().ok_or("expected a location object")?;
            let part = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
            Ok(json!({ "street_address": part("streetAddress"), "city": part("city"), "state": part("state"),
                       "country": part("country"), "continent": part("continent") }))
        }
        _ => item.as_str().map(|t| json!(t)).ok_or_else(|| "expected a string".into()),
    }
}

/// Replaces the field's values at `target` with `values`: a single value is changed in place
/// (its `updated_at` moves, and a tracked field records the change), the others are removed
/// or added. Returns the webhook events to deliver (name, the value in v1's shape).
pub(super) fn replace(
    w: &mut World,
    f: &world::Field,
    target: Target,
    values: Vec<Value>,
    changer: i64,
) -> Vec<(&'static str, Value)> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let is_here = |v: &world::FieldValue| {
        v.field_id == f.id
            && v.entity_id == target.entity_id
            && v.list_entry_id == target.list_entry_id
            && (target.list_entry_id.is_some() || v.entity_type == target.entity_type)
    };
    let existing: Vec<i64> = w.field_values.iter().filter(|v| is_here(v)).map(|v| v.id).collect();
    let mut events = Vec::new();
    let track = |w: &mut World, action: i64, value: &Value| {
        if f.track_changes {
            let id = w.new_id();
            w.field_value_changes.push(world::FieldValueChange {
                id,
                field_id: f.id,
                entity_id: target.entity_id,
                list_entry_id: target.list_entry_id,
                action_type: action,
                changer_id: changer,
                changed_at: now.clone(),
                value: value.clone(),
            });
        }
    };
    // A single value changes in place.
    if !f.allows_multiple
        && let ([id], [value]) = (existing.as_slice(), values.as_slice())
    {
        if let Some(v) = w.field_values.iter_mut().find(|v| v.id == *id)
            && v.value != *value
        {
            v.value = value.clone();
            v.updated_at = Some(now.clone());
            let changed = v.clone();
            track(w, 2, value);
            events.push(("field_value.updated", crate::render::field_value(w, &changed)));
        }
        return events;
    }
    // Gone: what is not among the new values.
    let gone: Vec<world::FieldValue> =
        w.field_values.iter().filter(|v| existing.contains(&v.id) && !values.contains(&v.value)).cloned().collect();
    for v in &gone {
        events.push(("field_value.deleted", crate::render::field_value(w, v)));
        track(w, 1, &v.value);
    }
    w.field_values.retain(|v| !gone.iter().any(|g| g.id == v.id));
    // New: what was not there.
    for value in values {
        if w.field_values.iter().any(|v| existing.contains(&v.id) && v.value == value) {
            continue;
        }
        let id = w.new_id();
        let stored = world::FieldValue {
            id,
            field_id: f.id,
            entity_id: target.entity_id,
            entity_type: target.entity_type,
            list_entry_id: target.list_entry_id,
            value: value.clone(),
            created_at: now.clone(),
            updated_at: None,
        };
        w.field_values.push(stored.clone());
        track(w, 0, &value);
        events.push(("field_value.created", crate::render::field_value(w, &stored)));
    }
    events
}

/// The world's field that a v2 field id (`field-123`) names, if it is one a value can be
/// written to here: the list's own fields and the entity's global fields. Enriched and
/// relationship-intelligence fields are read-only.
pub(super) fn writable<'w>(
    w: &'w World,
    id: &str,
    list_id: Option<i64>,
    entity_type: i64,
) -> Result<&'w world::Field, String> {
    let Some(n) = id.strip_prefix("field-").and_then(|n| n.parse::<i64>().ok()) else {
        return Err(if id.starts_with("affinity-data-") || render::ENRICHED.iter().any(|(e, ..)| *e == id) {
            format!("{id} is an enriched field: Affinity fills it, it cannot be written")
        } else {
            format!("{id} is not a field that can be written (expected field-<id>)")
        });
    };
    w.fields
        .iter()
        .find(|f| {
            f.id == n
                && (f.list_id == list_id && list_id.is_some() || f.list_id.is_none() && f.entity_type == entity_type)
        })
        .ok_or_else(|| format!("{id} is not a field of this list entry"))
}
