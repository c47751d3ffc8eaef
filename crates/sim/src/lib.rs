//! A fast, deterministic, behavioural fake of the Jira Cloud REST API and the Octopus Deploy
//! REST API, served with axum on `127.0.0.1`.
//!
//! It exists so the Ocean clients can be demonstrated, tested item-for-item and benchmarked
//! without a real tenant: the data is a pure function of a seed and a scale, every item is
//! rendered to JSON once at start, and a page is the envelope written around the concatenated
//! item bytes. Pagination, errors, auth, rate limiting and webhooks follow the real products'
//! rules (`shared/reference/APIS.md`); the payloads follow `shared/specs/examples/`.
//!
//! # Starting it
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ocean_sim::{Mutation, SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig { items: 100, ..Default::default() }).await?;
//! let jira = sim.jira_url(); // http://127.0.0.1:PORT/jira
//! let octopus = sim.octopus_url(); // http://127.0.0.1:PORT/octopus
//!
//! // What a client should end up with after a full sync:
//! let issues = sim.dataset().jira("issue");
//! let deployments = sim.dataset().octopus("deployment");
//! assert_eq!((issues.len(), deployments.len()), (100, 100));
//!
//! // Change something and send the webhook events to every registered receiver.
//! let outcome = sim
//!     .mutate(Mutation::JiraIssueUpdate {
//!         issue: "PROJ1-1".into(),
//!         summary: Some("Renamed".into()),
//!         status: None,
//!         labels: None,
//!         assignee: None,
//!     })
//!     .await?;
//! assert_eq!(outcome.events, ["jira:issue_updated"]);
//! # let _ = (jira, octopus);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! Run `cargo run -p ocean-sim --example serve -- 1000` for a standalone server.
//!
//! # Data (`N` = [`SimConfig::items`])
//!
//! | Product | Kind | Count | Ids |
//! |---|---|---|---|
//! | Jira | project | `clamp(N/50, 2, 200)` | `"10000"`…, keys `PROJ1`… |
//! | Jira | issue | `N`, round-robin over projects | `"10000"`…, keys `PROJ1-1`… |
//! | Jira | user | `clamp(N/10, 5, 2000)`; the first is `demo@example.com` | 24-hex accountIds |
//! | Jira | board | one scrum board per project, plus one kanban board on `PROJ1` | `1`… |
//! | Jira | sprint | 3 per scrum board (closed, active, future); none on kanban | `1`… |
//! | Jira | epic | 2 per board | issue-like ids and keys, not in search results |
//! | Jira | release (version) | 3 per project | `"10000"`… |
//! | Jira | component | 2 per project | `"10000"`… |
//! | Jira | worklog | `i % 3` for the i-th issue | `"10000"`… |
//! | Octopus | space | 2: `Spaces-1` (Default, default space), `Spaces-2` | |
//! | Octopus | environment | 3 per space | `Environments-1`… |
//! | Octopus | machine | 2 per environment | `Machines-1`… |
//! | Octopus | project | `clamp(N/50, 2, 100)` per space, listed by name | `Projects-1`… |
//! | Octopus | release | `N/4` in total, half per space (at least 1 where deployments exist), newest first | `Releases-1`… |
//! | Octopus | deployment | `N` in total, half per space, newest first | `Deployments-1`… |
//!
//! Octopus ids are unique across spaces. Issues are about 4–5 KB each with every field `*all`
//! returns in the example payloads (ADF description, embedded users, project, status with
//! category, worklogs...). Generated issues were created over the year before
//! 2025-01-01T00:00Z and updated up to 30 days later; changes are stamped with the wall clock
//! (see [`Mutation`]). Generating 100k items takes about 1 s (both products in parallel) and
//! ~0.9 GB; a million ~9 GB. With [`SimConfig::lazy`] generated issues and worklogs are
//! rendered when served (same bytes): 100k items ~0.33 GB, a million ~3.2 GB (mostly the
//! Octopus deployments), at some CPU per issue served.
//!
//! # Routes
//!
//! Jira under `/jira`, and under `/ex/jira/{CLOUD_ID}` as through Atlassian's OAuth gateway
//! (auth: Basic `JIRA_EMAIL:JIRA_TOKEN`, `Bearer JIRA_TOKEN`, or `Bearer` a live OAuth access
//! token; else 401 with an ErrorCollection). OAuth 2.0: `POST /oauth/token` (refresh-token
//! grant; every grant rotates the refresh token and a reused one gets `400 invalid_grant`;
//! access tokens expire after [`OAuthServer::set_access_token_lifetime`]) and
//! `GET /oauth/token/accessible-resources`.
//!
//! | Route | Paging |
//! |---|---|
//! | `GET /rest/api/3/project/search` | PageBean, `startAt`/`maxResults` 50, max 100, `nextPage` |
//! | `GET /rest/api/3/project/{idOrKey}` | item |
//! | `GET /rest/api/3/project/{idOrKey}/version`, `/component` | PageBean, 50, max 100 |
//! | `GET\|POST /rest/api/3/search/jql` | `nextPageToken` cursor, 50, max 100 (5000 with `fields` of `id`/`key` only), never `total` |
//! | `POST /rest/api/3/search/approximate-count` | `{count}` (exact) |
//! | `POST /rest/api/3/issue/bulkfetch` | `{issues, issueErrors}`, 1 to 100 `issueIdsOrKeys`, ascending id |
//! | `GET\|POST /rest/api/3/search`, `/rest/api/2/search` | 410 Gone |
//! | `GET /rest/api/3/issue/{idOrKey}` | item |
//! | `GET /rest/api/3/issue/{idOrKey}/worklog` | `{startAt,maxResults,total,worklogs}`, 5000 |
//! | `GET /rest/api/3/issue/{idOrKey}/worklog/{id}` | item |
//! | `GET /rest/api/3/worklog/updated?since=`, `/worklog/deleted?since=` | `{values, since, until, self, nextPage, lastPage}`, 1000, oldest first |
//! | `POST /rest/api/3/worklog/list` `{"ids": [...]}` | bare array, 1 to 1000 ids |
//! | `GET /rest/api/3/users/search`, `/users` | bare array, 50, max 1000, no end marker |
//! | `GET /rest/api/3/user?accountId=`, `/myself`, `/version/{id}`, `/component/{id}` | item |
//! | `GET /rest/api/3/mypermissions?permissions=` | `havePermission` per key |
//! | `GET /rest/agile/1.0/board` | `{maxResults,startAt,total,isLast,values}`, 50, max 50 |
//! | `GET /rest/agile/1.0/board/{id}/sprint` | `state` csv filter; 400 on the kanban board |
//! | `GET /rest/agile/1.0/board/{id}/epic` | `done` filter |
//! | `GET /rest/agile/1.0/board/{id}/project` | agile page of the board's project |
//! | `GET /rest/agile/1.0/board/{id}`, `/sprint/{id}`, `/epic/{idOrKey}` | item |
//! | `GET\|POST /rest/webhooks/1.0/webhook`, `GET\|PUT\|DELETE …/{id}` | admin webhooks, bare array |
//! | `GET\|POST\|DELETE /rest/api/3/webhook`, `PUT …/refresh` | dynamic webhooks (Bearer only) |
//! | `GET /rest/api/{2,3}/serverInfo` | `deploymentType: "Cloud"` |
//! | `GET /rest/software/1.0/board/{id}/backlog` | the board project's issues matching `jql`, `nextPageToken`; 400 on the kanban board |
//! | `GET /gateway/api/public/teams/v1/org/{ORG_ID}/teams` | `{entities, cursor}`, `size` 50 |
//! | `POST …/teams/{teamId}/members` | `{results, pageInfo{endCursor,hasNextPage}}`, `first` 50 |
//!
//! Jira Data Center under `/jira-dc` (same data and auth; see [`Simulator::jira_dc_url`]):
//! `GET /rest/api/2/serverInfo` (`deploymentType: "Server"`), `/rest/api/2/project` (bare
//! array), `/rest/api/2/project/{key}`, `…/version` (PageBean), `…/components` (bare array),
//! `GET|POST /rest/api/2/search` (offset: `startAt`/`maxResults`/`total`), `/rest/api/2/issue/{key}`,
//! `…/worklog`, `/rest/api/2/worklog/updated`, `…/deleted` and `POST …/list` (as Cloud's),
//! `/rest/api/2/user/search?username=.` (users with `key`/`name`, no
//! `accountId`), `/rest/agile/1.0/board/{id}/backlog` (offset), the agile API and admin
//! webhooks.
//!
//! Octopus under `/octopus` (auth: `X-Octopus-ApiKey: OCTOPUS_API_KEY` or `?apikey=`, else
//! 401; the key is never echoed):
//!
//! | Route | Paging |
//! |---|---|
//! | `GET /api` | root document |
//! | `GET /api/spaces`, `/api/spaces/{id}`, `/api/spaces/all` | collection / item / bare array |
//! | `GET /api/{spaceId}/{plural}` | collection, `skip`/`take` 30, no cap on take |
//! | `GET /api/{spaceId}/{plural}/{id}`, `/api/{spaceId}/{plural}/all` | item / bare array |
//! | `GET /api/{plural}`, `/api/{plural}/{id}` | the same in the default space |
//! | `POST /api/{spaceId}/subscriptions`, `POST /api/subscriptions` | 201 SubscriptionResource |
//! | `PUT\|DELETE /api/{spaceId}/subscriptions/{id}` | update / delete |
//!
//! `{plural}` is one of `projects environments machines releases deployments subscriptions`.
//! Collections filter by `ids`, `partialName`, `name`, `projects` and `environments`.
//!
//! Control routes under `/_sim` (no auth, no faults): `POST /_sim/mutate` (a [`Mutation`] as
//! JSON, answered with its [`MutationOutcome`]; 404 `{"error"}` for an unknown entity, 400 for
//! an invalid one), `GET /_sim/stats`, `POST /_sim/stats/reset`, `GET|POST /_sim/faults`
//! (`{"rate_limit":50,"fail_rate":0.1,"latency_ms":5,"full_issue_latency_ms":300,
//! "id_page_latency_ms":50,"worklog_feed_delay_ms":0,"malformed":false,"jira_admin":true,
//! "fractional_retry_after":false}`; POST sets the keys present and answers all),
//! `GET /_sim/health`.
//!
//! # Faults
//!
//! See [`Faults`]: a token-bucket rate limit (429 with `Retry-After`, `X-RateLimit-*` and
//! `RateLimit-Reason` for Jira, `Octopus-RateLimit*` for Octopus), a reproducible 503 rate,
//! latency, malformed list pages, and a non-admin Jira caller. Latency is a base delay per
//! request plus, for Jira issues, a delay per 100 full issues (`search/jql` pages with fields,
//! `bulkfetch`) or per id-only page; all are async sleeps, so concurrent requests overlap as
//! on Jira Cloud.
//!
//! # Behaviour notes
//!
//! - `search/jql`: no `fields` → `{"id"}` only (Jira's default); `["key"]`/`["id"]` → the issue
//!   envelope with empty `fields`; `*all`/`*navigable` → the pre-rendered issue (minus `-field`
//!   exclusions); any other list → those fields. `maxResults` below 1 means 1; above the cap
//!   (100, or 5000 for the two id-only forms) means the cap. Tokens are
//!   `base64url("offset:fingerprint:anchor:sim")`, bound to the JQL text; others answer 400.
//!   The anchor is the instant relative dates (`-15m`) were resolved at on the first page, so a
//!   walk sees one query; the selection is evaluated once per walk and data version. `expand`,
//!   `properties` and `reconcileIssues` are accepted and ignored (search is always consistent).
//! - JQL is validated (non-empty, a restriction before `ORDER BY`, balanced, at most 7 order
//!   fields, valid dates; else 400 with an ErrorCollection) and evaluated for `project`,
//!   `key`/`issuekey`, `id` (`=`, `!=`, `in`, `not in`) and `updated`/`created` (`=`, `!=`,
//!   `>`, `>=`, `<`, `<=` against `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd HH:mm"`, `yyyy/MM/dd`,
//!   `yyyy-MM-dd` read as UTC, periods `-15m`, `-2h`, `-1d`, `-1w`, `"-1w 2d"`, or `now()`),
//!   combined with `AND`/`OR`/`NOT`/parentheses. Other clauses cannot be told and match.
//!   `ORDER BY` sorts by `updated`, `created`, `key` (project, then number) and `id`, `ASC`
//!   by default; other sort fields are ignored. See [`Dataset`].
//! - Worklog feeds: `since` is inclusive, `until` is the last entry's time, and `nextPage`
//!   (`since=until`) is sent on every page as in Jira's example: walk until `lastPage`; the
//!   boundary entry repeats. Deleting an issue deletes its worklogs into `/worklog/deleted`.
//!   [`SimConfig::worklog_feed_delay`] hides the freshest changes like Jira's last minute.
//! - Accepted but ignored: `orderBy` (project search), `startedAfter`/`startedBefore` (worklogs),
//!   `expand` everywhere. Items are always rendered in full.
//! - Dynamic webhooks need a Bearer caller (an OAuth app); Basic callers get 403, like Jira.
//!   Their `expirationDate` is epoch milliseconds (the schema's int64). Admin webhooks never
//!   echo their `secret`.
//! - Deliveries go to each receiver one at a time, in order; different receivers in parallel.
//!   Nothing is retried; see [`MutationOutcome::deliveries`].
//! - Generated data is a pure function of the seed and `items`, except the URLs inside items,
//!   which carry the port: fix [`SimConfig::port`] for byte-identical runs.
//!
//! # Webhooks
//!
//! A [`Mutation`] POSTs the product's event to every receiver registered through the API:
//! Jira admin webhooks subscribed to the event (signed with `X-Hub-Signature:
//! sha256=<hex HMAC-SHA256(secret, body)>` when registered with a `secret`), Jira dynamic
//! webhooks, and Octopus subscriptions of the space (with their `WebhookHeaderKey:
//! WebhookHeaderValue` header). JQL filters and subscription filters are applied.
#![warn(missing_docs)]

mod config;
mod data;
mod dataset;
mod events;
mod faults;
mod feed;
mod jql;
mod json;
mod mutation;
mod oauth;
mod query;
mod render;
mod rng;
mod routes;
mod server;
mod state;
mod stats;
mod store;
mod time;
mod webhooks;

pub use config::SimConfig;
pub use dataset::Dataset;
pub use faults::Faults;
pub use mutation::{Mutation, MutationError, MutationOutcome};
pub use oauth::{CLOUD_ID, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN, OAuthServer};
pub use routes::teams::ORG_ID;
pub use server::Simulator;
pub use stats::Stats;
pub use webhooks::Delivery;

/// The Jira user's email, for Basic auth (`email:token`).
pub const JIRA_EMAIL: &str = "demo@example.com";

/// The Jira API token (Basic auth password, or a Bearer token for the OAuth-app routes).
pub const JIRA_TOKEN: &str = "sim-jira-token";

/// The Octopus API key, sent as `X-Octopus-ApiKey`.
pub const OCTOPUS_API_KEY: &str = "API-SIMULATOR0000000000000000";
