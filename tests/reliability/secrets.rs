//! Secrets never print (issue 8): not at the highest verbosity, not in any failure, not in
//! `Debug`, not in the URLs that errors carry.

#[path = "../e2e/common.rs"]
mod e2e;
mod support;

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use ocean_core::{Auth, Client, Error, Secret, TokenError, TokenProvider};
use ocean_jira::{JiraClient, JiraKind, SyncOptions, WebhookOptions};
use ocean_octopus::{OctopusClient, OctopusKind, SubscriptionOptions};
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};
use serde_json::json;
use support::*;

const WRONG_TOKEN: &str = "wrong-jira-token-7f3a";
const WRONG_KEY: &str = "API-WRONGKEY7F3A";

fn basic(email: &str, token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{email}:{token}"))
}

/// Every credential a run may hold, in every form it may take on the wire.
fn secrets() -> Vec<String> {
    vec![
        JIRA_TOKEN.to_owned(),
        basic(JIRA_EMAIL, JIRA_TOKEN),
        OCTOPUS_API_KEY.to_owned(),
        WRONG_TOKEN.to_owned(),
        basic(JIRA_EMAIL, WRONG_TOKEN),
        WRONG_KEY.to_owned(),
    ]
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "{what}: a credential (`{}…`) was printed:\n{text}",
            &secret[..4]
        );
    }
}

/// `ocean -vvv …` with `RUST_LOG=trace`.
fn loud(sim_or_url: Option<&Simulator>, provider: &str) -> Command {
    let mut cmd = e2e::ocean();
    cmd.env("RUST_LOG", "trace").arg("-vvv");
    if let Some(sim) = sim_or_url {
        match provider {
            "jira" => e2e::jira_env(&mut cmd, sim),
            _ => e2e::octopus_env(&mut cmd, sim),
        };
    }
    cmd
}

/// Runs `cmd`, checks it printed no credential anywhere, and returns its output.
async fn run_checked(what: &str, cmd: Command) -> Output {
    let out = run_bounded(cmd, 30).await;
    let (stdout, stderr) = (e2e::text(&out.stdout), e2e::text(&out.stderr));
    assert_no_secret(&format!("{what} (stdout)"), &stdout);
    assert_no_secret(&format!("{what} (stderr)"), &stderr);
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "{what}: not at full verbosity:\n{stderr}"
    );
    out
}

fn failed_with(what: &str, out: &Output, needle: &str) {
    let stderr = e2e::text(&out.stderr);
    assert!(!out.status.success(), "{what}: should fail");
    assert!(
        stderr.contains(needle),
        "{what}: no `{needle}` in:\n{stderr}"
    );
}

