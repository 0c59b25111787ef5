//! A list entry's fields on the card: each field's value and, where the card may change it
//! (the key may write, the card has a control for its type, and the host takes writes), a
//! control for its type. What the user types is checked ([`parse_input`]) before anything
//! is sent: "abc" in a number field is refused here, with no call.

use lens_core::actions::{Action, Target};
use lens_core::card::{CardField, EntryFields};
use lens_core::fields::{FieldInput, FieldOp, is_multi, item_type, items, parse_input};
use leptos::prelude::*;
use serde_json::Value;

use crate::actions::ActionProps;

/// The text of a value (or of one item of a multi-valued one), numbers in the user's locale.
pub fn value_text(value_type: &str, value: &Value) -> String {
    lens_core::fields::value_text(value_type, value, &crate::locale::number)
}

/// Whether the card shows this field among the entry's fields: the Status has its own pill
/// and picker on the list's row.
fn shown(f: &CardField) -> bool {
    !lens_core::fields::is_status(&f.name)
}

/// Where a field is: the write's coordinates.
#[derive(Clone, Copy)]
struct At {
    target: Target,
    list_id: i64,
    entry_id: i64,
    field_id: i64,
}

impl At {
    fn write(self, props: ActionProps, op: FieldOp, value: Option<FieldInput>, label: String) {
        let (list_id, entry_id, field_id) = (self.list_id, self.entry_id, self.field_id);
        props.write(Some(self.target), Action::SetField { list_id, entry_id, field_id, op, value, label });
    }
}

/// The fields of one list entry (`None` when it has none to show), folded under a summary
/// unless `open` (the card's first entry: the card stays readable with many lists).
pub(crate) fn entry_fields(
    entry: EntryFields,
    write: Option<(ActionProps, Target)>,
    open: bool,
) -> Option<impl IntoView> {
    let rows: Vec<_> = entry
        .fields
        .into_iter()
        .filter(shown)
        .map(|f| {
            let at = write.map(|(props, target)| {
                (props, At { target, list_id: entry.list_id, entry_id: entry.entry_id, field_id: f.id })
            });
            field_row(f, at)
        })
        .collect();
    let summary = format!("Fields ({})", rows.len());
    (!rows.is_empty()).then(|| {
        view! {
            <details class="lens-fields" data-testid="lens-fields" open=open>
                <summary class="lens-fields-summary">{summary}</summary>
                {rows}
            </details>
        }
    })
}

fn field_row(f: CardField, write: Option<(ActionProps, At)>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let text = value_text(&f.value_type, &f.value);
    let empty = text.is_empty();
    let write = write.filter(|_| f.editable);
    let multi = is_multi(&f.value_type);
    // A multi-valued field's items each with a remove button; a single value as text.
    let value_view = match (multi, write) {
        (true, Some((props, at))) => {
            let busy = props.busy();
            items(&f.value)
                .into_iter()
                .map(|item| {
                    let label = value_text(&f.value_type, &item);
                    let input = input_of(item_type(&f.value_type), &item);
                    let aria = format!("Remove {label} from {}", f.name);
                    let remove = input.map(|input| {
                        let label = label.clone();
                        view! {
                            <button type="button" class="lens-chip-x" data-testid="lens-field-remove" aria-label=aria
                                prop:disabled=busy
                                on:click=move |_| at.write(props, FieldOp::Remove, Some(input.clone()), label.clone())>"×"</button>
                        }
                    });
                    view! { <span class="lens-chip">{label}{remove}</span> }
                })
                .collect_view()
                .into_any()
        }
        _ if empty => view! { <span class="lens-empty">"—"</span> }.into_any(),
        _ => view! { <span>{text.clone()}</span> }.into_any(),
    };
    let edit_button = write.map(|(props, _)| {
        let busy = props.busy();
        let (verb, testid) = if multi { ("Add to", "lens-field-add") } else { ("Edit", "lens-field-edit") };
        let aria = format!("{verb} {}", f.name);
        let glyph = if multi { "+" } else { "✎" };
        let title = aria.clone();
        view! {
            <button type="button" class="lens-field-button" data-testid=testid aria-label=aria title=title
                aria-expanded=move || editing.get().to_string() prop:disabled=busy
                on:click=move |_| { error.set(None); editing.update(|e| *e = !*e) }>{glyph}</button>
        }
    });
    let editor = write.map(|(props, at)| {
        let f = f.clone();
        move || editing.get().then(|| editor(f.clone(), props, at, editing, error))
    });
    let (name, key) = (f.name.clone(), f.name.clone());
    view! {
        <div class="lens-field" data-testid="lens-field" data-field=key data-type=f.value_type.clone()>
            <div class="lens-field-line">
                <span class="lens-field-name">{name}</span>
                <span class="lens-field-value" data-testid="lens-field-value">{value_view}</span>
                {edit_button}
            </div>
            {editor}
            {move || error.get().map(|m| view! { <div class="lens-notice lens-fail" data-testid="lens-field-error" role="alert">{m}</div> })}
        </div>
    }
}

