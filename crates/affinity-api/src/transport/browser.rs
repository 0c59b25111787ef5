//! The browser transport, on `fetch` (gloo-net), usable from a service worker, an
//! extension page or an ordinary page: gloo-net calls `fetch` on whichever global scope
//! it runs in.

use futures::future::{Either, select};
use gloo_net::http::{Headers, RequestBuilder};
use wasm_bindgen::{JsCast, JsValue};

use super::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Transport};
use crate::Error;

/// Sends requests with the global `fetch`, aborting them at their timeout, and reads at
/// most [`MAX_RESPONSE_BYTES`] of an answer. A request without an `Authorization` header
/// is sent with the browser's credentials (cookies) for its URL.
#[derive(Debug, Clone)]
pub struct FetchTransport {
    max_body_bytes: usize,
}

impl Default for FetchTransport {
    fn default() -> Self {
        FetchTransport { max_body_bytes: MAX_RESPONSE_BYTES }
    }
}

impl FetchTransport {
    /// The transport of the current global scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same, reading at most `bytes` of an answer.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let controller = web_sys_abort_controller();
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers.append(name, value);
        }
        let mut builder = RequestBuilder::new(&request.url)
            .method(match request.method {
                super::Method::Get => gloo_net::http::Method::GET,
                super::Method::Post => gloo_net::http::Method::POST,
                super::Method::Put => gloo_net::http::Method::PUT,
                super::Method::Delete => gloo_net::http::Method::DELETE,
            })
            .headers(headers);
        // A request without credentials of its own (to a proxy that relies on a sign-in
        // session, say) goes with the browser's cookies for its URL: that session.
        if !request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
            builder = builder.credentials(web_sys::RequestCredentials::Include);
        }
        if let Some(controller) = &controller {
            builder = builder.abort_signal(Some(&controller.signal()));
        }
        let built = match request.body {
            Some(body) => builder.body(body),
            None => builder.build(),
        }
        .map_err(|e| Error::Unavailable { status: None, message: e.to_string() })?;

        let timeout_ms = u32::try_from(request.timeout.as_millis()).unwrap_or(u32::MAX);
        let limit = self.max_body_bytes;
        let send = Box::pin(async move {
            let response = built.send().await.map_err(network_error)?;
            let status = response.status();
            let headers = response.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
            let body = read_body(&response, limit).await?;
            Ok(HttpResponse { status, headers, body })
        });
        let timer = gloo_timers::future::TimeoutFuture::new(timeout_ms);
        match select(send, timer).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => {
                if let Some(controller) = controller {
                    controller.abort();
                }
                Err(Error::Unavailable { status: None, message: "the request timed out".into() })
            }
        }
    }
}

/// Reads the body as it streams in, and stops (cancelling the rest) once it is longer than
/// `limit`. A `Content-Length` past the limit fails before anything is read.
async fn read_body(response: &gloo_net::http::Response, limit: usize) -> Result<String, Error> {
    let too_large = Error::TooLarge { limit_bytes: limit };
    let announced = response.headers().get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large);
    }
    let Some(stream) = response.body() else { return Ok(String::new()) };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let read = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(stream_error)?;
        let field = |name: &str| js_sys::Reflect::get(&read, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
        if field("done").as_bool().unwrap_or(true) {
            break;
        }
        let chunk: js_sys::Uint8Array = field("value").dyn_into().map_err(stream_error)?;
        let length = chunk.length() as usize;
        if body.len() + length > limit {
            // Stops the download; its outcome does not matter.
            let _ = reader.cancel();
            return Err(too_large);
        }
        let start = body.len();
        body.resize(start + length, 0);
        chunk.copy_to(&mut body[start..]);
    }
    Ok(String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn stream_error(e: JsValue) -> Error {
    let message = e.as_string().or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()));
    Error::Unavailable { status: None, message: format!("network error: {}", message.unwrap_or_default()) }
}

fn network_error(e: gloo_net::Error) -> Error {
    Error::Unavailable { status: None, message: format!("network error: {e}") }
}

fn web_sys_abort_controller() -> Option<web_sys::AbortController> {
    web_sys::AbortController::new().ok()
}
