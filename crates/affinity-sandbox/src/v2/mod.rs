//! The v2 endpoints the Lens uses, over the same world as v1, in the shapes of Affinity's
//! OpenAPI document for 2026-07-15 (`shared/real-world/affinity-v2`): camelCase, string
//! enums, `{data, pagination: {prevUrl, nextUrl}}` pages whose cursors are opaque and valid
//! only with the parameters they were made for, errors as `{errors: [{code, message}]}`,
//! Bearer auth only (the gatekeeper checks it), and the same rate-limit headers and pools.
//!
//! Served: `GET /v2/auth/whoami`, `POST /v2/companies/search` (name and primary domain;
//! `filters`/`sorts` answer 501), `GET /v2/companies/{id}`, `…/relationships`,
//! `…/list-entries`, the same two for persons, `GET /v2/users` and `GET /v2/opportunities`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::world::{self, Activity, Touch, World};
use super::{Ctx, Shared, paging, params};

/// The routes, merged into the sandbox's router.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v2/auth/whoami", get(whoami))
        .route("/v2/companies/search", post(search_companies))
        .route("/v2/companies/{company_id}", get(company))
        .route("/v2/companies/{company_id}/relationships", get(company_relationships))
        .route("/v2/companies/{company_id}/list-entries", get(company_list_entries))
        .route("/v2/persons/{person_id}/relationships", get(person_relationships))
        .route("/v2/persons/{person_id}/list-entries", get(person_list_entries))
        .route("/v2/users", get(users))
        .route("/v2/opportunities", get(opportunities))
}

// ---- errors ---------------------------------------------------------------------------------

/// A v2 error: `{errors: [{code, message}]}` (`validation` errors name their `param`).
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "errors": [{ "code": code, "message": message }] }))).into_response()
}

fn validation(param: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "errors": [{ "code": "validation", "message": message, "param": param }] })),
    )
        .into_response()
}

/// v2's answer to a bad parameter: a validation error naming it.
fn refused(e: params::Invalid) -> Response {
    validation(&e.param, &e.message)
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "not-found", &format!("{what} not found"))
}

/// The v2 error code of an HTTP status.
pub(super) fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 => "bad-request",
        401 => "authentication",
        403 => "authorization",
        404 => "not-found",
        405 => "method-not-allowed",
        406 => "not-acceptable",
        409 => "conflict",
        415 => "unsupported-media-type",
        422 => "unprocessable-entity",
        429 => "rate-limit",
        501 => "not-implemented",
        504 => "timeout",
        _ => "server",
    }
}

/// Rewrites an error the shared layers wrote in v1's shape (`errors[].code` a number, and
/// `message`) into v2's, for `/v2` paths: 401, 429, injected faults, 404 and 405 of the
/// router.
pub(super) async fn error_bodies(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let v2 = request.uri().path().starts_with("/v2/");
    let response = next.run(request).await;
    let status = response.status();
    if !v2 || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let already_v2 = parsed["errors"].as_array().is_some_and(|e| e.iter().all(|i| i["code"].is_string()));
    if already_v2 {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let message = parsed["message"]
        .as_str()
        .or_else(|| parsed["errors"][0]["message"].as_str())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error"))
        .to_owned();
    let mut fixed = error(status, code_of(status), &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().append(name.clone(), value.clone());
        }
    }
    fixed
}

// ---- parameters and pages -------------------------------------------------------------------

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Query {
        Query(url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }
    fn one(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// Every value of a repeated parameter (`ids=1&ids=2`; `ids[]=` too).
    fn all(&self, key: &str) -> Vec<&str> {
        let bracketed = format!("{key}[]");
        self.0.iter().filter(|(k, _)| *k == key || *k == bracketed).map(|(_, v)| v.as_str()).collect()
    }
    fn boolean(&self, key: &str) -> Result<bool, Response> {
        match self.one(key) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(validation(key, &format!("{key} must be true or false"))),
        }
    }
    fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, Response> {
        params::integer(self.one(key), key, min..=max).map_err(refused)
    }
}

/// Which fields to put on a company or person: `fieldIds` or `fieldTypes`, not both.
#[derive(Default)]
struct FieldSelection {
    ids: Vec<String>,
    types: Vec<String>,
}

