//! The one pagination engine behind every list stream, typed or raw.
//!
//! Each strategy's end rule lives in [`Plan::verdict`]; guards turn every way
//! a server can make a client loop or lose items into a typed error.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::RequestParts;
use crate::endpoint::placeholders;
use crate::page::{Page, decode_page};
use crate::{Client, Endpoint, Error, ListRequest, Pagination, PaginationGuard, Result};

/// Runtime query parameters and JSON body fields of a list request.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageQuery {
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: serde_json::Map<String, serde_json::Value>,
}

/// Where a page starts.
enum Position<'a> {
    Offset(u64),
    Cursor(Option<&'a str>),
}

enum Verdict {
    End,
    More,
}

/// Everything needed to fetch any page of one list, shared by concurrent fetches.
struct Plan<T> {
    client: Client,
    endpoint: Endpoint,
    path: String,
    query: PageQuery,
    max_pages: u64,
    prefetch: bool,
    item: PhantomData<fn() -> T>,
}

pub(crate) fn pages<T: DeserializeOwned + Send + 'static>(
    request: ListRequest<T>,
) -> impl Stream<Item = Result<Vec<T>>> + Send + 'static {
    async_stream::try_stream! {
        let plan = Arc::new(Plan::new(request)?);
        let mut cap = Cap::new(plan.endpoint.item_cap(), plan.endpoint.kind());
        match plan.endpoint.pagination() {
            Pagination::None => {
                let page = plan.fetch(Position::Offset(0), 0).await?;
                let (items, _) = cap.take(page.items, false);
                yield items;
            }
            Pagination::Cursor { .. } => {
                let mut seen = HashSet::new();
                let mut token: Option<String> = None;
                for number in 0.. {
                    plan.guard_pages(number)?;
                    let page = plan.fetch(Position::Cursor(token.as_deref()), plan.page_size()).await?;
                    let next = plan.next_cursor(&page, number, &mut seen)?;
                    let (items, capped) = cap.take(page.items, next.is_some());
                    yield items;
                    match next {
                        Some(next) if !capped => token = Some(next),
                        _ => break,
                    }
                }
            }
            Pagination::Offset { .. } | Pagination::SkipTake { .. } | Pagination::Array { .. } => {
                let limit = plan.page_size();
                let first = plan.fetch(Position::Offset(0), limit).await?;
                let mut pages_read = 1;
                let mut offset = 0;
                let mut page = first;
                // Once the first page reveals the total, fetch the rest concurrently, in order.
                if let Some(total) = plan.prefetchable(&page, limit) {
                    let size = page.items.len() as u64;
                    let end = cap.limit().map_or(total, |c| c.min(total));
                    let offsets: Vec<u64> = (size..end).step_by(size as usize).collect();
                    plan.guard_pages(offsets.len() as u64 + 1)?;
                    let fetches = offsets.into_iter().map(|o| {
                        let plan = Arc::clone(&plan);
                        async move { (o, plan.fetch(Position::Offset(o), size as u32).await) }
                    });
                    let mut fetched = stream::iter(fetches).buffered(plan.client.max_concurrency());
                    let mut window_end = size;
                    loop {
                        let n = page.items.len() as u64;
                        let verdict = plan.verdict(&page, offset, limit)?;
                        let (items, capped) = cap.take(page.items, matches!(verdict, Verdict::More));
                        yield items;
                        offset += n;
                        if capped || matches!(verdict, Verdict::End) {
                            break;
                        }
                        if offset < window_end {
                            // A short page inside the window: fill the gap before moving on.
                            pages_read += 1;
                            plan.guard_pages(pages_read)?;
                            page = plan.fetch(Position::Offset(offset), (window_end - offset) as u32).await?;
                            continue;
                        }
                        match fetched.next().await {
                            Some((o, result)) => {
                                debug_assert_eq!(o, offset);
                                page = result?;
                                pages_read += 1;
                                window_end = o + size;
                            }
                            None => {
                                // The total was too low: carry on one page at a time.
                                pages_read += 1;
                                plan.guard_pages(pages_read)?;
                                page = plan.fetch(Position::Offset(offset), limit).await?;
                                window_end = offset + u64::from(limit);
                            }
                        }
                    }
                } else {
                    loop {
                        let n = page.items.len() as u64;
                        let verdict = plan.verdict(&page, offset, limit)?;
                        let (items, capped) = cap.take(page.items, matches!(verdict, Verdict::More));
                        yield items;
                        if capped || matches!(verdict, Verdict::End) {
                            break;
                        }
                        offset += plan.advance(n, limit);
                        pages_read += 1;
                        plan.guard_pages(pages_read)?;
                        page = plan.fetch(Position::Offset(offset), limit).await?;
                    }
                }
            }
        }
    }
}

