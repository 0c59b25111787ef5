//! `/v2/lists…` and `/v2/opportunities…`: lists, their fields and entries, an entry's field
//! values read and written (one field, or up to 100 at once), and opportunities.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::values::{self, Target};
use super::{
    FieldSelection, Paging, Query, created, directory, error, forbidden, json_body, not_found, only_keys, path_id,
    refused, render, validation,
};
use crate::params::Invalid;
use crate::world::{self, World};
use crate::{Access, Ctx, Shared, hooks};

/// The list the key may read, or the answer that says why not (404, or 403 for a list that is
/// not shared with the key's user).
fn readable(w: &World, id: i64) -> Result<&world::List, Response> {
    match w.list(id) {
        None => Err(not_found("List")),
        Some(l) if l.private => Err(forbidden("This list is not shared with you")),
        Some(l) => Ok(l),
    }
}

/// `GET /v2/lists`: the lists the key may read, `term` in their name.
pub(super) async fn lists(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let term = q.one("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
    let w = s.world.read().expect("world lock");
    let found: Vec<&world::List> =
        w.lists.iter().filter(|l| !l.private && l.name.to_lowercase().contains(&term)).collect();
    Paging::new(&headers, "/v2/lists", &q).page(found, |l| render::list(l, true))
}

/// `POST /v2/lists` (`ListToBeCreated`): a list of companies, persons or opportunities.
pub(super) async fn create(State(s): Ctx, body: axum::body::Bytes) -> Response {
    let body = try_r!(json_body(&body, false, "ListToBeCreated"));
    try_r!(only_keys(&body, "", &["name", "type", "isPublic"]));
    let name = match body.get("name").and_then(Value::as_str).map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return validation("name", "name is required"),
    };
    let list_type = match body.get("type").and_then(Value::as_str) {
        Some("person") => 0,
        Some("company") => 1,
        Some("opportunity") => 8,
        _ => return validation("type", "type must be company, person or opportunity"),
    };
    let public = match body.get("isPublic") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return validation("isPublic", "isPublic must be true or false"),
    };
    let list = {
        let mut w = s.world.write().expect("world lock");
        let owner = w.tenant.user_id;
        let list =
            world::List { id: w.new_id(), list_type, name, public, owner_id: owner, creator_id: owner, private: false };
        w.lists.push(list.clone());
        list
    };
    hooks::emit(&s, "list.created", crate::render::list(&list));
    created(render::list(&list, true))
}

/// `GET /v2/lists/{id}`.
pub(super) async fn one(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id, "listId"));
    let w = s.world.read().expect("world lock");
    let list = try_r!(readable(&w, id));
    axum::Json(render::list(list, true)).into_response()
}

/// `GET /v2/lists/{id}/fields`.
pub(super) async fn fields(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "listId"));
    let metas = {
        let w = s.world.read().expect("world lock");
        render::list_metadata(&w, try_r!(readable(&w, id)))
    };
    let path = format!("/v2/lists/{id}/fields");
    directory::fields_page(&headers, &path, &Query::parse(raw), metas)
}

/// `GET /v2/lists/{id}/list-entries`: every entry with its entity, and the fields `fieldIds`
/// or `fieldTypes` (`list` too) select.
pub(super) async fn entries(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "listId"));
    let q = Query::parse(raw);
    let fields = try_r!(FieldSelection::from(&q, &["enriched", "global", "list", "relationship-intelligence"]));
    let w = s.world.read().expect("world lock");
    try_r!(readable(&w, id));
    let found: Vec<&world::ListEntry> = w.list_entries.iter().filter(|e| e.list_id == id).collect();
    let path = format!("/v2/lists/{id}/list-entries");
    Paging::new(&headers, &path, &q).page(found, |e| render::entry_with_entity(&w, e, &fields))
}

/// The entry `entry_id` of the readable list `list_id`.
fn entry_of(w: &World, list_id: &str, entry_id: &str) -> Result<world::ListEntry, Response> {
    let list_id = path_id(list_id, "listId")?;
    let entry_id = path_id(entry_id, "listEntryId")?;
    readable(w, list_id)?;
    w.list_entries
        .iter()
        .find(|e| e.id == entry_id && e.list_id == list_id)
        .cloned()
        .ok_or_else(|| not_found("List entry"))
}

