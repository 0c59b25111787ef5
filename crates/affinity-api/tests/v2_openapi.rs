//! Every example Affinity's OpenAPI document (the 2026-07-15 subset in
//! shared/real-world/affinity-v2, read at test time) holds for the v2 endpoints the Lens
//! uses decodes into the v2 models, and reads as what it says: the endpoints' response
//! examples, the examples of every schema those responses reach, and the examples of the
//! list-entry field endpoints (one per value type), since list entries carry those fields.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use affinity_api::client::decode;
use affinity_api::v2::*;
use serde_json::Value;

const SUBSET: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/real-world/affinity-v2/openapi-2026-07-15-subset.json");

fn spec() -> Value {
    let text = std::fs::read_to_string(SUBSET).unwrap_or_else(|e| panic!("cannot read {SUBSET}: {e}"));
    serde_json::from_str(&text).expect("the subset is JSON")
}

/// The v2 endpoints the lookup calls, and the model each 2xx answer decodes into.
const USED: &[(&str, &str, &str)] = &[
    ("get", "/v2/auth/whoami", "WhoAmI"),
    ("post", "/v2/companies/search", "CompanyPaged"),
    ("get", "/v2/companies/{companyId}", "Company"),
    ("get", "/v2/companies/{companyId}/relationships", "RelationshipsPaged"),
    ("get", "/v2/companies/{companyId}/list-entries", "ListEntryPaged"),
    ("get", "/v2/persons/{personId}/relationships", "RelationshipsPaged"),
    ("get", "/v2/persons/{personId}/list-entries", "ListEntryPaged"),
    ("get", "/v2/users", "UserDataPaged"),
    ("get", "/v2/lists/{listId}/list-entries", "ListEntryWithEntityPaged"),
    ("get", "/v2/opportunities", "OpportunityPaged"),
];

/// Decodes `example` as the model of schema `name` and checks it reads as it says.
/// `None` when the Lens has no model for that schema.
fn check(name: &str, example: &Value) -> Option<Result<(), String>> {
    let text = example.to_string();
    let ok = |r: Result<(), String>| Some(r);
    let value_reads = |v: FieldValue| {
        // What the card reads (`dropdown`, `persons`, `number`) agrees with `data`.
        match v.data() {
            FieldData::Dropdown(d) => assert_eq!(v.dropdown(), Some(d)),
            FieldData::Person(p) => assert_eq!(v.persons(), vec![p]),
            FieldData::Persons(p) => assert_eq!(v.persons(), p),
            FieldData::Number(n) if v.value_type == "number" => assert_eq!(v.number(), Some(n)),
            FieldData::Other(raw) => return Err(format!("{} data read as unknown: {raw}", v.value_type)),
            _ => assert!(v.dropdown().is_none() && v.persons().is_empty()),
        }
        Ok(())
    };
    let decoded = match name {
        "WhoAmI" => decode::<WhoAmI>(&text).map(|w| assert!(!w.tenant.subdomain.is_empty())),
        "Company" | "CompanyData" => decode::<Company>(&text).map(|_| ()),
        "CompanyPaged" => decode::<Paged<Company>>(&text).map(|p| assert!(!p.data.is_empty())),
        "Relationship" => decode::<Relationship>(&text).map(|r| assert!(r.interaction_score > 0.0)),
        "RelationshipsPaged" => decode::<Paged<Relationship>>(&text).map(|p| {
            assert!(!p.data.is_empty());
            let scores: Vec<f64> = p.data.iter().map(|r| r.interaction_score).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "strongest first: {scores:?}");
        }),
        "ListEntryPaged" => decode::<Paged<ListEntry>>(&text).map(|_| ()),
        "UserDataPaged" => decode::<Paged<UserData>>(&text).map(|_| ()),
        // The index reads company lists' entries as companies, their Status among the fields.
        "ListEntryWithEntityPaged" => decode::<Paged<ListEntryWithEntity<Company>>>(&text).map(|p| {
            assert!(!p.data.is_empty());
            assert!(p.data.iter().all(|e| e.entity.as_ref().is_some_and(|c| c.id > 0)));
        }),
        "CompanyListEntry" => decode::<ListEntryWithEntity<Company>>(&text).map(|e| assert!(e.entity.is_some())),
        "ListEntryWithEntity" | "PersonListEntry" | "OpportunityListEntry" => {
            decode::<ListEntryWithEntity>(&text).map(|_| ())
        }
        "OpportunityPaged" => decode::<Paged<Opportunity>>(&text).map(|_| ()),
        "Field" => return ok(decode::<Field>(&text).map_err(|e| e.to_string()).and_then(|f| value_reads(f.value))),
        "FieldPaged" => {
            return ok(decode::<Paged<Field>>(&text)
                .map_err(|e| e.to_string())
                .and_then(|p| p.data.into_iter().try_for_each(|f| value_reads(f.value))));
        }
        n if n.ends_with("Value") => {
            return ok(decode::<FieldValue>(&text).map_err(|e| e.to_string()).and_then(value_reads));
        }
        "Email" | "Meeting" | "PhoneCall" | "ChatMessage" => decode::<Interaction>(&text).map(|i| {
            assert!(i.date().is_some(), "{name} has a date");
            assert!(!i.people().is_empty(), "{name} names its people");
            assert_eq!(i.kind.as_str(), example["type"].as_str().unwrap());
        }),
        _ => return None,
    };
    Some(decoded.map_err(|e| e.to_string()))
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            spec.pointer(pointer).unwrap_or_else(|| panic!("unresolved {r}"))
        }
        None => v,
    }
}

