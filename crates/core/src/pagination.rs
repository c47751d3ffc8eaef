//! The one pagination engine behind every list stream, typed or raw.
//!
//! Each strategy's end rule lives in [`Plan::verdict`]; guards turn every way
//! a server can make a client loop or lose items into a typed error, and the
//! no-advance guards in [`progress`] run on every page *before* it is yielded, so
//! a server that repeats itself never gets an item written twice.
//!
//! A total that is reached while the server still says "not last" (`isLast: false`,
//! a `Page.Next` link, a next cursor) ends the stream with
//! [`PaginationGuard::TotalReachedButNotLast`] after the page that reached it: reading
//! on would trust the half of the contradiction that can loop (a server past its total
//! may serve page one again, and only the previous page is remembered), while stopping
//! quietly could drop items if the total was the lie. The error says which.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::RequestParts;
use crate::endpoint::placeholders;
use crate::page::{Layout, Page, decode_layout, fingerprint};
use crate::{Client, Endpoint, Error, ListRequest, Pagination, PaginationGuard, Result};

mod links;
pub(crate) mod progress;

use progress::{Admit, Progress, Seen};

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
    /// A 1-based page number.
    Page(u64),
    /// The first page (`None`) or the absolute next link a page gave.
    Link(Option<&'a str>),
}

enum Verdict {
    End,
    More,
    /// The server says more follow, but this page reached its total.
    Contradicted(u64),
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
        let mut progress = Progress::new(plan.max_pages, plan.endpoint.item_cap());
        match plan.endpoint.pagination() {
            Pagination::None => {
                let page = plan.fetch(Position::Offset(0), 0).await?;
                let (items, _) = cap.take(page.items, false);
                yield items;
            }
            Pagination::Cursor { .. } | Pagination::LinkHeader { .. } | Pagination::NextUrl { .. } => {
                // Cursors, `Link` headers and next URLs in the body all hand out where the
                // next page is; a repeat of any of them is the same loop.
                let links = !matches!(plan.endpoint.pagination(), Pagination::Cursor { .. });
                let mut cursors = HashSet::new();
                let mut token: Option<String> = None;
                let mut read = 0u64;
                loop {
                    plan.check(progress.before_request())?;
                    let number = progress.pages();
                    let at = if links {
                        Position::Link(token.as_deref())
                    } else {
                        Position::Cursor(token.as_deref())
                    };
                    let page = plan.fetch(at, plan.page_size()).await?;
                    let next = plan.next_cursor(&page, number, &mut cursors)?;
                    let n = page.items.len() as u64;
                    let verdict = if next.is_none() {
                        Verdict::End
                    } else {
                        more_unless_reached(page.total, read, n)
                    };
                    let items = plan.admit(&mut progress, page, read, &verdict)?;
                    read += n;
                    let (items, capped) = cap.take(items, next.is_some());
                    yield items;
                    if capped {
                        break;
                    }
                    plan.end_or_more(verdict)?;
                    match next {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
            }
            Pagination::PageNumber { .. } => {
                let limit = plan.page_size();
                let mut read = 0u64;
                for number in 1u64.. {
                    plan.check(progress.before_request())?;
                    let page = plan.fetch(Position::Page(number), limit).await?;
                    let n = page.items.len() as u64;
                    let verdict = plan.page_number_verdict(&page, number, read, limit)?;
                    let more = !matches!(verdict, Verdict::End);
                    let items = plan.admit(&mut progress, page, read, &verdict)?;
                    read += n;
                    let (items, capped) = cap.take(items, more);
                    yield items;
                    if capped || !plan.end_or_more(verdict)? {
                        break;
                    }
                }
            }
            Pagination::Offset { .. } | Pagination::SkipTake { .. } | Pagination::Array { .. } => {
                let limit = plan.page_size();
                plan.check(progress.before_request())?;
                let mut page = plan.fetch(Position::Offset(0), limit).await?;
                let mut offset = 0;
                // Once the first page reveals the total, fetch the rest concurrently, in order.
                if let Some(total) = plan.prefetchable(&page, limit) {
                    let size = page.items.len() as u64;
                    let end = cap.limit().map_or(total, |c| c.min(total));
                    // Counted, never collected: a claimed total of 1e14 costs nothing here.
                    let planned = end.div_ceil(size);
                    plan.check(progress.within_max(planned))?;
                    let fetches = (1..planned).map(move |k| k * size).map(|o| {
                        let plan = Arc::clone(&plan);
                        async move { (o, plan.fetch(Position::Offset(o), size as u32).await) }
                    });
                    let mut fetched = stream::iter(fetches).buffered(plan.client.max_concurrency());
                    let mut window_end = size;
                    loop {
                        let n = page.items.len() as u64;
                        let verdict = plan.verdict(&page, offset, limit)?;
                        let more = !matches!(verdict, Verdict::End);
                        let items = plan.admit(&mut progress, page, offset, &verdict)?;
                        let (items, capped) = cap.take(items, more);
                        yield items;
                        offset += n;
                        if capped {
                            break;
                        }
                        if !plan.end_or_more(verdict)? {
                            break;
                        }
                        if offset < window_end {
                            // A short page inside the window: fill the gap before moving on.
                            plan.check(progress.before_request())?;
                            page = plan.fetch(Position::Offset(offset), (window_end - offset) as u32).await?;
                            continue;
                        }
                        page = loop {
                            match fetched.next().await {
                                Some((o, result)) if o == offset => {
                                    window_end = o + size;
                                    break result?;
                                }
                                // Oversized pages already covered part of this window: ask
                                // for the rest of it from where the list really is.
                                Some((o, _)) if o + size > offset => {
                                    window_end = o + size;
                                    plan.check(progress.before_request())?;
                                    break plan.fetch(Position::Offset(offset), (window_end - offset) as u32).await?;
                                }
                                // ...or all of it: nothing of it is new.
                                Some(_) => {}
                                None => {
                                    // The total was too low: carry on one page at a time.
                                    plan.check(progress.before_request())?;
                                    window_end = offset + u64::from(limit);
                                    break plan.fetch(Position::Offset(offset), limit).await?;
                                }
                            }
                        };
                    }
                } else {
                    loop {
                        let n = page.items.len() as u64;
                        let verdict = plan.verdict(&page, offset, limit)?;
                        let more = !matches!(verdict, Verdict::End);
                        let items = plan.admit(&mut progress, page, offset, &verdict)?;
                        let (items, capped) = cap.take(items, more);
                        yield items;
                        if capped || !plan.end_or_more(verdict)? {
                            break;
                        }
                        offset += plan.advance(n, limit);
                        plan.check(progress.before_request())?;
                        page = plan.fetch(Position::Offset(offset), limit).await?;
                    }
                }
            }
        }
    }
}

/// `More`, unless this page reached the announced total: then the claim of more
/// contradicts the total (see [`PaginationGuard::TotalReachedButNotLast`]).
fn more_unless_reached(total: Option<u64>, offset: u64, n: u64) -> Verdict {
    match total {
        Some(total) if offset.saturating_add(n) >= total => Verdict::Contradicted(total),
        _ => Verdict::More,
    }
}

impl<T: DeserializeOwned + 'static> Plan<T> {
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

