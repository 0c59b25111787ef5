//! API v2 through the same client as v1: Bearer auth and the pinned version header, a
//! search (a POST that reads) cached and shared like a GET, cursor paging that never leaves
//! the configured host, and every request told to the client's observer.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use affinity_api::cache::MemoryCache;
use affinity_api::clock::FakeClock;
use affinity_api::transport::{HttpRequest, HttpResponse, Method, Transport};
use affinity_api::{Client, ClientConfig, Error, Observer, endpoints, v2};
use web_time::Duration;

#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<String>>>,
    seen: Arc<Mutex<Vec<HttpRequest>>>,
}

impl Scripted {
    fn new(answers: &[&str]) -> Self {
        Scripted {
            answers: Arc::new(Mutex::new(answers.iter().map(|a| a.to_string()).collect())),
            ..Default::default()
        }
    }
    fn seen(&self) -> Vec<HttpRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.seen.lock().unwrap().push(request);
        tokio::task::yield_now().await;
        let body = self.answers.lock().unwrap().pop_front().expect("unexpected request: the script is empty");
        Ok(HttpResponse { status: 200, headers: vec![], body })
    }
}

fn client(t: &Scripted, clock: &FakeClock) -> Client<Scripted> {
    counted(t, clock, Arc::default())
}

/// Counts the requests sent and the answers received.
#[derive(Default)]
struct Counter {
    sent: AtomicU64,
    answered: AtomicU64,
}

impl Observer for Counter {
    fn request_sent(&self, _request: &HttpRequest, _at: Duration) {
        self.sent.fetch_add(1, Ordering::SeqCst);
    }
    fn response_received(&self, _request: &HttpRequest, _status: u16, _at: Duration) {
        self.answered.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(t: &Scripted, clock: &FakeClock, counter: Arc<Counter>) -> Client<Scripted> {
    Client::builder(ClientConfig::new("https://api.test", "secret"), t.clone())
        .clock(Arc::new(clock.clone()))
        .cache(Arc::new(MemoryCache::default()))
        .observer(counter)
        .build()
}

fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

const EMPTY_PAGE: &str = r#"{"data":[],"pagination":{"nextUrl":null,"prevUrl":null}}"#;
const LISTS: &str = "[]";

#[tokio::test]
async fn v2_requests_carry_bearer_auth_and_the_pinned_version_and_v1_requests_do_not() {
    let clock = FakeClock::at(Duration::from_secs(1_800_000_000));
    let t = Scripted::new(&[EMPTY_PAGE, LISTS]);
    let c = client(&t, &clock);
    c.execute(&v2::endpoints::users()).await.unwrap();
    c.execute(&endpoints::lists()).await.unwrap();
    let seen = t.seen();
    assert_eq!(seen[0].url, "https://api.test/v2/users?limit=100");
    assert_eq!(header(&seen[0], "authorization"), Some("Bearer secret"));
    assert_eq!(header(&seen[0], "x-affinity-api-version"), Some("2026-07-15"));
    assert!(header(&seen[1], "authorization").is_some_and(|a| a.starts_with("Basic ")));
    assert_eq!(header(&seen[1], "x-affinity-api-version"), None);
}

#[tokio::test]
async fn a_search_is_cached_by_its_body_and_leaves_other_answers_fresh() {
    let clock = FakeClock::at(Duration::from_secs(1_800_000_000));
    let t = Scripted::new(&[LISTS, EMPTY_PAGE, EMPTY_PAGE]);
    let c = client(&t, &clock);
    c.execute(&endpoints::lists()).await.unwrap();
    let (a, b) = futures::join!(
        c.execute(&v2::endpoints::search_companies("acme.com")),
        c.execute(&v2::endpoints::search_companies("acme.com"))
    );
    a.unwrap();
    b.unwrap();
    // Asked again: from the cache. Another term: a request of its own.
    c.execute(&v2::endpoints::search_companies("acme.com")).await.unwrap();
    c.execute(&v2::endpoints::search_companies("globex.com")).await.unwrap();
    // The search is no write: /lists is still fresh.
    c.execute(&endpoints::lists()).await.unwrap();
    let seen = t.seen();
    assert_eq!(seen.len(), 3, "{:?}", seen.iter().map(|r| (&r.url, &r.body)).collect::<Vec<_>>());
    assert_eq!(seen[1].method, Method::Post);
    assert_eq!(seen[1].body.as_deref(), Some(r#"{"search":{"term":"acme.com"}}"#));
    assert_eq!(header(&seen[1], "content-type"), Some("application/json"));
}

#[tokio::test]
async fn pages_follow_next_url_on_the_configured_host_and_every_call_is_counted() {
    let clock = FakeClock::at(Duration::from_secs(1_800_000_000));
    let first = r#"{"data":[{"id":1,"firstName":"A","lastName":null,"primaryEmailAddress":null,"photoUrl":null,"status":"active"}],
        "pagination":{"nextUrl":"https://elsewhere.example/v2/users?limit=100&cursor=XYZ","prevUrl":null}}"#;
    let second = r#"{"data":[{"id":2,"firstName":"B","lastName":"C","primaryEmailAddress":"b@x.test","photoUrl":null,"status":"invited"}],
        "pagination":{"nextUrl":null,"prevUrl":null}}"#;
    let t = Scripted::new(&[first, second]);
    let counter = Arc::new(Counter::default());
    let c = counted(&t, &clock, counter.clone());
    let users = c.v2_items(v2::endpoints::users(), 5).await.unwrap();
    assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(users[1].status, v2::UserStatus::Invited);
    assert_eq!(t.seen()[1].url, "https://api.test/v2/users?limit=100&cursor=XYZ");
    assert_eq!(counter.sent.load(Ordering::SeqCst), 2);
    assert_eq!(counter.answered.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn paging_stops_at_the_page_limit() {
    let clock = FakeClock::at(Duration::from_secs(1_800_000_000));
    let page = r#"{"data":[{"id":1,"firstName":"A","status":"active"}],"pagination":{"nextUrl":"https://api.test/v2/users?cursor=n"}}"#;
    let t = Scripted::new(&[page, page]);
    let c = client(&t, &clock);
    assert_eq!(c.v2_items(v2::endpoints::users(), 2).await.unwrap().len(), 2);
    assert_eq!(t.seen().len(), 2);
}

#[tokio::test]
async fn a_field_read_and_a_field_write_answered_with_no_content() {
    let t = Scripted::new(&[
        r#"{"id":"field-7","name":"Next Step","type":"list","value":{"type":"text","data":null}}"#,
        "",
    ]);
    let clock = FakeClock::at(Duration::from_secs(1_800_000_000));
    let c = client(&t, &clock);
    let read = v2::endpoints::list_entry_field(10, 5, "field-7");
    assert_eq!(c.execute(&read).await.unwrap().value.data, serde_json::Value::Null);
    let write =
        v2::endpoints::set_list_entry_field(10, 5, "field-7", serde_json::json!({"type": "text", "data": "Call"}));
    c.execute(&write).await.expect("a 204's empty body is no error");
    let seen = t.seen();
    assert_eq!(seen[1].method, Method::Post);
    assert_eq!(seen[1].body.as_deref(), Some(r#"{"value":{"data":"Call","type":"text"}}"#));
}
