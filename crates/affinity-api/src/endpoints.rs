//! Every v1 request as data: method, path, query and body, and the type it returns.
//! [`crate::Client::execute`] sends one; [`crate::Client::items`] follows a paged one.

use std::marker::PhantomData;

use serde::Serialize;
use serde_json::{Value, json};

use crate::models::*;
use crate::transport::Method;

/// One request to Affinity, returning `R`.
#[derive(Debug)]
pub struct Endpoint<R> {
    /// The HTTP method.
    pub method: Method,
    /// The path under the base URL (`/persons/12`, `/v2/companies`).
    pub path: String,
    /// Query parameters, in order; a key may repeat (arrays).
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// A POST that only reads (API v2's searches): cached and shared like a GET, and it
    /// leaves the cache fresh.
    read_only_post: bool,
    _returns: PhantomData<fn() -> R>,
}

impl<R> Clone for Endpoint<R> {
    fn clone(&self) -> Self {
        self.returning()
    }
}

impl<R> Endpoint<R> {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Endpoint {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            read_only_post: false,
            _returns: PhantomData,
        }
    }
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }
    /// A POST that only reads (a v2 search).
    pub(crate) fn search(path: impl Into<String>) -> Self {
        Endpoint { read_only_post: true, ..Self::new(Method::Post, path) }
    }
    fn query(mut self, params: &impl Serialize) -> Self {
        self.query.extend(query_pairs(params));
        self
    }
    pub(crate) fn param(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }
    pub(crate) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The same request, its answer read as another type (e.g. `serde_json::Value`, to keep
    /// the body as it came).
    pub fn returning<S>(&self) -> Endpoint<S> {
        Endpoint {
            method: self.method,
            path: self.path.clone(),
            query: self.query.clone(),
            body: self.body.clone(),
            read_only_post: self.read_only_post,
            _returns: PhantomData,
        }
    }

    /// Whether it only reads: a GET, or a v2 search. Reads are cached and shared; the
    /// others are writes, after which nothing cached is fresh.
    pub fn is_read(&self) -> bool {
        self.method == Method::Get || self.read_only_post
    }

    /// The key a read's answer is cached under: its URL, and for a search its body too.
    pub fn cache_key(&self, url: &str) -> String {
        match (&self.body, self.read_only_post) {
            (Some(body), true) => format!("{url} {body}"),
            _ => url.to_owned(),
        }
    }

    /// The same request for a v2 page's `pagination.nextUrl`: its path and query (the
    /// cursor), sent to the configured base URL only (the key never follows a link to
    /// another host); method and body unchanged.
    pub fn with_next_url(&self, next_url: &str) -> Option<Self> {
        let url = url::Url::parse(next_url).ok()?;
        let at = url.path().find("/v2/")?;
        let mut next = self.clone();
        next.path = url.path()[at..].to_owned();
        next.query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Some(next)
    }

    /// The same request for the page after `token`: every other parameter unchanged, as
    /// Affinity requires (else 422 "Invalid page_token variable").
    pub fn with_page_token(&self, token: &str) -> Self {
        let mut next = self.clone();
        next.query.retain(|(k, _)| k != "page_token");
        next.query.push(("page_token".into(), token.into()));
        next
    }
}

/// Serialises a parameter struct into query pairs: `None` and `false` are left out,
/// arrays repeat their key.
pub fn query_pairs(params: &impl Serialize) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Ok(Value::Object(map)) = serde_json::to_value(params) {
        for (k, v) in map {
            match v {
                Value::Null | Value::Bool(false) => {}
                Value::String(s) => pairs.push((k, s)),
                Value::Array(items) => {
                    for item in items {
                        pairs.push((k.clone(), item.as_str().map(str::to_owned).unwrap_or_else(|| item.to_string())));
                    }
                }
                other => pairs.push((k, other.to_string())),
            }
        }
    }
    pairs
}

/// The one entity a query is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityRef {
    /// A person, by id (`person_id`).
    Person(i64),
    /// An organization, by id (`organization_id`).
    Organization(i64),
    /// An opportunity, by id (`opportunity_id`).
    Opportunity(i64),
    /// A list entry, by id (`list_entry_id`).
    ListEntry(i64),
}

impl EntityRef {
    fn param(self) -> (&'static str, i64) {
        match self {
            EntityRef::Person(id) => ("person_id", id),
            EntityRef::Organization(id) => ("organization_id", id),
            EntityRef::Opportunity(id) => ("opportunity_id", id),
            EntityRef::ListEntry(id) => ("list_entry_id", id),
        }
    }
}

// ---- lists and list entries -------------------------------------------------------------

