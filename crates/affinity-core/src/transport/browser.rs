//! The browser transport, on `fetch` (gloo-net), usable from a service worker, an
//! extension page or an ordinary page: gloo-net calls `fetch` on whichever global scope
//! it runs in.

use futures::future::{Either, select};
use gloo_net::http::{Headers, RequestBuilder};

use super::{HttpRequest, HttpResponse, Transport};
use crate::Error;

/// Sends requests with the global `fetch`, aborting them at their timeout.
#[derive(Debug, Clone, Default)]
pub struct FetchTransport;

impl FetchTransport {
    /// The transport of the current global scope.
    pub fn new() -> Self {
        FetchTransport
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
        if let Some(controller) = &controller {
            builder = builder.abort_signal(Some(&controller.signal()));
        }
        let built = match request.body {
            Some(body) => builder.body(body),
            None => builder.build(),
        }
        .map_err(|e| Error::Unavailable { status: None, message: e.to_string() })?;

        let timeout_ms = u32::try_from(request.timeout.as_millis()).unwrap_or(u32::MAX);
        let send = Box::pin(async move {
            let response = built.send().await.map_err(network_error)?;
            let status = response.status();
            let headers = response.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
            let body = response.text().await.map_err(network_error)?;
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

fn network_error(e: gloo_net::Error) -> Error {
    Error::Unavailable { status: None, message: format!("network error: {e}") }
}

fn web_sys_abort_controller() -> Option<web_sys::AbortController> {
    web_sys::AbortController::new().ok()
}
