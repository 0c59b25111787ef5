//! Paging shared by v1 (`page_size` and `page_token`) and v2 (`limit`, `cursor` and
//! `pagination.nextUrl`): a page is a window over the whole listing, and the token of the next
//! page is bound to the request that asked for the first one, so that a token sent with other
//! filters (or another search body) is refused, as Affinity refuses it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use base64::Engine;
use serde::{Deserialize, Serialize};

/// Where a later page starts and how long it is, for the request it is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Token {
    pub offset: usize,
    pub size: usize,
    bound: u64,
}

impl Token {
    /// A token for the page at `offset` of `size` items of the request `bound` names.
    pub fn new(offset: usize, size: usize, bound: u64) -> Token {
        Token { offset, size, bound }
    }

    /// The token as clients see it: opaque, URL-safe.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a token serialises"))
    }

    /// The token `raw` says, if it is one and belongs to the request `bound` names.
    pub fn decode(raw: &str, bound: u64) -> Option<Token> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let token: Token = serde_json::from_slice(&bytes).ok()?;
        (token.bound == bound).then_some(token)
    }
}

/// What a token is bound to: the path, the parameters other than the paging ones (in any
/// order), and a search's body.
pub(crate) fn binding<'a>(
    path: &str,
    params: impl Iterator<Item = (&'a str, &'a str)>,
    paging: &[&str],
    body: &str,
) -> u64 {
    let mut kept: Vec<(&str, &str)> = params.filter(|(k, _)| !paging.contains(k)).collect();
    kept.sort();
    let mut h = DefaultHasher::new();
    (path, kept, body).hash(&mut h);
    h.finish()
}

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Slice<T> {
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<usize>,
    /// Where the previous page starts, if this is not the first.
    pub prev: Option<usize>,
    /// How many items the whole listing has.
    pub total: usize,
}

/// The `size` items of `items` from `offset`.
pub(crate) fn window<T>(items: Vec<T>, offset: usize, size: usize) -> Slice<T> {
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(offset).take(size).collect();
    let end = offset.saturating_add(items.len());
    Slice { next: (end < total).then_some(end), prev: (offset > 0).then(|| offset.saturating_sub(size)), total, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_a_listing_once_and_say_where_the_neighbours_start() {
        let items: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let mut at = Some(0);
        while let Some(offset) = at {
            let page = window(items.clone(), offset, 3);
            assert_eq!(page.total, 7);
            assert_eq!(page.prev, (offset > 0).then(|| offset - 3));
            seen.extend(page.items);
            at = page.next;
        }
        assert_eq!(seen, items);
        assert!(window(items, 99, 3).items.is_empty());
    }

    #[test]
    fn a_token_is_refused_with_other_filters_or_when_it_is_not_one() {
        let params = [("term", "acme"), ("page_size", "2")];
        let bound = binding("/persons", params.iter().copied(), &["page_size", "page_token"], "");
        let reordered = [("page_size", "5"), ("term", "acme")];
        assert_eq!(bound, binding("/persons", reordered.iter().copied(), &["page_size", "page_token"], ""));
        let other = binding("/persons", [("term", "globex")].into_iter(), &["page_size", "page_token"], "");
        let token = Token::new(4, 2, bound).encode();
        assert_eq!(Token::decode(&token, bound), Some(Token::new(4, 2, bound)));
        assert_eq!(Token::decode(&token, other), None);
        for junk in ["", "abc", "%%%", "eyJ9"] {
            assert_eq!(Token::decode(junk, bound), None, "{junk}");
        }
    }
}