/// `GET /lists`.
pub fn lists() -> Endpoint<Vec<List>> {
    Endpoint::get("/lists")
}
/// `GET /lists/{id}` (with its fields).
pub fn list(list_id: i64) -> Endpoint<List> {
    Endpoint::get(format!("/lists/{list_id}"))
}
/// `GET /lists/{id}/list-entries` without `page_size`: every entry, as a bare array.
pub fn all_list_entries(list_id: i64) -> Endpoint<Vec<ListEntry>> {
    Endpoint::get(format!("/lists/{list_id}/list-entries"))
}
/// `GET /lists/{id}/list-entries?page_size=`: one page; follow with [`crate::Client::items`].
pub fn list_entries(list_id: i64, page_size: u32) -> Endpoint<Page<ListEntry>> {
    Endpoint::get(format!("/lists/{list_id}/list-entries")).param("page_size", page_size)
}
/// `GET /lists/{id}/list-entries/{entry_id}`.
pub fn list_entry(list_id: i64, entry_id: i64) -> Endpoint<ListEntry> {
    Endpoint::get(format!("/lists/{list_id}/list-entries/{entry_id}"))
}
/// `POST /lists/{id}/list-entries`: adds a person or organization to a list.
pub fn create_list_entry(list_id: i64, entity_id: i64) -> Endpoint<ListEntry> {
    Endpoint::new(Method::Post, format!("/lists/{list_id}/list-entries")).body(json!({ "entity_id": entity_id }))
}
/// `DELETE /lists/{id}/list-entries/{entry_id}`.
pub fn delete_list_entry(list_id: i64, entry_id: i64) -> Endpoint<Success> {
    Endpoint::new(Method::Delete, format!("/lists/{list_id}/list-entries/{entry_id}"))
}

// ---- fields, field values, changes ------------------------------------------------------

/// Filters of `GET /fields`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldsQuery {
    /// Only the fields of this list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<i64>,
    /// Only fields of this value type (a [`ValueType`] code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_type: Option<i64>,
    /// Only fields of this entity type (an [`EntityType`] code: 0 person, 1 organization,
    /// 8 opportunity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<i64>,
    /// Names list-specific fields `"[List Name] Field"`.
    pub with_modified_names: bool,
    /// Leaves out the fields' dropdown options.
    pub exclude_dropdown_options: bool,
}
/// `GET /fields`.
pub fn fields(query: &FieldsQuery) -> Endpoint<Vec<Field>> {
    Endpoint::get("/fields").query(query)
}
/// `GET /persons/fields`.
pub fn person_fields() -> Endpoint<Vec<Field>> {
    Endpoint::get("/persons/fields")
}
/// `GET /organizations/fields`.
pub fn organization_fields() -> Endpoint<Vec<Field>> {
    Endpoint::get("/organizations/fields")
}
/// `GET /field-values` for one entity or list entry.
pub fn field_values(of: EntityRef) -> Endpoint<Vec<FieldValue>> {
    let (k, v) = of.param();
    Endpoint::get("/field-values").param(k, v)
}
/// `POST /field-values`. For a ranked dropdown, `value` is the option's id.
pub fn create_field_value(
    field_id: i64,
    entity_id: i64,
    value: Value,
    list_entry_id: Option<i64>,
) -> Endpoint<FieldValue> {
    let mut body = json!({ "field_id": field_id, "entity_id": entity_id, "value": value });
    if let Some(id) = list_entry_id {
        body["list_entry_id"] = json!(id);
    }
    Endpoint::new(Method::Post, "/field-values").body(body)
}
/// `PUT /field-values/{id}`.
pub fn update_field_value(field_value_id: i64, value: Value) -> Endpoint<FieldValue> {
    Endpoint::new(Method::Put, format!("/field-values/{field_value_id}")).body(json!({ "value": value }))
}
/// `DELETE /field-values/{id}`.
pub fn delete_field_value(field_value_id: i64) -> Endpoint<Success> {
    Endpoint::new(Method::Delete, format!("/field-values/{field_value_id}"))
}
/// `GET /field-value-changes?field_id=` (a bare array; a paged wrapper is read too).
pub fn field_value_changes(
    field_id: i64,
    of: Option<EntityRef>,
    action_type: Option<ActionType>,
) -> Endpoint<Page<FieldValueChange>> {
    let mut e = Endpoint::get("/field-value-changes").param("field_id", field_id);
    if let Some(of) = of {
        let (k, v) = of.param();
        e = e.param(k, v);
    }
    if let Some(a) = action_type {
        e = e.param("action_type", a.code());
    }
    e
}

// ---- persons and organizations ----------------------------------------------------------

