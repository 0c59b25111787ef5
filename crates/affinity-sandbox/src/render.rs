//! The sandbox's records in Affinity's v1 JSON shapes (shared/docs/affinity-api-v1.md).

use serde_json::{Value, json};

use super::world::*;

/// Which optional parts to include (the `with_*` parameters).
#[derive(Debug, Clone, Copy, Default)]
pub struct With {
    pub detail: bool,
    pub interaction_dates: bool,
    pub interaction_persons: bool,
    pub opportunities: bool,
    pub current_organizations: bool,
}

pub fn person_summary(p: &Person) -> Value {
    json!({
        "id": p.id,
        "type": p.person_type,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "primary_email": p.emails.first(),
        "emails": p.emails,
    })
}

pub fn organization_summary(o: &Organization) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "domain": o.domain,
        "domains": o.domains,
        "crunchbase_uuid": null,
        "global": o.global,
    })
}

fn activity_json(a: &Activity, with_persons: bool) -> (Value, Value) {
    let date = |t: &Option<Touch>| t.as_ref().map(|t| t.date.clone());
    let dates = json!({
        "first_email_date": date(&a.first_email),
        "last_email_date": date(&a.last_email),
        "first_event_date": date(&a.first_event),
        "last_event_date": date(&a.last_event),
        "next_event_date": date(&a.next_event),
        "last_chat_message_date": date(&a.last_chat_message),
        "last_interaction_date": date(&a.last_interaction),
    });
    let touch = |t: &Option<Touch>| match t {
        None => Value::Null,
        Some(t) if with_persons => json!({ "date": t.date, "person_ids": t.person_ids }),
        Some(t) => json!({ "date": t.date }),
    };
    let interactions = json!({
        "first_email": touch(&a.first_email),
        "last_email": touch(&a.last_email),
        "first_event": touch(&a.first_event),
        "last_event": touch(&a.last_event),
        "next_event": touch(&a.next_event),
        "last_chat_message": touch(&a.last_chat_message),
        "last_interaction": touch(&a.last_interaction),
    });
    (dates, interactions)
}

fn list_entry_refs(world: &World, entity_id: i64) -> Value {
    Value::Array(
        world
            .list_entries
            .iter()
            .filter(|e| e.entity_id == entity_id)
            .map(|e| {
                json!({ "id": e.id, "list_id": e.list_id, "creator_id": e.creator_id, "entity_id": e.entity_id,
                        "entity_type": e.entity_type, "created_at": e.created_at })
            })
            .collect(),
    )
}

fn opportunity_ids(world: &World, pick: impl Fn(&Opportunity) -> bool) -> Vec<i64> {
    world.opportunities.iter().filter(|o| pick(o)).map(|o| o.id).collect()
}

pub fn person(world: &World, p: &Person, with: With) -> Value {
    let mut v = person_summary(p);
    if with.detail {
        v["organization_ids"] = json!(p.organization_ids);
        v["list_entries"] = list_entry_refs(world, p.id);
    }
    if with.opportunities {
        v["opportunity_ids"] = json!(opportunity_ids(world, |o| o.person_ids.contains(&p.id)));
    }
    if with.current_organizations {
        v["current_organization_ids"] = json!(p.organization_ids);
    }
    if with.interaction_dates {
        let (dates, interactions) = activity_json(&p.activity, with.interaction_persons);
        v["interaction_dates"] = dates;
        v["interactions"] = interactions;
    }
    v
}

pub fn organization(world: &World, o: &Organization, with: With) -> Value {
    let mut v = organization_summary(o);
    if with.detail {
        v["person_ids"] = json!(o.person_ids);
        v["list_entries"] = list_entry_refs(world, o.id);
    }
    if with.opportunities {
        v["opportunity_ids"] = json!(opportunity_ids(world, |opp| opp.organization_ids.contains(&o.id)));
    }
    if with.interaction_dates {
        let (dates, interactions) = activity_json(&o.activity, with.interaction_persons);
        v["interaction_dates"] = dates;
        v["interactions"] = interactions;
    }
    v
}

pub fn list(l: &List) -> Value {
    json!({ "id": l.id, "type": l.list_type, "name": l.name, "public": l.public, "owner_id": l.owner_id,
            "creator_id": l.creator_id, "list_size": 0 })
}

pub fn field(f: &Field) -> Value {
    json!({
        "id": f.id, "name": f.name, "list_id": f.list_id, "enrichment_source": "none", "value_type": f.value_type,
        "allows_multiple": f.allows_multiple, "track_changes": f.track_changes,
        "dropdown_options": f.dropdown_options.iter()
            .map(|o| json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color })).collect::<Vec<_>>(),
    })
}

