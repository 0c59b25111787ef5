//! What the folded card (the pill) says of a [`Card`]: one line, its tooltip and the state
//! of its dot. Shared by the card's UI (`lens-ui`) and the extension's background, which
//! sends it with a page view's first answer so that the overlay can draw the pill before the
//! card's own module has started.

use serde::{Deserialize, Serialize};

use crate::card::{Card, CardSource, CardStatus};

/// The pill of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pill {
    /// The line: "In Affinity · Strong 0.82 (Alice)", "Not in Affinity", …
    pub text: String,
    /// The tooltip: what opening the card does, and as of when the index answered.
    pub title: String,
    /// The dot's state: `matched`, `ambiguous`, `not_found`, `ignored` or `error`.
    pub status: String,
}

impl Pill {
    /// The pill of `card`.
    pub fn of(card: &Card) -> Pill {
        Pill { text: text(card), title: title(card), status: status_key(card.status).to_owned() }
    }
}

/// A card status in words ("In Affinity", "Several matches", …).
pub fn status_label(status: CardStatus) -> &'static str {
    match status {
        CardStatus::Matched => "In Affinity",
        CardStatus::Ambiguous => "Several matches",
        CardStatus::NotFound => "Not in Affinity",
        CardStatus::Ignored => "Not looked up",
        CardStatus::Error => "Error",
    }
}

/// A card status as the Card JSON spells it (the dot's `data-status`).
pub fn status_key(status: CardStatus) -> &'static str {
    match status {
        CardStatus::Matched => "matched",
        CardStatus::Ambiguous => "ambiguous",
        CardStatus::NotFound => "not_found",
        CardStatus::Ignored => "ignored",
        CardStatus::Error => "error",
    }
}

/// How many of the people were checked, of how many, when not all were.
pub fn checked_of(card: &Card) -> Option<(usize, usize)> {
    match (card.people_checked, card.people_total) {
        (Some(c), Some(t)) if c < t => Some((c, t)),
        _ => None,
    }
}

/// The pill's line: the match state and the best connection. When not everyone was checked
/// (a page view with a v1-only key reads a few people's strengths), it says "at least": the
/// opened card, which reads the others, may find a stronger connection, never a weaker one.
pub fn text(card: &Card) -> String {
    if card.query.kind == crate::card::QueryKind::Thread && card.status != CardStatus::Error {
        return crate::mail::thread_card_pill(card);
    }
    match (card.status, card.connections.first()) {
        (CardStatus::Matched, Some(c)) => {
            let first = c.colleague.name.split_whitespace().next().unwrap_or(&c.colleague.name);
            match checked_of(card) {
                Some(_) => format!("In Affinity · at least {:.2} ({first})", c.strength),
                None => format!("In Affinity · {} {:.2} ({first})", strength_word(c.strength), c.strength),
            }
        }
        (CardStatus::Error, _) => format!("Affinity: {}", status_label(card.status).to_lowercase()),
        // No connection (yet: the index's card): the list and its Status.
        (CardStatus::Matched, None) if !card.lists.is_empty() => {
            let entry = card.lists.iter().find(|l| l.status.is_some()).unwrap_or(&card.lists[0]);
            match &entry.status {
                Some(s) => format!("In Affinity · {}: {}", entry.list_name, s.text),
                None => format!("In Affinity · {}", entry.list_name),
            }
        }
        (status, _) => status_label(status).to_owned(),
    }
}

/// The pill's tooltip: what opening it does, what "at least" means, and as of when the
/// index answered.
pub fn title(card: &Card) -> String {
    if card.status == CardStatus::Matched && !card.connections.is_empty() {
        return match checked_of(card) {
            Some((1, t)) => format!(
                "Affinity Lens: the connection of the person most recently in touch, of {t}; open the card to check the others"
            ),
            Some((c, t)) => format!(
                "Affinity Lens: the strongest of the {c} people most recently in touch, of {t}; open the card to check the others"
            ),
            None => "Affinity Lens: open the card".to_owned(),
        };
    }
    if card.source == CardSource::Index {
        let when = chrono::DateTime::parse_from_rfc3339(&card.fetched_at)
            .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| "its last sync".to_owned());
        return match card.status {
            CardStatus::NotFound => {
                format!("Affinity Lens: not in the firm's Affinity as of {when} (its index); click to check live")
            }
            _ => format!("Affinity Lens: from the firm's index as of {when}; open the card"),
        };
    }
    "Affinity Lens: open the card".to_owned()
}

/// Affinity's own words for a strength.
pub fn strength_word(strength: f64) -> &'static str {
    if strength >= 0.66 {
        "Strong"
    } else if strength >= 0.33 {
        "Medium"
    } else {
        "Weak"
    }
}