impl FieldSelection {
    fn from(q: &Query, allowed_types: &[&str]) -> Result<FieldSelection, Response> {
        let ids: Vec<String> = q.all("fieldIds").into_iter().map(str::to_owned).collect();
        let types: Vec<String> = q.all("fieldTypes").into_iter().map(str::to_owned).collect();
        if !ids.is_empty() && !types.is_empty() {
            return Err(validation(
                "fieldIds",
                "fieldIds and fieldTypes cannot be used together; use one or the other",
            ));
        }
        if let Some(bad) = types.iter().find(|t| !allowed_types.contains(&t.as_str())) {
            return Err(validation("fieldTypes", &format!("{bad:?} is not one of {}", allowed_types.join(", "))));
        }
        Ok(FieldSelection { ids, types })
    }
    fn any(&self) -> bool {
        !self.ids.is_empty() || !self.types.is_empty()
    }
    fn wants(&self, id: &str, field_type: &str) -> bool {
        self.ids.iter().any(|i| i == id) || self.types.iter().any(|t| t == field_type)
    }
}

/// How a page is asked for and answered.
struct Paging<'a> {
    headers: &'a HeaderMap,
    path: &'a str,
    query: &'a Query,
    /// A search's body: its cursors are valid only with the same body.
    body: &'a str,
    default_limit: i64,
    /// Relationships and notes report `totalCount` when asked.
    total_count: bool,
}

impl Paging<'_> {
    fn page(&self, items: Vec<Value>) -> Response {
        let limit = match self.query.int("limit", 1, 100) {
            Ok(l) => l.unwrap_or(self.default_limit) as usize,
            Err(r) => return r,
        };
        let want_total = match self.query.boolean("totalCount") {
            Ok(t) => t,
            Err(r) => return r,
        };
        let pairs = self.query.0.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let bound = paging::binding(self.path, pairs, &["cursor", "limit"], self.body);
        let offset = match self.query.one("cursor") {
            None => 0,
            Some(raw) => match paging::Token::decode(raw, bound) {
                Some(t) => t.offset,
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "bad-request",
                        "Invalid cursor: follow pagination.nextUrl (or prevUrl) as it is",
                    );
                }
            },
        };
        let page = paging::window(items, offset, limit);
        let host = self.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        let link = |at: usize| {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in self.query.0.iter().filter(|(k, _)| k != "cursor") {
                url.append_pair(k, v);
            }
            url.append_pair("cursor", &paging::Token::new(at, limit, bound).encode());
            format!("http://{host}{}?{}", self.path, url.finish())
        };
        let mut pagination = json!({ "prevUrl": page.prev.map(link), "nextUrl": page.next.map(link) });
        if self.total_count && want_total {
            pagination["totalCount"] = json!(page.total);
        }
        axum::Json(json!({ "data": page.items, "pagination": pagination })).into_response()
    }
}

macro_rules! try_r {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

fn path_id(raw: &str, param: &str) -> Result<i64, Response> {
    params::id(raw, param).map_err(refused)
}

// ---- shapes -----------------------------------------------------------------------------------

fn person_data(p: &world::Person) -> Value {
    json!({
        "id": p.id,
        "firstName": p.first_name,
        "lastName": p.last_name,
        "primaryEmailAddress": p.emails.first(),
        "type": if p.person_type == 1 { "internal" } else { "external" },
    })
}

fn relationship_person(p: &world::Person) -> Value {
    json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name, "primaryEmailAddress": p.emails.first() })
}