/// Success and every failure kind the simulator can produce, at full verbosity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_at_full_verbosity_never_prints_a_credential() {
    within(90, async {
        let shared = Arc::new(e2e::sim(20).await);
        let sim = &*shared;

        // Success: every kind of both providers.
        let mut cmd = loud(Some(sim), "jira");
        cmd.args(["sync", "jira"]);
        let out = run_checked("jira success", cmd).await;
        assert!(out.status.success(), "{}", e2e::text(&out.stderr));
        let mut cmd = loud(Some(sim), "octopus");
        cmd.args(["sync", "octopus"]);
        let out = run_checked("octopus success", cmd).await;
        assert!(out.status.success(), "{}", e2e::text(&out.stderr));

        // 401: the wrong credential is not printed either.
        let mut cmd = loud(Some(sim), "jira");
        cmd.env("JIRA_TOKEN", WRONG_TOKEN)
            .args(["sync", "jira", "--kind", "project"]);
        failed_with("jira 401", &run_checked("jira 401", cmd).await, "401");
        let mut cmd = loud(Some(sim), "octopus");
        cmd.env("OCTOPUS_API_KEY", WRONG_KEY)
            .args(["sync", "octopus", "--kind", "space"]);
        failed_with("octopus 401", &run_checked("octopus 401", cmd).await, "401");

        // 403 (the simulator's admin-only webhook routes for a non-admin caller).
        sim.faults().set_jira_admin(false);
        let mut cmd = loud(Some(sim), "jira");
        cmd.args([
            "webhooks",
            "jira",
            "--app-host",
            "https://ocean.example.com",
        ]);
        let out = run_checked("jira 403", cmd).await;
        assert!(
            e2e::text(&out.stdout).contains("no permission"),
            "{}",
            e2e::text(&out.stdout)
        );
        sim.faults().set_jira_admin(true);

        // A 429 storm (a noisy neighbour spends the budget), retried to the end.
        sim.faults().set_fractional_retry_after(true);
        let storm = start_storm(&shared).await;
        let mut cmd = loud(Some(sim), "jira");
        cmd.args([
            "sync",
            "jira",
            "--kind",
            "project",
            "--kind",
            "issue",
            "--kind",
            "worklog",
            "--max-retries",
            "30",
        ]);
        let out = run_checked("jira 429", cmd).await;
        assert!(out.status.success(), "{}", e2e::text(&out.stderr));
        assert!(
            e2e::text(&out.stderr).contains("answered 429"),
            "no 429 reached the CLI"
        );
        storm.await.unwrap();
        let storm = start_storm(&shared).await;
        let mut cmd = loud(Some(sim), "octopus");
        cmd.args([
            "sync",
            "octopus",
            "--kind",
            "project",
            "--max-retries",
            "30",
        ]);
        let out = run_checked("octopus 429", cmd).await;
        assert!(out.status.success(), "{}", e2e::text(&out.stderr));
        assert!(
            e2e::text(&out.stderr).contains("answered 429"),
            "no 429 reached the CLI"
        );
        storm.await.unwrap();
        sim.faults().set_rate_limit(None);

        // 503s: retried (Octopus' quick default backoff), and given up on (no retries).
        sim.faults().set_fail_rate(0.3);
        let mut cmd = loud(Some(sim), "octopus");
        cmd.args([
            "sync",
            "octopus",
            "--kind",
            "environment",
            "--max-retries",
            "10",
        ]);
        let out = run_checked("octopus 503 retried", cmd).await;
        assert!(out.status.success(), "{}", e2e::text(&out.stderr));
        sim.faults().set_fail_rate(1.0);
        let mut cmd = loud(Some(sim), "jira");
        cmd.args(["sync", "jira", "--kind", "board", "--max-retries", "0"]);
        failed_with("jira 503", &run_checked("jira 503", cmd).await, "503");
        let mut cmd = loud(Some(sim), "octopus");
        cmd.args(["sync", "octopus", "--kind", "space", "--max-retries", "0"]);
        failed_with("octopus 503", &run_checked("octopus 503", cmd).await, "503");
        sim.faults().set_fail_rate(0.0);

        // Malformed pages.
        sim.faults().set_malformed(true);
        let mut cmd = loud(Some(sim), "jira");
        cmd.args(["sync", "jira", "--kind", "user"]);
        failed_with(
            "jira malformed",
            &run_checked("jira malformed", cmd).await,
            "could not decode",
        );
        let mut cmd = loud(Some(sim), "octopus");
        cmd.args(["sync", "octopus", "--kind", "machine"]);
        failed_with(
            "octopus malformed",
            &run_checked("octopus malformed", cmd).await,
            "could not decode",
        );
        sim.faults().set_malformed(false);

        // Timeouts.
        sim.faults().set_latency(Duration::from_secs(2));
        for provider in ["jira", "octopus"] {
            let mut cmd = loud(Some(sim), provider);
            cmd.args(["sync", provider, "--timeout", "0.1", "--max-retries", "0"]);
            let what = format!("{provider} timeout");
            failed_with(
                &what,
                &run_checked(&what, cmd).await,
                "timed out after 100ms",
            );
        }
    })
    .await;
}

