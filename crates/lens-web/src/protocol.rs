//! Every message between the extension's parts, as types: [`Request`] (content script,
//! overlay, popup and options → background), [`ToContent`] (background → the tab's content
//! script), and one [`Reply`] shape for every request: `{ok: true, answer: "…", …}` or
//! `{ok: false, error: {kind, message, retry_at}}`, whose `error` is the Card's own
//! ([`CardError`], one [`ErrorKind`] enum for both).
//!
//! A request is decoded here and checked against its sender ([`Request::allowed`]): page
//! reports only from a tab's top frame about its own origin; the card's own requests from
//! the overlay frame (which lives in the page: it gets nothing else); everything else only
//! from the extension's other pages. Anything else (an unknown type, a malformed field, the
//! wrong sender) gets the one error reply, kind `bad_message`.

use affinity_api::models::RateLimit;
use lens_core::actions::{Action, ListChoice, Outcome, Target};
use lens_core::{Card, CardError, ErrorKind, PageHints};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::settings::{Position, SettingsForm, Side};

/// Stands for one page view: 128 random bits as 32 lower-case hex digits. The overlay
/// gets it in its URL's fragment; a page that embeds the overlay itself has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Token(String);

impl Token {
    /// A token from 16 random bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Token {
        Token(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Token {
    type Error = String;
    fn try_from(s: String) -> Result<Token, String> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Token(s))
        } else {
            Err("a token is 32 lower-case hex digits".to_owned())
        }
    }
}

impl From<Token> for String {
    fn from(t: Token) -> String {
        t.0
    }
}

/// A message to the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Request {
    /// Content script: the page (and what a LinkedIn page shows). → [`Answer::Page`]
    #[serde(rename = "lens:page")]
    Page {
        url: String,
        #[serde(default)]
        hints: PageHints,
    },
    /// Content script in Gmail (`https://mail.google.com/…`): the open thread's id and the
    /// addresses its header area shows (senders, To, Cc; never a subject or a body), with
    /// those Gmail marks as the user's. → [`Answer::Page`]
    #[serde(rename = "lens:thread")]
    Thread {
        url: String,
        thread: String,
        addresses: Vec<lens_core::mail::SeenAddress>,
        #[serde(default)]
        me: Vec<String>,
    },
    /// Content script: the user dropped the overlay here. → [`Answer::Ack`]
    #[serde(rename = "lens:position")]
    Position { side: Side, top: f64 },
    /// Overlay, popup: the card of a page view. `first`: the identity as soon as the first
    /// round has it; `refresh`: ask Affinity again; `lookup`: look up now although the
    /// budget is low; `pick`: a candidate of an ambiguous card; `full`: the whole card (the
    /// user opened it), else what the pill shows (a page view's cost).
    /// → [`Answer::Card`] | [`Answer::OnDemand`]
    #[serde(rename = "lens:card")]
    Card {
        token: Token,
        #[serde(default)]
        first: bool,
        #[serde(default)]
        refresh: bool,
        #[serde(default)]
        lookup: bool,
        #[serde(default)]
        pick: Option<Target>,
        #[serde(default)]
        full: bool,
    },
    /// Overlay, popup: a write from the card. → [`Answer::Done`]
    #[serde(rename = "lens:act")]
    Act {
        token: Token,
        #[serde(default)]
        target: Option<Target>,
        action: Action,
    },
    /// Overlay, popup: the lists the card offers. → [`Answer::Lists`]
    #[serde(rename = "lens:choices")]
    Choices { token: Token },
    /// Overlay, popup: the companies whose name or domain starts with `query`, for a card's
    /// organization field (from the index, no call). → [`Answer::Companies`]
    #[serde(rename = "lens:companies")]
    Companies { token: Token, query: String },
    /// Overlay: the pill opened (`true`) or the card folded; relayed to the content
    /// script, which sizes the frame. → [`Answer::Ack`]
    #[serde(rename = "lens:expand")]
    Expand { token: Token, expanded: bool },
    /// Overlay: closed for this page; relayed to the content script. → [`Answer::Ack`]
    #[serde(rename = "lens:close")]
    Close { token: Token },
    /// Popup: the page view of a tab. → [`Answer::Tab`]
    #[serde(rename = "lens:tab")]
    Tab { tab_id: i64 },
    /// Popup: pause or resume a site. → [`Answer::Paused`]
    #[serde(rename = "lens:pause")]
    Pause { site: String, paused: bool },
    /// Options: test a key and base URL (saved or not). → [`Answer::Me`]
    #[serde(rename = "lens:whoami")]
    Whoami {
        api_key: String,
        #[serde(default)]
        base_url: String,
    },
    /// Options: the month's budget from `/rate-limit`. → [`Answer::Usage`]
    #[serde(rename = "lens:usage")]
    Usage {},
    /// Options: the settings, as the form shows them. → [`Answer::Settings`]
    #[serde(rename = "lens:settings")]
    Settings {},
    /// Options: save the form. → [`Answer::Settings`] (as saved)
    #[serde(rename = "lens:save")]
    Save { settings: SettingsForm },
    /// Content script: which of these link hosts are companies the index knows (badges on
    /// the page's links; answered from the index, no call). → [`Answer::Links`]
    #[serde(rename = "lens:links")]
    Links { hosts: Vec<String> },
    /// Content script: the keyboard shortcut over a badged link: a page view of that
    /// company's card (a domain the index knows). → [`Answer::Page`]
    #[serde(rename = "lens:link_card")]
    LinkCard { domain: String },
    /// Options: what the index holds and how its sync goes. → [`Answer::Index`]
    #[serde(rename = "lens:index")]
    Index {},
}