/// A card value item back as what a write names (to remove it, to compare).
fn input_of(item_type: &str, item: &Value) -> Option<FieldInput> {
    let id = item.get("id").and_then(Value::as_i64);
    Some(match item_type {
        "dropdown" | "ranked-dropdown" => FieldInput::Option { id: id? },
        "person" => FieldInput::Person { id: id? },
        "company" => FieldInput::Company { id: id? },
        "number" => FieldInput::Number { number: item.as_f64()? },
        "datetime" => FieldInput::Date { date: item.as_str()?.get(..10)?.to_owned() },
        _ => FieldInput::Text { text: item.as_str()?.to_owned() },
    })
}

/// The control of one field, by its type.
fn editor(
    f: CardField,
    props: ActionProps,
    at: At,
    editing: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> AnyView {
    let op = if is_multi(&f.value_type) { FieldOp::Add } else { FieldOp::Set };
    let done = move |value: Option<FieldInput>, label: String| {
        error.set(None);
        editing.set(false);
        at.write(props, op, value, label);
    };
    let item = item_type(&f.value_type).to_owned();
    match item.as_str() {
        "dropdown" | "ranked-dropdown" => {
            let present = items(&f.value);
            let options: Vec<(String, String)> = f
                .options
                .iter()
                .filter(|o| !present.iter().any(|v| v.get("id").and_then(Value::as_i64) == Some(o.id)))
                .map(|o| (o.id.to_string(), o.text.clone()))
                .collect();
            picker(f.name, options, props, move |id, label| done(Some(FieldInput::Option { id }), label))
        }
        "person" => {
            let present: Vec<i64> =
                items(&f.value).iter().filter_map(|v| v.get("id").and_then(Value::as_i64)).collect();
            let name = f.name.clone();
            (move || {
                let options: Vec<(String, String)> = props
                    .people
                    .get()
                    .into_iter()
                    .filter(|p| !present.contains(&p.id))
                    .map(|p| (p.id.to_string(), p.name))
                    .collect();
                picker(name.clone(), options, props, move |id, label| done(Some(FieldInput::Person { id }), label))
            })
            .into_any()
        }
        "company" => company_finder(f.name, props, move |id, label| done(Some(FieldInput::Company { id }), label)),
        _ => typed(f, item, props, error, done),
    }
}

/// A select of `options` (value, label) and a Save button.
fn picker(
    name: String,
    options: Vec<(String, String)>,
    props: ActionProps,
    chosen: impl Fn(i64, String) + Copy + Send + Sync + 'static,
) -> AnyView {
    let busy = props.busy();
    let select: NodeRef<leptos::html::Select> = NodeRef::new();
    let labels = options.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = select.get().map(|s| s.value()) else { return };
        if let (Ok(n), Some((_, label))) = (id.parse::<i64>(), labels.iter().find(|(v, _)| *v == id)) {
            chosen(n, label.clone());
        }
    };
    let aria = format!("New value of {name}");
    let rows = options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view();
    view! {
        <form class="lens-field-editor" on:submit=save>
            <select class="lens-select" node_ref=select data-testid="lens-field-select" aria-label=aria required=true>
                <option value="" selected=true disabled=true>"Choose…"</option>
                {rows}
            </select>
            <button type="submit" data-testid="lens-field-save" prop:disabled=busy>"Save"</button>
        </form>
    }
    .into_any()
}

