//! Writes from the card: add to a list, set Status, change a field, add a note, create the
//! organization or the person.
//!
//! Affinity v1 has no idempotency keys, so every write first reads whether its effect is
//! already there (from Affinity itself: [`Client::uncached`]) and only then writes. A write retried
//! after a lost answer, a double click or a worker restart finds its earlier effect and
//! reports it instead of creating a duplicate.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use affinity_api::clock::unix_ms;
use affinity_api::endpoints::{self, DetailOptions, EntityRef, FieldsQuery, SearchQuery};
use affinity_api::models::{EntityType, Field, FieldValue, List, ListEntryRef, Timestamp, ValueType};
use affinity_api::transport::{MaybeSend, MaybeSync, Transport};
use affinity_api::{Error, v2};

use crate::account::{Feature, LensClient};
use crate::card::EntityKind;
use crate::fields::{self, FieldInput, FieldOp};
use crate::lookup::{has_domain, via_v2};

/// A note with the same text on the same entity within this many seconds is taken to be
/// an earlier attempt of the same write.
const NOTE_RETRY_WINDOW_SECS: i64 = 15 * 60;
/// Pages of an entity's notes read to find an earlier attempt.
const MAX_NOTE_PAGES: usize = 5;

/// The entity a write is about (the card's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: EntityKind,
    pub id: i64,
}

/// One write, as the card asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Adds the entity to a list.
    AddToList { list_id: i64 },
    /// Sets the Status of one list entry to the option with this text.
    SetStatus { list_id: i64, entry_id: i64, status: String },
    /// Changes one field of a list entry: sets its value (`value: null` clears it), or adds
    /// or removes one value of a multi-valued field. `label` says the value in words, for the
    /// card's messages.
    SetField {
        list_id: i64,
        entry_id: i64,
        field_id: i64,
        op: FieldOp,
        #[serde(default)]
        value: Option<FieldInput>,
        #[serde(default)]
        label: String,
    },
    /// Adds a plain-text note to the entity.
    AddNote { content: String },
    /// Creates an organization (when the card found none for the domain).
    CreateOrganization { name: String, domain: String },
    /// Creates a person (when the card found nobody of the profile's name, or of an email
    /// thread participant's address), linked to their company's organization when
    /// `organization_id` is given, with `email` when given.
    CreatePerson {
        first_name: String,
        last_name: String,
        #[serde(default)]
        organization_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// `false` when the effect was already there (nothing was written).
    pub changed: bool,
    /// For people: "Added to Deal Pipeline.", "Already on Deal Pipeline.".
    pub message: String,
    /// The entity written to or created.
    pub target: Option<Target>,
}

impl Outcome {
    fn about(target: Target, changed: bool, message: impl Into<String>) -> Outcome {
        Outcome { changed, message: message.into(), target: Some(target) }
    }
}

/// A list the card can add an entity to, with its Status options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListChoice {
    pub id: i64,
    pub name: String,
    pub kind: EntityKind,
    /// The Status options in rank order (empty when the list has no Status field).
    pub statuses: Vec<StatusChoice>,
}

/// A company a card's organization field may be set to (from the firm's index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyChoice {
    pub id: i64,
    pub name: String,
    /// Its first domain, to tell namesakes apart.
    pub domain: Option<String>,
}

impl From<crate::index::KnownCompany> for CompanyChoice {
    fn from(c: crate::index::KnownCompany) -> CompanyChoice {
        CompanyChoice { id: c.id, name: c.name, domain: c.domains.into_iter().next() }
    }
}

/// One option of a Status field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChoice {
    pub text: String,
    pub color: i64,
}

/// The lists organizations and persons can be added to, with their Status options (from
/// `/lists` and `/fields`, which the lookup reads too: warm, this costs nothing).
pub async fn list_choices<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
) -> Result<Vec<ListChoice>, Error> {
    // The lists and fields the lookup remembers with the account's context.
    let (lists, fields) = crate::lookup::lists_and_fields(client).await?;
    let mut out: Vec<ListChoice> = lists
        .iter()
        .filter_map(|l| {
            let kind = list_kind(l)?;
            let statuses = status_field(&fields, l.id)
                .map(|f| {
                    let mut options = f.dropdown_options.clone();
                    options.sort_by_key(|o| o.rank.unwrap_or(i64::MAX));
                    options.into_iter().map(|o| StatusChoice { text: o.text, color: o.color.unwrap_or(0) }).collect()
                })
                .unwrap_or_default();
            Some(ListChoice { id: l.id, name: l.name.clone(), kind, statuses })
        })
        .collect();
    out.sort_by_key(|a| a.name.to_lowercase());
    Ok(out)
}

