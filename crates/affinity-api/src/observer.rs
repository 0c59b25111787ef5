//! A hook for whoever counts what a [`crate::Client`] sends: an application's monthly usage,
//! metrics. The client knows nothing of why; it tells the observer of every request as it
//! goes to the transport (retries included) and of every answer that comes back.

use web_time::Duration;

use crate::transport::{HttpRequest, MaybeSend, MaybeSync};

/// Told of every request a client sends and every answer it gets. Calls are made inline,
/// so they should be quick (count, don't wait).
pub trait Observer: MaybeSend + MaybeSync + 'static {
    /// A request is going to the transport now (`at`, since the Unix epoch). A retry after
    /// a 429 is another request.
    fn request_sent(&self, request: &HttpRequest, at: Duration);

    /// The transport answered with `status` (a 429 included; network failures are not
    /// answers).
    fn response_received(&self, request: &HttpRequest, status: u16, at: Duration) {
        let _ = (request, status, at);
    }
}
