//! The v2 requests this client makes, as data (paths, parameters and bodies of the 2026-07-15
//! OpenAPI document). Follow a page's `nextUrl` with [`crate::Client::v2_items`] or
//! [`crate::Client::v2_pages`].

use serde_json::json;

use super::models::*;
use crate::endpoints::Endpoint;

/// `GET /v2/auth/whoami`.
pub fn whoami() -> Endpoint<WhoAmI> {
    Endpoint::get("/v2/auth/whoami")
}

/// `POST /v2/companies/search?fieldTypes=relationship-intelligence` for `term` (BETA; needs
/// "Export All Organizations directory"): the companies whose name or primary domain match,
/// with their last email, last and next meeting. The term must have 3 characters or more.
pub fn search_companies(term: &str) -> Endpoint<Paged<Company>> {
    Endpoint::search("/v2/companies/search")
        .param("fieldTypes", "relationship-intelligence")
        .body(json!({ "search": { "term": term } }))
}

/// `GET /v2/companies?limit=100`: the firm's company directory, 100 a page ("Export All
/// Organizations directory"; v1's `GET /organizations` pages 500 at a time).
pub fn companies() -> Endpoint<Paged<Company>> {
    Endpoint::get("/v2/companies").param("limit", 100)
}

/// `GET /v2/companies/{id}?fieldTypes=relationship-intelligence`.
pub fn company(company_id: i64) -> Endpoint<Company> {
    Endpoint::get(format!("/v2/companies/{company_id}")).param("fieldTypes", "relationship-intelligence")
}

/// `GET /v2/companies/{id}?fieldTypes=…`: the company with the fields of those types
/// (`enriched`, `global`, `relationship-intelligence`).
pub fn company_with_fields(company_id: i64, field_types: &[&str]) -> Endpoint<Company> {
    let e = Endpoint::get(format!("/v2/companies/{company_id}"));
    field_types.iter().fold(e, |e, t| e.param("fieldTypes", t))
}

/// `GET /v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}`: one field of a list
/// entry, with its value (`field_id` is v2's: `field-1234`).
pub fn list_entry_field(list_id: i64, entry_id: i64, field_id: &str) -> Endpoint<Field> {
    Endpoint::get(format!("/v2/lists/{list_id}/list-entries/{entry_id}/fields/{field_id}"))
}

/// `POST /v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}` with
/// `{"value": {type, data}}` ("Export data from Lists"): sets the field's whole value (every
/// value of a multi-valued field; `data: null` clears it). Answers 204, read as `()`.
pub fn set_list_entry_field(list_id: i64, entry_id: i64, field_id: &str, value: serde_json::Value) -> Endpoint<()> {
    Endpoint::new(
        crate::transport::Method::Post,
        format!("/v2/lists/{list_id}/list-entries/{entry_id}/fields/{field_id}"),
    )
    .body(json!({ "value": value }))
}

/// `GET /v2/companies/{id}/relationships?limit=`: the team's relationships with its people,
/// strongest first.
pub fn company_relationships(company_id: i64, limit: u32) -> Endpoint<Paged<Relationship>> {
    Endpoint::get(format!("/v2/companies/{company_id}/relationships")).param("limit", limit)
}

/// `GET /v2/companies/{id}/list-entries?limit=100`: every list row with all its fields.
pub fn company_list_entries(company_id: i64) -> Endpoint<Paged<ListEntry>> {
    Endpoint::get(format!("/v2/companies/{company_id}/list-entries")).param("limit", 100)
}

/// `GET /v2/persons/{id}/relationships?limit=`.
pub fn person_relationships(person_id: i64, limit: u32) -> Endpoint<Paged<Relationship>> {
    Endpoint::get(format!("/v2/persons/{person_id}/relationships")).param("limit", limit)
}

/// `GET /v2/persons/{id}/list-entries?limit=100`.
pub fn person_list_entries(person_id: i64) -> Endpoint<Paged<ListEntry>> {
    Endpoint::get(format!("/v2/persons/{person_id}/list-entries")).param("limit", 100)
}