impl<T: DeserializeOwned> Plan<T> {
    fn new(request: ListRequest<T>) -> Result<Self> {
        if let Some(e) = request.config_error {
            return Err(Error::Config(e));
        }
        let path = render_path(request.endpoint.path(), &request.path_params)?;
        let mut query = request.query;
        let constants = request.endpoint.constant_query();
        let constants: Vec<_> = constants
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        query.query.splice(0..0, constants);
        Ok(Self {
            client: request.client,
            endpoint: request.endpoint,
            path,
            query,
            max_pages: request.max_pages,
            prefetch: request.prefetch,
            item: PhantomData,
        })
    }

    fn page_size(&self) -> u32 {
        self.endpoint.requested_page_size()
    }

    fn url(&self) -> String {
        self.client
            .url(&self.path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| self.path.clone())
    }

    fn guard_pages(&self, pages: u64) -> Result<()> {
        if pages > self.max_pages {
            return Err(self.guard(PaginationGuard::TooManyPages {
                max_pages: self.max_pages,
            }));
        }
        Ok(())
    }

    fn guard(&self, guard: PaginationGuard) -> Error {
        Error::Pagination {
            url: self.url(),
            guard,
        }
    }

    /// The total, when the first page reveals it and more pages follow.
    fn prefetchable(&self, first: &Page<T>, limit: u32) -> Option<u64> {
        let total = first.total?;
        let strategy_ok = matches!(
            self.endpoint.pagination(),
            Pagination::Offset { .. } | Pagination::SkipTake { .. }
        );
        let n = first.items.len() as u64;
        let more = matches!(self.verdict(first, 0, limit), Ok(Verdict::More));
        (self.prefetch && strategy_ok && n > 0 && total > n && more).then_some(total)
    }

