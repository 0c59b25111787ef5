//! Interactions, notes, reminders, files, webhooks, whoami and the rate limit.

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{Code, PersonSummary, Timestamp};
use super::entities::{OpportunitySummary, Organization};
use super::null_as_default;

/// Marker for [`InteractionType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InteractionTypeKind {}
/// 0 meeting, 1 call, 2 chat message, 3 email.
pub type InteractionType = Code<InteractionTypeKind>;
impl InteractionType {
    /// A meeting (a calendar event).
    pub const MEETING: InteractionType = Code::new(0);
    /// A call.
    pub const CALL: InteractionType = Code::new(1);
    /// A chat message.
    pub const CHAT_MESSAGE: InteractionType = Code::new(2);
    /// An email.
    pub const EMAIL: InteractionType = Code::new(3);
}

/// Marker for [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirectionKind {}
/// 0 sent, 1 received (chat and email only).
pub type Direction = Code<DirectionKind>;
impl Direction {
    /// Sent by an internal person (outgoing).
    pub const SENT: Direction = Code::new(0);
    /// Received from an external person (incoming).
    pub const RECEIVED: Direction = Code::new(1);
}

/// An interaction: meeting or call, chat message, or email (fields by type, §7.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    /// The interaction's id (unique only within its type).
    pub id: i64,
    /// Whether it is a meeting, call, chat message or email.
    #[serde(default, rename = "type")]
    pub interaction_type: InteractionType,
    /// When it took place.
    #[serde(default)]
    pub date: Option<Timestamp>,
    /// The persons involved, internal and external.
    #[serde(default, deserialize_with = "null_as_default")]
    pub persons: Vec<PersonSummary>,
    /// The user who logged it by hand; `None` when it was captured automatically.
    #[serde(default)]
    pub manual_creator_id: Option<i64>,
    /// Ids of the notes attached to it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub notes: Vec<i64>,
    /// Attendees' email addresses (meetings and calls).
    #[serde(default, deserialize_with = "null_as_default")]
    pub attendees: Vec<String>,
    /// When the meeting starts (meetings and calls).
    #[serde(default)]
    pub start_time: Option<Timestamp>,
    /// When the meeting ends, if known (meetings and calls).
    #[serde(default)]
    pub end_time: Option<Timestamp>,
    /// When it was last updated (meetings and calls).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// The meeting's title (meetings and calls).
    #[serde(default)]
    pub title: Option<String>,
    /// Whether it was sent or received (chat messages and emails).
    #[serde(default)]
    pub direction: Option<Direction>,
    /// The email's subject (emails).
    #[serde(default)]
    pub subject: Option<String>,
    /// The email's sender (emails).
    #[serde(default)]
    pub from: Option<PersonSummary>,
    /// The email's recipients (emails).
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: Vec<PersonSummary>,
    /// The email's copied recipients (emails).
    #[serde(default, deserialize_with = "null_as_default")]
    pub cc: Vec<PersonSummary>,
    /// How it was logged (listed in the docs, without its codes; a filter of
    /// `GET /interactions` uses 0 for all, 1 for manual only).
    #[serde(default)]
    pub logging_type: Option<i64>,
}

/// Marker for [`NoteType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoteTypeKind {}
/// 0 plain text, 1 from an email (legacy), 2 HTML, 3 AI meeting summary.
pub type NoteType = Code<NoteTypeKind>;
impl NoteType {
    /// Plain text (the default).
    pub const PLAIN_TEXT: NoteType = Code::new(0);
    /// Created from an email (legacy; can no longer be created).
    pub const EMAIL: NoteType = Code::new(1);
    /// HTML.
    pub const HTML: NoteType = Code::new(2);
    /// An AI meeting summary by Affinity's Notetaker (created by Affinity only).
    pub const AI_SUMMARY: NoteType = Code::new(3);
}