fn list_kind(list: &List) -> Option<EntityKind> {
    match list.list_type {
        t if t == EntityType::ORGANIZATION => Some(EntityKind::Organization),
        t if t == EntityType::PERSON => Some(EntityKind::Person),
        _ => None,
    }
}

fn status_field(fields: &[Field], list_id: i64) -> Option<&Field> {
    fields.iter().find(|f| f.list_id == Some(list_id) && crate::fields::is_status(&f.name))
}

/// Performs `action` on `target` (none for creating an organization). Nothing cached is
/// fresh afterwards, so the next lookup shows the change.
pub async fn perform<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Option<Target>,
    action: &Action,
) -> Result<Outcome, Error> {
    // Checks read what Affinity has now: never a cached answer (an old "not there yet"
    // would mean a duplicate), and they fail when Affinity cannot be reached.
    let client = &client.uncached();
    // One write at a time: the second of a double click decides on the first one's effect.
    let _turn = client.account().one_write_at_a_time().await;
    let done = write(client, target, action).await;
    // Without API v2's whoami (whose grant says whether the key writes), a 403 makes the key
    // read-only for the card (no controls, for a day); a write that went through says it may
    // write. With it, a 403 is about that list or field only, and the controls stay.
    if client.account().capability(Feature::Whoami) == Some(false) {
        client.account().learn_write(&done, unix_ms());
    }
    done
}

async fn write<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Option<Target>,
    action: &Action,
) -> Result<Outcome, Error> {
    let need_target =
        || target.ok_or_else(|| Error::Invalid { status: 0, message: "this action needs a matched entity".to_owned() });
    match action {
        Action::AddToList { list_id } => add_to_list(client, need_target()?, *list_id).await,
        Action::SetStatus { list_id, entry_id, status } => {
            set_status(client, need_target()?, *list_id, *entry_id, status).await
        }
        Action::SetField { list_id, entry_id, field_id, op, value, label } => {
            let at = FieldAt { target: need_target()?, list_id: *list_id, entry_id: *entry_id, field_id: *field_id };
            set_field(client, at, *op, value.as_ref(), label).await
        }
        Action::AddNote { content } => add_note(client, need_target()?, content).await,
        Action::CreateOrganization { name, domain } => create_organization(client, name, domain).await,
        Action::CreatePerson { first_name, last_name, organization_id, email } => {
            let person =
                NewPerson { first_name, last_name, organization_id: *organization_id, email: email.as_deref() };
            create_person(client, person).await
        }
    }
}

async fn list_named<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    list_id: i64,
) -> Result<List, Error> {
    let lists = client.execute(&endpoints::lists()).await?;
    lists.into_iter().find(|l| l.id == list_id).ok_or_else(|| Error::NotFound { message: format!("no list {list_id}") })
}

async fn entries_of<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Target,
) -> Result<Vec<ListEntryRef>, Error> {
    Ok(match target.kind {
        EntityKind::Organization => {
            client.execute(&endpoints::organization(target.id, DetailOptions::default())).await?.list_entries
        }
        EntityKind::Person => {
            client.execute(&endpoints::person(target.id, DetailOptions::default())).await?.list_entries
        }
    }
    .unwrap_or_default())
}

async fn add_to_list<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Target,
    list_id: i64,
) -> Result<Outcome, Error> {
    let (list, entries) = futures::join!(list_named(client, list_id), entries_of(client, target));
    let (list, entries) = (list?, entries?);
    if list_kind(&list) != Some(target.kind) {
        return Err(Error::Invalid { status: 0, message: format!("{} does not hold this kind of entity", list.name) });
    }
    if entries.iter().any(|e| e.list_id == list_id) {
        return Ok(Outcome::about(target, false, format!("Already on {}.", list.name)));
    }
    client.execute(&endpoints::create_list_entry(list_id, target.id)).await?;
    Ok(Outcome::about(target, true, format!("Added to {}.", list.name)))
}

