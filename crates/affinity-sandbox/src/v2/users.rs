//! `GET /v2/auth/whoami` and `GET /v2/users`: who the key is, and the firm's users.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Paging, Query, not_found, validation};
use crate::Ctx;

/// The grant says what the key may do: `api` (read and write), or `api.read` for the
/// sandbox's `--read-only-key` (the scope of a grant that only reads).
pub(super) async fn whoami(State(s): Ctx, axum::Extension(access): axum::Extension<crate::Access>) -> Response {
    let scopes = if access == crate::Access::ReadOnly { ["api.read"] } else { ["api"] };
    let w = s.world.read().expect("world lock");
    let Some(user) = w.person(w.tenant.user_id) else { return not_found("User") };
    axum::Json(json!({
        "tenant": { "id": w.tenant.id, "name": w.tenant.name, "subdomain": w.tenant.subdomain },
        "user": { "id": user.id, "firstName": user.first_name, "lastName": user.last_name,
                  "emailAddress": user.emails.first().cloned().unwrap_or_default() },
        "grant": { "type": "api-key", "scopes": scopes, "createdAt": "2026-01-01T00:00:00Z" },
    }))
    .into_response()
}

/// `GET /v2/users`: the internal persons, `term` in their name or email, `filter` by `id=…`
/// and `status=…` (joined by `|`).
pub(super) async fn users(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let term = q.one("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
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
    let found: Vec<&crate::world::Person> = w
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
        .collect();
    Paging::new(&headers, "/v2/users", &q).page(found, |p| {
        json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name,
                "primaryEmailAddress": p.emails.first(), "photoUrl": null, "status": "active" })
    })
}
