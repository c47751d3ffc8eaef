//! The config file (`--config ocean.toml`): connection settings, tuning and per-kind selector
//! blocks. Flags and their environment variables win over it; it fills what they leave unset.
//!
//! Every string value may hold `${VAR}`, replaced by that environment variable, so secrets
//! need not be written in the file. Unknown keys, wrong types and unset variables are errors
//! naming the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use ocean_jira::{JiraKind, SyncOptions};
use serde::{Deserialize, Deserializer};

use crate::args::{
    Cli, Command, DeploymentArg, JiraCredentials, ListenTarget, OctopusCredentials, SyncTarget,
    Tuning, WebhookTarget,
};
use crate::selectors::{self, Blocks};

/// A string value with `${VAR}` replaced by the environment variable `VAR`.
#[derive(Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// The expanded value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

// Values may be secrets: never print them.
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Text([redacted])")
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        interpolate(&raw, |name| std::env::var(name).ok())
            .map(Text)
            .map_err(serde::de::Error::custom)
    }
}

/// `raw` with every `${NAME}` replaced by `lookup(NAME)`.
fn interpolate(raw: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` without a closing `}`".into());
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`${{{name}}}` is not an environment variable reference"
            ));
        }
        match lookup(name) {
            Some(value) => out.push_str(&value),
            None => return Err(format!("the environment variable `{name}` is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    jira: JiraSection,
    #[serde(default)]
    octopus: OctopusSection,
    #[serde(default)]
    tuning: TuningSection,
    #[serde(default)]
    webhooks: WebhooksSection,
    #[serde(default)]
    listen: ListenSection,
    /// `[serve]`, read by `ocean serve` (see `serve_config`); accepted here so one file
    /// configures every command.
    #[serde(default, rename = "serve")]
    _serve: serde::de::IgnoredAny,
}

/// `[jira]`: the connection, the sync flags, and the selector blocks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JiraSection {
    url: Option<Text>,
    email: Option<Text>,
    token: Option<Text>,
    pat: Option<Text>,
    deployment: Option<DeploymentArg>,
    org_id: Option<Text>,
    jql: Option<Text>,
    kinds: Option<Vec<String>>,
    output: Option<PathBuf>,
    #[serde(default)]
    oauth: OAuthSection,
    // The selector blocks, `[[jira.<kind>]]` (serde cannot deny unknown keys through a
    // flattened struct, so they are listed here and moved into a `Blocks`).
    #[serde(default)]
    project: Vec<selectors::ProjectBlock>,
    #[serde(default)]
    issue: Vec<selectors::IssueBlock>,
    #[serde(default)]
    user: Vec<selectors::PlainBlock>,
    #[serde(default)]
    board: Vec<selectors::BoardBlock>,
    #[serde(default)]
    sprint: Vec<selectors::SprintBlock>,
    #[serde(default)]
    epic: Vec<selectors::EpicBlock>,
    #[serde(default)]
    release: Vec<selectors::PlainBlock>,
    #[serde(default)]
    component: Vec<selectors::ComponentBlock>,
    #[serde(default)]
    worklog: Vec<selectors::WorklogBlock>,
    #[serde(default)]
    team: Vec<selectors::TeamBlock>,
    #[serde(default)]
    backlog: Vec<selectors::BacklogBlock>,
}

impl JiraSection {
    fn take_blocks(&mut self) -> Blocks {
        Blocks {
            project: std::mem::take(&mut self.project),
            issue: std::mem::take(&mut self.issue),
            user: std::mem::take(&mut self.user),
            board: std::mem::take(&mut self.board),
            sprint: std::mem::take(&mut self.sprint),
            epic: std::mem::take(&mut self.epic),
            release: std::mem::take(&mut self.release),
            component: std::mem::take(&mut self.component),
            worklog: std::mem::take(&mut self.worklog),
            team: std::mem::take(&mut self.team),
            backlog: std::mem::take(&mut self.backlog),
        }
    }
}

/// `[jira.oauth]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuthSection {
    client_id: Option<Text>,
    client_secret: Option<Text>,
    refresh_token: Option<Text>,
    token_file: Option<PathBuf>,
    token_url: Option<Text>,
    api_url: Option<Text>,
    cloud_id: Option<Text>,
}

/// `[octopus]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OctopusSection {
    url: Option<Text>,
    api_key: Option<Text>,
    kinds: Option<Vec<String>>,
    max_items: Option<u64>,
    output: Option<PathBuf>,
}

/// `[tuning]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuningSection {
    max_retries: Option<u32>,
    max_concurrency: Option<usize>,
    rate_limit: Option<f64>,
    timeout: Option<f64>,
}

/// `[webhooks]` (`--app-host` stays a flag: it is required on the command line).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksSection {
    secret: Option<Text>,
}

/// `[listen]` (`--bind` stays a flag: it is required on the command line).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListenSection {
    secret: Option<Text>,
}