fn company_data(o: &world::Organization) -> Value {
    json!({ "id": o.id, "name": o.name, "domain": o.domain })
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

/// The relationship-intelligence fields of an entity's activity.
fn intelligence(w: &World, entity_id: i64, a: &Activity, with: Option<&world::Person>) -> Vec<Value> {
    let rows: [(&str, &str, &str, &Option<Touch>); 8] = [
        ("first-email", "First Email", "email", &a.first_email),
        ("last-email", "Last Email", "email", &a.last_email),
        ("first-event", "First Event", "meeting", &a.first_event),
        ("last-event", "Last Event", "meeting", &a.last_event),
        ("next-event", "Next Event", "meeting", &a.next_event),
        ("first-chat-message", "First Chat Message", "chat-message", &None),
        ("last-chat-message", "Last Chat Message", "chat-message", &a.last_chat_message),
        ("last-contact", "Last Contact", "email", &a.last_interaction),
    ];
    let mut out: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, name, kind, touch))| {
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

/// A v1 field and its values (of one entity, or one list entry) as a v2 field.
fn field(w: &World, f: &world::Field, values: &[&world::FieldValue]) -> Value {
    let multi = f.allows_multiple;
    let option_by_text = |text: &str| f.dropdown_options.iter().find(|o| o.text == text);
    let one = |v: &world::FieldValue| -> Value {
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
    };
    let (kind, multi_kind) = match f.value_type {
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
    let multiple = multi && kind != multi_kind;
    let data = if multiple {
        let items: Vec<Value> = values.iter().map(|v| one(v)).filter(|v| !v.is_null()).collect();
        if items.is_empty() { Value::Null } else { Value::Array(items) }
    } else {
        values.first().map(|v| one(v)).unwrap_or(Value::Null)
    };
    json!({
        "id": format!("field-{}", f.id),
        "name": f.name,
        "type": if f.list_id.is_some() { "list" } else { "global" },
        "enrichmentSource": null,
        "value": { "type": if multiple { multi_kind } else { kind }, "data": data },
    })
}

/// The global fields of an entity (`entity_type` 0 person, 1 organization), with its values.
fn global_fields(w: &World, entity_type: i64, entity_id: i64, pick: impl Fn(&str) -> bool) -> Vec<Value> {
    w.fields
        .iter()
        .filter(|f| f.list_id.is_none() && f.entity_type == entity_type && pick(&format!("field-{}", f.id)))
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

fn company_json(w: &World, o: &world::Organization, fields: &FieldSelection) -> Value {
    let mut v = json!({ "id": o.id, "name": o.name, "domain": o.domain, "domains": o.domains, "isGlobal": o.global });
    if fields.any() {
        let mut out = global_fields(w, 1, o.id, |id| fields.wants(id, "global"));
        out.extend(
            intelligence(w, o.id, &o.activity, None)
                .into_iter()
                .filter(|f| fields.wants(f["id"].as_str().unwrap_or_default(), "relationship-intelligence")),
        );
        v["fields"] = Value::Array(out);
    }
    v
}

/// An entity's list entries, each with all its fields (global and the list's own).
fn list_entries(w: &World, entity_type: i64, entity_id: i64) -> Vec<Value> {
    w.list_entries
        .iter()
        .filter(|e| e.entity_type == entity_type && e.entity_id == entity_id)
        .map(|e| {
            let mut fields = global_fields(w, entity_type, entity_id, |_| true);
            fields.extend(w.fields.iter().filter(|f| f.list_id == Some(e.list_id)).map(|f| {
                let values: Vec<&world::FieldValue> =
                    w.field_values.iter().filter(|v| v.field_id == f.id && v.list_entry_id == Some(e.id)).collect();
                field(w, f, &values)
            }));
            json!({
                "id": e.id, "listId": e.list_id, "listName": w.list(e.list_id).map(|l| l.name.as_str()).unwrap_or(""),
                "createdAt": e.created_at, "creatorId": e.creator_id, "fields": fields,
            })
        })
        .collect()
}

/// `interactionScore` conditions of a relationships `filter` (`interactionScore>=0.5`,
/// several joined by `&`).
fn score_filter(q: &Query) -> Result<Vec<(String, f64)>, Response> {
    let Some(raw) = q.one("filter") else { return Ok(vec![]) };
    let bad =
        || validation("filter", "filter supports interactionScore with >, <, >= or <=, e.g. interactionScore>=0.5");
    raw.split('&')
        .map(|part| {
            let rest = part.trim().strip_prefix("interactionScore").ok_or_else(bad)?.trim();
            let op = [">=", "<=", ">", "<"].into_iter().find(|op| rest.starts_with(op)).ok_or_else(bad)?;
            let n: f64 = rest[op.len()..].trim().parse().map_err(|_| bad())?;
            Ok((op.to_owned(), n))
        })
        .collect()
}

fn relationships_page(s: &Shared, headers: &HeaderMap, path: &str, q: &Query, pairs: Vec<(i64, i64, f64)>) -> Response {
    let conditions = try_r!(score_filter(q));
    let ascending = match q.all("orderBy").as_slice() {
        [] | ["-interactionScore"] => false,
        ["interactionScore"] => true,
        _ => return validation("orderBy", "orderBy must be interactionScore or -interactionScore"),
    };
    let w = s.world.read().expect("world lock");
    let mut pairs: Vec<(i64, i64, f64)> = pairs
        .into_iter()
        .filter(|(_, _, score)| {
            conditions.iter().all(|(op, n)| match op.as_str() {
                ">=" => *score >= *n,
                "<=" => *score <= *n,
                ">" => *score > *n,
                _ => *score < *n,
            })
        })
        .collect();
    pairs.sort_by(|a, b| {
        let by_score = if ascending { a.2.total_cmp(&b.2) } else { b.2.total_cmp(&a.2) };
        by_score.then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0))
    });
    let items = pairs
        .iter()
        .filter_map(|(internal, external, score)| {
            Some(json!({
                "person1": relationship_person(w.person(*internal)?),
                "person2": relationship_person(w.person(*external)?),
                "interactionScore": score,
                "linkedIn": null,
            }))
        })
        .collect();
    Paging { headers, path, query: q, body: "", default_limit: 20, total_count: true }.page(items)
}

// ---- handlers -----------------------------------------------------------------------------------

async fn whoami(State(s): Ctx) -> Response {
    let w = s.world.read().expect("world lock");
    let Some(user) = w.person(w.tenant.user_id) else { return not_found("User") };
    axum::Json(json!({
        "tenant": { "id": w.tenant.id, "name": w.tenant.name, "subdomain": w.tenant.subdomain },
        "user": { "id": user.id, "firstName": user.first_name, "lastName": user.last_name,
                  "emailAddress": user.emails.first().cloned().unwrap_or_default() },
        "grant": { "type": "api-key", "scopes": ["api"], "createdAt": "2026-01-01T00:00:00Z" },
    }))
    .into_response()
}

async fn search_companies(
    State(s): Ctx,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let q = Query::parse(raw);
    let fields = try_r!(FieldSelection::from(&q, &["enriched", "global", "relationship-intelligence"]));
    let criteria: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    "The body must be a JSON object (SearchCriteria)",
                );
            }
        }
    };
    if let Some(key) = criteria
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !["filters", "search", "sorts"].contains(&k.as_str()))
    {
        return validation(key, &format!("{key} is not a search criterion (filters, search, sorts)"));
    }
    if criteria.get("filters").is_some() || criteria.get("sorts").is_some() {
        return error(StatusCode::NOT_IMPLEMENTED, "not-implemented", "The sandbox does not evaluate filters or sorts");
    }
    let term = match criteria.get("search") {
        None => String::new(),
        Some(search) => match search.get("term").and_then(Value::as_str) {
            Some(t) if t.chars().count() >= 3 => t.trim().to_lowercase(),
            _ => return validation("search.term", "search.term must be a string of at least 3 characters"),
        },
    };
    let w = s.world.read().expect("world lock");
    // The term matches the name and the primary domain.
    let items: Vec<Value> = w
        .organizations
        .iter()
        .filter(|o| {
            term.is_empty()
                || o.name.to_lowercase().contains(&term)
                || o.domain.as_deref().is_some_and(|d| d.to_lowercase().contains(&term))
        })
        .map(|o| company_json(&w, o, &fields))
        .collect();
    let body_text = criteria.to_string();
    let paging = Paging {
        headers: &headers,
        path: "/v2/companies/search",
        query: &q,
        body: &body_text,
        default_limit: 100,
        total_count: false,
    };
    let mut response = paging.page(items);
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