async fn set_status<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Target,
    list_id: i64,
    entry_id: i64,
    status: &str,
) -> Result<Outcome, Error> {
    let (fields, values) = futures::join!(
        client.execute(&endpoints::fields(&FieldsQuery::default())),
        client.execute(&endpoints::field_values(EntityRef::ListEntry(entry_id)))
    );
    let (fields, values) = (fields?, values?);
    let field = status_field(&fields, list_id)
        .ok_or_else(|| Error::Invalid { status: 0, message: "this list has no Status field".to_owned() })?;
    let option = field
        .dropdown_options
        .iter()
        .find(|o| o.text == status)
        .ok_or_else(|| Error::Invalid { status: 0, message: format!("{status:?} is not a Status of this list") })?;
    // A ranked dropdown takes the option's id; a plain dropdown its text.
    let value = if field.value_type == ValueType::RANKED_DROPDOWN { json!(option.id) } else { json!(option.text) };
    let current: Option<&FieldValue> = values.iter().find(|v| v.field_id == field.id);
    let done = |changed| {
        let message = if changed { format!("Status set to {status}.") } else { format!("Status is already {status}.") };
        Outcome::about(target, changed, message)
    };
    match current {
        Some(v) if same_option(&v.value, option.id, &option.text) => Ok(done(false)),
        Some(v) => {
            client.execute(&endpoints::update_field_value(v.id, value)).await?;
            Ok(done(true))
        }
        None => {
            client.execute(&endpoints::create_field_value(field.id, target.id, value, Some(entry_id))).await?;
            Ok(done(true))
        }
    }
}

/// Whether a field value (an option object, an option id or a text) is this option.
fn same_option(value: &serde_json::Value, id: i64, text: &str) -> bool {
    match value {
        serde_json::Value::Object(o) => o.get("id").and_then(|v| v.as_i64()) == Some(id),
        serde_json::Value::Number(n) => n.as_i64() == Some(id),
        serde_json::Value::String(s) => s == text,
        _ => false,
    }
}

async fn add_note<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    target: Target,
    content: &str,
) -> Result<Outcome, Error> {
    let content = content.trim();
    if content.is_empty() {
        return Err(Error::Invalid { status: 0, message: "the note is empty".to_owned() });
    }
    let of = match target.kind {
        EntityKind::Organization => EntityRef::Organization(target.id),
        EntityKind::Person => EntityRef::Person(target.id),
    };
    let now = web_time::SystemTime::now().duration_since(web_time::SystemTime::UNIX_EPOCH).unwrap_or_default();
    let recent = |t: &Option<Timestamp>| {
        t.as_ref().is_some_and(|t| (now.as_secs() as i64 - t.0.timestamp()).abs() <= NOTE_RETRY_WINDOW_SECS)
    };
    let pages = client.pages(endpoints::notes(Some(of), Some(500))).take(MAX_NOTE_PAGES);
    let mut pages = std::pin::pin!(pages);
    while let Some(page) = pages.next().await {
        if page?.items.iter().any(|n| n.content.trim() == content && recent(&n.created_at)) {
            return Ok(Outcome::about(target, false, "This note was already added."));
        }
    }
    let (persons, orgs) = match target.kind {
        EntityKind::Organization => (vec![], vec![target.id]),
        EntityKind::Person => (vec![target.id], vec![]),
    };
    client.execute(&endpoints::create_note(content, &persons, &orgs, &[])).await?;
    Ok(Outcome::about(target, true, "Note added."))
}

// ---- a field of a list entry -------------------------------------------------------------

/// Which field of which list entry of which entity a write changes.
#[derive(Debug, Clone, Copy)]
struct FieldAt {
    target: Target,
    list_id: i64,
    entry_id: i64,
    field_id: i64,
}

