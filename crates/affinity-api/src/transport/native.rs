//! The native transport, on reqwest.

use super::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method, Transport};
use crate::Error;

/// Sends requests with a shared reqwest client (connection pooling, rustls), and reads at
/// most [`MAX_RESPONSE_BYTES`] of an answer.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body_bytes: usize,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        ReqwestTransport { client: reqwest::Client::default(), max_body_bytes: MAX_RESPONSE_BYTES }
    }
}

impl ReqwestTransport {
    /// A transport with its own connection pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same, reading at most `bytes` of an answer.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &request.url).timeout(request.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(unavailable)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let limit = self.max_body_bytes;
        let too_large = Error::TooLarge { limit_bytes: limit };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(HttpResponse { status, headers, body })
    }
}

fn unavailable(e: reqwest::Error) -> Error {
    let message = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        e.to_string()
    };
    Error::Unavailable { status: None, message }
}
