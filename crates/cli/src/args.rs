//! The command line, as clap sees it. Keep this contract stable: tests and users depend on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ocean_jira::JiraKind;
use ocean_octopus::OctopusKind;

/// Sync Jira or Octopus Deploy to NDJSON, manage their webhooks, or run a simulator of both.
#[derive(Debug, Parser)]
#[command(name = "ocean", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// A TOML file with settings and per-kind selectors (see the README); flags and their
    /// environment variables win over it.
    #[arg(long, global = true, env = "OCEAN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync every item of some kinds to NDJSON (stdout or -o FILE).
    #[command(subcommand)]
    Sync(SyncTarget),
    /// Make sure the provider posts its events to `{app-host}/integration/webhook`.
    #[command(subcommand)]
    Webhooks(WebhookTarget),
    /// Receive the provider's webhooks and write each change, fetched again, as NDJSON on stdout.
    #[command(subcommand)]
    Listen(ListenTarget),
    /// Read the catalog a `sync --store` keeps.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Run the simulator of both APIs until Ctrl-C.
    Sim(SimArgs),
    /// Start the simulator in-process and sync every kind of both providers from it.
    Demo(DemoArgs),
    /// Run as a service: webhooks into the catalog, scheduled syncs, self-repair, /metrics.
    Serve(ServeArgs),
}

/// How `ocean serve` logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The catalog (a file path, sqlite:PATH or postgres://…); overrides the config.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Where webhooks are received, e.g. 0.0.0.0:8000 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// The public base URL providers post to (default: http://BIND).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Where /metrics, /healthz, /readyz and /admin listen (default 127.0.0.1:9090);
    /// `none` serves them on the webhook listener behind --admin-token.
    #[arg(long, value_name = "ADDR")]
    pub admin_bind: Option<String>,
    /// A bearer token /metrics and /admin require.
    #[arg(
        long,
        env = "OCEAN_ADMIN_TOKEN",
        value_name = "T",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Between incremental runs (default 15m).
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Between full runs with a deletion sweep (default 24h).
    #[arg(long, value_name = "DURATION")]
    pub full_interval: Option<String>,
    /// The bound on a graceful shutdown (default 30s).
    #[arg(long, value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
    /// The scheduling lease's time to live: a dead replica's tenants move within it (default 30s).
    #[arg(long, value_name = "DURATION")]
    pub lease_ttl: Option<String>,
    /// The first retry's wait after a failed run, doubling up to the interval (default 30s).
    #[arg(long, value_name = "DURATION")]
    pub retry_base: Option<String>,
    /// How long a worker holds a claimed delivery before another (or the next start) may
    /// take it (default 60s).
    #[arg(long, value_name = "DURATION")]
    pub claim: Option<String>,
    /// This replica's name in the lease table (default HOST-PID).
    #[arg(long, value_name = "NAME")]
    pub replica: Option<String>,
    /// A sweep that would delete more than this fraction of a kind's live items deletes nothing.
    #[arg(long, value_name = "F", default_value_t = 0.5, value_parser = parse_fraction)]
    pub max_delete_fraction: f64,
    /// Log lines as text or JSON.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

