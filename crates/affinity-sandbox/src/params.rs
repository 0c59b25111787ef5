//! Reading a request's parameters, shared by v1 and v2: what is wrong with one is an
//! [`Invalid`], which each version answers in its own shape (v1: `422 {message}`; v2:
//! `400 {errors: [{code: "validation", param, message}]}`).

use std::ops::RangeInclusive;

/// A parameter a request got wrong, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub param: String,
    pub message: String,
}

impl Invalid {
    pub fn new(param: &str, message: impl Into<String>) -> Invalid {
        Invalid { param: param.to_owned(), message: message.into() }
    }
}

/// An integer parameter within `range`, if given.
pub(crate) fn integer(value: Option<&str>, param: &str, range: RangeInclusive<i64>) -> Result<Option<i64>, Invalid> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ if range == (i64::MIN..=i64::MAX) => Err(Invalid::new(param, format!("{param} must be an integer"))),
        _ => Err(Invalid::new(param, format!("{param} must be an integer from {} to {}", range.start(), range.end()))),
    }
}

/// An id in a path (`/organizations/{id}`).
pub(crate) fn id(raw: &str, param: &str) -> Result<i64, Invalid> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| Invalid::new(param, format!("{param} in the path must be an integer, got {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_read_within_their_range_and_named_when_not() {
        assert_eq!(integer(None, "limit", 1..=100), Ok(None));
        assert_eq!(integer(Some(" 7 "), "limit", 1..=100), Ok(Some(7)));
        let e = integer(Some("101"), "limit", 1..=100).unwrap_err();
        assert_eq!((e.param.as_str(), e.message.as_str()), ("limit", "limit must be an integer from 1 to 100"));
        assert_eq!(
            integer(Some("x"), "page_size", i64::MIN..=i64::MAX).unwrap_err().message,
            "page_size must be an integer"
        );
        assert_eq!(id("12", "companyId"), Ok(12));
        assert!(id("1e3", "companyId").is_err() && id("", "companyId").is_err());
    }
}
