//! What the company and person directories have in common: listing (by `ids`), one entity,
//! their fields' metadata, a search with filters and sorts, an entity's list entries and its
//! relationships.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::render::{self, Meta};
use super::{FieldSelection, Paging, Query, not_found, path_id, refused, validation};
use crate::Shared;
use crate::search::Criteria;
use crate::world::{self, World};

/// Companies or persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Company,
    Person,
}

impl Kind {
    /// The v1 entity type code.
    pub fn entity_type(self) -> i64 {
        match self {
            Kind::Company => 1,
            Kind::Person => 0,
        }
    }
    /// The path's collection (`companies`).
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Company => "companies",
            Kind::Person => "persons",
        }
    }
    /// The path parameter's name (`companyId`).
    pub fn id_param(self) -> &'static str {
        match self {
            Kind::Company => "companyId",
            Kind::Person => "personId",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Kind::Company => "Company",
            Kind::Person => "Person",
        }
    }
    /// The field types `fieldTypes` may name.
    fn field_types(self) -> &'static [&'static str] {
        match self {
            Kind::Company => &["enriched", "global", "relationship-intelligence"],
            Kind::Person => &["enriched", "global", "relationship-intelligence"],
        }
    }
    /// The entity `id` is, if the world has it.
    fn exists(self, w: &World, id: i64) -> bool {
        match self {
            Kind::Company => w.organization(id).is_some(),
            Kind::Person => w.person(id).is_some(),
        }
    }
    fn render(self, w: &World, id: i64, fields: &FieldSelection) -> Value {
        match self {
            Kind::Company => w.organization(id).map(|o| render::company(w, o, fields)),
            Kind::Person => w.person(id).map(|p| render::person(w, p, fields)),
        }
        .unwrap_or(Value::Null)
    }
    fn ids(self, w: &World) -> Vec<i64> {
        let mut ids: Vec<i64> = match self {
            Kind::Company => w.organizations.iter().map(|o| o.id).collect(),
            Kind::Person => w.persons.iter().map(|p| p.id).collect(),
        };
        ids.sort_unstable();
        ids
    }
}

/// `GET /v2/{companies|persons}`: every entity by id, or those `ids` names.
pub(super) fn list(s: &Shared, kind: Kind, headers: &HeaderMap, q: &Query) -> Response {
    let fields = try_r!(FieldSelection::from(q, kind.field_types()));
    let ids = try_r!(q.ids("ids"));
    let w = s.world.read().expect("world lock");
    let found: Vec<i64> = match ids.is_empty() {
        true => kind.ids(&w),
        false => ids.into_iter().filter(|id| kind.exists(&w, *id)).collect(),
    };
    let path = format!("/v2/{}", kind.collection());
    Paging::new(headers, &path, q).page(found, |id| kind.render(&w, *id, &fields))
}

/// `GET /v2/{companies|persons}/{id}`.
pub(super) fn one(s: &Shared, kind: Kind, raw_id: &str, q: &Query) -> Response {
    let id = try_r!(path_id(raw_id, kind.id_param()));
    let fields = try_r!(FieldSelection::from(q, kind.field_types()));
    let w = s.world.read().expect("world lock");
    match kind.exists(&w, id) {
        true => axum::Json(kind.render(&w, id, &fields)).into_response(),
        false => not_found(kind.noun()),
    }
}

/// `GET /v2/{companies|persons}/fields` and `GET /v2/lists/{id}/fields`: the fields' metadata,
/// `filter` by name (`name=Status` exactly, `name=~stat` containing, case-insensitive).
pub(super) fn fields_page(headers: &HeaderMap, path: &str, q: &Query, metas: Vec<Meta>) -> Response {
    let includes = try_r!(q.choices("includes", &["filterability", "sortability"]));
    let keep: Box<dyn Fn(&Meta) -> bool> = match q.one("filter").map(str::trim) {
        None | Some("") => Box::new(|_| true),
        Some(f) => match f.strip_prefix("name") {
            Some(rest) if rest.trim_start().starts_with("=~") => {
                let needle = rest.trim_start()[2..].trim().trim_matches('"').to_lowercase();
                Box::new(move |m: &Meta| m.name.to_lowercase().contains(&needle))
            }
            Some(rest) if rest.trim_start().starts_with('=') => {
                let name = rest.trim_start()[1..].trim().trim_matches('"').to_lowercase();
                Box::new(move |m: &Meta| m.name.to_lowercase() == name)
            }
            _ => return validation("filter", "filter supports name=… (exact) or name=~… (contains)"),
        },
    };
    let metas: Vec<Meta> = metas.into_iter().filter(|m| keep(m)).collect();
    Paging::new(headers, path, q).page(metas, |m| render::metadata(m, &includes))
}