/// A note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// The note's id.
    pub id: i64,
    /// The user who wrote it.
    #[serde(default)]
    pub creator_id: Option<i64>,
    /// Every person it is about: `associated_person_ids` and `interaction_person_ids`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub person_ids: Vec<i64>,
    /// The persons it is attached to directly.
    #[serde(default, deserialize_with = "null_as_default")]
    pub associated_person_ids: Vec<i64>,
    /// The persons who attended the interaction it is on.
    #[serde(default, deserialize_with = "null_as_default")]
    pub interaction_person_ids: Vec<i64>,
    /// The interaction (a meeting, say) it is on, if any.
    #[serde(default)]
    pub interaction_id: Option<i64>,
    /// The type of that interaction.
    #[serde(default)]
    pub interaction_type: Option<InteractionType>,
    /// Whether it is a meeting's note.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_meeting: bool,
    /// The persons @-mentioned in it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub mentioned_person_ids: Vec<i64>,
    /// The organizations it is attached to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_ids: Vec<i64>,
    /// The opportunities it is attached to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub opportunity_ids: Vec<i64>,
    /// The note it replies to; replies have no entities of their own.
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// The note's text (HTML notes come back marked up lightly, e.g. `**bold**`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    /// Plain text, HTML, from an email or an AI summary.
    #[serde(default, rename = "type")]
    pub note_type: NoteType,
    /// When it was written.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// When it was last edited.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// Marker for [`ReminderStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderStatusKind {}
/// 0 completed, 1 active, 2 overdue.
pub type ReminderStatus = Code<ReminderStatusKind>;
impl ReminderStatus {
    /// Completed.
    pub const COMPLETED: ReminderStatus = Code::new(0);
    /// Active, not yet due.
    pub const ACTIVE: ReminderStatus = Code::new(1);
    /// Due and not completed.
    pub const OVERDUE: ReminderStatus = Code::new(2);
}

/// A reminder. `type`: 0 one-time, 1 recurring; `reset_type`: 0 interaction, 1 email,
/// 2 meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// The reminder's id.
    pub id: i64,
    /// 0 one-time, 1 recurring.
    #[serde(default, rename = "type")]
    pub reminder_type: i64,
    /// Completed, active or overdue.
    #[serde(default)]
    pub status: ReminderStatus,
    /// What resets a recurring reminder: 0 any interaction (email or meeting), 1 an email,
    /// 2 a meeting.
    #[serde(default)]
    pub reset_type: Option<i64>,
    /// For a recurring reminder, the days after which it falls due again.
    #[serde(default)]
    pub reminder_days: Option<i64>,
    /// The reminder's text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    /// When it is due.
    #[serde(default)]
    pub due_date: Option<Timestamp>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// When it was completed, if it was.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    /// The user who created it.
    #[serde(default)]
    pub creator: Option<PersonSummary>,
    /// The user it is for.
    #[serde(default)]
    pub owner: Option<PersonSummary>,
    /// The user who completed it, if anyone did.
    #[serde(default)]
    pub completer: Option<PersonSummary>,
    /// The person it is about, if any.
    #[serde(default)]
    pub person: Option<PersonSummary>,
    /// The organization it is about, if any.
    #[serde(default)]
    pub organization: Option<Organization>,
    /// The opportunity it is about, if any.
    #[serde(default)]
    pub opportunity: Option<OpportunitySummary>,
}

/// A file's metadata (`GET /entity-files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityFile {
    /// The file's id.
    pub id: i64,
    /// The file's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Bytes. The docs call it a string; every example is a number: both are read.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub size: Option<i64>,
    /// The person it is attached to, if any.
    #[serde(default)]
    pub person_id: Option<i64>,
    /// The organization it is attached to, if any.
    #[serde(default)]
    pub organization_id: Option<i64>,
    /// The opportunity it is attached to, if any.
    #[serde(default)]
    pub opportunity_id: Option<i64>,
    /// The user who uploaded it.
    #[serde(default)]
    pub uploader_id: Option<i64>,
    /// Its media type, when given (not documented).
    #[serde(default)]
    pub content_type: Option<String>,
    /// When it was uploaded.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// The subscription's id.
    pub id: i64,
    /// The URL Affinity posts events to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub webhook_url: String,
    /// Event names; empty means all events.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subscriptions: Vec<String>,
    /// Whether delivery is off (set by Affinity after failed deliveries, or by hand).
    #[serde(default, deserialize_with = "null_as_default")]
    pub disabled: bool,
    /// The user who created it.
    #[serde(default)]
    pub created_by: Option<i64>,
}

