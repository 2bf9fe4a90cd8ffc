//! The client against loopback mock servers: wire format, errors, retries and backoff
//! (paused time), pacing, the in-flight bound, connection reuse, pagination, proxies.

mod support;

use std::time::Duration;

use ramstate::api::{
    ApiError, Client, ClientConfig, Credentials, ErrorKind, ProxyConfig, RetryPolicy, sign,
};
use ramstate::model::{ApiCall, Service};
use serde_json::json;
use support::{Reply, serve, users_page};
use tokio::time::Instant;

const ID: &str = "LTAItestkey";
const SECRET: &str = "test-secret-value";

fn config(url: &str) -> ClientConfig {
    ClientConfig {
        endpoint: Some(url.to_string()),
        qps: 0.0,
        max_in_flight: 8,
        timeout: Duration::from_secs(30),
        retry: RetryPolicy::default(),
        proxy: ProxyConfig::default(),
        region: None,
    }
}

fn client(url: &str) -> Client {
    Client::new(config(url), Credentials::from_key(ID, SECRET, None)).unwrap()
}

fn get_user(name: &str) -> ApiCall {
    ApiCall::new(Service::Ram, "GetUser", [("UserName", name)])
}

#[tokio::test]
async fn calls_are_signed_posts_with_operation_params_in_the_form_body() {
    let mock = serve(|_, _| Reply::ok(json!({"Policy": {"PolicyName": "big"}}))).await;
    mock.add_key(ID, SECRET);
    let document = format!(
        "{{\"Version\":\"1\",\"Statement\":[{}]}}",
        vec![r#"{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}"#; 100].join(",")
    );
    assert!(document.len() > 5000);
    let call = ApiCall::new(
        Service::Ram,
        "CreatePolicy",
        [("PolicyName", "big"), ("PolicyDocument", document.as_str())],
    );
    let body = client(&mock.url).call(&call).await.unwrap();
    assert_eq!(body["Policy"]["PolicyName"], "big");

    let seen = &mock.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.headers["user-agent"],
        format!("ramstate/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(seen.body["PolicyDocument"], document);
    assert!(!seen.query.contains_key("PolicyDocument"));
    for common in [
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Signature",
    ] {
        assert!(seen.query.contains_key(common), "{common} in the query");
    }
    assert_eq!(seen.query["Version"], "2015-05-01");
    assert_eq!(seen.query["SignatureMethod"], "HMAC-SHA1");
    // The mock verified the signature over query + body with the POST method.
    let mut unsigned = seen.params.clone();
    let signature = unsigned.remove("Signature").unwrap();
    assert_eq!(
        sign::sign(SECRET, &sign::string_to_sign("POST", &unsigned)),
        signature
    );
}

#[tokio::test]
async fn every_attempt_uses_a_fresh_nonce() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    let c = client(&mock.url);
    for _ in 0..3 {
        c.call(&get_user("a")).await.unwrap();
    }
    let nonces: std::collections::BTreeSet<_> = mock
        .seen()
        .iter()
        .map(|s| s.params["SignatureNonce"].clone())
        .collect();
    assert_eq!(nonces.len(), 3);
}

#[tokio::test]
async fn error_bodies_become_typed_errors_with_code_message_and_request_id() {
    let mock =
        serve(|_, _| Reply::error(404, "EntityNotExist.User", "The user does not exist.")).await;
    let e = client(&mock.url)
        .call(&get_user("ghost"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.code, "EntityNotExist.User");
    assert_eq!(e.message, "The user does not exist.");
    assert_eq!(e.request_id.as_deref(), Some("REQ-EntityNotExist.User"));
    assert_eq!(e.status, Some(404));
    assert_eq!(mock.count(), 1, "not-found is never retried");
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    mock.add_key(ID, "the-real-secret");
    let e = client(&mock.url).call(&get_user("a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn conflicts_fail_at_once() {
    let mock = serve(|_, _| {
        Reply::error(
            409,
            "DeleteConflict.User.AccessKey",
            "The user CAN NOT has any access key while deleting the user.",
        )
    })
    .await;
    let call = ApiCall::new(Service::Ram, "DeleteUser", [("UserName", "alice")]);
    let e = client(&mock.url).call(&call).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn a_codeless_gateway_failure_is_classified_by_status() {
    let mock = serve(|_, n| {
        if n == 0 {
            Reply::Text {
                status: 502,
                body: "<html>bad gateway</html>".into(),
            }
        } else {
            Reply::Text {
                status: 418,
                body: "teapot".into(),
            }
        }
    })
    .await;
    let mut cfg = config(&mock.url);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(mock.count(), 2, "the 502 was retried");
    assert_eq!(e.code, "HTTP418");
    assert_eq!(e.kind, ErrorKind::Other);
}

#[tokio::test(start_paused = true)]
async fn throttling_waits_exactly_as_long_as_x_acs_retry_after_says() {
    let mock = serve(|_, n| {
        if n < 2 {
            Reply::throttled(1500)
        } else {
            Reply::ok(json!({"User": {"UserName": "a"}}))
        }
    })
    .await;
    let start = Instant::now();
    let body = client(&mock.url).call(&get_user("a")).await.unwrap();
    assert_eq!(body["User"]["UserName"], "a");
    let seen = mock.seen();
    assert_eq!(seen.len(), 3);
    for pair in seen.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(1500) && gap < Duration::from_millis(1510),
            "{gap:?}"
        );
    }
    assert!(start.elapsed() >= Duration::from_millis(3000));
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_exponentially_with_jitter() {
    let mock = serve(|_, n| {
        if n < 4 {
            Reply::error(503, "ServiceUnavailable", "try later")
        } else {
            Reply::ok(json!({}))
        }
    })
    .await;
    let mut cfg = config(&mock.url);
    cfg.retry = RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(400),
        max_delay: Duration::from_secs(60),
        deadline: Duration::from_secs(600),
    };
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    c.call(&get_user("a")).await.unwrap();
    let seen = mock.seen();
    assert_eq!(seen.len(), 5);
    // Step k waits between half and all of 400ms * 2^(k-1).
    for (k, pair) in seen.windows(2).enumerate() {
        let step = Duration::from_millis(400) * 2u32.pow(k as u32);
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= step / 2 && gap <= step + Duration::from_millis(5),
            "gap {k}: {gap:?} vs step {step:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_and_the_last_error_is_returned() {
    let mock = serve(|_, _| Reply::error(500, "InternalError", "boom")).await;
    let mut cfg = config(&mock.url);
    cfg.retry.max_attempts = 3;
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(mock.count(), 3);
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(e.code, "InternalError");
}

#[tokio::test(start_paused = true)]
async fn a_retry_hint_past_the_deadline_ends_the_call() {
    let mock = serve(|_, _| Reply::throttled(90_000)).await;
    let mut cfg = config(&mock.url);
    cfg.retry.deadline = Duration::from_secs(60);
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let start = Instant::now();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttling);
    assert_eq!(mock.count(), 1);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn throttled_attempts_use_up_the_deadline_not_the_attempts() {
    // A busy server slows a call down; it never makes it fail while time is left.
    let mock = serve(|_, n| {
        if n < 10 {
            Reply::throttled(50)
        } else {
            Reply::ok(json!({}))
        }
    })
    .await;
    let mut cfg = config(&mock.url);
    cfg.retry.max_attempts = 3;
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    c.call(&get_user("a")).await.unwrap();
    assert_eq!(mock.count(), 11);
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let mock = serve(|_, n| {
        if n < 2 {
            Reply::Drop
        } else {
            Reply::ok(json!({"User": {}}))
        }
    })
    .await;
    let mut cfg = config(&mock.url);
    cfg.retry.base_delay = Duration::from_millis(5);
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    c.call(&get_user("a")).await.unwrap();
    assert_eq!(mock.count(), 3);
}

#[tokio::test]
async fn a_create_is_not_resent_after_an_ambiguous_failure() {
    let create = ApiCall::new(Service::Ram, "CreateUser", [("UserName", "bob")]);
    for reply in [0, 1] {
        let mock = serve(move |_, _| {
            if reply == 0 {
                Reply::error(500, "InternalError", "maybe created")
            } else {
                Reply::Drop
            }
        })
        .await;
        let e = client(&mock.url).call_once(&create).await.unwrap_err();
        assert!(e.kind.is_retryable());
        assert_eq!(mock.count(), 1, "sent once, so the caller reads back first");
    }
}

#[tokio::test(start_paused = true)]
async fn a_throttled_create_is_resent_because_it_never_ran() {
    let mock = serve(|_, n| {
        if n == 0 {
            Reply::throttled(200)
        } else {
            Reply::ok(json!({"User": {"UserName": "bob"}}))
        }
    })
    .await;
    let create = ApiCall::new(Service::Ram, "CreateUser", [("UserName", "bob")]);
    client(&mock.url).call_once(&create).await.unwrap();
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let mut cfg = config(&url);
    cfg.retry = RetryPolicy::none();
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(
        !e.message.contains(&url),
        "no URL in messages: {}",
        e.message
    );
}

#[tokio::test]
async fn the_per_call_timeout_is_enforced() {
    let mock =
        serve(|_, _| Reply::After(Duration::from_secs(5), Box::new(Reply::ok(json!({}))))).await;
    let mut cfg = config(&mock.url);
    cfg.timeout = Duration::from_millis(200);
    cfg.retry = RetryPolicy::none();
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let start = std::time::Instant::now();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_within_ten_percent_under_load() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    let mut cfg = config(&mock.url);
    cfg.qps = 40.0;
    cfg.max_in_flight = 16;
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let calls = 60;
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.call(&get_user(&format!("u{i}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let seen = mock.seen();
    assert_eq!(seen.len(), calls);
    let first = seen.iter().map(|s| s.at).min().unwrap();
    let last = seen.iter().map(|s| s.at).max().unwrap();
    let qps = (calls - 1) as f64 / (last - first).as_secs_f64();
    assert!((36.0..=44.0).contains(&qps), "measured {qps:.1} calls/s");
}

#[tokio::test]
async fn calls_in_flight_never_exceed_the_bound_shared_by_clones() {
    let mock =
        serve(|_, _| Reply::After(Duration::from_millis(40), Box::new(Reply::ok(json!({}))))).await;
    let mut cfg = config(&mock.url);
    cfg.max_in_flight = 3;
    let c = Client::new(cfg, Credentials::from_key(ID, SECRET, None)).unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.call(&get_user(&format!("u{i}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        mock.peak_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[tokio::test]
async fn sequential_calls_reuse_one_connection() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    let c = client(&mock.url);
    for _ in 0..10 {
        c.call(&get_user("a")).await.unwrap();
    }
    assert_eq!(mock.count(), 10);
    assert_eq!(
        mock.connections.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn pagination_follows_markers_across_pages_with_the_largest_page_size() {
    let all: Vec<String> = (0..250).map(|i| format!("user{i:03}")).collect();
    let names = all.clone();
    let mock = serve(move |seen, _| {
        // The server pages by 100 whatever it is asked for.
        let start: usize = seen
            .param("Marker")
            .map(|m| m.trim_start_matches("m").parse().unwrap())
            .unwrap_or(0);
        let end = (start + 100).min(names.len());
        let marker = (end < names.len()).then(|| format!("m{end}"));
        Reply::ok(users_page(&names[start..end], marker))
    })
    .await;
    let call = ApiCall::new(Service::Ram, "ListUsers", Vec::<(String, String)>::new());
    let users: Vec<ramstate::api::wire::User> = client(&mock.url)
        .paginate(&call, "Users.User")
        .await
        .unwrap();
    let got: Vec<String> = users.iter().map(|u| u.name()).collect();
    assert_eq!(got, all);
    let seen = mock.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.param("MaxItems") == Some("1000")));
    assert_eq!(
        seen.iter().map(|s| s.param("Marker")).collect::<Vec<_>>(),
        [None, Some("m100"), Some("m200")]
    );
}

#[tokio::test]
async fn pagination_refuses_a_marker_that_repeats() {
    let mock = serve(|_, _| Reply::ok(users_page(&["a".to_string()], Some("same".into())))).await;
    let call = ApiCall::new(Service::Ram, "ListUsers", Vec::<(String, String)>::new());
    let e: ApiError = client(&mock.url)
        .paginate::<ramstate::api::wire::User>(&call, "Users.User")
        .await
        .unwrap_err();
    assert_eq!(e.code, "PaginationLoop");
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn caller_reports_account_user_and_the_key_in_use() {
    let mock = serve(|seen, _| {
        assert_eq!(seen.action(), "GetCallerIdentity");
        assert_eq!(seen.param("Version"), Some("2015-04-01"));
        Reply::ok(json!({
            "AccountId": "1234567890123456",
            "Arn": "acs:ram::1234567890123456:user/ci-bot",
            "IdentityType": "RAMUser",
            "PrincipalId": "2000",
            "UserId": "2000"
        }))
    })
    .await;
    let caller = client(&mock.url).caller().await.unwrap();
    assert_eq!(caller.account_id, "1234567890123456");
    assert_eq!(caller.identity_type, "RAMUser");
    assert_eq!(caller.user_name.as_deref(), Some("ci-bot"));
    assert_eq!(caller.access_key_id.as_deref(), Some(ID));
}

#[tokio::test]
async fn http_proxy_is_used_unless_no_proxy_matches() {
    let proxy = serve(|_, _| Reply::ok(json!({"Via": "proxy"}))).await;
    // The endpoint itself is unreachable: only the proxy can answer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);

    let mut cfg = config(&target);
    cfg.retry = RetryPolicy::none();
    cfg.proxy = ProxyConfig {
        http: Some(proxy.url.clone()),
        ..ProxyConfig::default()
    };
    let creds = Credentials::from_key(ID, SECRET, None);
    let c = Client::new(cfg.clone(), creds.clone()).unwrap();
    let body = c.call(&get_user("a")).await.unwrap();
    assert_eq!(body["Via"], "proxy");
    let seen = &proxy.seen()[0];
    assert!(
        seen.target.starts_with(&target),
        "absolute-form request through the proxy: {}",
        seen.target
    );

    cfg.proxy.no_proxy = Some("127.0.0.1".into());
    let c = Client::new(cfg, creds).unwrap();
    let e = c.call(&get_user("a")).await.unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Network,
        "went direct, and nobody listens"
    );
    assert_eq!(proxy.count(), 1);
}

#[test]
fn a_non_loopback_http_endpoint_is_refused_with_a_clear_error() {
    let e = Client::new(
        config("http://203.0.113.7:8080/"),
        Credentials::from_key(ID, SECRET, None),
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidEndpoint");
    assert!(e.message.contains("non-loopback"), "{}", e.message);
}