/// Parameters of `GET /persons` and `GET /organizations`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchQuery {
    /// Text to match: part of a person's name or email address, or of an organization's
    /// name or domain. `None` lists them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Adds `interaction_dates` and `interactions` to each result, and leaves out those
    /// without any interaction.
    pub with_interaction_dates: bool,
    /// Adds the internal persons involved (`person_ids`) to each of `interactions` (only with
    /// `with_interaction_dates`).
    pub with_interaction_persons: bool,
    /// Adds `opportunity_ids` to each result.
    pub with_opportunities: bool,
    /// Adds `current_organization_ids` to each person. Persons only.
    pub with_current_organizations: bool,
    /// Results a page (at most 500, the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

impl SearchQuery {
    /// A search for `term`.
    pub fn term(term: impl Into<String>) -> Self {
        SearchQuery { term: Some(term.into()), ..Default::default() }
    }
}

/// Options of `GET /persons/{id}` and `GET /organizations/{id}`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DetailOptions {
    /// Adds `interaction_dates` and `interactions`.
    pub with_interaction_dates: bool,
    /// Adds the internal persons involved (`person_ids`) to each of `interactions` (only with
    /// `with_interaction_dates`).
    pub with_interaction_persons: bool,
    /// Adds `opportunity_ids`.
    pub with_opportunities: bool,
}

/// `GET /persons` (search or list).
pub fn search_persons(query: &SearchQuery) -> Endpoint<Page<Person>> {
    Endpoint::get("/persons").query(query)
}
/// `GET /persons/{id}`.
pub fn person(person_id: i64, options: DetailOptions) -> Endpoint<Person> {
    Endpoint::get(format!("/persons/{person_id}")).query(&options)
}
/// `POST /persons`.
pub fn create_person(
    first_name: &str,
    last_name: &str,
    emails: &[String],
    organization_ids: &[i64],
) -> Endpoint<Person> {
    Endpoint::new(Method::Post, "/persons").body(json!({
        "first_name": first_name, "last_name": last_name, "emails": emails, "organization_ids": organization_ids
    }))
}
/// `GET /organizations` (search or list).
pub fn search_organizations(query: &SearchQuery) -> Endpoint<Page<Organization>> {
    let mut q = query.clone();
    q.with_current_organizations = false;
    Endpoint::get("/organizations").query(&q)
}
/// `GET /organizations/{id}`.
pub fn organization(organization_id: i64, options: DetailOptions) -> Endpoint<Organization> {
    Endpoint::get(format!("/organizations/{organization_id}")).query(&options)
}
/// `POST /organizations`.
pub fn create_organization(name: &str, domain: Option<&str>, person_ids: &[i64]) -> Endpoint<Organization> {
    Endpoint::new(Method::Post, "/organizations")
        .body(json!({ "name": name, "domain": domain, "person_ids": person_ids }))
}

// ---- opportunities, strengths, interactions ---------------------------------------------

/// `GET /opportunities`.
pub fn search_opportunities(term: Option<&str>, page_size: Option<u32>) -> Endpoint<Page<Opportunity>> {
    let mut e = Endpoint::get("/opportunities");
    if let Some(t) = term {
        e = e.param("term", t);
    }
    if let Some(s) = page_size {
        e = e.param("page_size", s);
    }
    e
}
/// `GET /opportunities/{id}`.
pub fn opportunity(opportunity_id: i64) -> Endpoint<Opportunity> {
    Endpoint::get(format!("/opportunities/{opportunity_id}"))
}
/// `GET /relationships-strengths?external_id=[&internal_id=]`.
pub fn relationship_strengths(external_id: i64, internal_id: Option<i64>) -> Endpoint<Vec<RelationshipStrength>> {
    let e = Endpoint::get("/relationships-strengths").param("external_id", external_id);
    match internal_id {
        Some(i) => e.param("internal_id", i),
        None => e,
    }
}

