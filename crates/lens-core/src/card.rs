//! The Card: what the lookup engine produces for one thing on a page, and the JSON
//! contract between the gateway, the web component, the CLI and the UI
//! (shared/docs/card.md). Absent data is `null` or `[]`, never a missing key.

use serde::{Deserialize, Serialize};

/// What was looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub kind: QueryKind,
    /// Normalised: registrable domain, lower-case email, canonical LinkedIn URL, or an id.
    pub value: String,
}

/// The kind of thing looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    Domain,
    Email,
    LinkedinPerson,
    LinkedinCompany,
    OrganizationId,
    PersonId,
    /// An email thread (the extension in Gmail): `value` is the mail client's thread id,
    /// and the card's `thread` lists its external participants.
    Thread,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Matched,
    Ambiguous,
    NotFound,
    Ignored,
    Error,
}

/// Organization or person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Organization,
    Person,
}

/// The matched entity, or one candidate of an ambiguous match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardEntity {
    pub kind: EntityKind,
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    pub affinity_url: Option<String>,
}

/// A person as the card shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
}

/// A colleague's relationship with a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub colleague: PersonRef,
    pub contact: PersonRef,
    pub strength: f64,
}

/// A list's Status value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusValue {
    pub text: String,
    pub color: i64,
}

/// One list entry of the entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardListEntry {
    pub list_id: i64,
    pub list_name: String,
    pub entry_id: i64,
    pub added_at: Option<String>,
    pub status: Option<StatusValue>,
    pub status_since: Option<String>,
    pub owners: Vec<PersonRef>,
    pub amount: Option<f64>,
}

/// Every field of one list entry's list, in the list's order, with the entry's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryFields {
    pub list_id: i64,
    /// The list entry (`lists[].entry_id`).
    pub entry_id: i64,
    pub fields: Vec<CardField>,
}

/// One field of a list entry and its value (see [`crate::fields`] for the value's shapes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardField {
    /// The field's id (v1's number; API v2 names it `field-<id>`).
    pub id: i64,
    pub name: String,
    /// The value's type in API v2's words: `text`, `number`, `datetime`, `dropdown`,
    /// `dropdown-multi`, `ranked-dropdown`, `person`, `person-multi`, `company`,
    /// `company-multi`, `location`, … (a type a reader does not know is shown as text).
    #[serde(rename = "type")]
    pub value_type: String,
    /// The value: `null` when empty (`[]` for a multi-valued type).
    pub value: serde_json::Value,
    /// Whether the card offers to change it: the key may write, and the card has a control
    /// for its type.
    pub editable: bool,
    /// A dropdown's options, in rank order (empty for other types).
    #[serde(default)]
    pub options: Vec<FieldOption>,
}

/// One option of a dropdown field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOption {
    pub id: i64,
    pub text: String,
    /// A ranked dropdown's colour (v1's number; 0 when none).
    #[serde(default)]
    pub color: i64,
}

/// A note on the entity, as the card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardNote {
    pub id: i64,
    /// Who wrote it (a colleague), when known.
    pub author: Option<PersonRef>,
    /// When it was written (ISO 8601).
    pub created_at: Option<String>,
    /// Its text, plain: an HTML note's markup is removed, a text note's is kept as it was
    /// written (it is text). At most [`crate::notes::NOTE_TEXT_CHARS`] characters.
    pub text: String,
    /// Where the rest is: the entity in Affinity's web app (`null` when the account's
    /// address is unknown).
    pub affinity_url: Option<String>,
}

/// What Affinity's data enrichment knows of a company (API v2's enriched fields): each part
/// `null` (or `[]`) when not known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Firmographics {
    #[serde(default)]
    pub industries: Vec<String>,
    pub employees: Option<i64>,
    /// Total funding, in US dollars.
    pub total_funding_usd: Option<f64>,
    /// The last round's stage ("Series B").
    pub last_round: Option<String>,
    /// The last round's amount, in US dollars.
    pub last_round_usd: Option<f64>,
    /// When the last round was (ISO 8601).
    pub last_round_date: Option<String>,
    /// "San Francisco, California, United States".
    pub location: Option<String>,
    pub year_founded: Option<i64>,
}

impl Firmographics {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self == &Firmographics::default()
    }
}

/// A dated interaction and the colleagues in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityItem {
    pub date: String,
    pub people: Vec<PersonRef>,
}

/// First and last email, last and next meeting, last interaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub first_email: Option<ActivityItem>,
    pub last_email: Option<ActivityItem>,
    pub last_event: Option<ActivityItem>,
    pub next_event: Option<ActivityItem>,
    pub last_interaction: Option<ActivityItem>,
}