// Parsed once per run: the size of the Jira variant (OAuth settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SyncTarget {
    /// Sync Jira Cloud or Data Center / Server.
    Jira {
        #[command(flatten)]
        credentials: JiraCredentials,
        #[arg(long = "kind", value_name = "KIND", value_parser = parse_jira_kind,
              help = kind_help(&JiraKind::ALL.map(JiraKind::as_str)))]
        kinds: Vec<JiraKind>,
        /// The JQL selecting issues (default: Ocean's `(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)`).
        #[arg(long)]
        jql: Option<String>,
        /// How issues are read: `census` (ids first, then parallel bulk fetches of 100) or
        /// `cursor` (the search's pages one after another).
        #[arg(long, value_name = "STRATEGY", default_value = "census")]
        issue_strategy: ocean_jira::IssueStrategy,
        /// The Atlassian organisation id whose teams the `team` kind syncs (without it, none).
        #[arg(long, env = "JIRA_ORG_ID", value_name = "ID")]
        org_id: Option<String>,
        /// Per-kind selector blocks from the config file: one sync job each.
        #[arg(skip)]
        selectors: Vec<(JiraKind, ocean_jira::SyncOptions)>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Sync Octopus Deploy (every space).
    Octopus {
        #[command(flatten)]
        credentials: OctopusCredentials,
        #[arg(long = "kind", value_name = "KIND", value_parser = parse_octopus_kind,
              help = kind_help(&OctopusKind::ALL.map(OctopusKind::as_str)))]
        kinds: Vec<OctopusKind>,
        /// Items per space for the capped kinds (release, deployment); 0 = no cap (default 1000).
        #[arg(long, value_name = "N")]
        max_items: Option<u64>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        tuning: Tuning,
    },
}

// Parsed once per run: the size of the Jira variant (OAuth settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum WebhookTarget {
    /// Register (or repair) the Jira webhook.
    Jira {
        #[command(flatten)]
        app: AppHost,
        #[command(flatten)]
        credentials: JiraCredentials,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Register the Octopus subscription of every space.
    Octopus {
        #[command(flatten)]
        app: AppHost,
        #[command(flatten)]
        credentials: OctopusCredentials,
        #[command(flatten)]
        tuning: Tuning,
    },
}

// Parsed once per run: the size of the Jira variant (OAuth settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ListenTarget {
    /// Receive Jira webhooks (register them with `ocean webhooks jira`).
    Jira {
        #[command(flatten)]
        server: ListenArgs,
        #[command(flatten)]
        credentials: JiraCredentials,
        /// The JQL of the synced issues: a changed issue outside it is written as a delete (default: the sync's).
        #[arg(long)]
        jql: Option<String>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Receive Octopus subscription deliveries (register them with `ocean webhooks octopus`).
    Octopus {
        #[command(flatten)]
        server: ListenArgs,
        #[command(flatten)]
        credentials: OctopusCredentials,
        #[command(flatten)]
        tuning: Tuning,
    },
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The address to listen on, e.g. 0.0.0.0:8000 (port 0 picks a free one); deliveries go
    /// to `POST /integration/webhook`.
    #[arg(long, value_name = "ADDR")]
    pub bind: String,
    /// The secret given to `ocean webhooks --secret`: deliveries without a valid signature
    /// (Jira) or `X-Ocean-Webhook-Secret` header (Octopus) are refused with 401. Without it,
    /// every delivery is accepted.
    #[arg(
        long,
        env = "OCEAN_WEBHOOK_SECRET",
        value_name = "S",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// Deliveries waiting for processing at most; when full, senders get 503 and Retry-After.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub queue: usize,
    /// The largest delivery body accepted, in bytes; larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: usize,
    /// Also apply every change to this catalog (a file path, sqlite:PATH or postgres://…).
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
}

/// Where a sync keeps its catalog, and how it treats it.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Keep a catalog in this store instead of printing NDJSON: a file path or
    /// sqlite:PATH (SQLite, created if missing), or postgres://… . Later runs are
    /// incremental, deletions are swept, an interrupted run resumes.
    #[arg(long, value_name = "STORE", conflicts_with = "file")]
    pub store: Option<String>,
    /// With --store: a full sync and deletion sweep of every kind, whatever its bookmark.
    #[arg(long, requires = "store")]
    pub full: bool,
    /// With --store: print one NDJSON line per actual change (upsert or delete) on stdout.
    #[arg(long, requires = "store")]
    pub changes: bool,
    /// With --store: a sweep that would delete more than this fraction of a kind's live
    /// items deletes nothing of that kind (with a warning).
    #[arg(long, value_name = "F", default_value_t = 0.5, value_parser = parse_fraction)]
    pub max_delete_fraction: f64,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Print the live catalog as NDJSON, `{"kind":K,"item":{…}}` (the lines a sync prints).
    Export {
        /// The store (a file path, sqlite:PATH or postgres://…).
        #[arg(long, value_name = "STORE")]
        store: String,
        /// Only this provider's items.
        #[arg(long, value_name = "PROVIDER", value_parser = ["jira", "octopus"])]
        provider: Option<String>,
        /// Only these kinds, repeatable (default: all).
        #[arg(long = "kind", value_name = "KIND")]
        kinds: Vec<String>,
        /// Only the items of this tenant (the site or server URL they were synced from; a
        /// store may hold several, and the lines do not say whose they are).
        #[arg(long, value_name = "URL")]
        tenant: Option<String>,
    },
    /// Print the counts per provider and kind, and the last run of each.
    Stats {
        /// The store (a file path, sqlite:PATH or postgres://…).
        #[arg(long, value_name = "STORE")]
        store: String,
    },
}