/// Parameters of `GET /interactions` (one type; a range of at most a year).
#[derive(Debug, Clone, Serialize)]
pub struct InteractionQuery {
    /// The interaction type (an [`InteractionType`] code: 0 meeting, 1 call, 2 chat
    /// message, 3 email).
    #[serde(rename = "type")]
    pub interaction_type: i64,
    /// The external person, organization or opportunity whose interactions are wanted.
    #[serde(skip)]
    pub of: Option<EntityRef>,
    /// Only interactions with this internal person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_person_id: Option<i64>,
    /// The start of the range (ISO 8601), before `end_time`.
    pub start_time: String,
    /// The end of the range (ISO 8601), at most a year after `start_time`.
    pub end_time: String,
    /// Interactions a page (at most 100, the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}
/// `GET /interactions` (keyed `emails`, `events` or `chat_messages` by type).
pub fn interactions(query: &InteractionQuery) -> Endpoint<Page<Interaction>> {
    let mut e = Endpoint::get("/interactions").query(query);
    if let Some(of) = query.of {
        let (k, v) = of.param();
        e = e.param(k, v);
    }
    e
}
/// `GET /interactions/{id}?type=`.
pub fn interaction(id: i64, interaction_type: InteractionType) -> Endpoint<Interaction> {
    Endpoint::get(format!("/interactions/{id}")).param("type", interaction_type.code())
}

// ---- notes, files, reminders, webhooks --------------------------------------------------

/// `GET /notes` for an entity (or all).
pub fn notes(of: Option<EntityRef>, page_size: Option<u32>) -> Endpoint<Page<Note>> {
    let mut e = Endpoint::get("/notes");
    if let Some(of) = of {
        let (k, v) = of.param();
        e = e.param(k, v);
    }
    if let Some(s) = page_size {
        e = e.param("page_size", s);
    }
    e
}
/// `GET /notes/{id}`.
pub fn note(note_id: i64) -> Endpoint<Note> {
    Endpoint::get(format!("/notes/{note_id}"))
}
/// `POST /notes` (plain text) attached to people, organizations and opportunities.
pub fn create_note(
    content: &str,
    person_ids: &[i64],
    organization_ids: &[i64],
    opportunity_ids: &[i64],
) -> Endpoint<Note> {
    Endpoint::new(Method::Post, "/notes").body(json!({
        "content": content, "person_ids": person_ids, "organization_ids": organization_ids,
        "opportunity_ids": opportunity_ids, "type": 0
    }))
}
/// `GET /entity-files`.
pub fn entity_files(of: Option<EntityRef>) -> Endpoint<Page<EntityFile>> {
    let mut e = Endpoint::get("/entity-files");
    if let Some(of) = of {
        let (k, v) = of.param();
        e = e.param(k, v);
    }
    e
}
/// `GET /entity-files/{id}`.
pub fn entity_file(id: i64) -> Endpoint<EntityFile> {
    Endpoint::get(format!("/entity-files/{id}"))
}
/// `GET /reminders` for an entity (or all).
pub fn reminders(of: Option<EntityRef>) -> Endpoint<Page<Reminder>> {
    let mut e = Endpoint::get("/reminders");
    if let Some(of) = of {
        let (k, v) = of.param();
        e = e.param(k, v);
    }
    e
}
/// `GET /reminders/{id}`.
pub fn reminder(id: i64) -> Endpoint<Reminder> {
    Endpoint::get(format!("/reminders/{id}"))
}
/// `GET /webhook`.
pub fn webhooks() -> Endpoint<Vec<WebhookSubscription>> {
    Endpoint::get("/webhook")
}
/// `GET /webhook/{id}`.
pub fn webhook(id: i64) -> Endpoint<WebhookSubscription> {
    Endpoint::get(format!("/webhook/{id}"))
}
/// `POST /webhook/subscribe`: events to `url` (`events` empty: all of them).
pub fn subscribe_webhook(url: &str, events: &[&str]) -> Endpoint<WebhookSubscription> {
    Endpoint::new(Method::Post, "/webhook/subscribe").body(json!({ "webhook_url": url, "subscriptions": events }))
}
/// `PUT /webhook/{id}`: a subscription's URL and events, enabled again.
pub fn update_webhook(id: i64, url: &str, events: &[&str]) -> Endpoint<WebhookSubscription> {
    Endpoint::new(Method::Put, format!("/webhook/{id}"))
        .body(json!({ "webhook_url": url, "subscriptions": events, "disabled": false }))
}
/// `GET /auth/whoami`.
pub fn whoami() -> Endpoint<WhoAmI> {
    Endpoint::get("/auth/whoami")
}
/// `GET /rate-limit`.
pub fn rate_limit() -> Endpoint<RateLimit> {
    Endpoint::get("/rate-limit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters_leave_out_what_is_unset() {
        let e = search_organizations(&SearchQuery { with_interaction_dates: true, ..SearchQuery::term("acme.com") });
        assert_eq!(e.path, "/organizations");
        assert_eq!(
            e.query,
            vec![("term".to_owned(), "acme.com".to_owned()), ("with_interaction_dates".into(), "true".into())]
        );
    }

    #[test]
    fn the_next_page_keeps_every_other_parameter() {
        let first = list_entries(12, 100);
        let second = first.with_page_token("abc").with_page_token("def");
        assert_eq!(second.query, vec![("page_size".to_owned(), "100".to_owned()), ("page_token".into(), "def".into())]);
    }
}