/// The most companies a `lens:companies` answer names.
pub const COMPANY_CHOICES: usize = 8;

/// The message types, as sent.
pub const REQUEST_TYPES: [&str; 19] = [
    "lens:page",
    "lens:thread",
    "lens:position",
    "lens:card",
    "lens:act",
    "lens:choices",
    "lens:companies",
    "lens:expand",
    "lens:close",
    "lens:tab",
    "lens:pause",
    "lens:whoami",
    "lens:usage",
    "lens:settings",
    "lens:save",
    "lens:links",
    "lens:link_card",
    "lens:index",
    "lens:toggle",
];

/// A message from the background to a tab's content script (top frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ToContent {
    /// The overlay's pill opened or its card folded: the frame takes that state's size.
    #[serde(rename = "lens:expand")]
    Expand { token: Token, expanded: bool },
    /// The overlay was closed for this page.
    #[serde(rename = "lens:close")]
    Close { token: Token },
    /// The keyboard shortcut: show, open or fold the overlay.
    #[serde(rename = "lens:toggle")]
    Toggle {},
}

/// The overlay frame's size in each state, in CSS pixels. One size whatever the card
/// says: the page can measure the frame, and must learn nothing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSizes {
    pub pill: Size,
    pub card: Size,
}

/// A width and a height in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

/// The pill (260 × 30 and the frame's 6 px padding) and the opened card (its content
/// scrolls). The content script keeps the card within the window.
pub const FRAME_SIZES: FrameSizes =
    FrameSizes { pill: Size { width: 272, height: 42 }, card: Size { width: 384, height: 560 } };

/// What a request gets when it went well.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Answer {
    /// To `lens:page`: whether to show the pill, the page view's token (none when there is
    /// nothing to look up), where the user put the overlay, and the frame's sizes.
    /// `badges`: whether the page's company links get badges (on in the options, for this
    /// site, and the site neither paused nor never looked up). `pill`: what the pill says
    /// when the index answered the page view and the pill is shown: the content script
    /// paints it (pixels in its closed shadow root, under the overlay frame) while the frame
    /// starts, the frame's own pill covering it.
    Page {
        show: bool,
        token: Option<Token>,
        position: Option<Position>,
        frame: FrameSizes,
        badges: bool,
        pill: Option<lens_core::pill::Pill>,
    },
    /// A card; `partial` while the lookup goes on (the first round's identity); `pill`: what
    /// its pill says (the overlay draws it before the card's module has started).
    Card { card: Box<Card>, partial: bool, pill: lens_core::pill::Pill },
    /// Not looked up: the month's budget is low. `message` says so.
    OnDemand { message: String },
    /// A write's outcome: whether it changed anything, and what it did in words.
    Done {
        #[serde(flatten)]
        outcome: Outcome,
    },
    /// The lists a card may add its entity to, and the team (whom its person fields may
    /// name).
    Lists { lists: Vec<ListChoice>, people: Vec<lens_core::card::PersonRef> },
    /// To `lens:companies`: the index's companies that match, at most [`COMPANY_CHOICES`].
    Companies { companies: Vec<lens_core::actions::CompanyChoice> },
    /// The popup's tab: its page view (`token`), URL and site, whether the site is never
    /// looked up or paused.
    Tab { token: Option<Token>, url: String, site: Option<String>, ignored: bool, paused: bool },
    /// The paused sites, after a pause or a resume.
    Paused { paused: Vec<String> },
    /// Who the key is: "Test connection".
    Me { user: String, email: Option<String>, firm: String, subdomain: String },
    /// Affinity's `/rate-limit`, and what the Lens spent of it this month (`lens`: `month`,
    /// `calls`, `page_views`, `cards_opened`).
    Usage { rate: Value, lens: Value },
    /// The settings as the options form shows them.
    Settings { settings: SettingsForm },
    /// To `lens:links`: the hosts asked about that are companies the index knows (others
    /// are left out), each with what its badge says on hover.
    Links { known: Vec<crate::company_index::KnownLink> },
    /// To `lens:index`: what the index holds (see [`crate::company_index::IndexStatus`]).
    Index {
        #[serde(flatten)]
        status: crate::company_index::IndexStatus,
    },
    /// Done; nothing to say.
    Ack {},
}