/// Changes a field of a list entry, through API v2 where the key may, else v1. Either reads
/// the field's values first (from Affinity) and writes only what is not there yet: a retry or
/// a double click finds its earlier effect.
async fn set_field<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    at: FieldAt,
    op: FieldOp,
    value: Option<&FieldInput>,
    label: &str,
) -> Result<Outcome, Error> {
    // What cannot be a field's value is refused before any call.
    let refuse = |message: String| Err(Error::Invalid { status: 0, message });
    if op != FieldOp::Set && value.is_none() {
        return refuse("A value to add or remove is needed.".to_owned());
    }
    if let Some(Err(message)) = value.map(FieldInput::check) {
        return refuse(message);
    }
    let done = match set_field_v2(client, at, op, value).await {
        Some(done) => done?,
        None => set_field_v1(client, at, op, value).await?,
    };
    let (name, changed) = done;
    Ok(Outcome::about(at.target, changed, field_message(&name, op, label, changed)))
}

/// What a field's write says: "Source set to Referral.", "AI is already in Sectors.".
pub fn field_message(name: &str, op: FieldOp, label: &str, changed: bool) -> String {
    let label = if label.trim().is_empty() { "that" } else { label.trim() };
    match (op, changed) {
        (FieldOp::Set, true) if label == "that" => format!("{name} changed."),
        (FieldOp::Set, true) => format!("{name} set to {label}."),
        (FieldOp::Set, false) => format!("{name} is already {label}."),
        (FieldOp::Add, true) => format!("Added {label} to {name}."),
        (FieldOp::Add, false) => format!("{label} is already in {name}."),
        (FieldOp::Remove, true) => format!("Removed {label} from {name}."),
        (FieldOp::Remove, false) => format!("{label} is not in {name}."),
    }
}

/// Whether the field's values (`items`, in the card's shape) already are what `op` makes
/// them: then nothing is written.
fn already_done(items: &[serde_json::Value], op: FieldOp, value: Option<&FieldInput>) -> bool {
    let has = |v: &FieldInput| items.iter().any(|i| fields::same_item(i, v));
    match (op, value) {
        (FieldOp::Set, None) => items.is_empty(),
        (FieldOp::Set, Some(v)) => items.len() == 1 && has(v),
        (FieldOp::Add, Some(v)) => has(v),
        (FieldOp::Remove, Some(v)) => !has(v),
        (_, None) => true,
    }
}

/// A value of the wrong kind for the field (text for a number): refused without a write.
fn misfit(name: &str, value_type: &str, value: Option<&FieldInput>) -> Option<Error> {
    let value = value?;
    (!value.fits(value_type)).then(|| Error::Invalid {
        status: 0,
        message: format!("{name} cannot take that value (it holds {value_type})."),
    })
}

/// Multi-valued fields v2 reads are cut at this many values: past it, v2 cannot write the
/// whole value back, and v1 adds or removes the one value.
const V2_MULTI_CUT: usize = 100;

/// v2: reads the field (`…/fields/{id}`), then writes its whole value. `None`: the key has
/// no v2 for it (v1 is asked instead).
async fn set_field_v2<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    at: FieldAt,
    op: FieldOp,
    value: Option<&FieldInput>,
) -> Option<Result<(String, bool), Error>> {
    let id = format!("field-{}", at.field_id);
    let read = client.execute(&v2::endpoints::list_entry_field(at.list_id, at.entry_id, &id));
    let field = match via_v2(client, Feature::EntryFields, read).await? {
        Ok(field) => field,
        Err(e) => return Some(Err(e)),
    };
    let value_type = field.value.value_type.clone();
    if let Some(e) = misfit(&field.name, &value_type, value) {
        return Some(Err(e));
    }
    let items = fields::items(&fields::v2_value(&field));
    if already_done(&items, op, value) {
        return Some(Ok((field.name, false)));
    }
    if op != FieldOp::Set && items.len() >= V2_MULTI_CUT {
        return None;
    }
    let item_type = fields::item_type(&value_type);
    let kept = |i: &&serde_json::Value| op == FieldOp::Add || !value.is_some_and(|v| fields::same_item(i, v));
    let mut data: Vec<serde_json::Value> = match op {
        FieldOp::Set => Vec::new(),
        _ => items.iter().filter(kept).filter_map(|i| fields::v2_data_of_item(item_type, i)).collect(),
    };
    if let (FieldOp::Set | FieldOp::Add, Some(v)) = (op, value) {
        data.push(fields::v2_data(v));
    }
    let data = match (fields::is_multi(&value_type), data.len()) {
        (true, 0) | (false, 0) => serde_json::Value::Null,
        (true, _) => serde_json::Value::Array(data),
        (false, _) => data.remove(0),
    };
    let write =
        v2::endpoints::set_list_entry_field(at.list_id, at.entry_id, &id, json!({ "type": value_type, "data": data }));
    Some(client.execute(&write).await.map(|()| (field.name, true)))
}