/// An opportunity linked to the entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardOpportunity {
    pub id: i64,
    pub name: String,
    pub list_name: Option<String>,
    pub status: Option<String>,
    /// The opportunity in Affinity's web app, when the account's address is known.
    #[serde(default)]
    pub affinity_url: Option<String>,
    /// The Status was not asked for, to spare the firm's budget: each costs a call, and a
    /// card reads the most recent opportunities' only (`status` is then `null`).
    #[serde(default)]
    pub status_skipped: bool,
}

/// How much of the card a look-up made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A page view: the match, the best connection and the list entries with their Status
    /// (what the pill shows), for the fewest Affinity calls. Other keys may be empty.
    Pill,
    /// The whole card: every connection, owners, amounts, time in status, activity,
    /// opportunities (the opened card, the CLI, the gateway).
    #[default]
    Card,
}

/// Where a card's answer comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSource {
    /// Affinity, asked now (or its cache: see `stale`).
    #[default]
    Live,
    /// The index of the firm's companies on this machine, without a call
    /// ([`crate::index::Index::answer`]): `fetched_at` says as of when; no connections,
    /// activity, owners or amounts.
    Index,
}

/// What a match rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchBasis {
    /// The site's domain is one of the organization's.
    Domain,
    /// The email address is the person's.
    Email,
    /// The id was given.
    Id,
    /// The name the page shows, and the current company it names (the person's
    /// organization, or their email domain).
    NameAndCompany,
    /// The name the page shows, and nothing else: the only one of that name.
    NameOnly,
}

/// On a LinkedIn profile: who the page shows. Lets a card that found nobody offer to add
/// them, linked to their company's organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagePerson {
    /// The name on the page.
    pub name: String,
    /// The current company the page names (`null` when it names none).
    pub company: Option<String>,
    /// That company's organization in Affinity, when the person was not found and the
    /// company was (exactly one organization of that name).
    pub organization: Option<CardEntity>,
}

/// Why a card could not be made; also the error of every failed reply in the extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardError {
    /// `unauthorized` | `forbidden` | `not_found` | `invalid` | `rate_limited` |
    /// `unavailable` | `bad_response`; from the gateway also `budget_reserve` (the
    /// month's budget is down to the firm's reserve: only cards looked up before are served);
    /// from the extension also `no_key`, `bad_settings`, `expired`, `unsupported`,
    /// `bad_message`, `not_visible`, `internal` ([`crate::ErrorKind`]).
    pub kind: crate::ErrorKind,
    /// For people.
    pub message: String,
    /// For `rate_limited`: when the Lens will try again (ISO 8601).
    #[serde(default)]
    pub retry_at: Option<String>,
}

/// The card for one thing on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub query: Query,
    pub status: CardStatus,
    pub entity: Option<CardEntity>,
    pub candidates: Vec<CardEntity>,
    pub connections: Vec<Connection>,
    pub lists: Vec<CardListEntry>,
    pub activity: Activity,
    pub opportunities: Vec<CardOpportunity>,
    pub fetched_at: String,
    pub stale: bool,
    /// `live`, or `index` (the index of the firm's companies answered, without a call, as of
    /// `fetched_at`).
    #[serde(default)]
    pub source: CardSource,
    pub error: Option<CardError>,
    /// For an organization: how many people it has, and how many of them the connections
    /// cover (strengths are read for the most recently in touch, up to a cap; people without
    /// interactions have none). Fewer checked than total means the card is capped.
    #[serde(default)]
    pub people_total: Option<usize>,
    #[serde(default)]
    pub people_checked: Option<usize>,
    /// What the match rests on: `domain` | `email` | `id` | `name_and_company` |
    /// `name_only`; `null` unless `status` is `matched`.
    #[serde(default)]
    pub matched_on: Option<MatchBasis>,
    /// On a LinkedIn profile: the name and company the page shows; `null` elsewhere.
    #[serde(default)]
    pub page_person: Option<PagePerson>,
    /// The card is incomplete: its lookup was cut short by the gateway's deadline, and
    /// what the first round found is all it holds.
    #[serde(default)]
    pub partial: bool,
    /// `pill` (a page view's look-up: ask for the `card` when it is opened) or `card`.
    #[serde(default)]
    pub phase: Phase,
    /// Every field of each list entry (one item per entry of `lists`), with its value and
    /// whether the card may change it; the opened card's (a pill leaves it empty).
    #[serde(default)]
    pub fields: Vec<EntryFields>,
    /// The most recent notes on the entity (at most [`crate::notes::CARD_NOTES`]), newest
    /// first; the opened card's (a pill leaves it empty).
    #[serde(default)]
    pub notes: Vec<CardNote>,
    /// A company's firmographics from Affinity's data enrichment (API v2 only); `null`
    /// when they cannot be read.
    #[serde(default)]
    pub firmographics: Option<Firmographics>,
    /// An email thread's card (`query.kind` `thread`): its external participants, in the
    /// thread's order; `[]` for every other card.
    #[serde(default)]
    pub thread: Vec<ThreadPerson>,
}