impl Answer {
    /// A card, with its pill.
    pub fn card(card: Card, partial: bool) -> Answer {
        let pill = lens_core::pill::Pill::of(&card);
        Answer::Card { card: Box::new(card), partial, pill }
    }
}

impl Answer {
    pub fn usage(rate: &RateLimit, lens: &lens_core::account::Usage) -> Answer {
        Answer::Usage {
            rate: serde_json::to_value(&rate.rate).unwrap_or(Value::Null),
            lens: serde_json::to_value(lens).unwrap_or(Value::Null),
        }
    }
}

/// The answer to every request: `{ok: true, answer, …}` or `{ok: false, error}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply(pub Result<Answer, CardError>);

impl Reply {
    pub fn ok(answer: Answer) -> Reply {
        Reply(Ok(answer))
    }

    pub fn failed(kind: ErrorKind, message: impl Into<String>) -> Reply {
        Reply(Err(CardError::new(kind, message)))
    }

    /// The reply to a message that is not one of [`Request`]'s, or not from its sender.
    pub fn bad_message(why: impl std::fmt::Display) -> Reply {
        Reply::failed(ErrorKind::BadMessage, format!("The Lens did not understand a message: {why}"))
    }

    /// The reply as JSON.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Ok(answer) => {
                let mut v = serde_json::to_value(answer)
                    .unwrap_or_else(|e| serde_json::json!({"answer": "ack", "note": e.to_string()}));
                if let Value::Object(o) = &mut v {
                    o.insert("ok".into(), Value::Bool(true));
                }
                v
            }
            Err(error) => serde_json::json!({"ok": false, "error": error}),
        }
    }

    /// A reply from its JSON (the pages read replies through this shape).
    pub fn from_value(value: Value) -> Result<Reply, String> {
        match value.get("ok").and_then(Value::as_bool) {
            Some(true) => {
                let mut value = value;
                if let Value::Object(o) = &mut value {
                    o.remove("ok");
                }
                serde_json::from_value(value).map(Reply::ok).map_err(|e| e.to_string())
            }
            Some(false) => serde_json::from_value(value.get("error").cloned().unwrap_or(Value::Null))
                .map(|e| Reply(Err(e)))
                .map_err(|e| e.to_string()),
            None => Err("a reply has `ok`".to_owned()),
        }
    }
}

impl From<Result<Answer, CardError>> for Reply {
    fn from(r: Result<Answer, CardError>) -> Reply {
        Reply(r)
    }
}

/// Who sent a message, as `runtime.onMessage`'s `sender` says (the background has checked
/// `sender.id` already: only this extension's own scripts and pages reach it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sender {
    pub tab_id: Option<i64>,
    pub frame_id: Option<i64>,
    pub url: Option<String>,
}

/// The extension's origins: its own, and the overlay's (Chrome's dynamic URL gives the
/// overlay another origin, which is still the extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origins {
    pub extension: String,
    pub overlay: String,
}

/// What a sender is.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// A tab's top frame, not an extension page: the content script, on `url`.
    Content { tab_id: i64, url: String },
    /// The overlay (`overlay.html`, the one page a web page may frame) in a tab: it lives
    /// inside a page that may be hostile, so it may only ask for its card and write from it.
    Overlay { tab_id: i64 },
    /// Another of the extension's pages (the popup, the options), which no page can frame.
    Extension,
    /// Anything else: a subframe's content script (there is none), an unknown origin, the
    /// overlay outside a tab.
    Other,
}

