//! affinity-api compiled to wasm32 and run in headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use affinity_api::transport::{HttpRequest, HttpResponse, Transport};
use affinity_api::{Client, ClientConfig, Error};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_fetch_transport_reports_an_unreachable_server_as_unavailable() {
    // Port 9 (discard) on loopback: nothing listens there.
    let client = Client::new(ClientConfig::new("http://127.0.0.1:9", "k"));
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.kind(), "unavailable", "{err}");
}

#[wasm_bindgen_test]
async fn the_fetch_transport_gets_a_page_from_its_own_origin() {
    use affinity_api::transport::{FetchTransport, Method};
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let response = FetchTransport::new()
        .send(HttpRequest {
            method: Method::Get,
            url: format!("{origin}/"),
            headers: vec![("accept".into(), "text/html".into())],
            body: None,
            timeout: web_time::Duration::from_secs(10),
        })
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(!response.body.is_empty());
    assert!(response.headers.iter().all(|(k, _)| k == &k.to_ascii_lowercase()));
}

#[wasm_bindgen_test]
fn the_limiter_keeps_the_per_minute_budget_in_the_browser() {
    use affinity_api::limiter::{Decision, LimiterConfig, RateLimiter};
    use web_time::Duration;
    let limiter = RateLimiter::new(LimiterConfig { per_minute: 10, ..Default::default() });
    let mut now = Duration::from_secs(1_000);
    let mut starts = Vec::new();
    while starts.len() < 25 {
        match limiter.check(now) {
            Decision::Go => {
                starts.push(now);
                limiter.finish();
            }
            Decision::Wait(d) => now += d,
        }
    }
    assert_eq!(starts[9], Duration::from_secs(1_000));
    assert_eq!(starts[10], Duration::from_secs(1_060));
    assert_eq!(starts[24], Duration::from_secs(1_120));
}

#[wasm_bindgen_test]
async fn the_cache_and_coalescing_spare_requests_in_the_browser() {
    use affinity_api::cache::{MemoryCache, Source};
    use affinity_api::clock::FakeClock;
    use std::rc::Rc;
    use std::sync::Arc;

    #[derive(Clone)]
    struct Counting(Rc<RefCell<u32>>);
    impl Transport for Counting {
        async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, Error> {
            *self.0.borrow_mut() += 1;
            gloo_timers::future::TimeoutFuture::new(5).await;
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body:
                    r#"{"tenant":{"id":1,"name":"F","subdomain":"f"},"user":{"id":2,"firstName":"A","lastName":"B"}}"#
                        .into(),
            })
        }
    }
    let calls = Rc::new(RefCell::new(0));
    let clock = FakeClock::at(web_time::Duration::from_secs(1_000));
    let client = Client::builder(ClientConfig::new("https://api.test", "k"), Counting(calls.clone()))
        .clock(Arc::new(clock))
        .cache(Arc::new(MemoryCache::default()))
        .build();
    let all = futures::future::join_all((0..5).map(|_| client.whoami())).await;
    assert!(all.iter().all(|r| r.is_ok()));
    assert_eq!(*calls.borrow(), 1, "identical requests in flight are shared");
    let again = client.fetch(&affinity_api::endpoints::whoami()).await.unwrap();
    assert_eq!(again.source, Source::Fresh);
    assert_eq!(*calls.borrow(), 1, "a fresh answer makes no request");
}

/// A GET of `url` (a `blob:` or `data:` URL made in this page) through `fetch`.
fn fetch_request(url: String) -> HttpRequest {
    HttpRequest {
        method: affinity_api::transport::Method::Get,
        url,
        headers: vec![],
        body: None,
        timeout: web_time::Duration::from_secs(10),
    }
}

#[wasm_bindgen_test]
async fn the_fetch_transport_refuses_an_answer_announced_past_its_limit() {
    use affinity_api::transport::FetchTransport;
    // A blob's answer carries its Content-Length.
    let bytes = js_sys::Uint8Array::new_with_length(4096);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes)).unwrap();
    let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap();
    let transport = FetchTransport::new().with_max_body_bytes(2048);
    let err = transport.send(fetch_request(url.clone())).await.unwrap_err();
    assert_eq!(err, Error::TooLarge { limit_bytes: 2048 });
    assert_eq!(err.to_string(), "Affinity's answer was larger than 2 KiB");
    let whole = FetchTransport::new().with_max_body_bytes(4096).send(fetch_request(url)).await.unwrap();
    assert_eq!(whole.body.len(), 4096);
}

#[wasm_bindgen_test]
async fn the_fetch_transport_stops_reading_an_answer_that_streams_past_its_limit() {
    use affinity_api::transport::FetchTransport;
    // A data: URL's answer has no Content-Length: only counting the stream can tell.
    let url = format!("data:application/json,[{}0]", "0,".repeat(1500));
    let transport = FetchTransport::new().with_max_body_bytes(2048);
    let response = transport.send(fetch_request(url.clone())).await;
    assert_eq!(response.unwrap_err(), Error::TooLarge { limit_bytes: 2048 });
    let whole = FetchTransport::new().send(fetch_request(url)).await.unwrap();
    assert_eq!(whole.header("content-length"), None, "the limit was found by counting");
    assert_eq!(whole.body.len(), 3003);
}
