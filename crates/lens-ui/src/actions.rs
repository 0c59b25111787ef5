//! What the user can do from the card: add to a list, set Status, add a note, create the
//! organization or the person, pick one of several matches. The card only asks (a [`CardAction`] to its
//! `on_action`); whoever mounted it performs the write and answers with a [`Notice`].

use lens_core::actions::{Action, CompanyChoice, ListChoice, Target};
use lens_core::card::{PagePerson, PersonRef};
use lens_core::fields::FieldOp;
use lens_core::{Card, CardStatus, EntityKind, QueryKind};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the card asks its host to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CardAction {
    /// A write, about the card's entity (`target`, none for creating one).
    Write { target: Option<Target>, action: Action },
    /// Show the card of this candidate of an ambiguous match.
    Pick { pick: Target },
    /// Find the companies whose name or domain starts with this (an organization field's
    /// picker); the host answers with `setCompanies`.
    Find { find: String },
}

/// The answer to an action: in progress, done, or failed; shown under the card's actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
    /// While the write runs (the action buttons are disabled meanwhile).
    #[serde(default)]
    pub pending: bool,
}

/// Whether the card's writes may go ahead, as its host can tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteGuard {
    /// The card is where the user is (the toolbar popup), or the browser says the frame is
    /// visible and unobscured (its host may still hold a click that comes too soon after
    /// the frame or the card moved: `mountCard`'s `onAction` then answers `false`).
    #[default]
    Allowed,
    /// The browser says the frame is faded, covered or transformed by the page: no write.
    Hidden,
    /// The browser cannot tell (Firefox): each write asks for a confirmation in the card,
    /// given with a key on its Confirm button (a page cannot send key presses into the
    /// card's frame, but it can have the user click in it, faded or covered).
    Confirm,
}

/// How the card reaches its host and hears back.
#[derive(Clone, Copy)]
pub struct ActionProps {
    pub on_action: Callback<CardAction>,
    pub choices: Signal<Vec<ListChoice>>,
    pub notice: Signal<Option<Notice>>,
    /// Whether writes may go ahead now.
    pub guard: Signal<WriteGuard>,
    /// A write waiting for the user's confirmation ([`WriteGuard::Confirm`]).
    pub confirm: RwSignal<Option<(Option<Target>, Action)>>,
    /// The team: whom a person field may name.
    pub people: Signal<Vec<PersonRef>>,
    /// The companies found for the last [`CardAction::Find`].
    pub companies: Signal<Vec<CompanyChoice>>,
}

impl ActionProps {
    /// Props with writes allowed and nothing to confirm.
    pub fn new(
        on_action: Callback<CardAction>,
        choices: Signal<Vec<ListChoice>>,
        notice: Signal<Option<Notice>>,
        guard: Signal<WriteGuard>,
    ) -> ActionProps {
        ActionProps {
            on_action,
            choices,
            notice,
            guard,
            confirm: RwSignal::new(None),
            people: Signal::stored(Vec::new()),
            companies: Signal::stored(Vec::new()),
        }
    }

    /// Buttons are off while a write runs, while one waits for its confirmation, and while
    /// the frame is not visible.
    pub(crate) fn busy(self) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
        let (notice, guard, confirm) = (self.notice, self.guard, self.confirm);
        move || {
            notice.get().is_some_and(|n| n.pending)
                || guard.get() == WriteGuard::Hidden
                || confirm.with(Option::is_some)
        }
    }

    /// A write the user asked for: sent, held for confirmation, or dropped while the card
    /// cannot be seen.
    pub(crate) fn write(self, target: Option<Target>, action: Action) {
        match self.guard.get_untracked() {
            WriteGuard::Allowed => self.on_action.run(CardAction::Write { target, action }),
            WriteGuard::Confirm => self.confirm.set(Some((target, action))),
            WriteGuard::Hidden => {}
        }
    }
}

/// What the card says while a write runs.
pub fn pending_text(action: &Action) -> String {
    match action {
        Action::AddToList { .. } => "Adding to the list…".to_owned(),
        Action::SetStatus { status, .. } => format!("Setting the Status to {status}…"),
        Action::AddNote { .. } => "Saving the note…".to_owned(),
        Action::SetField { op: FieldOp::Add, label, .. } => format!("Adding {label}…"),
        Action::SetField { op: FieldOp::Remove, label, .. } => format!("Removing {label}…"),
        Action::SetField { .. } => "Saving the field…".to_owned(),
        Action::CreateOrganization { name, .. } => format!("Adding {name} to Affinity…"),
        Action::CreatePerson { first_name, last_name, .. } => {
            format!("Adding {} to Affinity…", format!("{first_name} {last_name}").trim())
        }
    }
}

