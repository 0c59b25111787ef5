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
    pub const MEETING: InteractionType = Code::new(0);
    pub const CALL: InteractionType = Code::new(1);
    pub const CHAT_MESSAGE: InteractionType = Code::new(2);
    pub const EMAIL: InteractionType = Code::new(3);
}

/// Marker for [`Direction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirectionKind {}
/// 0 sent, 1 received (chat and email only).
pub type Direction = Code<DirectionKind>;
impl Direction {
    pub const SENT: Direction = Code::new(0);
    pub const RECEIVED: Direction = Code::new(1);
}

/// An interaction: meeting or call, chat message, or email (fields by type, §7.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub interaction_type: InteractionType,
    #[serde(default)]
    pub date: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub persons: Vec<PersonSummary>,
    #[serde(default)]
    pub manual_creator_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub notes: Vec<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attendees: Vec<String>,
    #[serde(default)]
    pub start_time: Option<Timestamp>,
    #[serde(default)]
    pub end_time: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub from: Option<PersonSummary>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: Vec<PersonSummary>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cc: Vec<PersonSummary>,
    #[serde(default)]
    pub logging_type: Option<i64>,
}

/// Marker for [`NoteType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoteTypeKind {}
/// 0 plain text, 1 from an email (legacy), 2 HTML, 3 AI meeting summary.
pub type NoteType = Code<NoteTypeKind>;
impl NoteType {
    pub const PLAIN_TEXT: NoteType = Code::new(0);
    pub const EMAIL: NoteType = Code::new(1);
    pub const HTML: NoteType = Code::new(2);
    pub const AI_SUMMARY: NoteType = Code::new(3);
}

/// A note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: i64,
    #[serde(default)]
    pub creator_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub person_ids: Vec<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub associated_person_ids: Vec<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub interaction_person_ids: Vec<i64>,
    #[serde(default)]
    pub interaction_id: Option<i64>,
    #[serde(default)]
    pub interaction_type: Option<InteractionType>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_meeting: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mentioned_person_ids: Vec<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_ids: Vec<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub opportunity_ids: Vec<i64>,
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    #[serde(default, rename = "type")]
    pub note_type: NoteType,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// Marker for [`ReminderStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderStatusKind {}
/// 0 completed, 1 active, 2 overdue.
pub type ReminderStatus = Code<ReminderStatusKind>;
impl ReminderStatus {
    pub const COMPLETED: ReminderStatus = Code::new(0);
    pub const ACTIVE: ReminderStatus = Code::new(1);
    pub const OVERDUE: ReminderStatus = Code::new(2);
}

/// A reminder. `type`: 0 one-time, 1 recurring; `reset_type`: 0 interaction, 1 email,
/// 2 meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub reminder_type: i64,
    #[serde(default)]
    pub status: ReminderStatus,
    #[serde(default)]
    pub reset_type: Option<i64>,
    #[serde(default)]
    pub reminder_days: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    #[serde(default)]
    pub due_date: Option<Timestamp>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub creator: Option<PersonSummary>,
    #[serde(default)]
    pub owner: Option<PersonSummary>,
    #[serde(default)]
    pub completer: Option<PersonSummary>,
    #[serde(default)]
    pub person: Option<PersonSummary>,
    #[serde(default)]
    pub organization: Option<Organization>,
    #[serde(default)]
    pub opportunity: Option<OpportunitySummary>,
}

/// A file's metadata (`GET /entity-files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityFile {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Bytes. The docs call it a string; every example is a number: both are read.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub size: Option<i64>,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub organization_id: Option<i64>,
    #[serde(default)]
    pub opportunity_id: Option<i64>,
    #[serde(default)]
    pub uploader_id: Option<i64>,
    #[serde(default)]
    pub content_type: Option<String>,
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
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub webhook_url: String,
    /// Event names; empty means all events.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subscriptions: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub disabled: bool,
    #[serde(default)]
    pub created_by: Option<i64>,
}

/// A delivered webhook: `{type, body, sent_at}`. `body` is the resource in its v1 shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    #[serde(rename = "type")]
    pub event: String,
    #[serde(default)]
    pub body: serde_json::Value,
    /// Unix seconds.
    #[serde(default)]
    pub sent_at: Option<i64>,
}

/// The body of `organization.merged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMerged {
    #[serde(default)]
    pub changer: Option<PersonSummary>,
    pub removed_company: Organization,
    pub company: Organization,
    #[serde(default)]
    pub merged_at: Option<Timestamp>,
}

/// `GET /auth/whoami`. Note the camelCase keys inside `user` and `grant`, even in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub tenant: Tenant,
    pub user: WhoAmIUser,
    #[serde(default)]
    pub grant: Option<Grant>,
}

/// The firm (`whoami.tenant`); `subdomain` gives `https://<subdomain>.affinity.co`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub subdomain: String,
}

/// The key's user (`whoami.user`); `id` is their person id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIUser {
    pub id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// How the key was granted (`whoami.grant`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// A limit or a remainder: a number, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitValue {
    Limited(i64),
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
    pub limit: RateLimitValue,
    pub remaining: RateLimitValue,
    /// Seconds until the window resets.
    #[serde(default)]
    pub reset: i64,
    #[serde(default)]
    pub used: i64,
}

/// `rate` of `/rate-limit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    pub org_monthly: RateWindow,
    pub api_key_per_minute: RateWindow,
}

/// `GET /rate-limit`: the month's account budget and the key's per-minute budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub rate: RateLimits,
}
