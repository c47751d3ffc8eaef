//! `RefreshingToken` and the client: rotation, which statuses refresh, failures to store, and
//! the atomic token file under a concurrent reader.

#[path = "../../../tests/support/server.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocean_core::{
    Auth, Client, Error, MemoryTokenStore, OAuthClient, OAuthError, RefreshTokenStore,
    RefreshingToken, RetryPolicy, Secret, StoreError, write_atomically,
};
use support::{Reply, Seen, Server};

/// A token endpoint at `/token` that rotates refresh tokens (`r0` → `r1` → …), hands out
/// `a1`, `a2`, … living `lifetime` seconds, and refuses a reused refresh token; `api` answers
/// everything else.
struct Tokens {
    current: Mutex<String>,
    grants: AtomicUsize,
    reused: AtomicUsize,
}

fn form(seen: &Seen, name: &str) -> String {
    url::form_urlencoded::parse(seen.body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn server(
    lifetime: u64,
    api: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (Server, Arc<Tokens>) {
    let tokens = Arc::new(Tokens {
        current: Mutex::new("r0".into()),
        grants: AtomicUsize::new(0),
        reused: AtomicUsize::new(0),
    });
    let state = tokens.clone();
    let server = Server::start_local(move |_, seen| {
        if !seen.target.starts_with("/token") {
            return api(seen);
        }
        let mut current = state.current.lock().unwrap();
        if form(seen, "refresh_token") != *current || form(seen, "client_secret") != "app-secret"
        {
            state.reused.fetch_add(1, Ordering::SeqCst);
            return Reply::json(
                400,
                r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
            );
        }
        let n = state.grants.fetch_add(1, Ordering::SeqCst) + 1;
        *current = format!("r{n}");
        Reply::json(
            200,
            format!(
                r#"{{"access_token":"a{n}","expires_in":{lifetime},"token_type":"Bearer","refresh_token":"r{n}"}}"#
            ),
        )
    })
    .await;
    (server, tokens)
}

fn provider(server: &Server, store: Arc<dyn RefreshTokenStore>) -> RefreshingToken {
    RefreshingToken::new(
        OAuthClient {
            token_url: format!("{}/token", server.url).parse().unwrap(),
            client_id: "app".into(),
            client_secret: Secret::new("app-secret"),
        },
        store,
    )
    .unwrap()
}

fn client(server: &Server, tokens: Arc<RefreshingToken>) -> Client {
    Client::builder(&server.url)
        .auth(Auth::Provider(tokens))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_404_on_a_fresh_token_is_a_404_and_a_401_refreshes_once() {
    let (server, tokens) = server(3600, |seen| match seen.target.as_str() {
        "/missing" => Reply::json(404, r#"{"errorMessages":["Issue does not exist"]}"#),
        _ if seen.header("authorization") == Some("Bearer a1") => {
            Reply::json(401, r#"{"errorMessages":["token expired"]}"#)
        }
        _ => Reply::json(200, "{}"),
    })
    .await;
    let source = Arc::new(
        provider(&server, Arc::new(MemoryTokenStore::new("r0"))).expired_statuses(&[403, 404]),
    );
    let api = client(&server, source.clone());

    let err = api.get("/missing").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        tokens.grants.load(Ordering::SeqCst),
        1,
        "no refresh for a real 404"
    );

    api.get("/data").send().await.unwrap();
    assert_eq!(
        tokens.grants.load(Ordering::SeqCst),
        2,
        "one refresh after the 401"
    );
    api.get("/data").send().await.unwrap();
    assert_eq!(tokens.grants.load(Ordering::SeqCst), 2);
    assert_eq!(tokens.reused.load(Ordering::SeqCst), 0);
    assert_eq!(source.refreshes(), 2);
}

#[tokio::test]
async fn a_gateway_404_for_a_token_that_went_stale_in_flight_refreshes_once() {
    // One-second tokens; the first answer takes 900 ms, past a1's renewal time (750 ms).
    let (server, tokens) = server(1, |seen| {
        let reply = Reply::json(404, r#"{"message":"Not Found"}"#);
        match seen.header("authorization") {
            Some("Bearer a1") => Reply::After(Duration::from_millis(900), Box::new(reply)),
            _ => reply,
        }
    })
    .await;
    let source = Arc::new(
        provider(&server, Arc::new(MemoryTokenStore::new("r0"))).expired_statuses(&[403, 404]),
    );
    let err = client(&server, source).get("/x").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    // Retried once with a fresh token, and that 404 stands.
    assert_eq!(tokens.grants.load(Ordering::SeqCst), 2);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.target == "/x")
            .count(),
        2
    );
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    // One-second tokens are renewed after 750 ms (the margin is at most a quarter).
    let (server, tokens) = server(1, |seen| {
        let fresh = seen.header("authorization") != Some("Bearer a1");
        Reply::json(if fresh { 200 } else { 401 }, "{}")
    })
    .await;
    let source = Arc::new(provider(&server, Arc::new(MemoryTokenStore::new("r0"))));
    let api = client(&server, source);
    // a1 is refused at once: a 401 refresh, then a2 is used...
    api.get("/x").send().await.unwrap();
    assert_eq!(tokens.grants.load(Ordering::SeqCst), 2);
    // ...until its renewal time, when a3 comes without any rejection.
    tokio::time::sleep(Duration::from_millis(800)).await;
    api.get("/x").send().await.unwrap();
    assert_eq!(tokens.grants.load(Ordering::SeqCst), 3);
    let auth: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| !r.target.starts_with("/token"))
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer a1", "Bearer a2", "Bearer a3"]);
}

/// A store whose saves fail, as on a full disk.
struct Broken(MemoryTokenStore);

impl RefreshTokenStore for Broken {
    fn load(&self) -> Result<Secret, StoreError> {
        self.0.load()
    }
    fn save(&self, _: &Secret) -> Result<(), StoreError> {
        Err(StoreError {
            what: "could not write the rotated refresh token to",
            where_: "the token file /full/disk".into(),
            source: std::io::Error::other("no space left on device"),
        })
    }
    fn describe(&self) -> String {
        "the token file /full/disk".into()
    }
}

#[tokio::test]
async fn an_unstorable_rotation_fails_the_refresh_and_keeps_the_new_token_in_memory() {
    let (server, tokens) = server(3600, |_| Reply::json(200, "{}")).await;
    let source = provider(&server, Arc::new(Broken(MemoryTokenStore::new("r0"))));
    let err = source.current().await.unwrap_err();
    assert!(matches!(err, OAuthError::Store(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("/full/disk") && message.contains("no space"),
        "{message}"
    );
    assert!(
        !message.contains("r1") && !message.contains("a1"),
        "{message}"
    );
    // The next attempt sends the rotated token, not the dead one.
    let _ = source.current().await;
    assert_eq!(tokens.reused.load(Ordering::SeqCst), 0);
    assert_eq!(tokens.grants.load(Ordering::SeqCst), 2);

    // Through a client, the failure is a token error, never a request without credentials.
    let api = client(
        &server,
        Arc::new(provider(
            &server,
            Arc::new(Broken(MemoryTokenStore::new("r2"))),
        )),
    );
    let err = api.get("/x").send().await.unwrap_err();
    assert!(matches!(err, Error::Token(_)), "{err:?}");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.target == "/x")
            .count(),
        0
    );
}

#[test]
fn a_reader_never_sees_a_torn_or_empty_token_file() {
    let dir = std::env::temp_dir().join(format!("ocean-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    let (a, b) = ("a".repeat(256 * 1024), "b".repeat(256 * 1024));
    write_atomically(&path, a.as_bytes()).unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, a, b, done) = (path.clone(), a.clone(), b.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let seen = std::fs::read_to_string(&path).unwrap();
                assert!(seen == a || seen == b, "torn read of {} bytes", seen.len());
                reads += 1;
            }
            reads
        })
    };
    for i in 0..200 {
        write_atomically(
            &path,
            if i % 2 == 0 {
                b.as_bytes()
            } else {
                a.as_bytes()
            },
        )
        .unwrap();
    }
    done.store(true, Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