impl Origins {
    /// What `sender` is.
    pub fn role(&self, sender: &Sender) -> Role {
        let path = sender.url.as_deref().and_then(|u| {
            [&self.extension, &self.overlay]
                .iter()
                .find_map(|o| u.strip_prefix(o.as_str()).filter(|r| r.starts_with('/')))
        });
        if let Some(path) = path {
            let page = path.split(['?', '#']).next().unwrap_or_default();
            return match (page, sender.tab_id) {
                ("/overlay.html", Some(tab_id)) => Role::Overlay { tab_id },
                ("/overlay.html", None) => Role::Other,
                _ => Role::Extension,
            };
        }
        match (sender.tab_id, sender.frame_id, &sender.url) {
            (Some(tab_id), Some(0), Some(url)) => Role::Content { tab_id, url: url.clone() },
            _ => Role::Other,
        }
    }
}

impl Request {
    /// Decodes a message (any JSON).
    pub fn decode(value: Value) -> Result<Request, Box<Reply>> {
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
        if !REQUEST_TYPES.contains(&kind.as_str()) || kind == "lens:toggle" {
            return Err(Box::new(Reply::bad_message(format!("unknown message type {kind:?}"))));
        }
        serde_json::from_value(value).map_err(|e| Box::new(Reply::bad_message(format!("{kind}: {e}"))))
    }

    /// Whether `role` may send this request.
    pub fn allowed(&self, role: &Role) -> bool {
        match (self, role) {
            // A page reports only itself: the URL's origin is the frame's.
            (Request::Page { url, .. }, Role::Content { url: from, .. }) => same_origin(url, from),
            // Only Gmail's own pages report a thread.
            (Request::Thread { url, .. }, Role::Content { url: from, .. }) => {
                same_origin(url, from) && crate::plan::is_gmail(url)
            }
            (Request::Position { .. } | Request::Links { .. } | Request::LinkCard { .. }, Role::Content { .. }) => true,
            // The overlay: its card, its writes, its relays to its tab; no settings.
            (
                Request::Card { .. }
                | Request::Act { .. }
                | Request::Choices { .. }
                | Request::Companies { .. }
                | Request::Expand { .. }
                | Request::Close { .. },
                Role::Overlay { .. },
            ) => true,
            (
                Request::Page { .. }
                | Request::Thread { .. }
                | Request::Position { .. }
                | Request::Expand { .. }
                | Request::Close { .. }
                | Request::Links { .. }
                | Request::LinkCard { .. },
                _,
            ) => false,
            (_, Role::Extension) => true,
            _ => false,
        }
    }

    /// The hints as the lookup takes them: short, trimmed strings only (they are page text).
    pub fn clean_hints(hints: PageHints) -> PageHints {
        hints.cleaned()
    }
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin() && matches!(a.scheme(), "http" | "https"),
        _ => false,
    }
}

/// The protocol's TypeScript definitions: wasm-bindgen puts them in both modules' `.d.ts`
/// (`typescript_custom_section`), and the extension's JS is type-checked against them.
pub const TYPESCRIPT: &str = r#"
/** 32 lower-case hex digits: one page view. */
export type LensToken = string;
export interface LensTarget { kind: "organization" | "person"; id: number }
export type LensAction =
  | { action: "add_to_list"; list_id: number }
  | { action: "set_status"; list_id: number; entry_id: number; status: string }
  | { action: "add_note"; content: string }
  | { action: "create_organization"; name: string; domain: string }
  | { action: "set_field"; list_id: number; entry_id: number; field_id: number; op: "set" | "add" | "remove"; value?: LensFieldInput | null; label?: string }
  | { action: "create_person"; first_name: string; last_name: string; organization_id?: number | null; email?: string | null };
export type LensFieldInput =
  | { type: "text"; text: string } | { type: "number"; number: number } | { type: "date"; date: string }
  | { type: "option"; id: number } | { type: "person"; id: number } | { type: "company"; id: number };