/// A config file that cannot be used: where, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not what the config expects.
    #[error("{}:{line}: `{key}`: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (1-based) of the offending key or value.
        line: usize,
        /// The key, as written on that line (or the table header).
        key: String,
        /// What is wrong (the TOML parser's words, without its source excerpt).
        message: String,
    },
}

/// Parses `text` (the content of `path`).
fn parse(path: &Path, text: &str) -> Result<File, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text[..at].matches('\n').count() + 1;
        let line_text = text.lines().nth(line - 1).unwrap_or_default().trim();
        let key = match line_text.split_once('=') {
            Some((key, _)) => key.trim().to_owned(),
            None => line_text.to_owned(),
        };
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            key,
            message: e.message().trim().to_owned(),
        }
    })
}

/// Fills what the flags left unset from the config file named by `--config` (or
/// `OCEAN_CONFIG`), if any.
pub fn apply(cli: &mut Cli) -> Result<(), ConfigError> {
    let Some(path) = cli.config.clone() else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let file = parse(&path, &text)?;
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: path.clone(),
        line: line_of(&text, key),
        key: key.to_owned(),
        message,
    };
    let File {
        mut jira,
        octopus,
        tuning,
        webhooks,
        listen,
        _serve: _,
    } = file;
    match &mut cli.command {
        Command::Sync(SyncTarget::Jira {
            credentials,
            kinds,
            jql,
            issue_strategy,
            org_id,
            selectors,
            output,
            tuning: t,
            ..
        }) => {
            fill_tuning(t, &tuning);
            fill_jira(credentials, &jira);
            let jql_flag = jql.is_some();
            let org_flag = org_id.is_some();
            fill(jql, &jira.jql);
            fill(org_id, &jira.org_id);
            if output.file.is_none() {
                output.file = jira.output.clone();
            }
            if kinds.is_empty() {
                for name in jira.kinds.iter().flatten() {
                    kinds.push(name.parse().map_err(|e: ocean_jira::ParseKindError| {
                        invalid("kinds", e.to_string())
                    })?);
                }
            }
            // The flags every selector block starts from (a block has no strategy of its own).
            let base = SyncOptions {
                jql: jql.clone(),
                org_id: org_id.clone(),
                issue_strategy: *issue_strategy,
                ..SyncOptions::default()
            };
            *selectors = plan(jira.take_blocks(), &base, jql_flag, org_flag, kinds);
        }
        Command::Sync(SyncTarget::Octopus {
            credentials,
            kinds,
            max_items,
            output,
            tuning: t,
            ..
        }) => {
            fill_tuning(t, &tuning);
            fill_octopus(credentials, &octopus);
            *max_items = max_items.or(octopus.max_items);
            if output.file.is_none() {
                output.file = octopus.output.clone();
            }
            if kinds.is_empty() {
                for name in octopus.kinds.iter().flatten() {
                    kinds.push(name.parse().map_err(|e: ocean_octopus::ParseKindError| {
                        invalid("kinds", e.to_string())
                    })?);
                }
            }
        }
        Command::Webhooks(WebhookTarget::Jira {
            app,
            credentials,
            tuning: t,
        }) => {
            fill_tuning(t, &tuning);
            fill_jira(credentials, &jira);
            fill(&mut app.secret, &webhooks.secret);
        }
        Command::Webhooks(WebhookTarget::Octopus {
            app,
            credentials,
            tuning: t,
        }) => {
            fill_tuning(t, &tuning);
            fill_octopus(credentials, &octopus);
            fill(&mut app.secret, &webhooks.secret);
        }
        Command::Listen(ListenTarget::Jira {
            server,
            credentials,
            jql,
            tuning: t,
        }) => {
            fill_tuning(t, &tuning);
            fill_jira(credentials, &jira);
            fill(jql, &jira.jql);
            fill(&mut server.secret, &listen.secret);
        }
        Command::Listen(ListenTarget::Octopus {
            server,
            credentials,
            tuning: t,
        }) => {
            fill_tuning(t, &tuning);
            fill_octopus(credentials, &octopus);
            fill(&mut server.secret, &listen.secret);
        }
        Command::Sim(_) | Command::Demo(_) | Command::Catalog(_) | Command::Serve(_) => {}
    }
    Ok(())
}

/// The selector blocks as jobs, restricted to the `--kind`s given (a listed kind without a
/// block gets one job with the flags' options). Empty when the file has no blocks.
fn plan(
    blocks: Blocks,
    base: &SyncOptions,
    jql_flag: bool,
    org_flag: bool,
    kinds: &[JiraKind],
) -> Vec<(JiraKind, SyncOptions)> {
    let planned = blocks.plan(base, jql_flag, org_flag);
    if planned.is_empty() || kinds.is_empty() {
        return planned;
    }
    let mut chosen: Vec<_> = planned
        .into_iter()
        .filter(|(kind, _)| kinds.contains(kind))
        .collect();
    for kind in kinds {
        if !chosen.iter().any(|(k, _)| k == kind) {
            chosen.push((*kind, base.clone()));
        }
    }
    chosen
}