/// The values of the fields `field_ids` names, for every entity of a kind, computed once for a
/// search (`entity id → field id → value`), so that filtering and sorting thousands of
/// entities reads the world's field values once.
fn field_values(w: &World, kind: Kind, field_ids: &[String]) -> HashMap<i64, HashMap<String, Value>> {
    let mut out: HashMap<i64, HashMap<String, Value>> = HashMap::new();
    let global: Vec<&world::Field> = (w.fields.iter())
        .filter(|f| f.list_id.is_none() && f.entity_type == kind.entity_type())
        .filter(|f| field_ids.contains(&format!("field-{}", f.id)))
        .collect();
    let mut values: HashMap<(i64, i64), Vec<&world::FieldValue>> = HashMap::new();
    for v in w.field_values.iter().filter(|v| v.list_entry_id.is_none()) {
        if global.iter().any(|f| f.id == v.field_id) {
            values.entry((v.entity_id, v.field_id)).or_default().push(v);
        }
    }
    let wants_other = field_ids.iter().any(|id| !id.starts_with("field-"));
    for id in kind.ids(w) {
        let mut of_entity: HashMap<String, Value> = HashMap::new();
        for f in &global {
            let found = values.get(&(id, f.id)).cloned().unwrap_or_default();
            of_entity.insert(format!("field-{}", f.id), render::field(w, f, &found)["value"].clone());
        }
        if wants_other {
            let others = match kind {
                Kind::Company => w.organization(id).map(|o| {
                    let mut v = render::enriched_fields(o.enriched.as_ref());
                    v.extend(render::intelligence(w, o.id, &o.activity, None));
                    v
                }),
                Kind::Person => w.person(id).map(|p| render::intelligence(w, p.id, &p.activity, None)),
            };
            for f in others.into_iter().flatten() {
                if let Some(fid) = f["id"].as_str().filter(|fid| field_ids.iter().any(|x| x == fid)) {
                    of_entity.insert(fid.to_owned(), f["value"].clone());
                }
            }
        }
        out.insert(id, of_entity);
    }
    out
}

/// Whether an entity's name, primary domain or emails (or the fields `extra` names) hold
/// `term`.
fn term_matches(w: &World, kind: Kind, id: i64, term: &str, extra: &HashMap<String, Value>) -> bool {
    let term = term.to_lowercase();
    let hit = |s: &str| s.to_lowercase().contains(&term);
    let own = match kind {
        Kind::Company => w.organization(id).is_some_and(|o| hit(&o.name) || o.domain.as_deref().is_some_and(hit)),
        Kind::Person => w.person(id).is_some_and(|p| {
            hit(&format!("{} {}", p.first_name, p.last_name)) || p.emails.first().is_some_and(|e| hit(e))
        }),
    };
    own || extra.values().any(|v| text_of(&v["data"]).iter().any(|t| hit(t)))
}