async fn company(State(s): Ctx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let id = try_r!(path_id(&id, "companyId"));
    let q = Query::parse(raw);
    let fields = try_r!(FieldSelection::from(&q, &["enriched", "global", "relationship-intelligence"]));
    let w = s.world.read().expect("world lock");
    match w.organization(id) {
        Some(o) => axum::Json(company_json(&w, o, &fields)).into_response(),
        None => not_found("Company"),
    }
}

async fn company_relationships(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "companyId"));
    let pairs: Vec<(i64, i64, f64)> = {
        let w = s.world.read().expect("world lock");
        let Some(o) = w.organization(id) else { return not_found("Company") };
        o.person_ids
            .iter()
            .flat_map(|p| w.strengths_of(*p).map(|r| (r.internal_id, r.external_id, r.strength)).collect::<Vec<_>>())
            .collect()
    };
    let path = format!("/v2/companies/{id}/relationships");
    relationships_page(&s, &headers, &path, &Query::parse(raw), pairs)
}

async fn person_relationships(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "personId"));
    let pairs: Vec<(i64, i64, f64)> = {
        let w = s.world.read().expect("world lock");
        let Some(p) = w.person(id) else { return not_found("Person") };
        if p.person_type == 1 {
            w.strengths
                .iter()
                .filter(|r| r.internal_id == id)
                .map(|r| (r.internal_id, r.external_id, r.strength))
                .collect()
        } else {
            w.strengths_of(id).map(|r| (r.internal_id, r.external_id, r.strength)).collect()
        }
    };
    let path = format!("/v2/persons/{id}/relationships");
    relationships_page(&s, &headers, &path, &Query::parse(raw), pairs)
}