#[derive(Debug, Args)]
pub struct AppHost {
    /// The public base URL of the receiver; events go to `{URL}/integration/webhook`.
    #[arg(long, value_name = "URL")]
    pub app_host: String,
    /// A shared secret the receiver verifies: Jira signs deliveries with it
    /// (`X-Hub-Signature`), Octopus sends it in the `X-Ocean-Webhook-Secret` header.
    #[arg(
        long,
        env = "OCEAN_WEBHOOK_SECRET",
        value_name = "S",
        hide_env_values = true
    )]
    pub secret: Option<String>,
}

#[derive(Debug, Default, Args)]
pub struct JiraCredentials {
    /// Jira site URL, e.g. https://example.atlassian.net.
    #[arg(long, env = "JIRA_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Atlassian account e-mail (Cloud), or user name (Data Center Basic auth).
    #[arg(long, env = "JIRA_EMAIL", value_name = "EMAIL")]
    pub email: Option<String>,
    /// Atlassian API token (Cloud), or password (Data Center Basic auth).
    #[arg(long, env = "JIRA_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Data Center / Server personal access token, sent as Bearer (instead of --email/--token).
    #[arg(long, env = "JIRA_PAT", value_name = "PAT", hide_env_values = true)]
    pub pat: Option<String>,
    /// Jira Cloud (/rest/api/3) or Data Center / Server (/rest/api/2); auto (the default)
    /// asks the site's /rest/api/2/serverInfo. OAuth is always Cloud.
    #[arg(long, env = "JIRA_DEPLOYMENT", value_enum, value_name = "KIND")]
    pub deployment: Option<DeploymentArg>,
    #[command(flatten)]
    pub oauth: OAuthArgs,
}

/// `--deployment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentArg {
    /// Ask the site (`deploymentType` of /rest/api/2/serverInfo).
    Auto,
    /// Jira Cloud.
    Cloud,
    /// Jira Data Center or Server.
    Dc,
}

/// OAuth 2.0 (3LO) with the refresh-token grant, instead of --email/--token.
#[derive(Debug, Default, Args)]
pub struct OAuthArgs {
    /// OAuth 2.0 app client id (from the Atlassian developer console).
    #[arg(long, env = "JIRA_OAUTH_CLIENT_ID", value_name = "ID")]
    pub oauth_client_id: Option<String>,
    /// OAuth 2.0 app client secret.
    #[arg(
        long,
        env = "JIRA_OAUTH_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub oauth_client_secret: Option<String>,
    /// The refresh token to start from. Atlassian rotates it on every refresh, so keep it in
    /// --oauth-token-file: this value only seeds the file when the file holds no token yet.
    #[arg(
        long,
        env = "JIRA_OAUTH_REFRESH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub oauth_refresh_token: Option<String>,
    /// File holding the refresh token; every rotated token replaces it atomically before use.
    #[arg(long, env = "JIRA_OAUTH_TOKEN_FILE", value_name = "FILE")]
    pub oauth_token_file: Option<PathBuf>,
    /// The token endpoint (default https://auth.atlassian.com/oauth/token).
    #[arg(long, env = "JIRA_OAUTH_TOKEN_URL", value_name = "URL")]
    pub oauth_token_url: Option<String>,
    /// The API gateway (default https://api.atlassian.com): sites are reached at
    /// {URL}/ex/jira/{cloudId}.
    #[arg(long, env = "JIRA_OAUTH_API_URL", value_name = "URL")]
    pub oauth_api_url: Option<String>,
    /// The site's cloud id (default: looked up in accessible-resources, by --url if several).
    #[arg(long, env = "JIRA_CLOUD_ID", value_name = "ID")]
    pub cloud_id: Option<String>,
}

