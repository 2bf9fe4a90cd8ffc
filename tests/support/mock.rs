//! A tiny loopback HTTP/1.1 server for client tests: it parses each request (query and
//! form body), checks the Signature V1 when it knows the key, records what it saw, and
//! answers whatever the test's handler says — including closing the socket unanswered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ramstate::api::sign;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target as sent (absolute-form when it came through a proxy).
    pub target: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub body: BTreeMap<String, String>,
    /// Query and body merged: what the signature covers.
    pub params: BTreeMap<String, String>,
    pub at: Instant,
    /// Which accepted connection carried it (0-based).
    pub connection: usize,
}

impl Seen {
    pub fn action(&self) -> &str {
        self.params.get("Action").map(String::as_str).unwrap_or("")
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// What to answer.
pub enum Reply {
    Json {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    Text {
        status: u16,
        body: String,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait (server-side), then answer.
    After(Duration, Box<Reply>),
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        let mut body = body;
        if let Value::Object(m) = &mut body {
            m.entry("RequestId").or_insert(json!("REQ-OK"));
        }
        Reply::Json {
            status: 200,
            body,
            headers: vec![],
        }
    }

    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::Json {
            status,
            body: json!({"RequestId": format!("REQ-{code}"), "HostId": "mock", "Code": code, "Message": message}),
            headers: vec![],
        }
    }

    pub fn throttled(retry_after_ms: u64) -> Reply {
        Reply::Json {
            status: 400,
            body: json!({"RequestId": "REQ-T", "Code": "Throttling.User", "Message": "Request was denied due to user flow control."}),
            headers: vec![("x-acs-retry-after".into(), retry_after_ms.to_string())],
        }
    }
}

pub type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A running mock; dropped with the test's runtime.
#[derive(Clone)]
pub struct Mock {
    pub url: String,
    pub log: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
    pub in_flight: Arc<AtomicUsize>,
    pub peak_in_flight: Arc<AtomicUsize>,
    /// Access key ID → secret; requests signed with a listed key are verified.
    pub keys: Arc<Mutex<BTreeMap<String, String>>>,
}

impl Mock {
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
    pub fn add_key(&self, id: &str, secret: &str) {
        self.keys
            .lock()
            .unwrap()
            .insert(id.to_string(), secret.to_string());
    }
}

/// Starts a mock on 127.0.0.1 with an OS-chosen port.
pub async fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let mock = Mock {
        url,
        log: Arc::default(),
        connections: Arc::default(),
        in_flight: Arc::default(),
        peak_in_flight: Arc::default(),
        keys: Arc::default(),
    };
    let handler: Handler = Arc::new(handler);
    let m = mock.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let conn = m.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(connection(stream, conn, m.clone(), handler.clone()));
        }
    });
    mock
}

fn parse_form(s: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Some((head, body));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn connection(mut stream: TcpStream, conn: usize, mock: Mock, handler: Handler) {
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut stream, &mut buf).await {
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default().to_string();
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let path_and_query = match target.find("://") {
            Some(i) => {
                let rest = &target[i + 3..];
                rest.find('/').map_or("/", |j| &rest[j..]).to_string()
            }
            None => target.clone(),
        };
        let (path, query) = path_and_query
            .split_once('?')
            .map_or((path_and_query.clone(), String::new()), |(p, q)| {
                (p.to_string(), q.to_string())
            });
        let query = parse_form(&query);
        let body = parse_form(&String::from_utf8_lossy(&body));
        let mut params = query.clone();
        params.extend(body.clone());
        let seen = Seen {
            method,
            target,
            path,
            headers,
            query,
            body,
            params,
            at: Instant::now(),
            connection: conn,
        };
        let nth = {
            let mut log = mock.log.lock().unwrap();
            log.push(seen.clone());
            log.len() - 1
        };
        let now = mock.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        mock.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        let mut reply = match verify(&mock, &seen) {
            Some(bad) => bad,
            None => handler(&seen, nth),
        };
        let result = loop {
            match reply {
                Reply::After(d, next) => {
                    tokio::time::sleep(d).await;
                    reply = *next;
                }
                Reply::Drop => break None,
                Reply::Json {
                    status,
                    body,
                    headers,
                } => break Some((status, body.to_string(), headers)),
                Reply::Text { status, body } => break Some((status, body, vec![])),
            }
        };
        mock.in_flight.fetch_sub(1, Ordering::SeqCst);
        let Some((status, body, headers)) = result else {
            return;
        };
        let mut out = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&body);
        if stream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Checks the signature of requests made with a key the mock knows.
fn verify(mock: &Mock, seen: &Seen) -> Option<Reply> {
    let id = seen.param("AccessKeyId")?;
    let secret = mock.keys.lock().unwrap().get(id).cloned()?;
    let mut unsigned = seen.params.clone();
    let given = unsigned.remove("Signature").unwrap_or_default();
    let sts = sign::string_to_sign(&seen.method, &unsigned);
    (sign::sign(&secret, &sts) != given).then(|| {
        Reply::error(
            400,
            "SignatureDoesNotMatch",
            &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}"),
        )
    })
}

/// A `Users.User[]` page answer.
pub fn users_page(names: &[String], marker: Option<String>) -> Value {
    let users: Vec<Value> = names
        .iter()
        .map(|n| json!({"UserName": n, "UserId": format!("id-{n}")}))
        .collect();
    let mut body = json!({"Users": {"User": users}, "IsTruncated": marker.is_some()});
    if let Some(m) = marker {
        body["Marker"] = json!(m);
    }
    body
}