export interface LensHints { title?: string; name?: string; headline?: string; company?: string; company_url?: string; website?: string }
export interface LensSettingsForm { apiKey: string; baseUrl: string; ignored: string; paused: string; overlay: boolean; onDemandBelow: string; mode: "personal" | "team"; gatewayUrl: string; gatewayToken: string; badges?: boolean; noBadges?: string }
/** A link host the index knows: its registrable domain, and what its badge says on hover. */
export interface LensKnownLink { host: string; domain: string; name: string; status: string }
export interface LensIndexStatus { companies: number; lists: number; syncedAt: string | null; asOf: string | null; callsToday: number; syncing: boolean; progress: { organizations: number; lists_read: number; lists_to_read: number; calls: number } | null; error: string | null; source: "none" | "sync" | "gateway" }
export interface LensPosition { side: "left" | "right"; top: number }
export interface LensSize { width: number; height: number }
/** Every message to the background. */
export type LensRequest =
  | { type: "lens:page"; url: string; hints?: LensHints }
  | { type: "lens:thread"; url: string; thread: string; addresses: { email: string; name: string | null; role: "from" | "to" }[]; me: string[] }
  | { type: "lens:position"; side: "left" | "right"; top: number }
  | { type: "lens:card"; token: LensToken; first?: boolean; refresh?: boolean; lookup?: boolean; pick?: LensTarget | null; full?: boolean }
  | { type: "lens:act"; token: LensToken; target?: LensTarget | null; action: LensAction }
  | { type: "lens:choices"; token: LensToken }
  | { type: "lens:companies"; token: LensToken; query: string }
  | { type: "lens:expand"; token: LensToken; expanded: boolean }
  | { type: "lens:close"; token: LensToken }
  | { type: "lens:tab"; tabId: number }
  | { type: "lens:pause"; site: string; paused: boolean }
  | { type: "lens:whoami"; apiKey: string; baseUrl?: string }
  | { type: "lens:usage" }
  | { type: "lens:settings" }
  | { type: "lens:save"; settings: LensSettingsForm }
  | { type: "lens:links"; hosts: string[] }
  | { type: "lens:link_card"; domain: string }
  | { type: "lens:index" };
/** Every message from the background to a tab's content script. */
export type LensToContent =
  | { type: "lens:expand"; token: LensToken; expanded: boolean }
  | { type: "lens:close"; token: LensToken }
  | { type: "lens:toggle" };
export type LensErrorKind =
  | "unauthorized" | "forbidden" | "not_found" | "invalid" | "rate_limited" | "unavailable" | "bad_response"
  | "budget_reserve" | "no_key" | "bad_settings" | "expired" | "unsupported" | "bad_message" | "not_visible" | "internal";
export interface LensError { kind: LensErrorKind | string; message: string; retry_at?: string | null }
/** A Card (docs/card.md); the pages hand it to the wasm card as it is. */
export interface LensCard { status: "matched" | "ambiguous" | "not_found" | "ignored" | "error"; entity: { name: string } | null; error: LensError | null; [key: string]: unknown }
export interface LensListChoice { id: number; name: string; kind: "organization" | "person"; statuses: { text: string; color: number }[] }
export type LensAnswer =
  | { answer: "page"; show: boolean; token: LensToken | null; position: LensPosition | null; frame: { pill: LensSize; card: LensSize }; badges: boolean; pill: { text: string; title: string; status: string } | null }
  | { answer: "links"; known: LensKnownLink[] }
  | ({ answer: "index" } & LensIndexStatus)
  | { answer: "card"; card: LensCard; partial: boolean; pill: { text: string; title: string; status: string } }
  | { answer: "on_demand"; message: string }
  | { answer: "done"; changed: boolean; message: string; target: LensTarget | null }
  | { answer: "lists"; lists: LensListChoice[]; people: { id: number; name: string; email: string | null }[] }
  | { answer: "companies"; companies: { id: number; name: string; domain: string | null }[] }
  | { answer: "tab"; token: LensToken | null; url: string; site: string | null; ignored: boolean; paused: boolean }
  | { answer: "paused"; paused: string[] }
  | { answer: "me"; user: string; email: string | null; firm: string; subdomain: string }
  | { answer: "usage"; rate: { org_monthly?: { limit?: number | string | null; used?: number | null; remaining?: number | null }; api_key_per_minute?: { limit?: number | string | null; used?: number | null } }; lens: { month: string; calls: number; page_views: number; cards_opened: number } }
  | { answer: "settings"; settings: LensSettingsForm }
  | { answer: "ack" };
