//! `/v2/companies…`: the company directory (see [`super::directory`]) and a company's lists.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::directory::{self, Kind};
use super::{Paging, Query, not_found, path_id, render};
use crate::Ctx;

pub(super) async fn list(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    directory::list(&s, Kind::Company, &headers, &Query::parse(raw))
}

pub(super) async fn one(State(s): Ctx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    directory::one(&s, Kind::Company, &id, &Query::parse(raw))
}

pub(super) async fn fields(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let metas = render::entity_metadata(&s.world.read().expect("world lock"), 1);
    directory::fields_page(&headers, "/v2/companies/fields", &Query::parse(raw), metas)
}

pub(super) async fn search(
    State(s): Ctx,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    directory::search(&s, Kind::Company, &headers, &Query::parse(raw), &body)
}

pub(super) async fn list_entries(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    directory::list_entries(&s, Kind::Company, &headers, &id, &Query::parse(raw))
}

pub(super) async fn relationships(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    directory::relationships(&s, Kind::Company, &headers, &id, &Query::parse(raw))
}

/// `GET /v2/companies/{id}/lists`: the lists the company is on, once each.
pub(super) async fn lists(
    State(s): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = try_r!(path_id(&id, "companyId"));
    let q = Query::parse(raw);
    let w = s.world.read().expect("world lock");
    if w.organization(id).is_none() {
        return not_found("Company");
    }
    let mut ids: Vec<i64> =
        w.list_entries.iter().filter(|e| e.entity_type == 1 && e.entity_id == id).map(|e| e.list_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let lists: Vec<&crate::world::List> = ids.iter().filter_map(|l| w.list(*l)).collect();
    let path = format!("/v2/companies/{id}/lists");
    Paging::new(&headers, &path, &q).page(lists, |l| render::list(l, false))
}