/// A server that echoes every credential it receives in its error bodies, as some
/// proxies and misconfigured APIs do: the errors and logs show it scrubbed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_a_server_echoes_back_are_scrubbed() {
    within(30, async {
        for status in [400u16, 403, 500] {
            let server = Server::start(move |_, req| {
                let auth = req.header("authorization").unwrap_or_default().to_owned();
                let key = req
                    .header("x-octopus-apikey")
                    .unwrap_or_default()
                    .to_owned();
                let decoded = auth
                    .strip_prefix("Basic ")
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let message = format!("rejected `{auth}` ({decoded}) and key `{key}`");
                Reply::json(
                    status,
                    json!({"errorMessages": [&message], "ErrorMessage": &message,
                           "errors": {"auth": &message}}),
                )
            });
            let mut cmd = loud(None, "jira");
            cmd.env("JIRA_URL", &server.url)
                .env("JIRA_EMAIL", JIRA_EMAIL)
                .env("JIRA_TOKEN", JIRA_TOKEN)
                .args(["sync", "jira", "--kind", "project"]);
            let what = format!("jira echo {status}");
            let out = run_checked(&what, cmd).await;
            failed_with(&what, &out, &status.to_string());
            assert!(e2e::text(&out.stderr).contains("[redacted]"), "{what}");

            let mut cmd = loud(None, "octopus");
            cmd.env("OCTOPUS_URL", &server.url)
                .env("OCTOPUS_API_KEY", OCTOPUS_API_KEY)
                .args(["sync", "octopus", "--kind", "space"]);
            let what = format!("octopus echo {status}");
            let out = run_checked(&what, cmd).await;
            failed_with(&what, &out, &status.to_string());
            assert!(e2e::text(&out.stderr).contains("[redacted]"), "{what}");
        }

        // The same through the library: Display and Debug of the error.
        let server = Server::start(|_, req| {
            let auth = req.header("authorization").unwrap_or_default().to_owned();
            Reply::json(403, json!({"errorMessages": [format!("no: {auth}")]}))
        });
        let jira = JiraClient::builder(&server.url)
            .basic(JIRA_EMAIL, JIRA_TOKEN)
            .build()
            .unwrap();
        let err = jira
            .sync(JiraKind::Board, &SyncOptions::default())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_no_secret("error Display", &err.to_string());
        assert_no_secret("error Debug", &format!("{err:?}"));
    })
    .await;
}

/// Base URLs with a credential in them are refused, and the refusal does not repeat it:
/// user info, a query (`?apikey=`, which Octopus accepts), and a URL too broken to parse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_with_credentials_are_refused_without_repeating_them() {
    within(30, async {
        let urls = [
            format!("http://demo%40example.com:{JIRA_TOKEN}@127.0.0.1:9/jira"),
            format!("http://127.0.0.1:9/jira?token={JIRA_TOKEN}"),
            format!("http://127.0.0.1:9/?apikey={OCTOPUS_API_KEY}"),
            format!("http://127.0.0.1:9/#{OCTOPUS_API_KEY}"),
            format!("http://me:{JIRA_TOKEN}@[::1"),
            format!("http://me:{JIRA_TOKEN}@exa mple.com/"),
        ];
        for url in &urls {
            let core = Client::builder(url.as_str()).build().unwrap_err();
            let jira = JiraClient::new(url, JIRA_EMAIL, JIRA_TOKEN).unwrap_err();
            let octopus = OctopusClient::new(url, OCTOPUS_API_KEY).unwrap_err();
            for err in [core, jira, octopus] {
                assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
                assert_no_secret(url, &err.to_string());
                assert_no_secret(url, &format!("{err:?}"));
            }
        }
        // And through the CLI, at full verbosity.
        for url in &urls[..3] {
            let mut cmd = loud(None, "jira");
            cmd.env("JIRA_URL", url)
                .env("JIRA_EMAIL", JIRA_EMAIL)
                .env("JIRA_TOKEN", JIRA_TOKEN)
                .args(["sync", "jira", "--kind", "project"]);
            let out = run_bounded(cmd, 10).await;
            assert!(!out.status.success());
            assert_no_secret(url, &e2e::text(&out.stderr));
            let mut cmd = loud(None, "octopus");
            cmd.env("OCTOPUS_URL", url)
                .env("OCTOPUS_API_KEY", OCTOPUS_API_KEY)
                .args(["sync", "octopus", "--kind", "space"]);
            let out = run_bounded(cmd, 10).await;
            assert!(!out.status.success());
            assert_no_secret(url, &e2e::text(&out.stderr));
        }
    })
    .await;
}