/// `GET /v2/lists/{id}/list-entries/{entryId}/fields`: the entry's every field (or those
/// `ids` or `types` name), 20 a page.
pub(super) async fn entry_fields(
    State(s): Ctx,
    headers: HeaderMap,
    Path((list_id, entry_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw);
    let types = try_r!(q.choices("types", &["enriched", "global", "list", "relationship-intelligence"]));
    let ids: Vec<&str> = q.all("ids");
    if !ids.is_empty() && !types.is_empty() {
        return validation("ids", "ids and types cannot be used together; use one or the other");
    }
    let w = s.world.read().expect("world lock");
    let entry = try_r!(entry_of(&w, &list_id, &entry_id));
    let fields: Vec<Value> = render::entry_fields(&w, &entry)
        .into_iter()
        .filter(|f| ids.is_empty() || ids.contains(&f["id"].as_str().unwrap_or_default()))
        .filter(|f| types.is_empty() || types.iter().any(|t| f["type"] == *t.as_str()))
        .collect();
    let path = format!("/v2/lists/{}/list-entries/{}/fields", entry.list_id, entry.id);
    Paging::new(&headers, &path, &q).default_limit(20).page(fields, Value::clone)
}

/// `GET /v2/lists/{id}/list-entries/{entryId}/fields/{fieldId}`.
pub(super) async fn entry_field(
    State(s): Ctx,
    Path((list_id, entry_id, field_id)): Path<(String, String, String)>,
) -> Response {
    let w = s.world.read().expect("world lock");
    let entry = try_r!(entry_of(&w, &list_id, &entry_id));
    match render::entry_fields(&w, &entry).into_iter().find(|f| f["id"] == *field_id.as_str()) {
        Some(field) => axum::Json(field).into_response(),
        None => not_found("Field"),
    }
}

/// Writes `updates` (`[(field id, FieldValueUpdate)]`, each at its param path) to the entry,
/// all or none: every update is checked before the first is stored. Delivers the events.
fn write_fields(s: &Shared, access: Access, entry: &world::ListEntry, updates: &[(String, Value, String)]) -> Response {
    if access == Access::ReadOnly {
        return forbidden("This API key may not make changes");
    }
    let events = {
        let mut w = s.world.write().expect("world lock");
        let mut checked: Vec<(world::Field, Vec<Value>)> = Vec::new();
        for (id, update, at) in updates {
            let under = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
            let field = try_r!(
                values::writable(&w, id, Some(entry.list_id), entry.entity_type)
                    .map_err(|m| refused(Invalid::new(&under("id"), m)))
            )
            .clone();
            let stored = try_r!(values::stored(&w, &field, update, &under("value")).map_err(refused));
            checked.push((field, stored));
        }
        let changer = w.tenant.user_id;
        let mut events = Vec::new();
        for (field, stored) in checked {
            let target = Target {
                entity_id: entry.entity_id,
                entity_type: entry.entity_type,
                list_entry_id: field.list_id.map(|_| entry.id),
            };
            events.extend(values::replace(&mut w, &field, target, stored, changer));
        }
        events
    };
    for (name, body) in events {
        hooks::emit(s, name, body);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /v2/lists/{id}/list-entries/{entryId}/fields/{fieldId}` (`FieldUpdate`): 204.
pub(super) async fn set_entry_field(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path((list_id, entry_id, field_id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let entry = {
        let w = s.world.read().expect("world lock");
        let entry = try_r!(entry_of(&w, &list_id, &entry_id));
        // The field in the path must be one of the entry's (404), before its value is checked.
        if !render::entry_fields(&w, &entry).iter().any(|f| f["id"] == *field_id.as_str()) {
            return not_found("Field");
        }
        entry
    };
    let body = try_r!(json_body(&body, false, "FieldUpdate"));
    try_r!(only_keys(&body, "", &["value"]));
    let Some(value) = body.get("value") else { return validation("value", "value is required") };
    write_fields(&s, access, &entry, &[(field_id, value.clone(), String::new())])
}

/// `PATCH /v2/lists/{id}/list-entries/{entryId}/fields`
/// (`{"operation": "update-fields", "updates": [{id, value}]}`, at most 100): all or none.
pub(super) async fn update_fields(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path((list_id, entry_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let entry = try_r!(entry_of(&s.world.read().expect("world lock"), &list_id, &entry_id));
    let body = try_r!(json_body(&body, false, "ListEntryBatchOperationRequest"));
    if body.get("operation").and_then(Value::as_str) != Some("update-fields") {
        return validation("operation", "operation must be update-fields");
    }
    try_r!(only_keys(&body, "", &["operation", "updates"]));
    let Some(items) = body.get("updates").and_then(Value::as_array) else {
        return validation("updates", "updates must be an array of {id, value}");
    };
    if items.len() > 100 {
        return validation("updates", "at most 100 updates at once");
    }
    let mut updates = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("updates[{i}]");
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            return validation(&format!("{at}.id"), "id is required");
        };
        try_r!(only_keys(item, &at, &["id", "value"]));
        updates.push((id.to_owned(), item.get("value").cloned().unwrap_or(json!({ "data": null })), at));
    }
    let response = write_fields(&s, access, &entry, &updates);
    if response.status() != StatusCode::NO_CONTENT {
        return response;
    }
    axum::Json(json!({ "operation": "update-fields" })).into_response()
}

/// `GET /v2/opportunities`: every opportunity, or those `ids` names.
pub(super) async fn opportunities(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let ids = try_r!(q.ids("ids"));
    let w = s.world.read().expect("world lock");
    let found: Vec<&world::Opportunity> =
        w.opportunities.iter().filter(|o| ids.is_empty() || ids.contains(&o.id)).collect();
    Paging::new(&headers, "/v2/opportunities", &q).page(found, |o| render::opportunity(&w, o))
}

/// `GET /v2/opportunities/{id}`.
pub(super) async fn opportunity(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id, "opportunityId"));
    let w = s.world.read().expect("world lock");
    match w.opportunities.iter().find(|o| o.id == id) {
        Some(o) if w.list(o.list_id).is_some_and(|l| l.private) => {
            error(StatusCode::FORBIDDEN, "authorization", "This opportunity's list is not shared with you")
        }
        Some(o) => axum::Json(render::opportunity(&w, o)).into_response(),
        None => not_found("Opportunity"),
    }
}
