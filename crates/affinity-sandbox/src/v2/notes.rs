//! `/v2/notes`: notes read (root notes, newest first, `filter` by `id`, `creator.id`,
//! `createdAt` and `updatedAt`) and written (on entities, on an interaction, or a reply), the
//! content as HTML with the document's allowed tags only. A note written here is the v1 note
//! v1 reads (`type` 2, HTML), and delivers `note.created`.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::{Paging, Query, created, forbidden, json_body, not_found, only_keys, render, validation};
use crate::world::{self, World};
use crate::{Access, Ctx, hooks};

/// One condition of a notes `filter`.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Id(i64),
    Creator(i64),
    Date { updated: bool, op: &'static str, at: DateTime<FixedOffset> },
}

impl Condition {
    fn parse(part: &str) -> Result<Condition, String> {
        let part = part.trim();
        for op in [">=", "<=", "=", ">", "<"] {
            let Some((key, value)) = part.split_once(op) else { continue };
            let (key, value) = (key.trim(), value.trim().trim_matches('"'));
            return match (key, op) {
                ("id", "=") => {
                    value.parse().map(Condition::Id).map_err(|_| format!("id must be an integer: {value:?}"))
                }
                ("creator.id", "=") => value
                    .parse()
                    .map(Condition::Creator)
                    .map_err(|_| format!("creator.id must be an integer: {value:?}")),
                ("createdAt" | "updatedAt", ">" | "<" | ">=" | "<=") => DateTime::parse_from_rfc3339(value)
                    .map(|at| Condition::Date { updated: key == "updatedAt", op, at })
                    .map_err(|_| format!("{key} takes an RFC 3339 date-time, e.g. 2025-02-04T10:48:24Z")),
                ("id" | "creator.id", _) => Err(format!("{key} takes = only")),
                ("createdAt" | "updatedAt", _) => Err(format!("{key} takes >, <, >= or <=")),
                _ => Err(format!("{key:?} cannot be filtered on (id, creator.id, createdAt, updatedAt)")),
            };
        }
        Err(format!("{part:?} is not a condition (e.g. id=1, creator.id=2, createdAt<2025-02-04T10:48:24Z)"))
    }

    fn holds(&self, n: &world::Note) -> bool {
        match self {
            Condition::Id(id) => n.id == *id,
            Condition::Creator(id) => n.creator_id == *id,
            // The world's notes are never edited: their update time is their creation time.
            Condition::Date { op, at, .. } => match DateTime::parse_from_rfc3339(&n.created_at) {
                Ok(t) => match *op {
                    ">" => t > *at,
                    "<" => t < *at,
                    ">=" => t >= *at,
                    _ => t <= *at,
                },
                Err(_) => false,
            },
        }
    }
}

/// A `filter`: conditions joined by `&` (all) of alternatives joined by `|` (any).
fn parse_filter(raw: Option<&str>) -> Result<Vec<Vec<Condition>>, Response> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(Vec::new()) };
    raw.split('&')
        .map(|group| group.split('|').map(Condition::parse).collect::<Result<Vec<_>, String>>())
        .collect::<Result<_, String>>()
        .map_err(|message| validation("filter", &message))
}

/// `GET /v2/notes`: root notes, newest first, 20 a page (`limit` 0 to 100).
pub(super) async fn list(State(s): Ctx, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let filter = try_r!(parse_filter(q.one("filter")));
    let includes =
        try_r!(q.choices("includes", &["companiesPreview", "personsPreview", "opportunitiesPreview", "repliesCount"]));
    let w = s.world.read().expect("world lock");
    let mut found: Vec<&world::Note> = w
        .notes
        .iter()
        .filter(|n| n.parent_id.is_none())
        .filter(|n| filter.iter().all(|any| any.iter().any(|c| c.holds(n))))
        .collect();
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Paging::new(&headers, "/v2/notes", &q)
        .default_limit(20)
        .min_limit(0)
        .with_total_count()
        .page(found, |n| render::note(&w, n, &includes))
}