/// One external participant of an email thread, and what the firm knows of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadPerson {
    /// Their address (checked, lower-case).
    pub email: String,
    /// The name the mail client shows, if any.
    pub name: Option<String>,
    /// The registrable domain of their address: their company's, unless it is free mail
    /// (then `null`).
    pub company_domain: Option<String>,
    /// The person in Affinity with this address, if any.
    pub person: Option<CardEntity>,
    /// The organization of `company_domain` in Affinity, if any.
    pub organization: Option<CardEntity>,
    /// That organization's list entries, with their Status.
    pub lists: Vec<CardListEntry>,
    /// Who on the team knows that organization best.
    pub connection: Option<Connection>,
}

impl CardError {
    /// An error of `kind` with a message for people.
    pub fn new(kind: crate::ErrorKind, message: impl Into<String>) -> CardError {
        CardError { kind, message: message.into(), retry_at: None }
    }
}

impl From<&affinity_api::Error> for CardError {
    fn from(error: &affinity_api::Error) -> CardError {
        CardError::new(crate::ErrorKind::from(error), error.to_string())
    }
}

impl Card {
    /// An empty card for `query` with the given status, stamped now.
    pub fn new(query: Query, status: CardStatus) -> Card {
        Card {
            query,
            status,
            entity: None,
            candidates: Vec::new(),
            connections: Vec::new(),
            lists: Vec::new(),
            activity: Activity::default(),
            opportunities: Vec::new(),
            fetched_at: now_iso(),
            stale: false,
            source: CardSource::Live,
            error: None,
            people_total: None,
            people_checked: None,
            matched_on: None,
            page_person: None,
            partial: false,
            phase: Phase::Card,
            fields: Vec::new(),
            notes: Vec::new(),
            firmographics: None,
            thread: Vec::new(),
        }
    }

    /// A card that reports `error`.
    pub fn from_error(query: Query, error: &affinity_api::Error) -> Card {
        let retry_at = match error {
            affinity_api::Error::RateLimited { retry_after: Some(wait) } => {
                let at = web_time::SystemTime::now() + *wait;
                Some(iso(at))
            }
            _ => None,
        };
        Card {
            error: Some(CardError { kind: crate::ErrorKind::from(error), message: error.to_string(), retry_at }),
            ..Card::new(query, CardStatus::Error)
        }
    }
}

/// The current time as ISO 8601 in UTC, from the platform clock (works on wasm32).
pub fn now_iso() -> String {
    iso(web_time::SystemTime::now())
}

/// An instant given in ms since the epoch, as ISO 8601 in UTC.
pub fn iso_from_ms(ms: u64) -> String {
    iso(web_time::SystemTime::UNIX_EPOCH + web_time::Duration::from_millis(ms))
}

fn iso(t: web_time::SystemTime) -> String {
    let millis = t.duration_since(web_time::SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default();
    // Through the models' one formatting of dates (UTC reads as `Z`).
    let utc = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    affinity_api::models::Timestamp(utc.fixed_offset()).to_iso()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_card_has_every_key_of_the_contract() {
        let card = Card::new(Query { kind: QueryKind::Domain, value: "acme.com".into() }, CardStatus::NotFound);
        let json = serde_json::to_value(&card).unwrap();
        for key in [
            "query",
            "status",
            "entity",
            "candidates",
            "connections",
            "lists",
            "activity",
            "opportunities",
            "fetched_at",
            "stale",
            "source",
            "error",
            "matched_on",
            "page_person",
            "phase",
            "fields",
            "notes",
            "firmographics",
        ] {
            assert!(json.get(key).is_some(), "missing key {key}");
        }
        assert_eq!(json["status"], "not_found");
        assert_eq!(json["query"]["kind"], "domain");
        assert!(json["activity"].get("next_event").is_some());
        assert!(json["fetched_at"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn instants_read_as_iso_8601_in_utc_with_milliseconds() {
        assert_eq!(iso_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_from_ms(1_793_000_000_123), "2026-10-26T07:33:20.123Z");
    }
}