/// The texts in a value's data (a text, its items, a dropdown's or a company's name).
fn text_of(data: &Value) -> Vec<String> {
    match data {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(text_of).collect(),
        Value::Object(o) => ["text", "name"].iter().filter_map(|k| o.get(*k)?.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// `POST /v2/{companies|persons}/search`: the term (name and primary domain or email, and
/// `search.fieldIds`), the filters and the sorts of `SearchCriteria`. Answers 201.
pub(super) fn search(s: &Shared, kind: Kind, headers: &HeaderMap, q: &Query, body: &[u8]) -> Response {
    let fields = try_r!(FieldSelection::from(q, kind.field_types()));
    let body_value = try_r!(super::json_body(body, true, "SearchCriteria"));
    let criteria = try_r!(Criteria::parse(Some(&body_value)).map_err(refused));
    let w = s.world.read().expect("world lock");
    let known: Vec<String> = render::entity_metadata(&w, kind.entity_type()).into_iter().map(|m| m.id).collect();
    if let Some(unknown) = criteria.field_ids().into_iter().find(|id| !known.contains(id)) {
        return validation("fieldId", &format!("{unknown} is not a field of {}", kind.collection()));
    }
    let mut wanted = criteria.field_ids();
    wanted.extend(criteria.term_field_ids().iter().cloned());
    let values = field_values(&w, kind, &wanted);
    let empty = HashMap::new();
    let value_of = |id: i64, field: &str| values.get(&id).and_then(|v| v.get(field)).cloned();
    let now = chrono::Utc::now();
    let mut found: Vec<i64> = kind
        .ids(&w)
        .into_iter()
        .filter(|id| {
            let extra: HashMap<String, Value> = match criteria.term_field_ids() {
                [] => HashMap::new(),
                ids => ids.iter().filter_map(|f| Some((f.clone(), value_of(*id, f)?))).collect(),
            };
            criteria
                .term()
                .is_none_or(|t| term_matches(&w, kind, *id, t, if extra.is_empty() { &empty } else { &extra }))
        })
        .filter(|id| criteria.matches(&|field: &str| value_of(*id, field), now))
        .collect();
    criteria.sort(&mut found, |id, field| value_of(*id, field));
    let path = format!("/v2/{}/search", kind.collection());
    let body_text = body_value.to_string();
    let mut response = Paging::new(headers, &path, q).body(&body_text).page(found, |id| kind.render(&w, *id, &fields));
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

/// `GET /v2/{companies|persons}/{id}/list-entries`.
pub(super) fn list_entries(s: &Shared, kind: Kind, headers: &HeaderMap, raw_id: &str, q: &Query) -> Response {
    let id = try_r!(path_id(raw_id, kind.id_param()));
    let w = s.world.read().expect("world lock");
    if !kind.exists(&w, id) {
        return not_found(kind.noun());
    }
    let items = render::entity_list_entries(&w, kind.entity_type(), id);
    let path = format!("/v2/{}/{id}/list-entries", kind.collection());
    Paging::new(headers, &path, q).page(items, Value::clone)
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

/// `GET /v2/{companies|persons}/{id}/relationships`: the team's relationships with the
/// company's people (or the person), strongest first unless `orderBy` says otherwise.
pub(super) fn relationships(s: &Shared, kind: Kind, headers: &HeaderMap, raw_id: &str, q: &Query) -> Response {
    let id = try_r!(path_id(raw_id, kind.id_param()));
    let conditions = try_r!(score_filter(q));
    let ascending = match q.all("orderBy").as_slice() {
        [] | ["-interactionScore"] => false,
        ["interactionScore"] => true,
        _ => return validation("orderBy", "orderBy must be interactionScore or -interactionScore"),
    };
    let w = s.world.read().expect("world lock");
    let pairs: Vec<(i64, i64, f64)> = match kind {
        Kind::Company => {
            let Some(o) = w.organization(id) else { return not_found("Company") };
            let of =
                |p: &i64| w.strengths_of(*p).map(|r| (r.internal_id, r.external_id, r.strength)).collect::<Vec<_>>();
            o.person_ids.iter().flat_map(of).collect()
        }
        Kind::Person => match w.person(id) {
            None => return not_found("Person"),
            Some(p) if p.person_type == 1 => (w.strengths.iter())
                .filter(|r| r.internal_id == id)
                .map(|r| (r.internal_id, r.external_id, r.strength))
                .collect(),
            Some(_) => w.strengths_of(id).map(|r| (r.internal_id, r.external_id, r.strength)).collect(),
        },
    };
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
    let pairs: Vec<(Value, Value, f64)> = pairs
        .iter()
        .filter_map(|(internal, external, score)| {
            let one = render::relationship_person(w.person(*internal)?);
            Some((one, render::relationship_person(w.person(*external)?), *score))
        })
        .collect();
    let path = format!("/v2/{}/{id}/relationships", kind.collection());
    Paging::new(headers, &path, q)
        .default_limit(20)
        .with_total_count()
        .page(pairs, |(a, b, score)| json!({ "person1": a, "person2": b, "interactionScore": score, "linkedIn": null }))
}
