//! The latest notes on the card: read when the card is opened (never on a page view), in one
//! call, as plain text.
//!
//! API v2's `GET /v2/notes` (2026-07-15) filters by id, creator and dates only, not by the
//! entity a note is on, so the card asks v1: `GET /notes?organization_id=…` (or
//! `person_id`), one page of up to 500, which v1 does not sort: the card sorts it. A company
//! with more notes than that shows the most recent of the first 500.
//!
//! A note's content is text. An HTML note (v1 `type` 2) is turned into plain text (its tags
//! dropped, its entities decoded); a plain-text note keeps whatever it holds, markup
//! included, and the card shows it as text: nothing in a note is ever rendered.

use std::collections::HashMap;

use affinity_api::Error;
use affinity_api::endpoints::{self, EntityRef};
use affinity_api::models::{Note, NoteType};
use affinity_api::transport::{MaybeSend, MaybeSync, Transport};

use crate::account::LensClient;
use crate::card::{CardNote, PersonRef};

/// Notes a card shows.
pub const CARD_NOTES: usize = 3;
/// A note's text on the card is cut at this many characters (the card shows its first lines).
pub const NOTE_TEXT_CHARS: usize = 400;
/// Notes read in the one call (v1's largest page).
const NOTES_PAGE: u32 = 500;

/// The [`CARD_NOTES`] most recent notes on `of` (replies left out), newest first: one call.
pub async fn recent_notes<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    of: EntityRef,
    team: &HashMap<i64, PersonRef>,
    entity_url: Option<&str>,
) -> Result<Vec<CardNote>, Error> {
    let page = client.execute(&endpoints::notes(Some(of), Some(NOTES_PAGE))).await?;
    let mut notes: Vec<&Note> = page.items.iter().filter(|n| n.parent_id.is_none()).collect();
    notes.sort_by_key(|n| (std::cmp::Reverse(n.created_at), std::cmp::Reverse(n.id)));
    Ok(notes.into_iter().take(CARD_NOTES).map(|n| card_note(n, team, entity_url)).collect())
}

/// A note as the card shows it: its author among the colleagues, its text plain.
pub fn card_note(n: &Note, team: &HashMap<i64, PersonRef>, entity_url: Option<&str>) -> CardNote {
    let author = n.creator_id.map(|id| {
        team.get(&id).cloned().unwrap_or_else(|| PersonRef { id, name: format!("Person {id}"), email: None })
    });
    CardNote {
        id: n.id,
        author,
        created_at: n.created_at.map(|t| t.to_iso()),
        text: plain_text(&n.content, n.note_type == NoteType::HTML),
        affinity_url: entity_url.map(str::to_owned),
    }
}

/// A note's content as plain text: an HTML note's tags dropped (a paragraph, a line break or
/// a list item starts a line) and its entities decoded; spaces collapsed, blank lines
/// dropped, cut at [`NOTE_TEXT_CHARS`] characters (with "…").
pub fn plain_text(content: &str, html: bool) -> String {
    let text = if html { strip_html(content) } else { content.to_owned() };
    let lines: Vec<String> =
        text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    cut(&lines.join("\n"), NOTE_TEXT_CHARS)
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Tags out (block tags become line breaks), entities decoded. Never fails: a `<` that
/// opens no tag is kept, an unknown entity stays as written.
fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) if is_tag(&rest[1..end]) => {
                    let name = tag_name(&rest[1..end]);
                    if ["p", "br", "li", "div", "ul", "ol", "h1", "h2", "h3", "tr"].contains(&name.as_str()) {
                        out.push('\n');
                    }
                    rest = &rest[end + 1..];
                }
                _ => {
                    out.push('<');
                    rest = &rest[1..];
                }
            }
        } else {
            let (decoded, used) = entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether the text between `<` and `>` looks like a tag: `p`, `/p`, `br/`, `a href=…`.
fn is_tag(inner: &str) -> bool {
    let inner = inner.strip_prefix('/').unwrap_or(inner);
    inner.starts_with(|c: char| c.is_ascii_alphabetic()) || inner.starts_with('!')
}

fn tag_name(inner: &str) -> String {
    let inner = inner.strip_prefix('/').unwrap_or(inner);
    inner.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

/// The character an entity at the start of `s` stands for, and how many bytes it takes.
fn entity(s: &str) -> (String, usize) {
    let Some(end) = s.find(';').filter(|&e| e <= 10) else { return ("&".into(), 1) };
    let name = &s[1..end];
    let named = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" => Some(' '),
        _ => None,
    };
    let numeric = || {
        let n = name.strip_prefix('#')?;
        let code = match n.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => n.parse::<u32>().ok()?,
        };
        char::from_u32(code).filter(|c| !c.is_control() || *c == '\n')
    };
    match named.or_else(numeric) {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".into(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_note_reads_as_its_text_and_a_text_note_keeps_its_markup() {
        let html = "<p>Met <strong>Bob</strong> &amp; Ann.</p><ul><li>Series A</li><li>Q1 &lt;maybe&gt;</li></ul>";
        assert_eq!(plain_text(html, true), "Met Bob & Ann.\nSeries A\nQ1 <maybe>");
        let text = "Met Bob at the Acme offsite. <b>Not HTML</b>: shown as text.";
        assert_eq!(plain_text(text, false), text);
        assert_eq!(plain_text("a < b and c > d", true), "a < b and c > d");
        assert_eq!(plain_text("&#x1F600; &#65; &bogus; &", true), "😀 A &bogus; &");
    }

    #[test]
    fn a_long_note_is_cut() {
        let long = "word ".repeat(200);
        let t = plain_text(&long, false);
        assert_eq!(t.chars().count(), NOTE_TEXT_CHARS);
        assert!(t.ends_with('…'));
    }
}
