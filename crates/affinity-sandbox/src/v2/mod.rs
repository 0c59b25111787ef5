//! API v2 over the same world as v1, every operation of Affinity's OpenAPI document for
//! 2026-07-15 (`shared/real-world/affinity-v2`, a verbatim subset of 30 operations) in its
//! shapes: camelCase, string enums, `{data, pagination: {prevUrl, nextUrl}}` pages whose
//! cursors are opaque and valid only with the parameters they were made for, errors as
//! `{errors: [{code, message}]}` (`validation` ones naming their `param`), Bearer auth only
//! (the gatekeeper checks it), and the same rate-limit headers and pools as v1.
//!
//! - [`companies`] and [`persons`]: the directories, their fields, searches (with the
//!   filters and sorts of [`crate::search`]), an entity's lists, list entries and
//!   relationships; creating and deleting a person;
//! - [`lists`]: lists, their fields and entries, an entry's field values read and written,
//!   and opportunities;
//! - [`notes`] and [`users`]: notes read and written; who the key is, the firm's users;
//! - [`render`]: the shapes, from the world's records.
//!
//! Writes change the world v1 reads, and deliver the webhook events v1's writes deliver.

/// The value of a `Result<_, Response>`, or its error response returned.
macro_rules! try_r {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

mod companies;
mod directory;
mod lists;
mod notes;
mod persons;
mod render;
mod users;
mod values;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Shared, paging, params};

/// The routes, merged into the sandbox's router.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v2/auth/whoami", get(users::whoami))
        .route("/v2/users", get(users::users))
        .route("/v2/companies", get(companies::list))
        .route("/v2/companies/fields", get(companies::fields))
        .route("/v2/companies/search", post(companies::search))
        .route("/v2/companies/{company_id}", get(companies::one))
        .route("/v2/companies/{company_id}/lists", get(companies::lists))
        .route("/v2/companies/{company_id}/list-entries", get(companies::list_entries))
        .route("/v2/companies/{company_id}/relationships", get(companies::relationships))
        .route("/v2/persons", get(persons::list).post(persons::create))
        .route("/v2/persons/fields", get(persons::fields))
        .route("/v2/persons/search", post(persons::search))
        .route("/v2/persons/{person_id}", get(persons::one).delete(persons::delete))
        .route("/v2/persons/{person_id}/list-entries", get(persons::list_entries))
        .route("/v2/persons/{person_id}/relationships", get(persons::relationships))
        .route("/v2/lists", get(lists::lists).post(lists::create))
        .route("/v2/lists/{list_id}", get(lists::one))
        .route("/v2/lists/{list_id}/fields", get(lists::fields))
        .route("/v2/lists/{list_id}/list-entries", get(lists::entries))
        .route(
            "/v2/lists/{list_id}/list-entries/{entry_id}/fields",
            get(lists::entry_fields).patch(lists::update_fields),
        )
        .route(
            "/v2/lists/{list_id}/list-entries/{entry_id}/fields/{field_id}",
            get(lists::entry_field).post(lists::set_entry_field),
        )
        .route("/v2/opportunities", get(lists::opportunities))
        .route("/v2/opportunities/{opportunity_id}", get(lists::opportunity))
        .route("/v2/notes", get(notes::list).post(notes::create))
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

fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, "authorization", message)
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
/// router (a path or method the document does not have).
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
    let message = match status {
        StatusCode::NOT_FOUND if bytes.is_empty() => "No such path in API v2 (2026-07-15)".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "API v2 (2026-07-15) has no such method on this path".to_owned(),
        _ => parsed["message"]
            .as_str()
            .or_else(|| parsed["errors"][0]["message"].as_str())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error"))
            .to_owned(),
    };
    let mut fixed = error(status, code_of(status), &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().append(name.clone(), value.clone());
        }
    }
    fixed
}

// ---- parameters and bodies ------------------------------------------------------------------

/// A request's query string, repeated keys kept (`ids=1&ids=2`).
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
    /// A repeated id parameter (`ids`), each a positive integer.
    fn ids(&self, key: &str) -> Result<Vec<i64>, Response> {
        self.all(key)
            .into_iter()
            .map(|v| match v.trim().parse::<i64>() {
                Ok(id) if id >= 1 => Ok(id),
                _ => Err(validation(key, &format!("{key} must be positive integers, got {v:?}"))),
            })
            .collect()
    }
    /// A repeated enum parameter (`includes`): every value one of `allowed`.
    fn choices(&self, key: &str, allowed: &[&str]) -> Result<Vec<String>, Response> {
        let values = self.all(key);
        match values.iter().find(|v| !allowed.contains(v)) {
            Some(bad) => Err(validation(key, &format!("{bad:?} is not one of {}", allowed.join(", ")))),
            None => Ok(values.into_iter().map(str::to_owned).collect()),
        }
    }
}