/// Every `(name, example)` of a response: its `example`, its named `examples`.
fn response_examples(spec: &Value, response: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let response = resolve(spec, response);
    for media in response.get("content").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
        if let Some(e) = media.get("example") {
            out.push(("example".to_owned(), e.clone()));
        }
        for (name, e) in media.get("examples").and_then(Value::as_object).into_iter().flatten() {
            out.push((name.clone(), resolve(spec, e)["value"].clone()));
        }
    }
    out
}

fn schema_refs(v: &Value, spec: &Value, seen: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if let (true, Some(r)) = (k == "$ref", child.as_str())
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    if seen.insert(name.to_owned()) {
                        schema_refs(&spec["components"]["schemas"][name], spec, seen);
                    }
                } else {
                    schema_refs(child, spec, seen);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| schema_refs(i, spec, seen)),
        _ => {}
    }
}

#[test]
fn every_example_of_the_endpoints_used_decodes_into_the_v2_models() {
    let spec = spec();
    assert_eq!(spec["info"]["x-affinity-api-version"], API_VERSION, "the models follow the pinned version");
    let mut decoded = 0;
    let mut failures = Vec::new();
    let mut schemas = BTreeSet::new();
    for (method, path, model) in USED {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is in the subset");
        for (status, response) in op["responses"].as_object().unwrap() {
            if !status.starts_with('2') {
                continue;
            }
            schema_refs(resolve(&spec, response), &spec, &mut schemas);
            for (name, example) in response_examples(&spec, response) {
                match check(model, &example) {
                    Some(Ok(())) => decoded += 1,
                    Some(Err(e)) => failures.push(format!("{method} {path} example {name}: {e}")),
                    None => failures.push(format!("{method} {path}: no model for {model}")),
                }
            }
        }
    }
    // The examples of every schema those answers reach (pages, relationships, each field
    // value type, each interaction kind).
    let mut without_model = Vec::new();
    for name in &schemas {
        let Some(example) = spec["components"]["schemas"][name].get("example") else { continue };
        match check(name, example) {
            Some(Ok(())) => decoded += 1,
            Some(Err(e)) => failures.push(format!("schema {name}: {e}")),
            None => without_model.push(name.clone()),
        }
    }
    assert!(failures.is_empty(), "{} examples failed:\n{}", failures.len(), failures.join("\n"));
    assert!(without_model.is_empty(), "schemas with examples the Lens does not decode: {without_model:?}");
    // Whoami's example, both relationships examples, and the 22 schema examples.
    assert!(decoded >= 25, "only {decoded} examples decoded");
}

#[test]
fn every_field_example_reads_as_its_value_type() {
    let spec = spec();
    let mut seen_types = BTreeSet::new();
    let mut count = 0;
    for (path, model) in [
        ("/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}", "Field"),
        ("/v2/lists/{listId}/list-entries/{listEntryId}/fields", "FieldPaged"),
    ] {
        let response = &spec["paths"][path]["get"]["responses"]["200"];
        for (name, example) in response_examples(&spec, response) {
            if let Some(t) = example.pointer("/value/type").and_then(Value::as_str) {
                seen_types.insert(t.to_owned());
            }
            check(model, &example).expect("a model").unwrap_or_else(|e| panic!("{path} example {name}: {e}"));
            count += 1;
        }
    }
    assert!(count >= 20, "{count} field examples");
    for t in ["ranked-dropdown", "person-multi", "number", "interaction", "dropdown", "text", "datetime"] {
        assert!(seen_types.contains(t), "an example of {t}: {seen_types:?}");
    }
}

#[test]
fn the_relationships_example_tells_its_people_and_linkedin_apart() {
    let spec = spec();
    let example = &spec["paths"]["/v2/companies/{companyId}/relationships"]["get"]["responses"]["200"]["content"]["application/json"]
        ["examples"]["relationships"];
    let page: Paged<Relationship> = decode(&resolve(&spec, example)["value"].to_string()).unwrap();
    assert_eq!(page.data.len(), 3);
    assert_eq!(page.data[0].person1.name(), "Jane Smith");
    assert_eq!(page.data[2].person1.name(), "Sam", "a null last name");
    assert_eq!(page.data[2].person2.primary_email_address, None);
    assert_eq!(page.data[1].linked_in.as_ref().and_then(|l| l.connected_on.as_deref()), Some("2022-06-15"));
    assert!(page.pagination.next_url.as_deref().is_some_and(|u| u.contains("cursor=")));
}

#[test]
fn a_ranked_dropdown_example_gives_the_card_its_status_and_colour() {
    let spec = spec();
    let value: FieldValue =
        decode(&spec["components"]["schemas"]["RankedDropdownValue"]["example"].to_string()).unwrap();
    let FieldData::Dropdown(d) = value.data() else { panic!("a dropdown") };
    assert_eq!(d.text, "Option 1");
    assert_eq!(color_number(d.color.as_deref()), 7, "gray");
}
