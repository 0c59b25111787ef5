//! The kinds of failure the Lens reports: the Card's `error.kind` and the `error.kind` of
//! every failed reply in the extension, one enum for both.

use affinity_api::Error;

/// Why a card or a request failed: the Card's `error.kind` and the `error.kind` of every
/// failed reply in the extension, one enum for both. On the wire it is a snake_case
/// string; a kind this version does not know is kept as it came ([`ErrorKind::Other`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 401: Affinity rejected the key.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404.
    NotFound,
    /// 400 or 422: Affinity refused the request.
    Invalid,
    /// 429: `retry_at` says when to try again.
    RateLimited,
    /// 5xx, a timeout, the network.
    Unavailable,
    /// Affinity answered something the Lens could not read.
    BadResponse,
    /// The gateway: the month's budget is down to the firm's reserve.
    BudgetReserve,
    /// The extension has no API key yet.
    NoKey,
    /// The extension's settings were refused (the message says which and why).
    BadSettings,
    /// The card's page is gone (reloaded, closed): its token is unknown.
    Expired,
    /// Nothing to look up on this page.
    Unsupported,
    /// A message that is not one of the protocol's, is malformed, or came from a sender
    /// that may not send it.
    BadMessage,
    /// A write refused because the card was not visible and unobscured when it was asked.
    NotVisible,
    /// Something the Lens did not expect (a bug): the message says what.
    Internal,
    /// A kind this version does not know.
    Other(String),
}

impl ErrorKind {
    /// Every known kind, for tests and documentation.
    pub const KNOWN: [ErrorKind; 15] = [
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::Invalid,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::BadResponse,
        ErrorKind::BudgetReserve,
        ErrorKind::NoKey,
        ErrorKind::BadSettings,
        ErrorKind::Expired,
        ErrorKind::Unsupported,
        ErrorKind::BadMessage,
        ErrorKind::NotVisible,
        ErrorKind::Internal,
    ];

    /// The kind on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorKind::Other(s) => s,
            known => known.known_str(),
        }
    }

    const fn known_str(&self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::BudgetReserve => "budget_reserve",
            ErrorKind::NoKey => "no_key",
            ErrorKind::BadSettings => "bad_settings",
            ErrorKind::Expired => "expired",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::BadMessage => "bad_message",
            ErrorKind::NotVisible => "not_visible",
            ErrorKind::Internal => "internal",
            ErrorKind::Other(_) => "other",
        }
    }
}

impl From<&str> for ErrorKind {
    fn from(s: &str) -> ErrorKind {
        ErrorKind::KNOWN.into_iter().find(|k| k.as_str() == s).unwrap_or_else(|| ErrorKind::Other(s.to_owned()))
    }
}

impl From<String> for ErrorKind {
    fn from(s: String) -> ErrorKind {
        ErrorKind::from(s.as_str())
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ErrorKind, D::Error> {
        Ok(ErrorKind::from(String::deserialize(d)?))
    }
}

impl From<&Error> for ErrorKind {
    /// What kind of failure a client error is, as the Card and every reply say it.
    fn from(error: &Error) -> ErrorKind {
        match error {
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            // The card says Affinity answered something the Lens could not read.
            Error::BadResponse { .. } | Error::TooLarge { .. } => ErrorKind::BadResponse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_reads_back_as_itself_and_an_unknown_one_is_kept() {
        for kind in ErrorKind::KNOWN {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind, "{json}");
        }
        let strange: ErrorKind = serde_json::from_str("\"from_the_future\"").unwrap();
        assert_eq!(strange, ErrorKind::Other("from_the_future".into()));
        assert_eq!(serde_json::to_string(&strange).unwrap(), "\"from_the_future\"");
        assert_eq!(ErrorKind::from("no_key"), ErrorKind::NoKey);
        assert_eq!(ErrorKind::from(&Error::from_status(401, "{}", None)), ErrorKind::Unauthorized);
    }

    #[test]
    fn every_client_error_is_a_known_kind_of_the_same_name() {
        let errors = [
            Error::from_status(401, "{}", None),
            Error::from_status(403, "{}", None),
            Error::from_status(404, "{}", None),
            Error::from_status(422, "{}", None),
            Error::from_status(429, "{}", None),
            Error::from_status(503, "<html>", None),
            Error::TooLarge { limit_bytes: 1 },
        ];
        for e in errors {
            assert_eq!(ErrorKind::from(&e).as_str(), e.kind(), "{e}");
        }
    }
}