/// v1: reads the entry's values of the field, then creates, updates or deletes one.
async fn set_field_v1<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    at: FieldAt,
    op: FieldOp,
    value: Option<&FieldInput>,
) -> Result<(String, bool), Error> {
    let (_, all) = crate::lookup::lists_and_fields(client).await?;
    let field = (all.iter().find(|f| f.id == at.field_id && f.list_id == Some(at.list_id)))
        .ok_or_else(|| Error::Invalid { status: 0, message: "This list has no such field.".to_owned() })?;
    if let Some(e) = misfit(&field.name, fields::value_type(field), value) {
        return Err(e);
    }
    let values = client.execute(&endpoints::field_values(EntityRef::ListEntry(at.entry_id))).await?;
    let mine: Vec<&FieldValue> = values.iter().filter(|v| v.field_id == field.id).collect();
    let is = |v: &FieldValue, input: &FieldInput| fields::v1_is(field, &v.value, input);
    let same: Vec<&FieldValue> =
        value.map(|input| mine.iter().copied().filter(|v| is(v, input)).collect()).unwrap_or_default();
    let data = match value {
        Some(input) => Some(fields::v1_data(field, input).ok_or_else(|| Error::Invalid {
            status: 0,
            message: format!("that is not an option of {}", field.name),
        })?),
        None => None,
    };
    let create =
        |data: serde_json::Value| endpoints::create_field_value(field.id, at.target.id, data, Some(at.entry_id));
    let done = |changed| Ok((field.name.clone(), changed));
    match (op, data) {
        (FieldOp::Add, None) => done(false),
        (FieldOp::Add, Some(_)) if !same.is_empty() => done(false),
        (FieldOp::Add, Some(data)) => client.execute(&create(data)).await.and_then(|_| done(true)),
        (FieldOp::Remove, _) => match same.first() {
            None => done(false),
            Some(v) => client.execute(&endpoints::delete_field_value(v.id)).await.and_then(|_| done(true)),
        },
        (FieldOp::Set, None) if mine.is_empty() => done(false),
        (FieldOp::Set, Some(_)) if mine.len() == 1 && same.len() == 1 => done(false),
        (FieldOp::Set, data) => {
            // A single value changes in place; extra values (there should be none) go.
            let (keep, extra) = match (&data, mine.split_first()) {
                (Some(_), Some((first, rest))) => (Some(*first), rest.to_vec()),
                _ => (None, mine.clone()),
            };
            for v in extra {
                client.execute(&endpoints::delete_field_value(v.id)).await?;
            }
            match (keep, data) {
                (Some(v), Some(data)) => {
                    client.execute(&endpoints::update_field_value(v.id, data)).await.map(|_| ())?
                }
                (None, Some(data)) => client.execute(&create(data)).await.map(|_| ())?,
                _ => {}
            }
            done(true)
        }
    }
}

async fn create_organization<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    name: &str,
    domain: &str,
) -> Result<Outcome, Error> {
    let (name, domain) = (name.trim(), domain.trim().to_lowercase());
    if name.is_empty() {
        return Err(Error::Invalid { status: 0, message: "the organization needs a name".to_owned() });
    }
    if !domain.is_empty() {
        let pages = client.pages(endpoints::search_organizations(&SearchQuery::term(&domain))).take(3);
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            if let Some(org) = page?.items.iter().find(|o| has_domain(o, &domain)) {
                let target = Target { kind: EntityKind::Organization, id: org.id };
                return Ok(Outcome::about(target, false, format!("{} is already in Affinity.", org.name)));
            }
        }
    }
    let domain = (!domain.is_empty()).then_some(domain.as_str());
    let org = client.execute(&endpoints::create_organization(name, domain, &[])).await?;
    let target = Target { kind: EntityKind::Organization, id: org.id };
    Ok(Outcome::about(target, true, format!("{} was added to Affinity.", org.name)))
}

