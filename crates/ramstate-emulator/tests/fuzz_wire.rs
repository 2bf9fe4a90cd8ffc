//! Arbitrary bytes on the emulator's socket — request heads, long request lines (which
//! the emulator rewrites before parsing), bodies and junk — end in an answer or a closed
//! connection within a bound, and the emulator goes on serving. A few cases in CI;
//! `RAMSTATE_FUZZ_CASES=N` runs more.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use ramstate_emulator::{self as emulator, EmulatorConfig};
use ramstate_model::Inventory;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longer than this for one exchange would be a hang.
const HANG: Duration = Duration::from_secs(10);

fn wire() -> impl Strategy<Value = Vec<u8>> {
    let head = prop_oneof![
        Just("POST /?Action=ListUsers&Version=2015-05-01 HTTP/1.1\r\nHost: x\r\n".to_string()),
        Just("GET / HTTP/1.1\r\n".to_string()),
        Just("POST / HTTP/1.1\r\nContent-Length: 5\r\n".to_string()),
        Just("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n".to_string()),
        Just("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n".to_string()),
        Just(String::new()),
    ];
    // A request line over the parser's limit is moved into a header by the emulator.
    let long = prop_oneof![Just(0usize), Just(61 * 1024), 0usize..300];
    (
        head,
        long,
        prop::collection::vec(any::<u8>(), 0..400),
        any::<bool>(),
    )
        .prop_map(|(head, long, junk, end_head)| {
            let mut out = Vec::new();
            if long > 0 {
                out.extend_from_slice(b"POST /?SAMLAssertion=");
                out.extend(std::iter::repeat_n(b'a', long));
                out.extend_from_slice(b" HTTP/1.1\r\n");
            }
            out.extend_from_slice(head.as_bytes());
            if end_head {
                out.extend_from_slice(b"\r\n");
            }
            out.extend(junk);
            out
        })
}

async fn exchange(url: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut answer = Vec::new();
    let done = tokio::time::timeout(HANG, async {
        // The emulator may close early (a bad head): a failed write is an answer too.
        if s.write_all(bytes).await.is_ok() {
            let _ = s.shutdown().await;
        }
        let _ = s.read_to_end(&mut answer).await;
    })
    .await;
    prop_assert!(done.is_ok(), "no answer and no close within {HANG:?}");
    if !answer.is_empty() {
        prop_assert!(
            answer.starts_with(b"HTTP/1."),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(())
}

#[test]
fn arbitrary_bytes_on_the_socket_end_in_an_answer_or_a_close_and_serving_goes_on() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt
        .block_on(emulator::start(EmulatorConfig::new(Inventory::default())))
        .unwrap();
    let cases = std::env::var("RAMSTATE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&wire(), |bytes| rt.block_on(exchange(emu.url(), &bytes)))
        .unwrap();
    // Still serving: an unsigned call is told what it lacks.
    let reply = rt.block_on(async {
        reqwest::Client::new()
            .post(emu.url())
            .form(&[("Action", "ListUsers"), ("Version", "2015-05-01")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(
        reply.contains("MissingAccessKeyId") || reply.contains("Missing"),
        "{reply}"
    );
    rt.block_on(emu.shutdown());
}