/// A delivered webhook: `{type, body, sent_at}`. `body` is the resource in its v1 shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The event's name (`list_entry.created`, `organization.merged`...).
    #[serde(rename = "type")]
    pub event: String,
    /// The resource the event is about, as it came.
    #[serde(default)]
    pub body: serde_json::Value,
    /// Unix seconds.
    #[serde(default)]
    pub sent_at: Option<i64>,
}

/// The body of `organization.merged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMerged {
    /// Who merged the organizations.
    #[serde(default)]
    pub changer: Option<PersonSummary>,
    /// The organization that was merged away.
    pub removed_company: Organization,
    /// The organization that remains.
    pub company: Organization,
    /// When they were merged.
    #[serde(default)]
    pub merged_at: Option<Timestamp>,
}

/// `GET /auth/whoami`. Note the camelCase keys inside `user` and `grant`, even in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// The firm the key belongs to.
    pub tenant: Tenant,
    /// The key's user.
    pub user: WhoAmIUser,
    /// How the key was granted.
    #[serde(default)]
    pub grant: Option<Grant>,
}

/// The firm (`whoami.tenant`); `subdomain` gives `https://<subdomain>.affinity.co`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The firm's id.
    pub id: i64,
    /// The firm's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The firm's subdomain of `affinity.co`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subdomain: String,
}

/// The key's user (`whoami.user`); `id` is their person id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIUser {
    /// The user's person id.
    pub id: i64,
    /// The user's first name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    /// The user's last name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_name: String,
    /// The user's email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// How the key was granted (`whoami.grant`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The kind of grant (`"api_key"`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// What the grant allows (`"external_api"`).
    #[serde(default)]
    pub scope: Option<String>,
    /// When the key was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// A limit or a remainder: a number, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitValue {
    /// A number of calls.
    Limited(i64),
    /// No limit.
    Unlimited,
}

impl RateLimitValue {
    /// Reads a header or body value: a number or "unlimited" (any case); else `None`.
    pub fn parse(s: &str) -> Option<RateLimitValue> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("unlimited") {
            Some(RateLimitValue::Unlimited)
        } else {
            s.parse().ok().map(RateLimitValue::Limited)
        }
    }
}

impl Serialize for RateLimitValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RateLimitValue::Limited(n) => s.serialize_i64(*n),
            RateLimitValue::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for RateLimitValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(RateLimitValue::Limited)
                .ok_or_else(|| serde::de::Error::custom("not an integer")),
            serde_json::Value::String(s) => {
                RateLimitValue::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a limit: {s:?}")))
            }
            other => Err(serde::de::Error::custom(format!("not a limit: {other}"))),
        }
    }
}

/// One window of `/rate-limit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateWindow {
    /// The calls allowed in the window.
    pub limit: RateLimitValue,
    /// The calls left in the window.
    pub remaining: RateLimitValue,
    /// Seconds until the window resets.
    #[serde(default)]
    pub reset: i64,
    /// The calls used in the window.
    #[serde(default)]
    pub used: i64,
}

/// `rate` of `/rate-limit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    /// The account's calls this calendar month.
    pub org_monthly: RateWindow,
    /// The key's calls this minute.
    pub api_key_per_minute: RateWindow,
}

/// `GET /rate-limit`: the month's account budget and the key's per-minute budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The account's monthly window and the key's per-minute window.
    pub rate: RateLimits,
}