/// Which fields to put on a company, person or list entry: `fieldIds` or `fieldTypes`, not
/// both.
#[derive(Default)]
struct FieldSelection {
    ids: Vec<String>,
    types: Vec<String>,
}

impl FieldSelection {
    fn from(q: &Query, allowed_types: &[&str]) -> Result<FieldSelection, Response> {
        let ids: Vec<String> = q.all("fieldIds").into_iter().map(str::to_owned).collect();
        let types = q.choices("fieldTypes", allowed_types)?;
        if !ids.is_empty() && !types.is_empty() {
            return Err(validation(
                "fieldIds",
                "fieldIds and fieldTypes cannot be used together; use one or the other",
            ));
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

/// A JSON body that must be an object (`{}` when empty and `empty_ok`).
fn json_body(body: &[u8], empty_ok: bool, what: &str) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) && empty_ok {
        return Ok(json!({}));
    }
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => {
            Err(error(StatusCode::BAD_REQUEST, "bad-request", &format!("The body must be a JSON object ({what})")))
        }
        Err(e) => {
            Err(error(StatusCode::BAD_REQUEST, "bad-request", &format!("The body is not valid JSON ({what}): {e}")))
        }
    }
}

/// Refuses keys of `body` (at `at`) that are not among `allowed`: the document's request
/// bodies allow no other properties.
fn only_keys(body: &Value, at: &str, allowed: &[&str]) -> Result<(), Response> {
    let extra = body.as_object().into_iter().flatten().map(|(k, _)| k).find(|k| !allowed.contains(&k.as_str()));
    match extra {
        Some(k) => {
            let param = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            Err(validation(&param, &format!("{param} is not allowed here (expected one of {})", allowed.join(", "))))
        }
        None => Ok(()),
    }
}

/// A path id (`companyId`), a positive integer.
fn path_id(raw: &str, param: &str) -> Result<i64, Response> {
    match params::id(raw, param).map_err(refused)? {
        id if id >= 1 => Ok(id),
        _ => Err(validation(param, &format!("{param} must be a positive integer"))),
    }
}

/// A `201 Created` JSON answer.
fn created(body: Value) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

// ---- pages -----------------------------------------------------------------------------------

/// How a page is asked for and answered: `limit` (from `min` to 100, `default` when absent)
/// and `cursor`, which is bound to the request's other parameters and body.
struct Paging<'a> {
    headers: &'a HeaderMap,
    path: &'a str,
    query: &'a Query,
    /// A search's body: its cursors are valid only with the same body.
    body: &'a str,
    default_limit: i64,
    min_limit: i64,
    /// Relationships and notes report `totalCount` when asked.
    total_count: bool,
}

impl<'a> Paging<'a> {
    /// Pages of 100 (1 to 100).
    fn new(headers: &'a HeaderMap, path: &'a str, query: &'a Query) -> Paging<'a> {
        Paging { headers, path, query, body: "", default_limit: 100, min_limit: 1, total_count: false }
    }

    fn default_limit(self, default_limit: i64) -> Self {
        Paging { default_limit, ..self }
    }

    fn min_limit(self, min_limit: i64) -> Self {
        Paging { min_limit, ..self }
    }

    fn with_total_count(self) -> Self {
        Paging { total_count: true, ..self }
    }

    fn body(self, body: &'a str) -> Self {
        Paging { body, ..self }
    }

    /// The page of `items` the request asks for, each rendered by `render` (only the page's
    /// items are).
    fn page<T>(&self, items: Vec<T>, render: impl Fn(&T) -> Value) -> Response {
        let limit = match self.query.int("limit", self.min_limit, 100) {
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
        // A page of 0 (notes allow `limit=0`, to ask for the total alone) has no next page.
        let next = page.next.filter(|_| limit > 0).map(link);
        let mut pagination = json!({ "prevUrl": page.prev.map(link), "nextUrl": next });
        if self.total_count && want_total {
            pagination["totalCount"] = json!(page.total);
        }
        let data: Vec<Value> = page.items.iter().map(render).collect();
        axum::Json(json!({ "data": data, "pagination": pagination })).into_response()
    }
}