/// The question a write asks before it goes ahead, where the browser cannot tell whether
/// the card is visible; `lists` names the list of an add.
pub fn confirm_text(action: &Action, lists: &[ListChoice]) -> String {
    match action {
        Action::AddToList { list_id } => match lists.iter().find(|l| l.id == *list_id) {
            Some(l) => format!("Add to {}?", l.name),
            None => "Add to the list?".to_owned(),
        },
        Action::SetStatus { status, .. } => format!("Set the Status to {status}?"),
        Action::AddNote { .. } => "Save this note in Affinity?".to_owned(),
        Action::SetField { op: FieldOp::Set, value: None, .. } => "Clear this field in Affinity?".to_owned(),
        Action::SetField { op: FieldOp::Set, label, .. } => format!("Change this field to {label}?"),
        Action::SetField { op: FieldOp::Add, label, .. } => format!("Add {label} to this field?"),
        Action::SetField { op: FieldOp::Remove, label, .. } => format!("Remove {label} from this field?"),
        Action::CreateOrganization { name, .. } => format!("Create {name} in Affinity?"),
        Action::CreatePerson { first_name, last_name, .. } => {
            format!("Create {} in Affinity?", format!("{first_name} {last_name}").trim())
        }
    }
}

pub(crate) fn target_of(card: &Card) -> Option<Target> {
    card.entity.as_ref().map(|e| Target { kind: e.kind, id: e.id })
}