/// Pages of a name search read to find an earlier attempt of a create.
const MAX_PERSON_PAGES: usize = 3;

/// A person to create.
struct NewPerson<'a> {
    first_name: &'a str,
    last_name: &'a str,
    organization_id: Option<i64>,
    email: Option<&'a str>,
}

async fn create_person<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    person: NewPerson<'_>,
) -> Result<Outcome, Error> {
    let NewPerson { first_name, last_name, organization_id, email } = person;
    let (first, last) = (first_name.trim(), last_name.trim());
    if first.is_empty() || last.is_empty() {
        return Err(Error::Invalid { status: 0, message: "the person needs a first and a last name".to_owned() });
    }
    let email = match email.map(|e| crate::mail::email_address(e).ok_or(e)) {
        None => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return Err(Error::Invalid { status: 0, message: format!("{e:?} is not an email address") }),
    };
    let name = format!("{first} {last}");
    if let Some(id) = already_there(client, &name, email.as_deref(), organization_id).await? {
        return Ok(Outcome {
            changed: false,
            message: format!("{name} is already in Affinity."),
            target: Some(Target { kind: EntityKind::Person, id }),
        });
    }
    let emails: Vec<String> = email.into_iter().collect();
    let orgs: Vec<i64> = organization_id.into_iter().collect();
    let person = client.execute(&endpoints::create_person(first, last, &emails, &orgs)).await?;
    Ok(Outcome {
        changed: true,
        message: format!("{} was added to Affinity.", person.name()),
        target: Some(Target { kind: EntityKind::Person, id: person.id }),
    })
}

/// A person created already: one with this address (the card offered to create them because
/// nobody had it, so one found now is an earlier attempt: a double click, a retry after a
/// lost answer, another tab); without an address, one of this name (at this organization,
/// when one is given).
async fn already_there<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    name: &str,
    email: Option<&str>,
    organization_id: Option<i64>,
) -> Result<Option<i64>, Error> {
    if let Some(email) = email {
        let found = client.execute(&endpoints::search_persons(&SearchQuery::term(email))).await?;
        return Ok(found.items.iter().find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email))).map(|p| p.id));
    }
    let pages = client.pages(endpoints::search_persons(&SearchQuery::term(name))).take(MAX_PERSON_PAGES);
    let mut pages = std::pin::pin!(pages);
    let mut namesakes = Vec::new();
    while let Some(page) = pages.next().await {
        namesakes.extend(page?.items.into_iter().filter(|p| p.name().eq_ignore_ascii_case(name)).map(|p| p.id));
    }
    for id in namesakes {
        let there = match organization_id {
            None => true,
            Some(org) => client
                .execute(&endpoints::person(id, DetailOptions::default()))
                .await?
                .organization_ids
                .unwrap_or_default()
                .contains(&org),
        };
        if there {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_the_card_sends_them() {
        let a: Action = serde_json::from_value(
            json!({"action": "set_status", "list_id": 10, "entry_id": 5, "status": "Diligence"}),
        )
        .unwrap();
        assert_eq!(a, Action::SetStatus { list_id: 10, entry_id: 5, status: "Diligence".into() });
        let a: Action =
            serde_json::from_value(json!({"action": "add_note", "content": "Met at the conference"})).unwrap();
        assert_eq!(a, Action::AddNote { content: "Met at the conference".into() });
        let a: Action = serde_json::from_value(
            json!({"action": "create_person", "first_name": "Quinn", "last_name": "Harlow", "organization_id": 7}),
        )
        .unwrap();
        assert_eq!(
            a,
            Action::CreatePerson {
                first_name: "Quinn".into(),
                last_name: "Harlow".into(),
                organization_id: Some(7),
                email: None
            }
        );
    }

    #[test]
    fn an_option_is_recognised_in_every_shape() {
        assert!(same_option(&json!({"id": 3, "text": "Diligence"}), 3, "Diligence"));
        assert!(same_option(&json!(3), 3, "Diligence"));
        assert!(same_option(&json!("Diligence"), 3, "Diligence"));
        assert!(!same_option(&json!({"id": 4}), 3, "Diligence"));
        assert!(!same_option(&json!(null), 3, "Diligence"));
    }
}