    async fn fetch(&self, at: Position<'_>, limit: u32) -> Result<Page<T>> {
        let pagination = self.endpoint.pagination();
        let mut params: Vec<(&str, serde_json::Value)> = Vec::with_capacity(2);
        match at {
            Position::Offset(offset) => {
                if let (Some(start), Some(size)) =
                    (pagination.start_name(), pagination.limit_name())
                {
                    params.push((start, offset.into()));
                    params.push((size, limit.into()));
                }
            }
            Position::Cursor(token) => {
                if let Pagination::Cursor {
                    param, limit: size, ..
                } = pagination
                {
                    params.push((size, limit.into()));
                    if let Some(token) = token {
                        params.push((param, token.into()));
                    }
                }
            }
        }
        let post = self.endpoint.http_method() == Method::POST;
        let mut query = self.query.query.clone();
        let mut body = None;
        if post {
            let mut fields = self.query.body.clone();
            fields.extend(params.into_iter().map(|(k, v)| (k.to_owned(), v)));
            body = Some(
                serde_json::to_vec(&fields)
                    .map_err(|e| Error::Config(e.to_string()))?
                    .into(),
            );
        } else {
            query.extend(
                params
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), json_param(v))),
            );
        }
        let parts = RequestParts {
            method: self.endpoint.http_method().clone(),
            path: self.path.clone(),
            query,
            body,
            // A list is a read, even over POST.
            replay_safe: Some(true),
            headers: Default::default(),
            error: None,
        };
        let response = self.client.execute(&parts).await?;
        response.check_json()?;
        let cursor_field = match pagination {
            Pagination::Cursor { field, .. } => Some(field.as_ref()),
            _ => None,
        };
        decode_page(
            response.url(),
            response.body(),
            self.endpoint.items_key(),
            cursor_field,
        )
    }

    /// How far the next page starts after a page of `n` items.
    ///
    /// Servers that cap page sizes return fewer items than asked, so offsets
    /// advance by what came back, except for bare arrays: Jira filters those
    /// pages *within* the requested window (privacy), so the window is what moved.
    fn advance(&self, n: u64, limit: u32) -> u64 {
        match self.endpoint.pagination() {
            Pagination::Array { .. } => n.max(u64::from(limit)),
            _ => n,
        }
    }

    /// Whether the page at `offset` is the last, by the strategy's own rule.
    fn verdict(&self, page: &Page<T>, offset: u64, limit: u32) -> Result<Verdict> {
        let n = page.items.len() as u64;
        let empty_too_soon = || {
            self.guard(PaginationGuard::EmptyPageBeforeEnd {
                offset,
                total: page.total,
            })
        };
        let by_total = |total: u64| {
            if offset + n >= total {
                Verdict::End
            } else {
                Verdict::More
            }
        };
        let by_length = if n < u64::from(limit) {
            Verdict::End
        } else {
            Verdict::More
        };
        Ok(match self.endpoint.pagination() {
            Pagination::None | Pagination::Cursor { .. } => Verdict::End,
            Pagination::Array { .. } => {
                // Privacy filtering can shorten any page: only an empty one ends the list.
                if n == 0 { Verdict::End } else { Verdict::More }
            }
            Pagination::Offset { .. } => {
                if page.is_last == Some(true) {
                    Verdict::End
                } else if n == 0 {
                    if page.is_last == Some(false) || page.total.is_some_and(|t| t > offset) {
                        return Err(empty_too_soon());
                    }
                    Verdict::End
                } else if page.is_last == Some(false) {
                    Verdict::More
                } else {
                    page.total.map_or(by_length, by_total)
                }
            }
            Pagination::SkipTake { .. } => {
                let page_index = offset / u64::from(limit.max(1));
                let more_by_number = page.last_page_number.map(|last| (page_index as i64) < last);
                if n == 0 {
                    let claims_more = page.next_link == Some(true)
                        || page.total.is_some_and(|t| t > offset)
                        || more_by_number == Some(true);
                    if claims_more {
                        return Err(empty_too_soon());
                    }
                    Verdict::End
                } else if let Some(next) = page.next_link {
                    if next { Verdict::More } else { Verdict::End }
                } else if let Some(more) = more_by_number {
                    if more { Verdict::More } else { Verdict::End }
                } else {
                    page.total.map_or(by_length, by_total)
                }
            }
        })
    }

    /// The cursor for the page after page `number`, or `None` at the end.
    fn next_cursor(
        &self,
        page: &Page<T>,
        number: u64,
        seen: &mut HashSet<String>,
    ) -> Result<Option<String>> {
        if page.is_last == Some(true) {
            return Ok(None);
        }
        match page.cursor.as_deref().filter(|c| !c.is_empty()) {
            None if page.is_last == Some(false) => {
                Err(self.guard(PaginationGuard::MissingCursor { page: number }))
            }
            None => Ok(None),
            Some(cursor) if !seen.insert(cursor.to_owned()) => {
                Err(self.guard(PaginationGuard::RepeatedCursor { page: number }))
            }
            Some(cursor) => Ok(Some(cursor.to_owned())),
        }
    }
}

fn json_param(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Fills `{name}` placeholders with percent-encoded values.
fn render_path(template: &str, params: &[(String, String)]) -> Result<String> {
    let mut path = template.to_owned();
    for name in placeholders(template) {
        let value = params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                Error::Config(format!("path `{template}` needs a value for `{{{name}}}`"))
            })?;
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        path = path.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"));
    }
    Ok(path)
}

/// Counts yielded items against a cap and cuts the stream exactly at it.
struct Cap<'a> {
    limit: Option<u64>,
    seen: u64,
    kind: &'a str,
}

impl<'a> Cap<'a> {
    fn new(limit: Option<u64>, kind: &'a str) -> Self {
        Self {
            limit,
            seen: 0,
            kind,
        }
    }

    fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Trims `items` to the cap; true when the cap ended the stream.
    fn take<T>(&mut self, mut items: Vec<T>, more_pages: bool) -> (Vec<T>, bool) {
        let Some(limit) = self.limit else {
            self.seen += items.len() as u64;
            return (items, false);
        };
        let room = limit.saturating_sub(self.seen);
        let cut = items.len() as u64 > room || (room == items.len() as u64 && more_pages);
        items.truncate(room as usize);
        self.seen += items.len() as u64;
        if cut {
            tracing::warn!(
                kind = self.kind,
                max_items = limit,
                "item cap reached: the rest of this list is not synced"
            );
        }
        (items, self.seen >= limit)
    }
}