/// A name to offer for a domain nobody has added: "unknown-startup.io" → "Unknown Startup".
fn name_from_domain(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or(domain);
    label
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Status select of one list entry (only for lists with a Status field).
pub(crate) fn status_select(
    props: ActionProps,
    target: Target,
    list_id: i64,
    entry_id: i64,
    current: Option<String>,
    list_name: String,
) -> impl IntoView {
    let busy = props.busy();
    move || {
        let choice = props.choices.get().into_iter().find(|c| c.id == list_id)?;
        if choice.statuses.is_empty() {
            return None;
        }
        // The current Status shows in its pill beside this; here it cannot be chosen again.
        let options = choice
            .statuses
            .into_iter()
            .map(|s| {
                let current = current.as_deref() == Some(s.text.as_str());
                view! { <option value=s.text.clone() disabled=current>{s.text.clone()}</option> }
            })
            .collect_view();
        let label = format!("Change the Status in {list_name}");
        let prompt = if current.is_some() { "Change…" } else { "Set status…" };
        let on_change = move |ev: leptos::ev::Event| {
            let status = event_target_value(&ev);
            // Back to the prompt: the pill shows the Status once Affinity has it.
            event_target::<leptos::web_sys::HtmlSelectElement>(&ev).set_value("");
            if !status.is_empty() {
                props.write(Some(target), Action::SetStatus { list_id, entry_id, status });
            }
        };
        Some(view! {
            <select class="lens-select" data-testid="lens-set-status" aria-label=label
                prop:disabled=busy on:change=on_change>
                <option value="" selected=true>{prompt}</option>
                {options}
            </select>
        })
    }
}

/// The card's action forms, after its content.
pub(crate) fn actions_view(card: &Card, props: ActionProps) -> impl IntoView + use<> {
    let busy = props.busy();
    let confirm = move || {
        let (target, action) = props.confirm.get()?;
        let question = confirm_text(&action, &props.choices.get());
        let label = question.clone();
        // Enter or Space only: a click on Confirm does nothing.
        let go = move |ev: leptos::ev::KeyboardEvent| {
            if ev.is_trusted() && !ev.repeat() && matches!(ev.key().as_str(), "Enter" | " ") {
                ev.prevent_default();
                props.confirm.set(None);
                props.on_action.run(CardAction::Write { target, action: action.clone() });
            }
        };
        Some(view! {
            <div class="lens-confirm" data-testid="lens-confirm" role="alertdialog" aria-label=label>
                <span>{question}</span>
                <span class="lens-sub">"Press Enter on Confirm: a click is not enough here."</span>
                <span class="lens-confirm-buttons">
                    <button type="button" class="lens-secondary" data-testid="lens-confirm-cancel"
                        on:click=move |_| props.confirm.set(None)>"Cancel"</button>
                    <button type="button" data-testid="lens-confirm-yes" on:keydown=go>"Confirm"</button>
                </span>
            </div>
        })
    };
    let hidden = move || {
        (props.guard.get() == WriteGuard::Hidden).then(|| {
            view! { <div class="lens-notice lens-fail" data-testid="lens-writes-off">"Writes are off while the page covers or fades this card."</div> }
        })
    };
    let notice = move || {
        props.notice.get().map(|n| {
            let class = if n.pending {
                "lens-notice"
            } else if n.ok {
                "lens-notice lens-ok"
            } else {
                "lens-notice lens-fail"
            };
            view! { <div class=class data-testid="lens-notice" role="status">{n.text}</div> }
        })
    };
    let forms = match (card.status, target_of(card)) {
        (CardStatus::Matched, Some(target)) => {
            Some(matched_forms(target, card.lists.iter().map(|l| l.list_id).collect(), props, busy).into_any())
        }
        (CardStatus::NotFound, _) if card.query.kind == QueryKind::Domain => {
            Some(create_form(card.query.value.clone(), props, busy).into_any())
        }
        (CardStatus::NotFound, _) if card.query.kind == QueryKind::LinkedinPerson => {
            card.page_person.clone().map(|person| create_person_form(person, None, props, busy).into_any())
        }
        // A thread's card: each participant's own form is in their row; here what a write says.
        _ if card.query.kind == QueryKind::Thread => Some(().into_any()),
        _ => None,
    };
    forms.map(|forms| view! { <div class="lens-section lens-actions">{forms}{confirm}{hidden}{notice}</div> })
}

fn matched_forms(
    target: Target,
    on_lists: Vec<i64>,
    props: ActionProps,
    busy: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let list_ref: NodeRef<leptos::html::Select> = NodeRef::new();
    let note_ref: NodeRef<leptos::html::Textarea> = NodeRef::new();
    let lists = move || {
        props
            .choices
            .get()
            .into_iter()
            .filter(|c| c.kind == target.kind)
            .map(|c| {
                let label = if on_lists.contains(&c.id) { format!("{} (already on it)", c.name) } else { c.name };
                view! { <option value=c.id.to_string()>{label}</option> }
            })
            .collect_view()
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The picker starts on no list: only a deliberate choice adds.
        let Some(list_id) = list_ref.get().and_then(|s| s.value().parse::<i64>().ok()) else { return };
        props.write(Some(target), Action::AddToList { list_id });
    };
    let note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let content = note_ref.get().map(|t| t.value()).unwrap_or_default();
        if !content.trim().is_empty() {
            props.write(Some(target), Action::AddNote { content });
        }
    };
    let kind = if target.kind == EntityKind::Person { "person" } else { "organization" };
    view! {
        <details class="lens-form" data-testid="lens-add-to-list">
            <summary>"Add to list"</summary>
            <form on:submit=add>
                <select class="lens-select" node_ref=list_ref aria-label=format!("List to add this {kind} to") required=true>
                    <option value="" selected=true disabled=true>"Pick a list…"</option>
                    {lists}
                </select>
                <button type="submit" prop:disabled=busy>"Add"</button>
            </form>
        </details>
        <details class="lens-form" data-testid="lens-add-note">
            <summary>"Add a note"</summary>
            <form on:submit=note>
                <textarea node_ref=note_ref rows="3" aria-label="Note" placeholder="What happened?"></textarea>
                <button type="submit" prop:disabled=busy>"Save note"</button>
            </form>
        </details>
    }
}

fn create_form(
    domain: String,
    props: ActionProps,
    busy: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let domain_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = name_ref.get().map(|i| i.value()).unwrap_or_default();
        let domain = domain_ref.get().map(|i| i.value()).unwrap_or_default();
        if !name.trim().is_empty() {
            props.write(None, Action::CreateOrganization { name, domain });
        }
    };
    view! {
        // Closed until the user opens it: a page that hides the overlay must not get a
        // write from two clicks on a decoy.
        <details class="lens-form" data-testid="lens-create">
            <summary>"Add to Affinity"</summary>
            <form on:submit=create>
                <input node_ref=name_ref aria-label="Organization name" value=name_from_domain(&domain) required=true />
                <input node_ref=domain_ref aria-label="Domain" value=domain />
                <button type="submit" prop:disabled=busy>"Create organization"</button>
            </form>
        </details>
    }
}

/// "Sri Lalitha Jeevanige" → ("Sri", "Lalitha Jeevanige"): a suggestion the user can change.
fn split_name(name: &str) -> (String, String) {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or_default().to_owned();
    (first, words.collect::<Vec<_>>().join(" "))
}

