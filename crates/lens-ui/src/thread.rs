//! An email thread's card (`query.kind` `thread`): its external participants, each with the
//! person in Affinity (or "Add to Affinity"), their company's organization, its lists and
//! Status, and who on the team knows it best; "Show" opens the full card of a person or an
//! organization, as on other pages.

use lens_core::actions::Target;
use lens_core::card::{Card, CardEntity, PagePerson, ThreadPerson};
use leptos::prelude::*;

use crate::actions::{ActionProps, create_person_form};
use crate::card::affinity_link;

/// The participants' section of a thread's card.
pub(crate) fn thread_view(card: &Card, actions: Option<ActionProps>) -> impl IntoView + use<> {
    let rows = card.thread.clone().into_iter().map(|p| person_row(p, actions)).collect_view();
    let empty = card.thread.is_empty().then(|| {
        view! { <div class="lens-sub" data-testid="lens-thread-empty">"No one outside the firm on this thread."</div> }
    });
    view! { <div class="lens-section" data-testid="lens-thread"><h3>"On this thread"</h3>{rows}{empty}</div> }
}

/// A name linked to Affinity when the account's address is known.
fn entity_name(e: &CardEntity) -> AnyView {
    match e.affinity_url.as_deref().and_then(affinity_link).map(str::to_owned) {
        Some(href) => view! { <a href=href target="_blank" rel="noopener noreferrer">{e.name.clone()}</a> }.into_any(),
        None => view! { <span>{e.name.clone()}</span> }.into_any(),
    }
}

/// "Show": the entity's full card, as a candidate's.
fn show_button(e: &CardEntity, actions: Option<ActionProps>, testid: &'static str) -> Option<impl IntoView + use<>> {
    let target = Target { kind: e.kind, id: e.id };
    let label = format!("Show {}", e.name);
    actions.map(|a| {
        view! { <button type="button" class="lens-candidate-pick" data-testid=testid aria-label=label
        on:click=move |_| a.on_action.run(crate::CardAction::Pick { pick: target })>"Show"</button> }
    })
}

fn person_row(p: ThreadPerson, actions: Option<ActionProps>) -> impl IntoView {
    let shown_name = p.person.as_ref().map(|e| e.name.clone()).or(p.name.clone()).unwrap_or_else(|| p.email.clone());
    let who = match &p.person {
        Some(e) => {
            let show = show_button(e, actions, "lens-thread-show-person");
            view! { <span class="lens-grow">{entity_name(e)}</span><span class="lens-num">{p.email.clone()}</span>{show} }.into_any()
        }
        None => view! {
            <span class="lens-grow">{shown_name.clone()}</span><span class="lens-num">{p.email.clone()}</span>
        }
        .into_any(),
    };
    let known = if p.person.is_some() { "In Affinity" } else { "Not in Affinity" };
    let company = match (&p.organization, &p.company_domain) {
        (Some(org), _) => {
            let statuses = p
                .lists
                .iter()
                .filter_map(|l| {
                    let s = l.status.as_ref()?;
                    let title = l.list_name.clone();
                    Some(view! { <span class="lens-pill" data-testid="lens-list-status" data-color=s.color.to_string() title=title>{s.text.clone()}</span> })
                })
                .collect_view();
            let lists = p.lists.iter().map(|l| l.list_name.clone()).collect::<Vec<_>>().join(", ");
            let show = show_button(org, actions, "lens-thread-show-organization");
            view! {
                <div class="lens-row" data-testid="lens-thread-organization" data-domain=p.company_domain.clone().unwrap_or_default()>
                    <span class="lens-grow">{entity_name(org)}<span class="lens-num">{(!lists.is_empty()).then(|| format!(" · {lists}"))}</span></span>
                    {statuses}{show}
                </div>
            }
            .into_any()
        }
        (None, Some(domain)) => view! {
            <div class="lens-sub" data-testid="lens-thread-no-organization">{format!("{domain}: no organization in Affinity")}</div>
        }
        .into_any(),
        (None, None) => {
            view! { <div class="lens-sub" data-testid="lens-thread-free-mail">"A personal address: no company by it"</div> }
                .into_any()
        }
    };
    let connection = p.connection.as_ref().map(|c| {
        let text = format!("{} knows {} best ({:.2})", c.colleague.name, c.contact.name, c.strength);
        view! { <div class="lens-sub" data-testid="lens-thread-connection">{text}</div> }
    });
    let create = match (&p.person, actions) {
        (None, Some(props)) => {
            let person = PagePerson {
                name: shown_name,
                company: p.company_domain.clone(),
                organization: p.organization.clone(),
            };
            Some(create_person_form(person, Some(p.email.clone()), props, props.busy()))
        }
        _ => None,
    };
    view! {
        <div class="lens-thread-person" data-testid="lens-thread-person" data-email=p.email.clone() data-known=known>
            <div class="lens-row">{who}</div>
            <div class="lens-sub" data-testid="lens-thread-known">{known}</div>
            {company}
            {connection}
            {create}
        </div>
    }
}