/// `GET /v2/lists/{id}/list-entries?limit=100` of a company list ("Export data from Lists"),
/// with the fields `field_ids` names (`field-1234`; none: no field at all), 100 entries a page.
pub fn company_list_entries_of_list(
    list_id: i64,
    field_ids: &[String],
) -> Endpoint<Paged<ListEntryWithEntity<Company>>> {
    field_ids.iter().fold(Endpoint::get(format!("/v2/lists/{list_id}/list-entries")).param("limit", 100), |e, id| {
        e.param("fieldIds", id)
    })
}

/// `GET /v2/users?limit=100` (BETA): the firm's users (a user's id is their person id).
pub fn users() -> Endpoint<Paged<UserData>> {
    Endpoint::get("/v2/users").param("limit", 100)
}

/// `GET /v2/opportunities?ids=…` (at most 100).
pub fn opportunities(ids: &[i64]) -> Endpoint<Paged<Opportunity>> {
    ids.iter().take(100).fold(Endpoint::get("/v2/opportunities"), |e, id| e.param("ids", id)).param("limit", 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Method;

    #[test]
    fn a_search_is_a_read_keyed_by_its_body() {
        let e = search_companies("acme.com");
        assert_eq!(e.method, Method::Post);
        assert!(e.is_read());
        assert_eq!(e.query, vec![("fieldTypes".to_owned(), "relationship-intelligence".to_owned())]);
        assert_ne!(e.cache_key("u"), search_companies("globex.com").cache_key("u"));
    }

    #[test]
    fn the_next_page_is_asked_of_the_configured_host_only() {
        let first = company_relationships(7, 20);
        let next = first
            .with_next_url("https://evil.example/v2/companies/7/relationships?limit=20&cursor=abc")
            .expect("a v2 next URL");
        assert_eq!(next.path, "/v2/companies/7/relationships");
        assert_eq!(next.query, vec![("limit".to_owned(), "20".to_owned()), ("cursor".into(), "abc".into())]);
        assert!(first.with_next_url("not a url").is_none());
    }

    #[test]
    fn a_lists_entries_ask_for_the_fields_named_only() {
        let e = company_list_entries_of_list(10, &["field-7".to_owned()]);
        assert_eq!(e.path, "/v2/lists/10/list-entries");
        assert_eq!(e.query, vec![("limit".to_owned(), "100".to_owned()), ("fieldIds".into(), "field-7".into())]);
        let page: Paged<ListEntryWithEntity<Company>> = crate::decode(
            r#"{"data":[{"id":1,"listId":10,"type":"company","createdAt":null,"creatorId":null,
                "entity":{"id":5,"name":"Acme","domain":"acme.com","domains":["acme.com"],"isGlobal":false}},
               {"id":2,"listId":10,"type":"company","entity":null}],"pagination":{"nextUrl":null}}"#,
        )
        .unwrap();
        assert_eq!(page.data[0].entity.as_ref().map(|c| c.id), Some(5));
        assert!(page.data[1].entity.is_none());
    }

    #[test]
    fn a_field_is_written_whole_and_answered_with_no_content() {
        let e = set_list_entry_field(10, 5, "field-7", json!({"type": "text", "data": "Call back"}));
        assert_eq!((e.method, e.path.as_str()), (Method::Post, "/v2/lists/10/list-entries/5/fields/field-7"));
        assert!(!e.is_read());
        assert_eq!(e.body, Some(json!({"value": {"type": "text", "data": "Call back"}})));
        let c = company_with_fields(7, &["enriched", "global"]);
        assert_eq!(
            c.query,
            vec![("fieldTypes".to_owned(), "enriched".to_owned()), ("fieldTypes".into(), "global".into())]
        );
    }

    #[test]
    fn opportunity_ids_repeat_their_key() {
        let e = opportunities(&[1, 2]);
        assert_eq!(
            e.query,
            vec![("ids".to_owned(), "1".to_owned()), ("ids".into(), "2".into()), ("limit".into(), "100".into())]
        );
    }
}