/// A search in the firm's index and a button per company found.
fn company_finder(
    name: String,
    props: ActionProps,
    chosen: impl Fn(i64, String) + Copy + Send + Sync + 'static,
) -> AnyView {
    let busy = props.busy();
    let typed = RwSignal::new(String::new());
    let on_input = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        typed.set(q.clone());
        if q.trim().chars().count() >= 2 {
            props.on_action.run(crate::CardAction::Find { find: q });
        }
    };
    let found = move || {
        (typed.with(|q| q.trim().chars().count() >= 2)).then(|| {
            props
                .companies
                .get()
                .into_iter()
                .map(|c| {
                    let label = match &c.domain {
                        Some(d) => format!("{} ({d})", c.name),
                        None => c.name.clone(),
                    };
                    let name = c.name.clone();
                    view! {
                        <button type="button" class="lens-secondary" data-testid="lens-field-company"
                            prop:disabled=busy on:click=move |_| chosen(c.id, name.clone())>{label}</button>
                    }
                })
                .collect_view()
        })
    };
    let aria = format!("Find a company for {name}");
    view! {
        <div class="lens-field-editor lens-field-finder">
            <input type="search" data-testid="lens-field-find" aria-label=aria placeholder="Company name or domain"
                on:input=on_input />
            <div class="lens-field-found">{found}</div>
        </div>
    }
    .into_any()
}

/// A text, number or date input and a Save button; what is typed is checked first.
fn typed(
    f: CardField,
    item: String,
    props: ActionProps,
    error: RwSignal<Option<String>>,
    done: impl Fn(Option<FieldInput>, String) + Copy + Send + Sync + 'static,
) -> AnyView {
    let busy = props.busy();
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    let current = match (&f.value, item.as_str()) {
        (Value::Null, _) => String::new(),
        (v, "datetime") => value_text(&f.value_type, v),
        // As typed: "7625000", not "7625000.0" nor the locale's grouping.
        (Value::Number(n), _) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            _ => n.to_string(),
        },
        (v, _) => value_text(&f.value_type, v),
    };
    let had_value = !f.value.is_null();
    let (name, value_type) = (f.name.clone(), f.value_type.clone());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let raw = input.get().map(|i| i.value()).unwrap_or_default();
        match parse_input(&name, &value_type, &raw) {
            Err(message) => error.set(Some(message)),
            Ok(None) if !had_value => error.set(Some(format!("{name} is empty already."))),
            Ok(None) => done(None, "nothing".to_owned()),
            Ok(Some(value)) => {
                let label = match &value {
                    FieldInput::Number { number } => crate::locale::number(*number),
                    FieldInput::Date { date } => date.clone(),
                    FieldInput::Text { text } if text.chars().count() <= 40 => format!("\"{text}\""),
                    _ => "that".to_owned(),
                };
                done(Some(value), label);
            }
        }
    };
    let kind = if item == "datetime" { "date" } else { "text" };
    let mode = if item == "number" { "decimal" } else { "text" };
    let aria = format!("New value of {}", f.name);
    view! {
        <form class="lens-field-editor" on:submit=save novalidate=true>
            <input node_ref=input type=kind inputmode=mode data-testid="lens-field-input" aria-label=aria value=current />
            <button type="submit" data-testid="lens-field-save" prop:disabled=busy>"Save"</button>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_text_whatever_their_type() {
        assert_eq!(value_text("number", &json!(7625000.0)), "7,625,000");
        assert_eq!(value_text("datetime", &json!("2027-01-15T08:00:00.000Z")), "2027-01-15");
        assert_eq!(value_text("ranked-dropdown", &json!({"id": 1, "text": "High", "color": 0})), "High");
        assert_eq!(
            value_text("person-multi", &json!([{"id": 1, "name": "Ben Okafor"}, {"id": 2, "name": "Mei Chen"}])),
            "Ben Okafor, Mei Chen"
        );
        assert_eq!(value_text("company", &json!({"id": 7, "name": "Globex", "domain": null})), "Globex");
        assert_eq!(value_text("text", &Value::Null), "");
        // A type the Lens does not know: its data as it came, as text (never markup).
        assert_eq!(value_text("interaction", &json!({"kind": "<b>x</b>"})), r#"{"kind":"<b>x</b>"}"#);
    }

    #[test]
    fn an_item_shown_is_the_value_a_removal_names() {
        assert_eq!(input_of("dropdown", &json!({"id": 5, "text": "AI"})), Some(FieldInput::Option { id: 5 }));
        assert_eq!(input_of("person", &json!({"id": 9, "name": "Ben"})), Some(FieldInput::Person { id: 9 }));
        assert_eq!(
            input_of("datetime", &json!("2027-01-15T08:00:00Z")),
            Some(FieldInput::Date { date: "2027-01-15".into() })
        );
        assert_eq!(input_of("company", &json!({"name": "no id"})), None);
    }
}