pub fn list_entry(world: &World, e: &ListEntry) -> Value {
    let entity = match e.entity_type {
        0 => world.person(e.entity_id).map(person_summary),
        1 => world.organization(e.entity_id).map(organization_summary),
        _ => world.opportunities.iter().find(|o| o.id == e.entity_id).map(|o| json!({ "id": o.id, "name": o.name })),
    };
    json!({ "id": e.id, "list_id": e.list_id, "creator_id": e.creator_id, "entity_id": e.entity_id,
            "entity_type": e.entity_type, "created_at": e.created_at, "entity": entity })
}

pub fn field_value(world: &World, v: &FieldValue) -> Value {
    let value_type = world.fields.iter().find(|f| f.id == v.field_id).map(|f| f.value_type);
    json!({ "id": v.id, "field_id": v.field_id, "entity_id": v.entity_id, "entity_type": v.entity_type,
            "value_type": value_type, "list_entry_id": v.list_entry_id, "value": v.value,
            "created_at": v.created_at, "updated_at": v.updated_at })
}

/// A change, with the older keys Affinity still sends beside the current ones (the
/// reference's example): `entity_attribute_id` (the field's id) and the entity as `person`,
/// `company` or `opp`, the other two `null`.
pub fn field_value_change(world: &World, field: &Field, c: &FieldValueChange) -> Value {
    let (mut person, mut company, mut opp) = (Value::Null, Value::Null, Value::Null);
    match field.entity_type {
        0 => person = world.person(c.entity_id).map(person_summary).unwrap_or(Value::Null),
        1 => company = world.organization(c.entity_id).map(organization_summary).unwrap_or(Value::Null),
        _ => {
            opp = world
                .opportunities
                .iter()
                .find(|o| o.id == c.entity_id)
                .map(|o| json!({ "id": o.id, "name": o.name }))
                .unwrap_or(Value::Null)
        }
    }
    json!({ "id": c.id, "field_id": c.field_id, "entity_attribute_id": c.field_id, "entity_id": c.entity_id,
            "list_entry_id": c.list_entry_id, "action_type": c.action_type,
            "changer": world.person(c.changer_id).map(person_summary), "changed_at": c.changed_at,
            "value": c.value, "person": person, "company": company, "opp": opp })
}

pub fn opportunity(world: &World, o: &Opportunity) -> Value {
    let entries: Vec<Value> = world
        .list_entries
        .iter()
        .filter(|e| e.entity_type == 8 && e.entity_id == o.id)
        .map(|e| {
            json!({ "id": e.id, "list_id": e.list_id, "creator_id": e.creator_id, "entity_id": e.entity_id,
                    "entity_type": 8, "created_at": e.created_at })
        })
        .collect();
    json!({ "id": o.id, "name": o.name, "person_ids": o.person_ids, "organization_ids": o.organization_ids,
            "list_entries": entries })
}

pub fn interaction(world: &World, i: &Interaction) -> Value {
    let people: Vec<Value> = i.person_ids.iter().filter_map(|id| world.person(*id)).map(person_summary).collect();
    if i.interaction_type == 3 {
        let from = people.first().cloned().unwrap_or(Value::Null);
        json!({ "id": i.id, "type": 3, "date": i.date, "subject": i.subject, "from": from,
                "to": people.iter().skip(1).cloned().collect::<Vec<_>>(), "cc": [], "direction": i.direction })
    } else if i.interaction_type == 2 {
        json!({ "id": i.id, "type": 2, "date": i.date, "persons": people, "manual_creator_id": null, "notes": [],
                "direction": i.direction })
    } else {
        let attendees: Vec<Value> =
            people.iter().filter_map(|p| p["primary_email"].as_str().map(|e| json!(e))).collect();
        json!({ "id": i.id, "type": i.interaction_type, "date": i.date, "persons": people, "attendees": attendees,
                "start_time": i.date, "end_time": null, "updated_at": null, "manual_creator_id": null,
                "title": i.subject, "notes": [] })
    }
}

pub fn note(n: &Note) -> Value {
    json!({ "id": n.id, "creator_id": n.creator_id, "person_ids": n.person_ids,
            "associated_person_ids": n.person_ids, "interaction_person_ids": [], "interaction_id": n.interaction_id,
            "interaction_type": null, "is_meeting": false, "mentioned_person_ids": [],
            "organization_ids": n.organization_ids, "opportunity_ids": n.opportunity_ids, "parent_id": n.parent_id,
            "content": n.content, "type": n.note_type, "created_at": n.created_at, "updated_at": null })
}
