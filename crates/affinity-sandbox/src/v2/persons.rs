//! `/v2/persons…`: the person directory (see [`super::directory`]), and creating and deleting
//! a person.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::directory::{self, Kind};
use super::values::{self, Target};
use super::{
    FieldSelection, Query, created, forbidden, json_body, not_found, only_keys, path_id, refused, render, validation,
};
use crate::params::Invalid;
use crate::{Access, Ctx, hooks, world};

pub(super) async fn list(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    directory::list(&s, Kind::Person, &headers, &Query::parse(raw))
}

pub(super) async fn one(State(s): Ctx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    directory::one(&s, Kind::Person, &id, &Query::parse(raw))
}

pub(super) async fn fields(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let metas = render::entity_metadata(&s.world.read().expect("world lock"), 0);
    directory::fields_page(&headers, "/v2/persons/fields", &Query::parse(raw), metas)
}

pub(super) async fn search(
    State(s): Ctx,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    directory::search(&s, Kind::Person, &headers, &Query::parse(raw), &body)
}

pub(super) async fn list_entries(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    directory::list_entries(&s, Kind::Person, &headers, &id, &Query::parse(raw))
}

pub(super) async fn relationships(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    directory::relationships(&s, Kind::Person, &headers, &id, &Query::parse(raw))
}

/// A `string | null` property of a body, which must be present.
fn nullable_text(body: &Value, key: &str) -> Result<Option<String>, Response> {
    match body.get(key) {
        None => Err(validation(key, &format!("{key} is required (it may be null)"))),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(validation(key, &format!("{key} must be a string or null"))),
    }
}

/// `POST /v2/persons` (`PersonToCreate`): an external person, with global field values.
pub(super) async fn create(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    body: axum::body::Bytes,
) -> Response {
    if access == Access::ReadOnly {
        return forbidden("This API key may not make changes");
    }
    let body = try_r!(json_body(&body, false, "PersonToCreate"));
    try_r!(only_keys(&body, "", &["firstName", "lastName", "primaryEmailAddress", "emailAddresses", "fields"]));
    let first_name = match body.get("firstName").and_then(Value::as_str).map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return validation("firstName", "firstName is required"),
    };
    let last_name = try_r!(nullable_text(&body, "lastName")).unwrap_or_default();
    let primary = try_r!(nullable_text(&body, "primaryEmailAddress")).map(|e| e.to_lowercase());
    let mut emails: Vec<String> = primary.iter().cloned().collect();
    match body.get("emailAddresses") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Some(e) = item.as_str().map(|e| e.trim().to_lowercase()).filter(|e| e.contains('@')) else {
                    return validation(&format!("emailAddresses[{i}]"), "each email address must be an address");
                };
                if !emails.contains(&e) {
                    emails.push(e);
                }
            }
        }
        Some(_) => return validation("emailAddresses", "emailAddresses must be an array of strings"),
    }
    if let Some(bad) = emails.iter().position(|e| !e.contains('@') || e.starts_with('@') || e.ends_with('@')) {
        return validation("primaryEmailAddress", &format!("{:?} is not an email address", emails[bad]));
    }
    let updates: Vec<Value> = match body.get("fields") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return validation("fields", "fields must be an array of {id, value}"),
    };
    let (person, events) = {
        let mut w = s.world.write().expect("world lock");
        if let Some(taken) = emails.iter().find(|e| w.persons.iter().any(|p| p.emails.contains(e))) {
            return validation("primaryEmailAddress", &format!("A person with the email {taken} already exists"));
        }
        let mut checked = Vec::new();
        for (i, update) in updates.iter().enumerate() {
            let at = format!("fields[{i}]");
            try_r!(only_keys(update, &at, &["id", "value"]));
            let id = update.get("id").and_then(Value::as_str).unwrap_or_default();
            // A field id that is no field at all is a 404; one that cannot be written, a 400.
            if id.starts_with("field-") && !w.fields.iter().any(|f| format!("field-{}", f.id) == id) {
                return not_found(&format!("Field {id}"));
            }
            let field =
                try_r!(values::writable(&w, id, None, 0).map_err(|m| refused(Invalid::new(&format!("{at}.id"), m))))
                    .clone();
            let value = update.get("value").cloned().unwrap_or(Value::Null);
            checked.push((
                field.clone(),
                try_r!(values::stored(&w, &field, &value, &format!("{at}.value")).map_err(refused)),
            ));
        }
        let person = world::Person {
            id: w.new_id(),
            person_type: 0,
            first_name,
            last_name,
            emails,
            organization_ids: Vec::new(),
            activity: Default::default(),
        };
        w.add_person(person.clone());
        let mut events = vec![(
            "person.created",
            crate::render::person(&w, &person, crate::render::With { detail: true, ..Default::default() }),
        )];
        let changer = w.tenant.user_id;
        for (field, stored) in checked {
            let target = Target { entity_id: person.id, entity_type: 0, list_entry_id: None };
            events.extend(values::replace(&mut w, &field, target, stored, changer));
        }
        (render::person(&w, &person, &FieldSelection::default()), events)
    };
    for (name, body) in events {
        hooks::emit(&s, name, body);
    }
    created(person)
}

/// `DELETE /v2/persons/{id}`: 204; internal persons (the firm's users) cannot be deleted.
pub(super) async fn delete(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path(id): Path<String>,
) -> Response {
    let id = try_r!(path_id(&id, "personId"));
    if access == Access::ReadOnly {
        return forbidden("This API key may not make changes");
    }
    let gone = {
        let mut w = s.world.write().expect("world lock");
        let Some(person) = w.person(id).cloned() else { return not_found("Person") };
        if person.person_type == 1 {
            return forbidden("Internal persons (the firm's users) cannot be deleted");
        }
        let before = crate::render::person(&w, &person, crate::render::With { detail: true, ..Default::default() });
        w.delete_person(id);
        before
    };
    hooks::emit(&s, "person.deleted", gone);
    StatusCode::NO_CONTENT.into_response()
}