/// Tags a note's HTML may not hold, and attributes no tag may have.
const RESTRICTED_TAGS: [&str; 10] =
    ["img", "script", "iframe", "style", "blockquote", "hr", "s", "pre", "code", "font"];

/// What is wrong with a note's HTML, if anything: a restricted tag, a `style` or `class`
/// attribute, a mention, or a link that is not http(s) or mailto.
fn html_problem(html: &str) -> Option<String> {
    let lower = html.to_lowercase();
    for tag in lower.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if RESTRICTED_TAGS.contains(&name.as_str()) {
            return Some(format!("<{name}> is not allowed in a note"));
        }
        if tag.contains("style=") || tag.contains("class=") {
            return Some("style and class attributes are not allowed in a note".into());
        }
        if tag.contains("note-mention") {
            return Some("mentions cannot be created through the API".into());
        }
        if name == "a"
            && let Some(href) = tag.split("href=").nth(1)
        {
            let href = href.trim_start_matches(['"', '\'']);
            if !["http://", "https://", "mailto:"].iter().any(|s| href.starts_with(s)) {
                return Some("links must be http, https or mailto".into());
            }
        }
    }
    None
}

/// The ids of a body's `persons`, `companies` or `opportunities` (`[{id}]`), each one the
/// world has.
fn references(w: &World, body: &Value, key: &str) -> Result<Vec<i64>, Response> {
    let Some(items) = body.get(key) else { return Ok(Vec::new()) };
    let Some(items) = items.as_array() else {
        return Err(validation(key, &format!("{key} must be an array of {{id}}")));
    };
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        only_keys(item, &at, &["id"])?;
        let Some(id) = item.get("id").and_then(Value::as_i64) else { return Err(validation(&at, "id is required")) };
        let exists = match key {
            "persons" => w.person(id).is_some(),
            "companies" => w.organization(id).is_some(),
            _ => w.opportunities.iter().any(|o| o.id == id),
        };
        if !exists {
            return Err(not_found(&format!("{} {id}", &key[..key.len() - 1])));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// `POST /v2/notes` (`NoteToBeCreated`): 201 with the note.
pub(super) async fn create(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    body: axum::body::Bytes,
) -> Response {
    if access == Access::ReadOnly {
        return forbidden("This API key may not make changes");
    }
    let body = try_r!(json_body(&body, false, "NoteToBeCreated"));
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    let allowed: &[&str] = match kind.as_str() {
        "entities" => &["type", "content", "persons", "companies", "opportunities", "creator", "createdAt"],
        "interaction" => {
            &["type", "content", "interaction", "persons", "companies", "opportunities", "creator", "createdAt"]
        }
        "user-reply" => &["type", "content", "parent", "creator", "createdAt"],
        _ => return validation("type", "type must be entities, interaction or user-reply"),
    };
    try_r!(only_keys(&body, "", allowed));
    let html = match body.get("content") {
        Some(c) => {
            try_r!(only_keys(c, "content", &["html"]));
            match c.get("html").and_then(Value::as_str).map(str::trim) {
                Some(h) if !h.is_empty() => h.to_owned(),
                _ => return validation("content.html", "content.html is required"),
            }
        }
        None => return validation("content", "content is required"),
    };
    if let Some(problem) = html_problem(&html) {
        return validation("content.html", &problem);
    }
    let note = {
        let mut w = s.world.write().expect("world lock");
        let note = try_r!(build_note(&w, &body, &kind, html));
        let note = world::Note { id: w.new_id(), ..note };
        w.notes.push(note.clone());
        note
    };
    let (v1, v2) = {
        let w = s.world.read().expect("world lock");
        (crate::render::note(&note), render::note(&w, &note, &[]))
    };
    hooks::emit(&s, "note.created", v1);
    created(v2)
}

/// The note a body describes (its id still to be given).
fn build_note(w: &World, body: &Value, kind: &str, html: String) -> Result<world::Note, Response> {
    let creator_id = match body.get("creator") {
        None => w.tenant.user_id,
        Some(c) => {
            only_keys(c, "creator", &["id"])?;
            match c.get("id").and_then(Value::as_i64) {
                Some(id) if w.person(id).is_some_and(|p| p.person_type == 1) => id,
                _ => return Err(validation("creator.id", "creator must be an internal person of the firm")),
            }
        }
    };
    let created_at = match body.get("createdAt") {
        None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        Some(v) => match v.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
            Some(t) => t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            None => return Err(validation("createdAt", "createdAt must be an RFC 3339 date-time")),
        },
    };
    let mut note = world::Note {
        id: 0,
        creator_id,
        person_ids: references(w, body, "persons")?,
        organization_ids: references(w, body, "companies")?,
        opportunity_ids: references(w, body, "opportunities")?,
        parent_id: None,
        interaction_id: None,
        content: html,
        note_type: 2,
        created_at,
    };
    match kind {
        "entities"
            if note.person_ids.is_empty() && note.organization_ids.is_empty() && note.opportunity_ids.is_empty() =>
        {
            return Err(validation(
                "persons",
                "an entities note needs at least one of persons, companies, opportunities",
            ));
        }
        "interaction" => {
            let reference = body.get("interaction").unwrap_or(&Value::Null);
            only_keys(reference, "interaction", &["type", "id"])?;
            let code = match reference.get("type").and_then(Value::as_str) {
                Some("meeting") => 0,
                Some("call") => 1,
                Some("chat-message") => 2,
                _ => {
                    return Err(validation(
                        "interaction.type",
                        "interaction.type must be meeting, call or chat-message",
                    ));
                }
            };
            let id = reference.get("id").and_then(Value::as_i64).unwrap_or_default();
            let Some(found) = w.interactions.iter().find(|i| i.id == id && i.interaction_type == code) else {
                return Err(not_found("Interaction"));
            };
            note.interaction_id = Some(found.id);
            for p in &found.person_ids {
                if !note.person_ids.contains(p) {
                    note.person_ids.push(*p);
                }
            }
        }
        "user-reply" => {
            let parent = body.get("parent").unwrap_or(&Value::Null);
            only_keys(parent, "parent", &["id"])?;
            let id = parent.get("id").and_then(Value::as_i64).unwrap_or_default();
            match w.notes.iter().find(|n| n.id == id) {
                Some(p) if p.parent_id.is_none() => note.parent_id = Some(id),
                Some(_) => return Err(validation("parent.id", "a reply must answer a root note, not a reply")),
                None => return Err(not_found("Note")),
            }
        }
        _ => {}
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_filter_reads_every_documented_condition() {
        let parsed = parse_filter(Some("id=1|id=2&creator.id=3&createdAt<2025-02-04T10:48:24Z")).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], vec![Condition::Id(1), Condition::Id(2)]);
        assert_eq!(parsed[1], vec![Condition::Creator(3)]);
        assert!(matches!(parsed[2][0], Condition::Date { updated: false, op: "<", .. }));
        for bad in ["name=x", "id>1", "createdAt=2025-01-01T00:00:00Z", "createdAt<yesterday", "id=abc", "nonsense"] {
            assert!(parse_filter(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn note_html_keeps_to_the_allowed_tags() {
        for ok in
            ["<p>Hi</p>", "<p><strong>a</strong> <a href=\"https://x.test\">x</a> <a href='mailto:a@b.c'>m</a></p>"]
        {
            assert_eq!(html_problem(ok), None, "{ok}");
        }
        for bad in [
            "<script>alert(1)</script>",
            "<p style=\"color:red\">x</p>",
            "<img src=x>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<span data-type=\"note-mention\">@x</span>",
            "<s>gone</s>",
        ] {
            assert!(html_problem(bad).is_some(), "{bad}");
        }
    }
}
