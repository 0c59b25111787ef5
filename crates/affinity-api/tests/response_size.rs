//! The native transport reads at most `MAX_RESPONSE_BYTES` of an answer: a larger one is a
//! clear error, whether its size is announced (`Content-Length`) or only seen as it streams.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use affinity_api::transport::{HttpRequest, MAX_RESPONSE_BYTES, Method, ReqwestTransport, Transport};
use affinity_api::{Client, ClientConfig, Error};
use web_time::Duration;

/// How the one-shot server answers.
enum Answer {
    /// `Content-Length: n`, then only the first `sent` bytes of the body, then it waits.
    Announced { length: usize, sent: usize },
    /// Chunked, without a length: `total` bytes.
    Streamed { total: usize },
}

/// Serves one answer on a free port; returns its URL.
fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        // A JSON array of zeros of the asked size: `[0,0,…,0]`.
        let body = |n: usize| {
            let mut b = vec![b'0'; n];
            b[0] = b'[';
            for i in (2..n - 1).step_by(2) {
                b[i] = b',';
            }
            b[n - 1] = b']';
            b
        };
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
        // The client may hang up early: write errors are expected.
        match answer {
            Answer::Announced { length, sent } => {
                let _ = stream.write_all(format!("{head}content-length: {length}\r\n\r\n").as_bytes());
                let _ = stream.write_all(&body(length)[..sent]);
                std::thread::sleep(std::time::Duration::from_secs(5));
            }
            Answer::Streamed { total } => {
                let _ = stream.write_all(format!("{head}transfer-encoding: chunked\r\n\r\n").as_bytes());
                for chunk in body(total).chunks(64 * 1024) {
                    let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
                    let _ = stream.write_all(chunk);
                    let _ = stream.write_all(b"\r\n");
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            }
        }
    });
    url
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: url.to_owned(),
        headers: vec![],
        body: None,
        timeout: Duration::from_secs(3),
    }
}

#[tokio::test]
async fn an_answer_announced_past_32_mib_fails_before_it_is_read() {
    let url = serve(Answer::Announced { length: MAX_RESPONSE_BYTES + 1, sent: 10 });
    let started = web_time::Instant::now();
    let err = ReqwestTransport::new().send(get(&url)).await.unwrap_err();
    assert_eq!(err, Error::TooLarge { limit_bytes: 32 * 1024 * 1024 });
    assert_eq!(err.to_string(), "Affinity's answer was larger than 32 MiB");
    // It did not wait for a body that never comes (the server holds the rest back).
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_streamed_answer_fails_once_it_grows_past_the_limit() {
    let url = serve(Answer::Streamed { total: 300 * 1024 });
    let err = ReqwestTransport::new().with_max_body_bytes(256 * 1024).send(get(&url)).await.unwrap_err();
    assert_eq!(err.to_string(), "Affinity's answer was larger than 256 KiB");
}

#[tokio::test]
async fn an_answer_of_exactly_the_limit_is_read_whole() {
    let url = serve(Answer::Streamed { total: 256 * 1024 });
    let response = ReqwestTransport::new().with_max_body_bytes(256 * 1024).send(get(&url)).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 256 * 1024);
    let url = serve(Answer::Announced { length: 1000, sent: 1000 });
    let response = ReqwestTransport::new().with_max_body_bytes(1000).send(get(&url)).await.unwrap();
    assert_eq!(response.body.len(), 1000);
}

#[tokio::test]
async fn the_client_reports_a_too_large_answer_as_one_it_could_not_read() {
    let url = serve(Answer::Announced { length: 40 * 1024 * 1024, sent: 100 });
    let err = Client::new(ClientConfig::new(&url, "key")).whoami().await.unwrap_err();
    assert_eq!(err.kind(), "bad_response");
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
}
