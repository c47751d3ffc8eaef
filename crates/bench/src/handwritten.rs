//! The baselines: hand-written loops with no abstractions. One reqwest client with
//! keep-alive, one request at a time, the same pages the library asks for (same page size,
//! same JQL and fields), and either each item's bytes copied straight to NDJSON
//! (`Box<RawValue>`) or each item decoded into the library's own typed structs.

use std::io::{self, BufWriter, Write};

use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY};
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{Failure, PAGE_SIZE};

/// `POST /rest/api/3/search/jql` pages.
#[derive(Deserialize)]
struct JqlPage<T> {
    issues: Vec<T>,
    #[serde(rename = "nextPageToken")]
    next: Option<String>,
    #[serde(rename = "isLast")]
    is_last: Option<bool>,
}

/// Octopus `*ResourceCollection` pages.
#[derive(Deserialize)]
struct Collection<T> {
    #[serde(rename = "Items")]
    items: Vec<T>,
    #[serde(rename = "Links", default)]
    links: Links,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(rename = "Page.Next")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct SpaceId {
    #[serde(rename = "Id")]
    id: String,
}

fn http() -> Result<reqwest::Client, Failure> {
    Ok(reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(10)
        .build()?)
}

/// Every Jira issue of `jql`, page by page, each handed to `each`.
async fn jira_pages<T: DeserializeOwned>(
    url: &str,
    jql: &str,
    mut each: impl FnMut(T) -> io::Result<()>,
) -> Result<u64, Failure> {
    let client = http()?;
    let endpoint = format!("{url}/rest/api/3/search/jql");
    let mut token: Option<String> = None;
    let mut items = 0u64;
    loop {
        let mut body = serde_json::json!({
            "jql": jql,
            "fields": ["*all"],
            "maxResults": PAGE_SIZE,
        });
        if let Some(token) = &token {
            body["nextPageToken"] = token.as_str().into();
        }
        let response = client
            .post(&endpoint)
            .basic_auth(JIRA_EMAIL, Some(JIRA_TOKEN))
            .header(CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body)?)
            .send()
            .await?
            .error_for_status()?;
        let bytes = response.bytes().await?;
        let page: JqlPage<T> = serde_json::from_slice(&bytes)?;
        for item in page.issues {
            each(item)?;
            items += 1;
        }
        match page.next {
            Some(next) if page.is_last != Some(true) => token = Some(next),
            _ => return Ok(items),
        }
    }
}

async fn octopus_get<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<Collection<T>, Failure> {
    let response = client
        .get(url)
        .header("X-Octopus-ApiKey", OCTOPUS_API_KEY)
        .send()
        .await?
        .error_for_status()?;
    let bytes = response.bytes().await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Every deployment of every space, space after space, page by page, each handed to
/// `each` with its space id.
async fn octopus_pages<T: DeserializeOwned>(
    url: &str,
    mut each: impl FnMut(&str, T) -> io::Result<()>,
) -> Result<u64, Failure> {
    let client = http()?;
    let mut spaces = Vec::new();
    let mut skip = 0;
    loop {
        let page: Collection<SpaceId> = octopus_get(
            &client,
            &format!("{url}/api/spaces?skip={skip}&take={PAGE_SIZE}"),
        )
        .await?;
        let n = page.items.len();
        spaces.extend(page.items.into_iter().map(|s| s.id));
        if page.links.next.is_none() || n == 0 {
            break;
        }
        skip += n;
    }
    let mut items = 0u64;
    for space in spaces {
        let mut skip = 0;
        loop {
            let page: Collection<T> = octopus_get(
                &client,
                &format!("{url}/api/{space}/deployments?skip={skip}&take={PAGE_SIZE}"),
            )
            .await?;
            let n = page.items.len();
            for item in page.items {
                each(&space, item)?;
                items += 1;
            }
            if page.links.next.is_none() || n == 0 {
                break;
            }
            skip += n;
        }
    }
    Ok(items)
}

/// The pass-through loop: every Jira issue of the default JQL as an NDJSON line on stdout,
/// `{"kind":"issue","item":…}`, the item's bytes copied untouched.
pub async fn jira_passthrough(url: &str) -> Result<u64, Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let items = jira_pages::<Box<RawValue>>(url, ocean_jira::DEFAULT_JQL, |item| {
        out.write_all(b"{\"kind\":\"issue\",\"item\":")?;
        out.write_all(item.get().as_bytes())?;
        out.write_all(b"}\n")
    })
    .await?;
    out.flush()?;
    Ok(items)
}

/// The pass-through loop for every Octopus deployment of every space:
/// `{"kind":"deployment","space_id":…,"item":…}` lines on stdout.
pub async fn octopus_passthrough(url: &str) -> Result<u64, Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut prefix = (String::new(), Vec::new());
    let items = octopus_pages::<Box<RawValue>>(url, |space, item| {
        if prefix.0 != space {
            prefix.0 = space.to_owned();
            prefix.1 = format!(
                "{{\"kind\":\"deployment\",\"space_id\":{},\"item\":",
                serde_json::to_string(space)?
            )
            .into_bytes();
        }
        out.write_all(&prefix.1)?;
        out.write_all(item.get().as_bytes())?;
        out.write_all(b"}\n")
    })
    .await?;
    out.flush()?;
    Ok(items)
}

/// The typed loop: every Jira issue decoded into [`ocean_jira::models::Issue`].
pub async fn jira_typed(url: &str) -> Result<u64, Failure> {
    jira_pages::<ocean_jira::models::Issue>(url, ocean_jira::DEFAULT_JQL, |issue| {
        std::hint::black_box(&issue);
        Ok(())
    })
    .await
}

/// The typed loop: every Octopus deployment decoded into [`ocean_octopus::Deployment`].
pub async fn octopus_typed(url: &str) -> Result<u64, Failure> {
    octopus_pages::<ocean_octopus::Deployment>(url, |space, deployment| {
        std::hint::black_box((space, &deployment));
        Ok(())
    })
    .await
}
