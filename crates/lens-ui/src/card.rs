//! The card and its states.

use lens_core::card::{
    ActivityItem, CardListEntry, CardNote, Connection, EntryFields, Firmographics, MatchBasis, PagePerson,
};
use lens_core::{Card, CardError, ErrorKind};
use leptos::prelude::*;

use crate::actions::{ActionProps, actions_view, status_select, target_of};

/// What the card shows: still loading, a card, or a failure before any card existed.
#[derive(Debug, Clone, PartialEq)]
pub enum CardState {
    /// Waiting for the background (the caller enforces the time limit).
    Loading,
    /// A card arrived.
    Ready(Box<Card>),
    /// No card could be had (the extension could not reach its background, say).
    Failed(String),
    /// Not looked up, on purpose (the month's budget is low): the message says why; the
    /// refresh callback looks it up.
    Idle(String),
}

/// The card's own styles: inside its view, so they land in whichever shadow root or
/// document it is mounted in. Sizes in px: `rem` is not isolated by shadow DOM.
const STYLE: &str = concat!(
    r#"
.lens-card { font: 13px/1.4 var(--affinity-card-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  color: var(--affinity-card-color, #1d2433); background: var(--affinity-card-background, #fff);
  border: 1px solid var(--affinity-card-border, #d8dde6); border-radius: var(--affinity-card-radius, 10px);
  padding: 12px 14px; box-sizing: border-box; box-shadow: 0 4px 16px rgba(0,0,0,.12); min-width: 240px; max-width: 360px; }
.lens-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.lens-name { font-size: 15px; font-weight: 600; margin: 0; overflow-wrap: anywhere; }
.lens-name a, .lens-row a { color: inherit; text-decoration: none; } .lens-name a:hover, .lens-row a:hover { text-decoration: underline; }
.lens-status { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: #5b6577; white-space: nowrap; }
.lens-status[data-status="matched"] { color: #1a7f37; }
.lens-status[data-status="error"] { color: #b42318; }
.lens-sub { color: #5b6577; font-size: 12px; margin-top: 2px; overflow-wrap: anywhere; }
.lens-section { margin-top: 10px; }
.lens-section h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: #5b6577; margin: 0 0 4px; font-weight: 600; }
.lens-row { display: flex; align-items: center; gap: 6px; margin: 3px 0; }
.lens-row .lens-grow { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lens-bar { width: 56px; height: 6px; border-radius: 3px; background: #e6e9ef; overflow: hidden; flex: none; }
.lens-bar > span { display: block; height: 100%; background: #4f46e5; }
.lens-num { font-variant-numeric: tabular-nums; color: #5b6577; font-size: 12px; flex: none; }
.lens-pill { display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 11px; line-height: 18px; background: #eef0f4; color: #1d2433; }
.lens-pill[data-color="1"] { background: #dbeafe; } .lens-pill[data-color="2"] { background: #dcfce7; }
.lens-pill[data-color="3"] { background: #fef9c3; } .lens-pill[data-color="4"] { background: #ffedd5; }
.lens-pill[data-color="5"] { background: #fee2e2; } .lens-pill[data-color="6"] { background: #ede9fe; }
.lens-error { color: #b42318; margin-top: 6px; }
.lens-foot { display: flex; justify-content: space-between; align-items: center; margin-top: 10px; color: #8a93a6; font-size: 11px; }
.lens-foot button { font: inherit; border: 1px solid #d8dde6; background: transparent; color: inherit; border-radius: 6px; padding: 2px 8px; cursor: pointer; }
.lens-foot button:focus-visible { outline: 2px solid #4f46e5; outline-offset: 1px; }
.lens-stale { color: #b54708; }
.lens-tools { display: flex; gap: 2px; flex: none; }
.lens-tools button { border: 0; background: transparent; color: inherit; font: 16px/1 system-ui, sans-serif; width: 22px; height: 22px; border-radius: 4px; cursor: pointer; padding: 0; }
.lens-tools button:hover { background: rgba(127,127,127,.15); }
button:focus-visible, select:focus-visible, summary:focus-visible, textarea:focus-visible, input:focus-visible { outline: 2px solid #4f46e5; outline-offset: 1px; }
.lens-select { font: inherit; font-size: 11px; max-width: 120px; border: 1px solid #d8dde6; border-radius: 6px; background: transparent; color: inherit; }
.lens-actions details { margin: 4px 0; }
.lens-actions summary { cursor: pointer; color: #4f46e5; font-weight: 500; }
.lens-actions form { display: flex; flex-direction: column; gap: 6px; margin: 6px 0 2px; }
.lens-actions form .lens-select { max-width: none; font-size: 12px; padding: 3px; }
.lens-actions textarea, .lens-actions input { font: inherit; border: 1px solid #d8dde6; border-radius: 6px; padding: 4px 6px; background: transparent; color: inherit; resize: vertical; }
.lens-actions button { align-self: flex-start; font: inherit; border: 1px solid #4f46e5; background: #4f46e5; color: #fff; border-radius: 6px; padding: 3px 10px; cursor: pointer; }
.lens-actions button:disabled { opacity: .5; cursor: default; }
.lens-notice { margin-top: 6px; font-size: 12px; color: #5b6577; }
.lens-notice.lens-ok { color: #1a7f37; } .lens-notice.lens-fail { color: #b42318; }
.lens-confirm { margin-top: 6px; padding: 6px 8px; border: 1px solid #4f46e5; border-radius: 6px; display: flex; flex-direction: column; gap: 6px; }
.lens-confirm-buttons { display: flex; gap: 8px; justify-content: flex-end; }
.lens-actions button.lens-secondary { background: transparent; color: inherit; border-color: #d8dde6; }
.lens-candidate-pick { font: inherit; font-size: 11px; border: 1px solid #d8dde6; background: transparent; color: inherit; border-radius: 6px; cursor: pointer; }
.lens-firmographics { color: #1d2433; }
.lens-intro-row { margin: -2px 0 4px; font-size: 11px; }
.lens-intro, .lens-more { color: #4f46e5; text-decoration: none; font-size: 11px; } .lens-intro:hover, .lens-more:hover { text-decoration: underline; }
.lens-fields { margin: 2px 0 6px 8px; border-left: 2px solid #eef0f4; padding-left: 8px; }
.lens-field { margin: 2px 0; }
.lens-fields-summary { cursor: pointer; color: #5b6577; font-size: 11px; }
.lens-fields:not([open]) { margin-bottom: 2px; }
.lens-field-line { display: flex; align-items: baseline; gap: 6px; font-size: 12px; }
.lens-field-name { flex: 0 0 34%; color: #5b6577; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lens-field-value { flex: 1; min-width: 0; overflow-wrap: anywhere; display: flex; flex-wrap: wrap; gap: 3px; }
.lens-empty { color: #8a93a6; }
.lens-chip { display: inline-flex; align-items: center; gap: 2px; border-radius: 9px; padding: 0 6px; background: #eef0f4; font-size: 11px; line-height: 18px; }
.lens-chip-x, .lens-field-button { border: 0; background: transparent; color: #5b6577; cursor: pointer; padding: 0 2px; font: 12px/1 system-ui, sans-serif; border-radius: 4px; }
.lens-chip-x:hover, .lens-field-button:hover { background: rgba(127,127,127,.18); color: inherit; }
.lens-chip-x:disabled, .lens-field-button:disabled { opacity: .4; cursor: default; }
.lens-field-editor { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
.lens-field-editor input, .lens-field-editor .lens-select { flex: 1; min-width: 0; max-width: none; font: inherit; font-size: 12px; border: 1px solid #d8dde6; border-radius: 6px; padding: 2px 6px; background: transparent; color: inherit; }
.lens-field-editor button, .lens-field-found button { font: inherit; font-size: 12px; border: 1px solid #4f46e5; background: #4f46e5; color: #fff; border-radius: 6px; padding: 1px 8px; cursor: pointer; }
.lens-field-found { display: flex; flex-direction: column; align-items: flex-start; gap: 3px; width: 100%; }
.lens-field-found button { background: transparent; color: inherit; border-color: #d8dde6; text-align: left; }
.lens-field-editor button:disabled, .lens-field-found button:disabled { opacity: .5; cursor: default; }
.lens-note { margin: 4px 0 6px; }
.lens-note-text { font-size: 12px; white-space: pre-line; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
@media (prefers-color-scheme: dark) {
  .lens-firmographics { color: #e6e9ef; } .lens-chip { background: #2d3340; } .lens-fields { border-color: #3a4150; }
  .lens-intro, .lens-more { color: #a5b4fc; } .lens-field-editor input, .lens-field-editor .lens-select { border-color: #3a4150; }
  .lens-card { background: var(--affinity-card-background, #1e222b); color: var(--affinity-card-color, #e6e9ef); border-color: #3a4150; }
  .lens-status, .lens-sub, .lens-section h3, .lens-num { color: #a3acbd; }
  .lens-bar { background: #3a4150; } .lens-pill { background: #2d3340; color: #e6e9ef; }
  .lens-foot button, .lens-select, .lens-actions textarea, .lens-actions input, .lens-candidate-pick { border-color: #3a4150; }
  .lens-actions summary { color: #a5b4fc; }
}
"#,
    include_str!("pill.css")
);

use lens_core::pill::{checked_of, status_key, status_label};

/// What a person should read for an error kind of the Card contract (and of every failed
/// reply in the extension).
pub fn error_text(kind: &ErrorKind, message: &str, retry_at: Option<&str>) -> String {
    match kind.as_str() {
        "unauthorized" => "Affinity rejected the API key. Check it in the Lens options.".to_owned(),
        "forbidden" => "Your Affinity account may not see this.".to_owned(),
        "rate_limited" => match retry_at.and_then(card_date) {
            Some(t) => {
                let now = web_time::SystemTime::now()
                    .duration_since(web_time::SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default();
                let secs = (t.timestamp() - now).max(1);
                let utc = t.with_timezone(&chrono::Utc).format("%H:%M:%S UTC");
                format!("Affinity's rate limit was reached. Try again in {secs} s (at {utc}).")
            }
            None => "Affinity's rate limit was reached. The Lens will try again shortly.".to_owned(),
        },
        "unavailable" => "Affinity cannot be reached right now. Try again in a moment.".to_owned(),
        "bad_response" => format!("Affinity answered something the Lens could not read ({message})."),
        "no_key" => "Add your Affinity API key in the Lens options.".to_owned(),
        "expired" => "This card has expired: reload the page.".to_owned(),
        "budget_reserve" => {
            "The firm's Affinity budget for the month is nearly spent: only cards looked up before are shown."
                .to_owned()
        }
        _ => message.to_owned(),
    }
}

/// What a person should read for a failure.
pub fn failure_text(error: &CardError) -> String {
    error_text(&error.kind, &error.message, error.retry_at.as_deref())
}

/// What a match by name rests on, in words: "Matched on name and company (Initech)",
/// "Matched on name only". Matches by domain, email or id say nothing (they are exact).
pub fn match_basis_text(basis: MatchBasis, person: Option<&PagePerson>) -> Option<String> {
    match basis {
        MatchBasis::NameAndCompany => Some(match person.and_then(|p| p.company.as_deref()) {
            Some(company) => format!("Matched on name and company ({company})"),
            None => "Matched on name and company".to_owned(),
        }),
        MatchBasis::NameOnly => Some("Matched on name only".to_owned()),
        MatchBasis::Domain | MatchBasis::Email | MatchBasis::Id => None,
    }
}

/// `url` if it is a page of Affinity's web app (`https://<label>.affinity.co/…`), which the
/// card may link to; anything else (another host, `javascript:`, userinfo, a port) is not
/// a link: a card from a gateway or a cache must not put a phishing link in the Lens.
pub fn affinity_link(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let label = rest[..rest.find('/')?].strip_suffix(".affinity.co")?;
    let ok = !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then_some(url)
}

/// "7.6M", "250K", "900".
pub fn compact_amount(amount: f64) -> String {
    let a = amount.abs();
    if a >= 1e9 {
        format!("{:.1}B", amount / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", amount / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}K", amount / 1e3)
    } else {
        format!("{amount:.0}")
    }
}

/// A date of the Card (ISO 8601 with offset, as the Card contract writes them).
fn card_date(iso: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(iso).ok()
}

/// Whole days from an ISO date to now, if it parses.
fn days_since(iso: &str) -> Option<i64> {
    let t = card_date(iso)?;
    let now = web_time::SystemTime::now().duration_since(web_time::SystemTime::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(((now - t.timestamp()) / 86_400).max(0))
}

fn date_only(iso: &str) -> String {
    iso.get(..10).unwrap_or(iso).to_owned()
}

fn connection_row(c: Connection, company: Option<String>) -> impl IntoView {
    let pct = format!("width: {:.0}%", (c.strength.clamp(0.0, 1.0) * 100.0));
    let text = format!("{} knows {}", c.colleague.name, c.contact.name);
    let title = c.contact.email.clone().unwrap_or_default();
    // A draft in the user's mail client, to the colleague; nothing is sent by the Lens.
    let intro = crate::intro::intro_mailto(&c, company.as_deref()).map(|href| {
        let label = format!("Ask {} for an intro to {}", c.colleague.name, c.contact.name);
        view! {
            <a class="lens-intro" data-testid="lens-intro" href=href target="_blank" rel="noopener noreferrer"
                title=label.clone() aria-label=label>"Ask for an intro"</a>
        }
    });
    view! {
        <div class="lens-row" data-testid="lens-connection" title=title>
            <span class="lens-grow">{text}</span>
            <span class="lens-bar" aria-hidden="true"><span style=pct></span></span>
            <span class="lens-num">{format!("{:.2}", c.strength)}</span>
        </div>
        {intro.map(|a| view! { <div class="lens-intro-row">{a}</div> })}
    }
}

/// The firmographics in one line ([`lens_core::firmographics::summary`]), numbers and
/// amounts in the user's locale.
pub fn firmographics_text(f: &Firmographics) -> String {
    lens_core::firmographics::summary_with(f, crate::locale::number, crate::locale::usd)
}

fn notes_view(notes: Vec<CardNote>) -> Option<impl IntoView> {
    let all = notes.iter().find_map(|n| affinity_link(n.affinity_url.as_deref()?).map(str::to_owned));
    let rows = notes
        .into_iter()
        .map(|n| {
            let by = [n.author.map(|a| a.name), n.created_at.as_deref().map(date_only)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            // Text, never markup: a note's "<b>" shows as written.
            view! {
                <div class="lens-note" data-testid="lens-note">
                    <div class="lens-sub">{by}</div>
                    <div class="lens-note-text" data-testid="lens-note-text">{n.text}</div>
                </div>
            }
        })
        .collect::<Vec<_>>();
    (!rows.is_empty()).then(|| {
        view! {
            <div class="lens-section" data-testid="lens-notes"><h3>"Notes"</h3>{rows}
                {all.map(|href| view! {
                    <a class="lens-more" data-testid="lens-notes-all" href=href target="_blank" rel="noopener noreferrer">"All notes in Affinity"</a>
                })}
            </div>
        }
    })
}

fn list_row(
    l: CardListEntry,
    fields: Option<EntryFields>,
    write: Option<(ActionProps, lens_core::actions::Target)>,
    first: bool,
) -> impl IntoView {
    let status = l.status.clone().map(|s| {
        let color = s.color.to_string();
        view! { <span class="lens-pill" data-testid="lens-list-status" data-color=color>{s.text}</span> }
    });
    let mut details: Vec<String> = Vec::new();
    if let Some(days) = l.status_since.as_deref().and_then(days_since) {
        details.push(format!("{days}d in status"));
    }
    // The opened card shows Owners and Amount among the entry's fields; a pill's card here.
    if fields.is_none() && !l.owners.is_empty() {
        details.push(l.owners.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(" & "));
    }
    if let (None, Some(a)) = (&fields, l.amount) {
        details.push(compact_amount(a));
    }
    // A read-only key (or a Status the key may not change): the Status without its picker.
    let status_editable = fields
        .as_ref()
        .is_none_or(|e| e.fields.iter().filter(|f| lens_core::fields::is_status(&f.name)).all(|f| f.editable));
    let select_write = write.filter(|_| status_editable);
    let fields = fields.and_then(|f| crate::fields::entry_fields(f, write, first));
    let added = l.added_at.as_deref().map(|d| format!("added {}", date_only(d))).unwrap_or_default();
    let select = select_write.map(|(props, target)| {
        status_select(
            props,
            target,
            l.list_id,
            l.entry_id,
            l.status.as_ref().map(|s| s.text.clone()),
            l.list_name.clone(),
        )
    });
    view! {
        <div data-testid="lens-list-entry" title=added>
            <div class="lens-row"><span class="lens-grow">{l.list_name}</span>{status}{select}</div>
            {(!details.is_empty()).then(|| view! { <div class="lens-sub">{details.join(" · ")}</div> })}
            {fields}
        </div>
    }
}

fn activity_row(label: &'static str, item: Option<ActivityItem>) -> Option<impl IntoView> {
    let item = item?;
    let who: Vec<String> = item.people.iter().map(|p| p.name.clone()).collect();
    let text =
        if who.is_empty() { date_only(&item.date) } else { format!("{} · {}", date_only(&item.date), who.join(", ")) };
    Some(
        view! { <div class="lens-row"><span class="lens-num">{label}</span><span class="lens-grow">{text}</span></div> },
    )
}

/// The card. Everything from the API is rendered as text, never as HTML.
#[component]
pub fn CardView(
    /// What to show; the card re-renders when it changes.
    #[prop(into)]
    state: Signal<CardState>,
    /// Called by the refresh button; without it there is no button.
    #[prop(default = None, into)]
    on_refresh: Option<Callback<()>>,
    /// Writes and picks from the card; without them the card is read-only.
    #[prop(default = None, into)]
    actions: Option<ActionProps>,
    /// In the overlay: a button that folds the card back into the pill.
    #[prop(default = None, into)]
    on_collapse: Option<Callback<()>>,
    /// In the overlay: a button that closes it for this page.
    #[prop(default = None, into)]
    on_close: Option<Callback<()>>,
) -> impl IntoView {
    let tools = move || {
        let collapse = on_collapse.map(|cb| {
            view! { <button type="button" data-testid="lens-collapse" title="Fold into the pill" aria-label="Fold the card" on:click=move |_| cb.run(())>"–"</button> }
        });
        let close = on_close.map(|cb| {
            view! { <button type="button" data-testid="lens-close" title="Close for this page" aria-label="Close" on:click=move |_| cb.run(())>"×"</button> }
        });
        (on_collapse.is_some() || on_close.is_some())
            .then(|| view! { <span class="lens-tools">{collapse}{close}</span> })
    };
    // Escape folds the overlay's card back into the pill.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape"
            && let Some(cb) = on_collapse
        {
            cb.run(());
        }
    };
    let body = move || match state.get() {
        CardState::Loading => view! {
            <div class="lens-head">
                <span class="lens-status" data-testid="lens-status" data-status="loading">"Looking up…"</span>
                {tools}
            </div>
        }
        .into_any(),
        CardState::Failed(message) => view! {
            <div class="lens-head">
                <span class="lens-status" data-testid="lens-status" data-status="error">"Error"</span>
                {tools}
            </div>
            <div class="lens-error" data-testid="lens-error" role="alert">{message}</div>
        }
        .into_any(),
        CardState::Idle(message) => view! {
            <div class="lens-head">
                <span class="lens-status" data-testid="lens-status" data-status="idle">"Not looked up"</span>
                {tools}
            </div>
            <div class="lens-sub">{message}</div>
            {on_refresh.map(|cb| view! {
                <div class="lens-foot"><span></span>
                    <button type="button" data-testid="lens-lookup" on:click=move |_| cb.run(())>"Look up"</button>
                </div>
            })}
        }
        .into_any(),
        CardState::Ready(card) => ready_view(*card, on_refresh, actions, tools).into_any(),
    };
    view! {
        <style>{STYLE}</style>
        <section class="lens-card" data-testid="lens-card" aria-live="polite" on:keydown=on_key>{body}</section>
    }
}

fn ready_view(
    card: Card,
    on_refresh: Option<Callback<()>>,
    actions: Option<ActionProps>,
    tools: impl IntoView + 'static,
) -> impl IntoView {
    let write = actions.zip(target_of(&card));
    // Nobody found on a profile: the name the page shows, not its URL.
    let name = card
        .entity
        .as_ref()
        .map(|e| e.name.clone())
        .or_else(|| card.page_person.as_ref().map(|p| p.name.clone()))
        .unwrap_or_else(|| match card.query.kind {
            lens_core::card::QueryKind::Thread => "This email thread".to_owned(),
            _ => card.query.value.clone(),
        });
    let link = card.entity.as_ref().and_then(|e| affinity_link(e.affinity_url.as_deref()?)).map(str::to_owned);
    let name_view = match link {
        Some(href) => view! { <a href=href target="_blank" rel="noopener noreferrer">{name}</a> }.into_any(),
        None => view! { <span>{name}</span> }.into_any(),
    };
    let sub = card
        .entity
        .as_ref()
        .map(|e| if e.domains.is_empty() { e.emails.join(", ") } else { e.domains.join(", ") })
        .unwrap_or_default();
    let firmographics = card.firmographics.as_ref().filter(|f| !f.is_empty()).map(|f| {
        view! {
            <div class="lens-sub lens-firmographics" data-testid="lens-firmographics"
                title="From Affinity's data enrichment">{firmographics_text(f)}</div>
        }
    });
    let notes = notes_view(card.notes.clone());
    let error = card.error.as_ref().map(failure_text);
    let basis = card.matched_on.and_then(|b| match_basis_text(b, card.page_person.as_ref())).map(|t| {
        view! { <div class="lens-sub" data-testid="lens-match-basis">{t}</div> }
    });
    let capped = checked_of(&card).map(|(c, t)| format!("From {c} of {t} people, the most recently in touch"));
    let connections = (!card.connections.is_empty()).then(|| {
        let company =
            (card.entity.as_ref()).filter(|e| e.kind == lens_core::EntityKind::Organization).map(|e| e.name.clone());
        let rows = card.connections.clone().into_iter().map(|c| connection_row(c, company.clone())).collect_view();
        view! {
            <div class="lens-section"><h3>"Who knows them"</h3>{rows}
                {capped.map(|t| view! { <div class="lens-sub">{t}</div> })}
            </div>
        }
    });
    let lists = (!card.lists.is_empty()).then(|| {
        let rows = card
            .lists
            .clone()
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let fields = card.fields.iter().find(|f| f.entry_id == l.entry_id && f.list_id == l.list_id).cloned();
                list_row(l, fields, write, i == 0)
            })
            .collect_view();
        view! { <div class="lens-section"><h3>"Lists"</h3>{rows}</div> }
    });
    let a = card.activity.clone();
    let activity_rows: Vec<_> = [
        activity_row("Last email", a.last_email),
        activity_row("Last meeting", a.last_event),
        activity_row("Next meeting", a.next_event),
        activity_row("Last touch", a.last_interaction),
    ]
    .into_iter()
    .flatten()
    .collect();
    let activity = (!activity_rows.is_empty()).then(|| {
        view! { <div class="lens-section"><h3>"Activity"</h3>{activity_rows.collect_view()}</div> }
    });
    let opportunities = (!card.opportunities.is_empty()).then(|| {
        let rows = card
            .opportunities
            .clone()
            .into_iter()
            .map(|o| {
                let status = match (o.status, o.status_skipped) {
                    (Some(s), _) => Some(view! { <span class="lens-pill">{s}</span> }.into_any()),
                    // Not read, to spare the budget: Affinity has it.
                    (None, true) => Some(view! {
                        <span class="lens-num" data-testid="lens-opportunity-status-skipped"
                            title="Only the most recent opportunities' Status is read, to spare the firm's Affinity budget">
                            "Status in Affinity"
                        </span>
                    }.into_any()),
                    (None, false) => None,
                };
                let name = match o.affinity_url.as_deref().and_then(affinity_link).map(str::to_owned) {
                    Some(href) => view! { <a href=href target="_blank" rel="noopener noreferrer">{o.name}</a> }.into_any(),
                    None => view! { <span>{o.name}</span> }.into_any(),
                };
                view! { <div class="lens-row" data-testid="lens-opportunity"><span class="lens-grow">{name}</span>{status}</div> }
            })
            .collect_view();
        view! { <div class="lens-section"><h3>"Opportunities"</h3>{rows}</div> }
    });
    let candidates = (!card.candidates.is_empty()).then(|| {
        let rows = card
            .candidates
            .clone()
            .into_iter()
            .map(|c| {
                let detail = if c.domains.is_empty() { c.emails.join(", ") } else { c.domains.join(", ") };
                let pick = actions.map(|a| {
                    let target = lens_core::actions::Target { kind: c.kind, id: c.id };
                    let label = format!("Show {}", c.name);
                    view! { <button type="button" class="lens-candidate-pick" aria-label=label
                        on:click=move |_| a.on_action.run(crate::CardAction::Pick { pick: target })>"Show"</button> }
                });
                view! { <div class="lens-row" data-testid="lens-candidate"><span class="lens-grow">{c.name}</span><span class="lens-num">{detail}</span>{pick}</div> }
            })
            .collect_view();
        view! { <div class="lens-section"><h3>"Which one?"</h3>{rows}</div> }
    });
    let fetched = if card.stale {
        view! { <span class="lens-stale">{format!("Offline: as of {}", date_only(&card.fetched_at))}</span> }.into_any()
    } else if card.partial {
        // The gateway's deadline cut the look-up short: say so, rather than pass off what
        // its first round found as the whole card.
        view! {
            <span class="lens-stale" data-testid="lens-partial">"Partial: Affinity was slow to answer. Refresh for the rest"</span>
        }
        .into_any()
    } else if card.source == lens_core::card::CardSource::Index {
        // Not asked of Affinity: what the firm's index said at its last sync.
        let when = card.fetched_at.get(0..16).unwrap_or("").replace('T', " ");
        view! {
            <span data-testid="lens-from-index">{format!("From the firm's index as of {when} UTC; Refresh asks Affinity")}</span>
        }
        .into_any()
    } else {
        view! { <span>{format!("Fetched {}", card.fetched_at.get(11..16).unwrap_or(""))}</span> }.into_any()
    };
    let thread = (card.query.kind == lens_core::card::QueryKind::Thread && card.error.is_none())
        .then(|| crate::thread::thread_view(&card, actions));
    let action_forms = actions.map(|a| actions_view(&card, a));
    let refresh = on_refresh.map(|cb| {
        view! { <button type="button" data-testid="lens-refresh" on:click=move |_| cb.run(())>"Refresh"</button> }
    });
    view! {
        <div class="lens-head">
            <h2 class="lens-name" data-testid="lens-entity-name">{name_view}</h2>
            <span class="lens-status" data-testid="lens-status" data-status=status_key(card.status)>
                {status_label(card.status)}
            </span>
            {tools}
        </div>
        <div class="lens-sub">{sub}</div>
        {firmographics}
        {basis}
        {error.map(|m| view! { <div class="lens-error" data-testid="lens-error" role="alert">{m}</div> })}
        {candidates}
        {thread}
        {connections}
        {lists}
        {activity}
        {opportunities}
        {notes}
        {action_forms}
        <div class="lens-foot">{fetched}{refresh}</div>
    }
}

/// What the folded overlay says: the match state and the best connection
/// ([`lens_core::pill::text`] once there is a card).
pub fn pill_text(state: &CardState) -> String {
    match state {
        CardState::Loading => "Affinity: looking up…".to_owned(),
        CardState::Failed(_) => "Affinity: error".to_owned(),
        CardState::Idle(_) => "Affinity: look up?".to_owned(),
        CardState::Ready(card) => lens_core::pill::text(card),
    }
}

/// The pill's tooltip ([`lens_core::pill::title`] once there is a card).
pub fn pill_title(state: &CardState) -> String {
    match state {
        CardState::Ready(card) => lens_core::pill::title(card),
        _ => "Affinity Lens: open the card".to_owned(),
    }
}

/// The folded overlay: one button that says the match state and opens the card.
#[component]
pub fn PillView(
    /// The same state as the card's.
    #[prop(into)]
    state: Signal<CardState>,
    /// Opens the card.
    #[prop(into)]
    on_expand: Callback<()>,
) -> impl IntoView {
    let status = move || match state.get() {
        CardState::Loading => "loading",
        CardState::Failed(_) => "error",
        CardState::Idle(_) => "idle",
        CardState::Ready(card) => status_key(card.status),
    };
    view! {
        <style>{STYLE}</style>
        <button type="button" class="lens-pill-button" data-testid="lens-pill" aria-expanded="false"
            title=move || pill_title(&state.get()) on:click=move |_| on_expand.run(())>
            <span class="lens-dot" data-status=status aria-hidden="true"></span>
            <span>{move || pill_text(&state.get())}</span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lens_core::CardStatus;

    #[test]
    fn amounts_are_compact() {
        for (a, want) in [(7_625_000.0, "7.6M"), (250_000.0, "250K"), (900.0, "900"), (2.5e9, "2.5B")] {
            assert_eq!(compact_amount(a), want);
        }
    }

    #[test]
    fn the_pill_names_the_best_connection() {
        use lens_core::card::PersonRef;
        let person = |name: &str| PersonRef { id: 1, name: name.to_owned(), email: None };
        let mut card = Card::new(
            lens_core::Query { kind: lens_core::QueryKind::Domain, value: "acme.com".into() },
            CardStatus::Matched,
        );
        card.connections.push(Connection {
            colleague: person("Alice Doe"),
            contact: person("Bob Smith"),
            strength: 0.82,
        });
        assert_eq!(pill_text(&CardState::Ready(Box::new(card.clone()))), "In Affinity · Strong 0.82 (Alice)");
        // Everyone checked: the best connection is the best.
        (card.people_checked, card.people_total) = (Some(20), Some(20));
        assert_eq!(pill_text(&CardState::Ready(Box::new(card.clone()))), "In Affinity · Strong 0.82 (Alice)");
        // Four of twenty checked: someone else may know them better, nobody shown knows them less.
        card.people_checked = Some(4);
        card.connections[0].strength = 0.41;
        assert_eq!(pill_text(&CardState::Ready(Box::new(card.clone()))), "In Affinity · at least 0.41 (Alice)");
        assert_eq!(
            pill_title(&CardState::Ready(Box::new(card.clone()))),
            "Affinity Lens: the strongest of the 4 people most recently in touch, of 20; open the card to check the others"
        );
        card.status = CardStatus::NotFound;
        assert_eq!(pill_text(&CardState::Ready(Box::new(card))), "Not in Affinity");
    }

    #[test]
    fn the_indexs_pill_says_the_list_and_status_and_as_of_when() {
        let query = lens_core::Query { kind: lens_core::QueryKind::Domain, value: "acme.com".into() };
        let mut card = Card::new(query, CardStatus::Matched);
        card.source = lens_core::card::CardSource::Index;
        card.fetched_at = "2026-12-06T10:32:00.000Z".into();
        card.lists.push(lens_core::card::CardListEntry {
            list_id: 3,
            list_name: "Deal Pipeline".into(),
            entry_id: 5,
            added_at: None,
            status: Some(lens_core::card::StatusValue { text: "Diligence".into(), color: 0 }),
            status_since: None,
            owners: Vec::new(),
            amount: None,
        });
        assert_eq!(pill_text(&CardState::Ready(Box::new(card.clone()))), "In Affinity · Deal Pipeline: Diligence");
        card.status = CardStatus::NotFound;
        card.lists.clear();
        let title = pill_title(&CardState::Ready(Box::new(card)));
        assert!(title.contains("as of 2026-12-06 10:32 UTC") && title.contains("click to check live"), "{title}");
    }

    #[test]
    fn only_pages_of_affinitys_web_app_are_links() {
        for ok in ["https://sandbox-ventures.affinity.co/companies/7", "https://firm.affinity.co/"] {
            assert_eq!(affinity_link(ok), Some(ok));
        }
        for refused in [
            "javascript:alert(1)",
            "https://evil.example/",
            "http://firm.affinity.co/companies/7",
            "https://affinity.co/companies/7",
            "https://firm.affinity.co.evil.example/",
            "https://firm.affinity.co@evil.example/",
            "https://evil.example\\@firm.affinity.co/",
            "https://a.b.affinity.co/",
            "https://firm.affinity.co:8443/",
            "https://firm.affinity.co",
            "https://Firm.affinity.co/",
            " https://firm.affinity.co/",
        ] {
            assert_eq!(affinity_link(refused), None, "{refused}");
        }
    }

    #[test]
    fn a_match_by_name_says_what_it_rests_on() {
        let person = PagePerson { name: "Alex Morgan".into(), company: Some("Initech".into()), organization: None };
        assert_eq!(
            match_basis_text(MatchBasis::NameAndCompany, Some(&person)).as_deref(),
            Some("Matched on name and company (Initech)")
        );
        assert_eq!(match_basis_text(MatchBasis::NameOnly, Some(&person)).as_deref(), Some("Matched on name only"));
        assert_eq!(match_basis_text(MatchBasis::Domain, None), None);
    }

    #[test]
    fn every_error_kind_reads_as_a_sentence() {
        assert!(error_text(&ErrorKind::Unauthorized, "x", None).contains("API key"));
        assert!(error_text(&ErrorKind::RateLimited, "x", Some("2026-11-25T10:00:05Z")).contains("10:00:05"));
        assert!(error_text(&ErrorKind::Unavailable, "x", None).contains("cannot be reached"));
        assert_eq!(error_text(&ErrorKind::from("something_new"), "as given", None), "as given");
        // The extension's own kinds, which a free string could never reach.
        let no_key = CardError::new(ErrorKind::NoKey, "whatever the background said");
        assert_eq!(failure_text(&no_key), "Add your Affinity API key in the Lens options.");
        let bad = CardError::new(ErrorKind::BadSettings, "The base URL must start with https://");
        assert_eq!(failure_text(&bad), "The base URL must start with https://");
        assert!(failure_text(&CardError::new(ErrorKind::Expired, "")).contains("reload"));
    }
}