/// The URL every runtime error carries is the request's, with no credential in it:
/// credentials travel in headers only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_in_runtime_errors_carry_no_credentials() {
    within(20, async {
        let sim = Simulator::start(SimConfig {
            items: 10,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let jira = JiraClient::builder(&sim.jira_url())
            .basic(JIRA_EMAIL, JIRA_TOKEN)
            .retry(quick(0))
            .timeout(Some(Duration::from_millis(100)))
            .build()
            .unwrap();
        let octopus = OctopusClient::builder(&sim.octopus_url())
            .api_key(OCTOPUS_API_KEY)
            .retry(quick(0))
            .timeout(Some(Duration::from_millis(100)))
            .build()
            .unwrap();
        let url_of = |e: &Error| match e {
            Error::Status(s) => s.url.clone(),
            Error::Decode { url, .. }
            | Error::Transport { url, .. }
            | Error::Timeout { url, .. }
            | Error::RateLimited { url, .. }
            | Error::Pagination { url, .. } => url.clone(),
            other => panic!("unexpected {other:?}"),
        };
        let mut seen = Vec::new();
        for fault in ["503", "malformed", "timeout"] {
            sim.faults()
                .set_fail_rate(f64::from(u8::from(fault == "503")));
            sim.faults().set_malformed(fault == "malformed");
            sim.faults().set_latency(if fault == "timeout" {
                Duration::from_secs(1)
            } else {
                Duration::ZERO
            });
            let errors = [
                jira.sync(JiraKind::Project, &SyncOptions::default())
                    .try_collect::<Vec<_>>()
                    .await
                    .unwrap_err(),
                octopus
                    .sync(OctopusKind::Space)
                    .try_collect::<Vec<_>>()
                    .await
                    .unwrap_err(),
            ];
            for err in errors {
                let url = url_of(&err);
                assert!(url.starts_with("http://127.0.0.1:"), "{url}");
                assert!(!url.contains('@') && !url.to_ascii_lowercase().contains("apikey"));
                assert_no_secret(fault, &url);
                assert_no_secret(fault, &format!("{err} {err:?}"));
                seen.push(format!("{fault}: {err}"));
            }
        }
        assert_eq!(seen.len(), 6, "{seen:#?}");
    })
    .await;
}

struct Tokens;

impl TokenProvider for Tokens {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Ok(Secret::new("oauth-access-token-7f3a")) })
    }
    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Ok(Secret::new("oauth-refreshed-token-7f3a")) })
    }
}

/// `Debug` (and `Display`, where there is one) of every type that holds a credential.
#[tokio::test]
async fn debug_of_every_client_and_auth_type_is_redacted() {
    const S: &str = "s3cr3t-value-7f3a";
    let check = |what: &str, shown: String| {
        for needle in [S, &basic("me@example.com", S), "oauth-access-token-7f3a"] {
            assert!(
                !shown.contains(needle),
                "{what} shows a credential: {shown}"
            );
        }
    };
    let secret = Secret::new(S);
    check("Secret", format!("{secret:?} {secret} {secret:#?}"));
    let auths = [
        Auth::None,
        Auth::basic("me@example.com", S),
        Auth::bearer(S),
        Auth::provider(Tokens),
        Auth::api_key("X-Octopus-ApiKey", S).unwrap(),
    ];
    for auth in auths {
        check("Auth", format!("{auth:?} {auth:#?}"));
        check("Auth::describe", auth.describe());
        let client = Client::builder("https://example.com")
            .auth(auth)
            .build()
            .unwrap();
        check("Client", format!("{client:?} {client:#?}"));
    }

    let jira_basic = JiraClient::new("https://x.atlassian.net", "me@example.com", S).unwrap();
    let jira_pat = JiraClient::builder("https://jira.example.com")
        .bearer(S)
        .build()
        .unwrap();
    // An OAuth client whose token has been fetched and cached.
    let server = Server::start(|_, _| Reply::json(200, json!({"accountId": "a"})));
    let jira_oauth = JiraClient::builder("https://x.atlassian.net")
        .oauth("11223344-a1b2-3b33-c444-def123456789", Tokens)
        .api_gateway(&server.url)
        .build()
        .unwrap();
    jira_oauth
        .core()
        .get("/rest/api/3/myself")
        .send()
        .await
        .unwrap();
    for jira in [jira_basic, jira_pat, jira_oauth] {
        check("JiraClient", format!("{jira:?} {jira:#?}"));
        check("JiraClient core", format!("{:?}", jira.core()));
    }

    let octopus = OctopusClient::new("https://x.octopus.app", S).unwrap();
    check("OctopusClient", format!("{octopus:?} {octopus:#?}"));
    let builder = OctopusClient::builder("https://x.octopus.app").api_key(S);
    check("OctopusClientBuilder", format!("{builder:?}"));

    let webhook = WebhookOptions {
        secret: Some(Secret::new(S)),
        ..WebhookOptions::default()
    };
    check("WebhookOptions", format!("{webhook:?}"));
    let subscription = SubscriptionOptions {
        header: Some(("X-Ocean-Webhook-Secret".into(), Secret::new(S))),
        ..SubscriptionOptions::default()
    };
    check("SubscriptionOptions", format!("{subscription:?}"));
    let shared = Arc::new(Secret::new(S));
    check("Arc<Secret>", format!("{shared:?}"));
}
