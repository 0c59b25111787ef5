//! The card and its states.

use affinity_core::{Card, CardStatus};
use leptos::prelude::*;

/// What the card shows: still loading, a card, or a failure before any card existed.
#[derive(Debug, Clone, PartialEq)]
pub enum CardState {
    /// Waiting for the background (the caller enforces the time limit).
    Loading,
    /// A card arrived.
    Ready(Box<Card>),
    /// No card could be had (the extension could not reach its background, say).
    Failed(String),
}

/// The card's own styles: inside its view, so they land in whichever shadow root or
/// document it is mounted in. Sizes in px: `rem` is not isolated by shadow DOM.
const STYLE: &str = r#"
.lens-card { font: 13px/1.4 var(--affinity-card-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  color: var(--affinity-card-color, #1d2433); background: var(--affinity-card-background, #fff);
  border: 1px solid var(--affinity-card-border, #d8dde6); border-radius: var(--affinity-card-radius, 10px); padding: 12px 14px; box-sizing: border-box;
  box-shadow: 0 4px 16px rgba(0,0,0,.12); min-width: 240px; }
.lens-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.lens-name { font-size: 15px; font-weight: 600; margin: 0; overflow-wrap: anywhere; }
.lens-status { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: #5b6577; }
.lens-status[data-status="matched"] { color: #1a7f37; }
.lens-status[data-status="error"] { color: #b42318; }
.lens-domains { color: #5b6577; font-size: 12px; margin-top: 2px; }
.lens-error { color: #b42318; margin-top: 6px; }
@media (prefers-color-scheme: dark) {
  .lens-card { background: #1e222b; color: #e6e9ef; border-color: #3a4150; }
  .lens-status, .lens-domains { color: #a3acbd; }
}
"#;

fn status_label(status: CardStatus) -> &'static str {
    match status {
        CardStatus::Matched => "In Affinity",
        CardStatus::Ambiguous => "Several matches",
        CardStatus::NotFound => "Not in Affinity",
        CardStatus::Ignored => "Not looked up",
        CardStatus::Error => "Error",
    }
}

fn status_key(status: CardStatus) -> &'static str {
    match status {
        CardStatus::Matched => "matched",
        CardStatus::Ambiguous => "ambiguous",
        CardStatus::NotFound => "not_found",
        CardStatus::Ignored => "ignored",
        CardStatus::Error => "error",
    }
}

/// The card. Everything from the API is rendered as text, never as HTML.
#[component]
pub fn CardView(
    /// What to show; the card re-renders when it changes.
    #[prop(into)]
    state: Signal<CardState>,
) -> impl IntoView {
    let body = move || match state.get() {
        CardState::Loading => view! {
            <div class="lens-head">
                <span class="lens-status" data-testid="lens-status" data-status="loading">"Looking up…"</span>
            </div>
        }
        .into_any(),
        CardState::Failed(message) => view! {
            <div class="lens-head">
                <span class="lens-status" data-testid="lens-status" data-status="error">"Error"</span>
            </div>
            <div class="lens-error" data-testid="lens-error">{message}</div>
        }
        .into_any(),
        CardState::Ready(card) => {
            let name = card.entity.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| card.query.value.clone());
            let domains = card.entity.as_ref().map(|e| e.domains.join(", ")).unwrap_or_default();
            let error = card.error.as_ref().map(|e| e.message.clone());
            view! {
                <div class="lens-head">
                    <h2 class="lens-name" data-testid="lens-entity-name">{name}</h2>
                    <span class="lens-status" data-testid="lens-status" data-status=status_key(card.status)>
                        {status_label(card.status)}
                    </span>
                </div>
                <div class="lens-domains">{domains}</div>
                {error.map(|m| view! { <div class="lens-error" data-testid="lens-error">{m}</div> })}
            }
            .into_any()
        }
    };
    view! {
        <style>{STYLE}</style>
        <section class="lens-card" data-testid="lens-card" aria-live="polite">{body}</section>
    }
}