    /// A guard's verdict as this list's error.
    fn check<V>(&self, outcome: std::result::Result<V, PaginationGuard>) -> Result<V> {
        outcome.map_err(|guard| self.guard(guard))
    }

    /// Runs the no-advance guards on a page about to be yielded; returns its new items.
    fn admit(
        &self,
        progress: &mut Progress,
        page: Page<T>,
        offset: u64,
        verdict: &Verdict,
    ) -> Result<Vec<T>> {
        let seen = Seen {
            offset,
            total: page.total,
            claims_more: !matches!(verdict, Verdict::End),
            fingerprints: &page.fingerprints,
        };
        match self.check(progress.page(seen))? {
            Admit::All => Ok(page.items),
            Admit::Except(repeated) => {
                tracing::warn!(
                    url = %self.url(),
                    offset,
                    repeated = repeated.len(),
                    "items of the previous page came again (the list shifted while read): skipped"
                );
                let mut repeated = repeated.into_iter().peekable();
                let items = page.items.into_iter().enumerate().filter_map(|(i, item)| {
                    if repeated.peek() == Some(&i) {
                        repeated.next();
                        None
                    } else {
                        Some(item)
                    }
                });
                Ok(items.collect())
            }
        }
    }

    /// Whether to read on after a yielded page; a contradicted total is an error.
    fn end_or_more(&self, verdict: Verdict) -> Result<bool> {
        match verdict {
            Verdict::End => Ok(false),
            Verdict::More => Ok(true),
            Verdict::Contradicted(total) => {
                Err(self.guard(PaginationGuard::TotalReachedButNotLast { total }))
            }
        }
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
            Position::Page(number) => {
                if let (Some(page), Some(size)) = (pagination.start_name(), pagination.limit_name())
                {
                    params.push((page, number.into()));
                    params.push((size, limit.into()));
                }
            }
            // The link carries every parameter of the next page.
            Position::Link(Some(_)) => {}
            Position::Link(None) => {
                if let Some(size) = pagination.limit_name() {
                    params.push((size, limit.into()));
                }
            }
        }
        let (path, base_query) = match at {
            Position::Link(Some(link)) => self.link_target(link)?,
            _ => (self.path.clone(), self.query.query.clone()),
        };
        let post = self.endpoint.http_method() == Method::POST;
        let mut query = base_query;
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
            path,
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
            Pagination::Cursor { field, .. } | Pagination::NextUrl { field, .. } => {
                Some(field.as_ref())
            }
            _ => None,
        };
        let total_pages = match pagination {
            Pagination::PageNumber { total_pages, .. } => total_pages.as_deref(),
            _ => None,
        };
        let endpoint = &self.endpoint;
        let layout = Layout {
            items: endpoint.items_key(),
            cursor: cursor_field,
            total_pages,
            total: Some(endpoint.total_field_name()),
            is_last: endpoint.is_last_field_name(),
            last_page: endpoint.last_page_field_name(),
            next_link: endpoint.next_link_field_name(),
        };
        let mut page = decode_layout(response.url(), response.body(), layout)
            .map_err(|e| response.scrubbed(e))?;
        match pagination {
            Pagination::LinkHeader { .. } => page.cursor = links::next(response.headers()),
            Pagination::PageNumber {
                total_pages: Some(name),
                ..
            } if page.total_pages.is_none() => {
                page.total_pages = response
                    .headers()
                    .get(name.as_ref())
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
            }
            _ => {}
        }
        if matches!(
            pagination,
            Pagination::LinkHeader { .. } | Pagination::NextUrl { .. }
        ) {
            // Relative links are relative to the page that gave them; kept absolute, so a
            // repeat is recognised whatever form it came in.
            page.cursor = page
                .cursor
                .as_deref()
                .and_then(|next| url::Url::parse(response.url()).ok()?.join(next).ok())
                .map(String::from);
        }
        Ok(page)
    }

    /// The path and query of an absolute next link, which must lie under the client's base
    /// URL: the credentials go wherever the request goes.
    fn link_target(&self, link: &str) -> Result<(String, Vec<(String, String)>)> {
        self.client.under_base(link).ok_or_else(|| {
            let origin = crate::client::origin(link);
            self.guard(PaginationGuard::ForeignNextLink { origin })
        })
    }

    /// Whether page `number` (from 1) of a page-number list is the last.
    fn page_number_verdict(
        &self,
        page: &Page<T>,
        number: u64,
        read: u64,
        limit: u32,
    ) -> Result<Verdict> {
        let n = page.items.len() as u64;
        if n == 0 {
            let claims_more = page.total_pages.is_some_and(|t| number <= t)
                || page.total.is_some_and(|t| read < t);
            if claims_more {
                return Err(self.guard(PaginationGuard::EmptyPageBeforeEnd {
                    offset: read,
                    total: page.total,
                }));
            }
            return Ok(Verdict::End);
        }
        Ok(match (page.total_pages, page.total) {
            (Some(pages), _) if number < pages => more_unless_reached(page.total, read, n),
            (Some(_), _) => Verdict::End,
            (None, Some(total)) if read + n >= total => Verdict::End,
            (None, Some(_)) => Verdict::More,
            (None, None) if n < u64::from(limit) => Verdict::End,
            (None, None) => Verdict::More,
        })
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
            // These end by their own rules, in their own loops.
            Pagination::None
            | Pagination::Cursor { .. }
            | Pagination::LinkHeader { .. }
            | Pagination::PageNumber { .. }
            | Pagination::NextUrl { .. } => Verdict::End,
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
                    more_unless_reached(page.total, offset, n)
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
                } else if let Some(more) = page.next_link.or(more_by_number) {
                    if more {
                        more_unless_reached(page.total, offset, n)
                    } else {
                        Verdict::End
                    }
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
        seen: &mut HashSet<u64>,
    ) -> Result<Option<String>> {
        if page.is_last == Some(true) {
            return Ok(None);
        }
        match page.cursor.as_deref().filter(|c| !c.is_empty()) {
            None if page.is_last == Some(false) => {
                Err(self.guard(PaginationGuard::MissingCursor { page: number }))
            }
            None => Ok(None),
            // Cursors are remembered by fingerprint: 8 bytes a page, whatever their length.
            Some(cursor) if !seen.insert(fingerprint(cursor.as_bytes())) => {
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