impl OAuthArgs {
    /// True when any credential of the OAuth grant was given: the user means OAuth.
    pub fn any_credential(&self) -> bool {
        [
            &self.oauth_client_id,
            &self.oauth_client_secret,
            &self.oauth_refresh_token,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
            || self.oauth_token_file.is_some()
    }
}

#[derive(Debug, Args)]
pub struct OctopusCredentials {
    /// Octopus server URL, e.g. https://example.octopus.app.
    #[arg(long, env = "OCTOPUS_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Octopus API key.
    #[arg(
        long,
        env = "OCTOPUS_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write NDJSON here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Transport settings shared by every command that talks to an API.
#[derive(Debug, Clone, Args)]
pub struct Tuning {
    /// Retries after the first attempt of a request.
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Requests in flight at once (default 10).
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<usize>,
    /// Client-side limit in requests per second.
    #[arg(long, value_name = "REQS_PER_SEC")]
    pub rate_limit: Option<f64>,
    /// Timeout of one request attempt, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Scale: Jira issues and Octopus deployments (other kinds scale with it).
    #[arg(long, default_value_t = 200)]
    pub items: usize,
    /// Requests per second before answering 429.
    #[arg(long, value_name = "R")]
    pub rate_limit: Option<f64>,
    /// Fraction of requests answered 503.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, value_name = "L", default_value_t = 0)]
    pub latency_ms: u64,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Answer list pages with truncated JSON.
    #[arg(long)]
    pub malformed: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scale of the simulated data.
    #[arg(long, default_value_t = 500)]
    pub items: usize,
    /// Also export the final catalog as NDJSON here.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The catalog (a file path, sqlite:PATH or postgres://…; default: a fresh
    /// ocean-demo.db in the temporary directory).
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a fraction between 0 and 1")),
    }
}

/// The `--kind` help: the kinds as the provider's table declares them.
fn kind_help(names: &[&str]) -> String {
    format!(
        "Kinds to sync, repeatable (default: all): {}.",
        names.join(" ")
    )
}

fn parse_jira_kind(s: &str) -> Result<JiraKind, String> {
    s.parse()
        .map_err(|e: ocean_jira::ParseKindError| e.to_string())
}

fn parse_octopus_kind(s: &str) -> Result<OctopusKind, String> {
    s.parse()
        .map_err(|e: ocean_octopus::ParseKindError| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The `--kind` help of `ocean sync <provider>`.
    fn kind_help_of(provider: &str) -> String {
        let mut cli = Cli::command();
        let sync = cli.find_subcommand_mut("sync").expect("sync");
        let target = sync.find_subcommand_mut(provider).expect(provider);
        let kind = target
            .get_arguments()
            .find(|a| a.get_id() == "kinds")
            .expect("--kind");
        kind.get_help().expect("help").to_string()
    }

    #[test]
    fn the_kind_help_lists_every_kind_of_the_providers_table() {
        let jira = kind_help_of("jira");
        assert!(
            JiraKind::ALL.iter().all(|k| jira.contains(k.as_str())),
            "{jira}"
        );
        let octopus = kind_help_of("octopus");
        assert!(
            OctopusKind::ALL
                .iter()
                .all(|k| octopus.contains(k.as_str())),
            "{octopus}"
        );
    }
}