/// The first line that sets `key`, for errors found after parsing.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        })
        .map_or(1, |i| i + 1)
}

fn fill(flag: &mut Option<String>, file: &Option<Text>) {
    if flag.is_none() {
        *flag = file.clone().map(Text::into_inner);
    }
}

fn fill_jira(c: &mut JiraCredentials, s: &JiraSection) {
    fill(&mut c.url, &s.url);
    fill(&mut c.email, &s.email);
    fill(&mut c.token, &s.token);
    fill(&mut c.pat, &s.pat);
    c.deployment = c.deployment.or(s.deployment);
    let (o, f) = (&mut c.oauth, &s.oauth);
    fill(&mut o.oauth_client_id, &f.client_id);
    fill(&mut o.oauth_client_secret, &f.client_secret);
    fill(&mut o.oauth_refresh_token, &f.refresh_token);
    if o.oauth_token_file.is_none() {
        o.oauth_token_file = f.token_file.clone();
    }
    fill(&mut o.oauth_token_url, &f.token_url);
    fill(&mut o.oauth_api_url, &f.api_url);
    fill(&mut o.cloud_id, &f.cloud_id);
}

fn fill_octopus(c: &mut OctopusCredentials, s: &OctopusSection) {
    fill(&mut c.url, &s.url);
    fill(&mut c.api_key, &s.api_key);
}

fn fill_tuning(t: &mut Tuning, s: &TuningSection) {
    t.max_retries = t.max_retries.or(s.max_retries);
    t.max_concurrency = t.max_concurrency.or(s.max_concurrency);
    t.rate_limit = t.rate_limit.or(s.rate_limit);
    t.timeout = t.timeout.or(s.timeout);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        parse(Path::new("ocean.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn variables_are_replaced_and_unset_ones_named() {
        let env = |n: &str| (n == "TOKEN").then(|| "s3cret".to_owned());
        assert_eq!(interpolate("a ${TOKEN} b", env).unwrap(), "a s3cret b");
        assert_eq!(interpolate("plain", env).unwrap(), "plain");
        assert!(interpolate("${NOPE}", env).unwrap_err().contains("`NOPE`"));
        assert!(interpolate("${OPEN", env).is_err());
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_file_line_and_key() {
        let err = parse_err("[jira]\nurl = \"https://x\"\ntokn = \"t\"\n");
        assert!(err.starts_with("ocean.toml:3: `tokn`:"), "{err}");
        assert!(err.contains("unknown field"), "{err}");

        let err = parse_err("[tuning]\n\nmax_retries = \"three\"\n");
        assert!(err.starts_with("ocean.toml:3: `max_retries`:"), "{err}");

        let err = parse_err("[[jira.sprint]]\nstate = \"active\"\ncolour = 1\n");
        assert!(err.starts_with("ocean.toml:3: `colour`:"), "{err}");
    }

    #[test]
    fn the_readme_example_is_a_valid_config() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n").expect("a TOML example") + 8;
        let len = readme[start..].find("```").expect("closed");
        // Keys and types only: `${VAR}` would need the variables set.
        let example = readme[start..start + len].replace("${", "$");
        let mut file = parse(Path::new("README.md"), &example).unwrap();
        assert!(file.jira.oauth.client_id.is_some());
        assert_eq!(file.jira.take_blocks().issue.len(), 2);
    }

    #[test]
    fn selector_blocks_keep_the_issue_strategy_flag() {
        use clap::Parser as _;
        let path = std::env::temp_dir().join(format!("ocean-config-{}.toml", std::process::id()));
        std::fs::write(&path, "[[jira.issue]]\nmax_issues = 5\n").unwrap();
        let mut cli = Cli::try_parse_from([
            "ocean".as_ref(),
            "--config".as_ref(),
            path.as_os_str(),
            "sync".as_ref(),
            "jira".as_ref(),
            "--issue-strategy".as_ref(),
            "cursor".as_ref(),
        ])
        .unwrap();
        let applied = apply(&mut cli);
        let _ = std::fs::remove_file(&path);
        applied.unwrap();
        let Command::Sync(SyncTarget::Jira { selectors, .. }) = &cli.command else {
            panic!("a Jira sync");
        };
        let [(kind, options)] = selectors.as_slice() else {
            panic!("one block: {selectors:?}");
        };
        assert_eq!(*kind, JiraKind::Issue);
        assert_eq!(options.max_issues, Some(5));
        assert_eq!(options.issue_strategy, ocean_jira::IssueStrategy::Cursor);
    }

    #[test]
    fn secrets_in_values_never_print() {
        let file = parse(Path::new("x"), "[jira]\ntoken = \"hunter22\"\n").unwrap();
        assert!(!format!("{file:?}").contains("hunter22"));
    }
}
