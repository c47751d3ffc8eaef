//! A fake Octopus collection on httpmock: real envelopes, real `Links`, exact
//! query matching, so a test sees every request the client makes.
#![allow(dead_code)]

use httpmock::Method::GET;
use httpmock::{Mock, MockServer};
use ocean_core::RetryPolicy;
use ocean_octopus::OctopusClient;

/// The API key every test client sends.
pub const KEY: &str = "API-TESTKEY0123456789";

/// A client for the mock server with a small page size and no retries.
pub fn client(server: &MockServer, page_size: u32) -> OctopusClient {
    OctopusClient::builder(&server.base_url())
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .page_size(page_size)
        .build()
        .unwrap()
}

/// The body of one page of an Octopus collection, items pasted in verbatim.
pub fn page_body(path: &str, items: &[String], skip: usize, take: usize) -> String {
    let total = items.len();
    let end = (skip + take).min(total);
    let pages = total.div_ceil(take);
    let mut links = vec![
        format!(r#""Self":"/api{path}?skip={skip}&take={take}""#),
        format!(r#""Page.All":"/api{path}?skip=0&take=2147483647""#),
        format!(r#""Page.Current":"/api{path}?skip={skip}&take={take}""#),
    ];
    if end < total {
        links.push(format!(
            r#""Page.Next":"/api{path}?skip={end}&take={take}""#
        ));
    }
    format!(
        r#"{{"ItemType":"Item","TotalResults":{total},"ItemsPerPage":{take},"NumberOfPages":{pages},"LastPageNumber":{last},"Items":[{items}],"Links":{{{links}}}}}"#,
        last = pages.saturating_sub(1),
        items = items[skip.min(total)..end].join(","),
        links = links.join(","),
    )
}

/// Mocks every page of the collection at `/api{path}`, `take` items a page,
/// each requiring the API key. Returns the mocks, page by page.
///
/// When the last page is short, a last mock answers a request past the end
/// (whatever its `take`) like Octopus does, with an empty page and the real
/// total, so a test can assert it is never sent.
pub async fn collection<'a>(
    server: &'a MockServer,
    path: &str,
    items: &[String],
    take: usize,
) -> Vec<Mock<'a>> {
    let mut mocks = Vec::new();
    let mut skip = 0;
    loop {
        let body = page_body(path, items, skip, take);
        let full_path = format!("/api{path}");
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path(full_path)
                        .query_param("skip", skip.to_string())
                        .query_param("take", take.to_string())
                        .header("X-Octopus-ApiKey", KEY);
                    then.status(200)
                        .header("content-type", "application/json; charset=utf-8")
                        .body(body);
                })
                .await,
        );
        skip += take;
        if skip >= items.len() {
            if items.len() % take != 0 {
                let past_end = page_body(path, items, items.len(), take);
                let full_path = format!("/api{path}");
                let past = server
                    .mock_async(|when, then| {
                        when.method(GET)
                            .path(full_path)
                            .query_param("skip", items.len().to_string())
                            .header("X-Octopus-ApiKey", KEY);
                        then.status(200)
                            .header("content-type", "application/json; charset=utf-8")
                            .body(past_end);
                    })
                    .await;
                mocks.push(past);
            }
            return mocks;
        }
    }
}

/// Hits per mock.
pub async fn hits(mocks: &[Mock<'_>]) -> Vec<usize> {
    let mut out = Vec::new();
    for mock in mocks {
        out.push(mock.calls_async().await);
    }
    out
}

/// A space document with unusual spacing, to prove bytes pass through untouched.
pub fn space(id: &str) -> String {
    format!(r#"{{"Id": "{id}", "Name":"Space {id}",  "Slug":"s", "IsDefault":false}}"#)
}
