//! Requests as data, and the trait that executes them.
//!
//! The client builds an [`HttpRequest`]; a [`Transport`] sends it. Natively that is
//! reqwest (`native::ReqwestTransport`); in the browser (wasm32) it is `fetch`
//! (`browser::FetchTransport`), which works in a service worker, an extension page and an
//! ordinary page alike. Each module is compiled for its target only; [`DefaultTransport`]
//! is the one of the target built. Tests can substitute their own.

use std::future::Future;
use web_time::Duration;

use crate::Error;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::ReqwestTransport;
#[cfg(not(target_arch = "wasm32"))]
pub use native::ReqwestTransport as DefaultTransport;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub use browser::FetchTransport;
#[cfg(target_arch = "wasm32")]
pub use browser::FetchTransport as DefaultTransport;

/// `Send` where futures must be (native, multi-threaded runtimes) and nothing in the
/// browser, where JS values cannot cross threads.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send> MaybeSend for T {}
/// `Send` where futures must be (native) and nothing in the browser.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T> MaybeSend for T {}

/// `Sync` natively and nothing in the browser (single-threaded).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync> MaybeSync for T {}
/// `Sync` natively and nothing in the browser (single-threaded).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T> MaybeSync for T {}

/// The largest answer a transport reads by default (32 MiB). Affinity's largest answers (a
/// page of 500 persons with their interaction dates, a list's every entry) are a few MiB:
/// past this something is wrong, and reading on would only use up the memory of a browser's
/// background worker. Past it, a transport fails with [`Error::TooLarge`].
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// HTTP methods the Affinity API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: reads.
    Get,
    /// `POST`: creates (and, in v2, searches).
    Post,
    /// `PUT`: updates.
    Put,
    /// `DELETE`: deletes.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One request, fully described: absolute URL, headers and an optional JSON body. Its
/// `Debug` shows neither the `authorization` header's value nor the body (a note's text).
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    /// The HTTP method.
    pub method: Method,
    /// The absolute URL, query included.
    pub url: String,
    /// Header names and values (authorization, content type).
    pub headers: Vec<(String, String)>,
    /// The JSON body, serialised, if any.
    pub body: Option<String>,
    /// How long the transport waits for the answer before it gives up.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = (self.headers.iter())
            .map(|(name, value)| {
                let secret = name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie");
                (name.as_str(), if secret { "…" } else { value.as_str() })
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(String::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One answer. Header names are lower case.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values, as received.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl HttpResponse {
    /// The first header of that name, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends requests. Fails only for transport problems (network, timeout), reported as
/// [`Error::Unavailable`]; any HTTP status is a successful [`HttpResponse`].
pub trait Transport {
    /// Sends `request` and reads the whole answer, whatever its status.
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, Error>> + MaybeSend;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_shown_for_debugging_shows_neither_the_key_nor_the_body() {
        let request = HttpRequest {
            method: Method::Post,
            url: "https://api.affinity.co/notes".into(),
            headers: vec![
                ("Authorization".into(), "Basic OnNlY3JldC1rZXk=".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: Some(r#"{"content":"Board meeting: confidential"}"#.into()),
            timeout: Duration::from_secs(5),
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("OnNlY3JldC1rZXk") && !shown.contains("confidential"), "{shown}");
        assert!(shown.contains("application/json") && shown.contains("/notes"), "{shown}");
    }
}
