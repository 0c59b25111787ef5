//! The one error type of the client: a variant per thing a caller reacts to differently.

use web_time::Duration;

/// Everything that can go wrong when talking to Affinity.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// 401: the key is missing or was rejected.
    #[error("Affinity rejected the API key (401): {message}")]
    Unauthorized {
        /// Affinity's message.
        message: String,
    },
    /// 403: the key is valid but may not do this.
    #[error("not allowed by Affinity (403): {message}")]
    Forbidden {
        /// Affinity's message.
        message: String,
    },
    /// 404: the resource does not exist.
    #[error("not found in Affinity (404): {message}")]
    NotFound {
        /// Affinity's message.
        message: String,
    },
    /// 400 or 422: the request was malformed; `message` is the API's own.
    #[error("Affinity refused the request ({status}): {message}")]
    Invalid {
        /// The HTTP status (0 when the request was refused before it was sent).
        status: u16,
        /// Affinity's message.
        message: String,
    },
    /// 429: a rate limit was hit. `retry_after` is how long to wait, when known.
    #[error("rate limited by Affinity (429){}", retry_after.map(|d| format!(", retry in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long to wait, when known.
        retry_after: Option<Duration>,
    },
    /// 5xx, a timeout or a network failure.
    #[error("Affinity is unavailable: {message}")]
    Unavailable {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// The API answered something we could not read; `path` names the field that failed.
    #[error("unexpected response from Affinity at `{path}`: {message}")]
    BadResponse {
        /// Where in the answer (the field's path natively, line and column in wasm).
        path: String,
        /// The decoder's message.
        message: String,
    },
    /// The answer's body was longer than the transport accepts (see
    /// [`crate::transport::MAX_RESPONSE_BYTES`]); it was not read further.
    #[error("Affinity's answer was larger than {}", size(*limit_bytes))]
    TooLarge {
        /// The transport's limit.
        limit_bytes: usize,
    },
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
    /// What kind of failure this is, in snake_case: `unauthorized`, `forbidden`,
    /// `not_found`, `invalid`, `rate_limited`, `unavailable` or `bad_response` (an answer
    /// too large to read is one).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Invalid { .. } => "invalid",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable { .. } => "unavailable",
            Error::BadResponse { .. } | Error::TooLarge { .. } => "bad_response",
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
    fn statuses_map_to_the_variant_a_caller_reacts_to() {
        assert_eq!(Error::from_status(401, "{}", None).kind(), "unauthorized");
        assert_eq!(Error::from_status(403, "{}", None).kind(), "forbidden");
        assert_eq!(Error::from_status(404, "{}", None).kind(), "not_found");
        assert_eq!(Error::from_status(422, "{}", None).kind(), "invalid");
        assert_eq!(Error::from_status(429, "{}", None).kind(), "rate_limited");
        assert_eq!(Error::from_status(503, "<html>", None).kind(), "unavailable");
    }
}
