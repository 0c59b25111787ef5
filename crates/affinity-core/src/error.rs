//! The one error type of the client: a variant per thing a caller reacts to differently.

use web_time::Duration;

/// Everything that can go wrong when talking to Affinity.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// 401: the key is missing or was rejected.
    #[error("Affinity rejected the API key (401): {message}")]
    Unauthorized { message: String },
    /// 403: the key is valid but may not do this.
    #[error("not allowed by Affinity (403): {message}")]
    Forbidden { message: String },
    /// 404: the resource does not exist.
    #[error("not found in Affinity (404): {message}")]
    NotFound { message: String },
    /// 400 or 422: the request was malformed; `message` is the API's own.
    #[error("Affinity refused the request ({status}): {message}")]
    Invalid { status: u16, message: String },
    /// 429: a rate limit was hit. `retry_after` is how long to wait, when known.
    #[error("rate limited by Affinity (429){}", retry_after.map(|d| format!(", retry in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, a timeout or a network failure.
    #[error("Affinity is unavailable: {message}")]
    Unavailable { status: Option<u16>, message: String },
    /// The API answered something we could not read; `path` names the field that failed.
    #[error("unexpected response from Affinity at `{path}`: {message}")]
    BadResponse { path: String, message: String },
    /// The answer's body was longer than the transport accepts (see
    /// [`crate::transport::MAX_RESPONSE_BYTES`]); it was not read further.
    #[error("Affinity's answer was larger than {}", size(*limit_bytes))]
    TooLarge { limit_bytes: usize },
}

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

/// A size as people read it: `32 MiB`, `64 KiB`, `100 bytes`.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

impl Error {
    /// The machine-readable kind used in the Card's `error.kind` (see [`ErrorKind`]).
    pub fn kind(&self) -> &'static str {
        // Every error of the client is a known kind.
        self.error_kind().known_str()
    }

    /// What kind of failure this is, as the Card and every reply of the extension say it.
    pub fn error_kind(&self) -> ErrorKind {
        match self {
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

    /// Maps a non-2xx answer to an error, keeping the server's message.
    pub fn from_status(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
        let message = error_message(body).unwrap_or_else(|| format!("HTTP {status}"));
        match status {
            401 => Error::Unauthorized { message },
            403 => Error::Forbidden { message },
            404 => Error::NotFound { message },
            429 => Error::RateLimited { retry_after },
            400..=499 => Error::Invalid { status, message },
            _ => Error::Unavailable { status: Some(status), message },
        }
    }
}

/// Extracts a human message from an error body. v1 does not document the shape, so this
/// tries, in order: `errors[]` (strings or `{message}`), `message`, `detail`, `error`
/// (string or `{message}`), a top-level array; then short plain text (not HTML).
pub fn error_message(body: &str) -> Option<String> {
    use serde_json::Value;
    fn from_item(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
    }
    fn join(items: &[Value]) -> Option<String> {
        let parts: Vec<String> = items.iter().filter_map(from_item).collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(o)) => o
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|a| join(a))
            .or_else(|| o.get("message").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| o.get("detail").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| o.get("error").and_then(from_item)),
        Ok(Value::Array(a)) => join(&a),
        _ => {
            let t = body.trim();
            (!t.is_empty() && !t.starts_with('<') && t.len() <= 200).then(|| t.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_reads_every_documented_shape() {
        let cases = [
            (r#"{"errors":["bad term"]}"#, Some("bad term")),
            (r#"{"errors":[{"message":"a","param":"x"},{"message":"b"}]}"#, Some("a; b")),
            (r#"{"message":"Invalid page_token variable"}"#, Some("Invalid page_token variable")),
            (r#"{"detail":"nope"}"#, Some("nope")),
            (r#"{"error":{"message":"inner"}}"#, Some("inner")),
            (r#"["x",{"message":"y"}]"#, Some("x; y")),
            ("<html><body>502</body></html>", None),
            ("", None),
        ];
        for (body, want) in cases {
            assert_eq!(error_message(body).as_deref(), want, "body {body}");
        }
    }

    #[test]
    fn a_too_large_answer_says_how_large_it_may_be() {
        let e = Error::TooLarge { limit_bytes: crate::transport::MAX_RESPONSE_BYTES };
        assert_eq!(e.to_string(), "Affinity's answer was larger than 32 MiB");
        assert_eq!(e.kind(), "bad_response");
        assert_eq!(Error::TooLarge { limit_bytes: 2048 }.to_string(), "Affinity's answer was larger than 2 KiB");
        assert_eq!(Error::TooLarge { limit_bytes: 1000 }.to_string(), "Affinity's answer was larger than 1000 bytes");
    }

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
        assert_eq!(Error::from_status(401, "{}", None).error_kind(), ErrorKind::Unauthorized);
    }

    #[test]
    fn statuses_map_to_the_variant_a_caller_reacts_to() {
        assert_eq!(Error::from_status(401, "{}", None).kind(), "unauthorized");
        assert_eq!(Error::from_status(403, "{}", None).kind(), "forbidden");
        assert_eq!(Error::from_status(404, "{}", None).kind(), "not_found");
        assert_eq!(Error::from_status(422, "{}", None).kind(), "invalid");
        assert_eq!(Error::from_status(429, "{}", None).kind(), "rate_limited");
        assert_eq!(Error::from_status(503, "<html>", None).kind(), "unavailable");
    }
}