async fn company_list_entries(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "companyId"));
    let q = Query::parse(raw);
    let items = {
        let w = s.world.read().expect("world lock");
        if w.organization(id).is_none() {
            return not_found("Company");
        }
        list_entries(&w, 1, id)
    };
    let path = format!("/v2/companies/{id}/list-entries");
    Paging { headers: &headers, path: &path, query: &q, body: "", default_limit: 100, total_count: false }.page(items)
}

async fn person_list_entries(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "personId"));
    let q = Query::parse(raw);
    let items = {
        let w = s.world.read().expect("world lock");
        if w.person(id).is_none() {
            return not_found("Person");
        }
        list_entries(&w, 0, id)
    };
    let path = format!("/v2/persons/{id}/list-entries");
    Paging { headers: &headers, path: &path, query: &q, body: "", default_limit: 100, total_count: false }.page(items)
}

async fn users(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let term = q.one("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
    // `filter`: `id=1|id=2|id=3` or `status=active`.
    let (mut ids, mut statuses) = (Vec::new(), Vec::new());
    if let Some(filter) = q.one("filter") {
        for part in filter.split('|').map(str::trim) {
            match part.split_once('=') {
                Some(("id", v)) => match v.trim().parse::<i64>() {
                    Ok(id) => ids.push(id),
                    Err(_) => return validation("filter", "id must be an integer"),
                },
                Some(("status", v)) if ["active", "invited", "deactivated"].contains(&v.trim()) => {
                    statuses.push(v.trim().to_owned())
                }
                _ => return validation("filter", "filter supports id=… and status=… joined by |"),
            }
        }
    }
    let w = s.world.read().expect("world lock");
    let items: Vec<Value> = w
        .persons
        .iter()
        .filter(|p| p.person_type == 1)
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .filter(|_| statuses.is_empty() || statuses.iter().any(|s| s == "active"))
        .filter(|p| {
            term.is_empty()
                || p.first_name.to_lowercase().contains(&term)
                || p.last_name.to_lowercase().contains(&term)
                || p.emails.first().is_some_and(|e| e.to_lowercase().contains(&term))
        })
        .map(|p| {
            json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
                    "primaryEmailAddress": p.emails.first(), "photoUrl": null, "status": "active" })
        })
        .collect();
    Paging { headers: &headers, path: "/v2/users", query: &q, body: "", default_limit: 100, total_count: false }
        .page(items)
}

async fn opportunities(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let mut ids = Vec::new();
    for v in q.all("ids") {
        match v.parse::<i64>() {
            Ok(id) if id >= 1 => ids.push(id),
            _ => return validation("ids", "ids must be positive integers"),
        }
    }
    let w = s.world.read().expect("world lock");
    let items: Vec<Value> = w
        .opportunities
        .iter()
        .filter(|o| ids.is_empty() || ids.contains(&o.id))
        .map(|o| {
            json!({ "id": o.id, "name": o.name, "listId": o.list_id,
                    "listName": w.list(o.list_id).map(|l| l.name.as_str()).unwrap_or(""),
                    "isRestricted": false, "isRedacted": false })
        })
        .collect();
    Paging { headers: &headers, path: "/v2/opportunities", query: &q, body: "", default_limit: 100, total_count: false }
        .page(items)
}