/// "Add to Affinity" for a person the card found nobody for (a LinkedIn profile, an email
/// thread's participant, with their `email`): first and last name suggested, editable.
pub(crate) fn create_person_form(
    person: PagePerson,
    email: Option<String>,
    props: ActionProps,
    busy: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let first_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let last_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let (first, last) = split_name(&person.name);
    let organization = person.organization.clone();
    let organization_id = organization.as_ref().map(|o| o.id);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let first_name = first_ref.get().map(|i| i.value()).unwrap_or_default();
        let last_name = last_ref.get().map(|i| i.value()).unwrap_or_default();
        if !first_name.trim().is_empty() && !last_name.trim().is_empty() {
            props.write(None, Action::CreatePerson { first_name, last_name, organization_id, email: email.clone() });
        }
    };
    let at = match (&organization, &person.company) {
        (Some(org), _) => format!("At {} (in Affinity)", org.name),
        (None, Some(company)) => format!("{company} is not in Affinity: the person is added without it"),
        (None, None) => String::new(),
    };
    view! {
        // Closed until the user opens it, like the organization's.
        <details class="lens-form" data-testid="lens-create-person">
            <summary>"Add to Affinity"</summary>
            <form on:submit=create>
                <input node_ref=first_ref aria-label="First name" value=first required=true />
                <input node_ref=last_ref aria-label="Last name" value=last required=true />
                {(!at.is_empty()).then(|| view! { <div class="lens-sub" data-testid="lens-create-person-organization">{at}</div> })}
                <button type="submit" prop:disabled=busy>"Create person"</button>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_suggests_first_and_last() {
        assert_eq!(split_name("Sri Lalitha Jeevanige"), ("Sri".into(), "Lalitha Jeevanige".into()));
        assert_eq!(split_name("  Ottoline   Varga "), ("Ottoline".into(), "Varga".into()));
        assert_eq!(split_name("Madonna"), ("Madonna".into(), String::new()));
    }

    #[test]
    fn a_domain_suggests_a_name() {
        assert_eq!(name_from_domain("unknown-startup.io"), "Unknown Startup");
        assert_eq!(name_from_domain("acme.co.uk"), "Acme");
    }

    #[test]
    fn every_write_says_what_it_does_and_asks_in_words() {
        let lists =
            vec![ListChoice { id: 10, name: "Deal Pipeline".into(), kind: EntityKind::Organization, statuses: vec![] }];
        let cases = [
            (Action::AddToList { list_id: 10 }, "Adding to the list…", "Add to Deal Pipeline?"),
            (
                Action::SetStatus { list_id: 10, entry_id: 1, status: "Diligence".into() },
                "Setting the Status to Diligence…",
                "Set the Status to Diligence?",
            ),
            (Action::AddNote { content: "x".into() }, "Saving the note…", "Save this note in Affinity?"),
            (
                Action::CreateOrganization { name: "Brand New Co".into(), domain: "b.test".into() },
                "Adding Brand New Co to Affinity…",
                "Create Brand New Co in Affinity?",
            ),
            (
                Action::CreatePerson {
                    first_name: "Zoë".into(),
                    last_name: "Ångström".into(),
                    organization_id: None,
                    email: None,
                },
                "Adding Zoë Ångström to Affinity…",
                "Create Zoë Ångström in Affinity?",
            ),
        ];
        for (action, pending, question) in cases {
            assert_eq!(pending_text(&action), pending);
            assert_eq!(confirm_text(&action, &lists), question);
        }
        assert_eq!(confirm_text(&Action::AddToList { list_id: 99 }, &lists), "Add to the list?");
    }

    #[test]
    fn write_guards_read_as_the_host_sends_them() {
        for (g, s) in
            [(WriteGuard::Allowed, "allowed"), (WriteGuard::Hidden, "hidden"), (WriteGuard::Confirm, "confirm")]
        {
            assert_eq!(serde_json::to_value(g).unwrap(), serde_json::json!(s));
        }
    }

    #[test]
    fn actions_reach_javascript_in_the_shapes_the_background_reads() {
        let w = CardAction::Write {
            target: Some(Target { kind: EntityKind::Organization, id: 7 }),
            action: Action::AddToList { list_id: 10 },
        };
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"target": {"kind": "organization", "id": 7}, "action": {"action": "add_to_list", "list_id": 10}})
        );
        let p = CardAction::Pick { pick: Target { kind: EntityKind::Person, id: 3 } };
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"pick": {"kind": "person", "id": 3}}));
    }
}