/** The one reply shape. */
export type LensReply = ({ ok: true } & LensAnswer) | { ok: false; error: LensError };
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use lens_core::{CardStatus, EntityKind, Query, QueryKind};
    use serde_json::json;

    const T: &str = "0123456789abcdef0123456789abcdef";

    fn token() -> Token {
        Token::try_from(T.to_owned()).unwrap()
    }

    /// One of every request, as the JS sends it.
    fn every_request() -> Vec<Value> {
        vec![
            json!({"type": "lens:page", "url": "https://acme.com/", "hints": {"name": "Bob"}}),
            json!({"type": "lens:thread", "url": "https://mail.google.com/mail/u/0/#inbox/FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS",
                "thread": "FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS", "addresses": [{"email": "bob@acme.test", "name": "Bob", "role": "from"}],
                "me": ["alice@sandbox-ventures.test"]}),
            json!({"type": "lens:position", "side": "left", "top": 120.5}),
            json!({"type": "lens:card", "token": T, "first": true, "refresh": false, "lookup": false, "pick": {"kind": "person", "id": 3}}),
            json!({"type": "lens:act", "token": T, "target": {"kind": "organization", "id": 7}, "action": {"action": "add_to_list", "list_id": 10}}),
            json!({"type": "lens:choices", "token": T}),
            json!({"type": "lens:companies", "token": T, "query": "acm"}),
            json!({"type": "lens:expand", "token": T, "expanded": true}),
            json!({"type": "lens:close", "token": T}),
            json!({"type": "lens:tab", "tabId": 4}),
            json!({"type": "lens:pause", "site": "acme.com", "paused": true}),
            json!({"type": "lens:whoami", "apiKey": "k", "baseUrl": "https://api.affinity.co"}),
            json!({"type": "lens:usage"}),
            json!({"type": "lens:settings"}),
            json!({"type": "lens:save", "settings": {"apiKey": "k", "baseUrl": "", "ignored": "", "paused": "", "overlay": true, "onDemandBelow": "5"}}),
            json!({"type": "lens:links", "hosts": ["www.acme.com"]}),
            json!({"type": "lens:link_card", "domain": "acme.com"}),
            json!({"type": "lens:index"}),
        ]
    }

    #[test]
    fn every_request_round_trips() {
        let all = every_request();
        let mut seen = std::collections::BTreeSet::new();
        for message in all {
            let request = Request::decode(message.clone()).unwrap_or_else(|e| panic!("{message}: {e:?}"));
            let again = serde_json::to_value(&request).unwrap();
            assert_eq!(Request::decode(again.clone()).unwrap(), request, "{again}");
            seen.insert(message["type"].as_str().unwrap().to_owned());
        }
        // Every type but the content script's own (lens:toggle goes the other way).
        let expected: std::collections::BTreeSet<String> =
            REQUEST_TYPES.iter().filter(|t| **t != "lens:toggle").map(|t| t.to_string()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn every_message_to_the_content_script_round_trips() {
        for m in [
            ToContent::Expand { token: token(), expanded: true },
            ToContent::Close { token: token() },
            ToContent::Toggle {},
        ] {
            let v = serde_json::to_value(&m).unwrap();
            assert!(REQUEST_TYPES.contains(&v["type"].as_str().unwrap()));
            assert_eq!(serde_json::from_value::<ToContent>(v).unwrap(), m);
        }
    }

    #[test]
    fn an_unknown_or_malformed_message_gets_the_one_error_reply() {
        let bad = [
            json!(null),
            json!("lens:page"),
            json!({"type": "lens:nope"}),
            json!({"type": "lens:toggle"}),
            json!({"kind": "lens:card"}),
            json!({"type": "lens:card", "token": "short"}),
            json!({"type": "lens:card", "token": T.to_uppercase()}),
            json!({"type": "lens:card"}),
            json!({"type": "lens:act", "token": T, "action": {"action": "delete_everything"}}),
            json!({"type": "lens:act", "token": T, "action": {"action": "add_to_list", "list_id": "ten"}}),
            json!({"type": "lens:tab", "tabId": "4"}),
            json!({"type": "lens:position", "side": "up", "top": 1}),
            json!({"type": "lens:page", "url": "https://acme.com/", "extra": 1}),
            json!({"type": "lens:page", "url": "https://acme.com/", "hints": {"name": 7}}),
        ];
        for message in bad {
            let reply = Request::decode(message.clone()).expect_err(&message.to_string());
            let v = reply.to_value();
            assert_eq!(v["ok"], false, "{message}");
            assert_eq!(v["error"]["kind"], "bad_message", "{message}");
            assert!(v["error"]["message"].as_str().unwrap().starts_with("The Lens did not understand"));
        }
    }

    fn origins() -> Origins {
        Origins { extension: "chrome-extension://abc".into(), overlay: "chrome-extension://dyn".into() }
    }

    #[test]
    fn each_request_is_taken_only_from_its_sender() {
        let o = origins();
        let content =
            o.role(&Sender { tab_id: Some(1), frame_id: Some(0), url: Some("https://acme.com/about".into()) });
        assert_eq!(content, Role::Content { tab_id: 1, url: "https://acme.com/about".into() });
        let subframe = o.role(&Sender { tab_id: Some(1), frame_id: Some(3), url: Some("https://ads.com/".into()) });
        assert_eq!(subframe, Role::Other);
        let overlay = o.role(&Sender {
            tab_id: Some(1),
            frame_id: Some(5),
            url: Some("chrome-extension://dyn/overlay.html".into()),
        });
        assert_eq!(overlay, Role::Overlay { tab_id: 1 });
        let popup =
            o.role(&Sender { tab_id: None, frame_id: None, url: Some("chrome-extension://abc/popup.html".into()) });
        assert_eq!(popup, Role::Extension);
        // The options page in a tab of its own is still the options page.
        let options = o.role(&Sender {
            tab_id: Some(2),
            frame_id: Some(0),
            url: Some("chrome-extension://abc/options.html".into()),
        });
        assert_eq!(options, Role::Extension);
        // The overlay with a fragment, on the static origin; and outside any tab.
        let framed = Sender {
            tab_id: Some(1),
            frame_id: Some(5),
            url: Some(format!("chrome-extension://abc/overlay.html#t={T}&expanded=1")),
        };
        assert_eq!(o.role(&framed), Role::Overlay { tab_id: 1 });
        assert_eq!(o.role(&Sender { tab_id: None, ..framed }), Role::Other);
        // A look-alike origin is not ours.
        let evil = o.role(&Sender { tab_id: None, frame_id: None, url: Some("chrome-extension://abcd/x.html".into()) });
        assert_eq!(evil, Role::Other);

        let page = |url: &str| Request::Page { url: url.into(), hints: PageHints::default() };
        assert!(page("https://acme.com/").allowed(&content));
        assert!(!page("https://other.com/").allowed(&content), "a page reports only its own origin");
        assert!(!page("https://acme.com/").allowed(&overlay));
        // Only Gmail's own top frame reports a thread.
        let thread =
            |url: &str| Request::Thread { url: url.into(), thread: "x".repeat(16), addresses: vec![], me: vec![] };
        let in_gmail = Role::Content { tab_id: 1, url: "https://mail.google.com/mail/u/0/#inbox".into() };
        assert!(thread("https://mail.google.com/mail/u/0/#inbox/x").allowed(&in_gmail));
        assert!(!thread("https://acme.com/").allowed(&content), "a thread is Gmail's");
        assert!(!thread("https://mail.google.com/mail/u/0/").allowed(&content), "of Gmail's own page");
        assert!(!thread("https://mail.google.com/mail/u/0/").allowed(&overlay));
        let card =
            Request::Card { token: token(), first: false, refresh: false, lookup: false, pick: None, full: true };
        assert!(card.allowed(&overlay) && card.allowed(&popup));
        assert!(!card.allowed(&content) && !card.allowed(&subframe));
        let expand = Request::Expand { token: token(), expanded: true };
        assert!(expand.allowed(&overlay) && !expand.allowed(&popup) && !expand.allowed(&content));
        let save = Request::Save { settings: SettingsForm::default() };
        assert!(!save.allowed(&content) && save.allowed(&popup) && save.allowed(&options));
        assert!(Request::Position { side: Side::Left, top: 3.0 }.allowed(&content));
    }

    #[test]
    fn the_overlay_may_ask_for_its_card_and_write_but_nothing_else() {
        let overlay = Role::Overlay { tab_id: 1 };
        for message in every_request() {
            let request = Request::decode(message.clone()).unwrap();
            let card_s_own = ["lens:card", "lens:act", "lens:choices", "lens:companies", "lens:expand", "lens:close"]
                .contains(&message["type"].as_str().unwrap());
            assert_eq!(request.allowed(&overlay), card_s_own, "{message}");
        }
        // In particular: not the key (settings), not a save, not a key test, not another tab.
        for t in ["lens:settings", "lens:save", "lens:whoami", "lens:tab", "lens:pause", "lens:usage"] {
            let message = every_request().into_iter().find(|m| m["type"] == t).unwrap();
            assert!(!Request::decode(message).unwrap().allowed(&overlay), "{t}");
        }
    }

    #[test]
    fn every_answer_round_trips_in_the_one_reply_shape() {
        let card = Card::new(Query { kind: QueryKind::Domain, value: "acme.com".into() }, CardStatus::Matched);
        let target = Target { kind: EntityKind::Organization, id: 7 };
        let answers = vec![
            Answer::Page {
                show: true,
                token: Some(token()),
                position: None,
                frame: FRAME_SIZES,
                badges: true,
                pill: Some(lens_core::pill::Pill {
                    text: "Not in Affinity".into(),
                    title: "As of 10:32".into(),
                    status: "not_found".into(),
                }),
            },
            Answer::Links {
                known: vec![crate::company_index::KnownLink {
                    host: "www.acme.com".into(),
                    domain: "acme.com".into(),
                    name: "Acme".into(),
                    status: "Acme · Deal Pipeline: Diligence".into(),
                }],
            },
            Answer::Index {
                status: crate::company_index::IndexStatus {
                    companies: 3,
                    lists: 1,
                    synced_at: Some("2026-12-06T10:32:00.000Z".into()),
                    as_of: None,
                    calls_today: 4,
                    syncing: true,
                    progress: None,
                    error: None,
                    source: crate::company_index::IndexSource::Sync,
                },
            },
            Answer::card(card, true),
            Answer::OnDemand { message: "low".into() },
            Answer::Done { outcome: Outcome { changed: true, message: "Added.".into(), target: Some(target) } },
            Answer::Lists {
                lists: vec![],
                people: vec![lens_core::card::PersonRef { id: 1, name: "Alice Doe".into(), email: None }],
            },
            Answer::Companies {
                companies: vec![lens_core::actions::CompanyChoice { id: 7, name: "Acme".into(), domain: None }],
            },
            Answer::Tab { token: None, url: "about:blank".into(), site: None, ignored: false, paused: false },
            Answer::Paused { paused: vec!["a.com".into()] },
            Answer::Me { user: "Alice Doe".into(), email: None, firm: "F".into(), subdomain: "f".into() },
            Answer::Usage {
                rate: json!({"org_monthly": {"limit": 100}}),
                lens: json!({"month": "2026-12", "calls": 3, "page_views": 1, "cards_opened": 0}),
            },
            Answer::Settings { settings: SettingsForm::default() },
            Answer::Ack {},
        ];
        for answer in answers {
            let v = Reply::ok(answer.clone()).to_value();
            assert_eq!(v["ok"], true);
            assert!(v["answer"].is_string(), "{v}");
            assert!(TYPESCRIPT.contains(&format!("answer: {}", v["answer"])), "the TypeScript names {v}");
            assert_eq!(Reply::from_value(v).unwrap(), Reply::ok(answer));
        }
        let done = Reply::ok(Answer::Done { outcome: Outcome { changed: false, message: "m".into(), target: None } });
        assert_eq!(
            done.to_value(),
            json!({"ok": true, "answer": "done", "changed": false, "message": "m", "target": null})
        );
        let failed = Reply::failed(ErrorKind::NoKey, "Add your key.");
        assert_eq!(
            failed.to_value(),
            json!({"ok": false, "error": {"kind": "no_key", "message": "Add your key.", "retry_at": null}})
        );
        assert_eq!(Reply::from_value(failed.to_value()).unwrap(), failed);
    }

    #[test]
    fn the_typescript_names_every_message_and_error_kind() {
        for t in REQUEST_TYPES {
            assert!(TYPESCRIPT.contains(&format!("type: \"{t}\"")), "{t}");
        }
        for k in ErrorKind::KNOWN {
            assert!(TYPESCRIPT.contains(&format!("\"{}\"", k.as_str())), "{k}");
        }
    }

    #[test]
    fn hints_are_short_trimmed_strings() {
        let hints = PageHints {
            name: Some("  Bob  ".into()),
            title: Some("  ".into()),
            headline: Some("x".repeat(1000)),
            ..PageHints::default()
        };
        let clean = Request::clean_hints(hints);
        assert_eq!(clean.name.as_deref(), Some("Bob"));
        assert_eq!(clean.title, None);
        assert_eq!(clean.headline.unwrap().chars().count(), 300);
    }

    #[test]
    fn a_token_is_32_hex_digits() {
        assert_eq!(Token::from_bytes([0xab; 16]).as_str(), "ab".repeat(16));
        assert!(Token::try_from("g".repeat(32)).is_err());
        assert!(Token::try_from(T.to_owned()).is_ok());
    }
}
