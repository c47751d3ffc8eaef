//! The static description of a list endpoint: where it lives and how it pages.

use std::borrow::Cow;

use reqwest::Method;

/// How an endpoint splits its collection into pages.
///
/// Each strategy has the parameter names of the API it is modelled on;
/// change them with the `*_param` / `cursor_field` methods.
///
/// ```
/// use ocean_core::Pagination;
/// let jira = Pagination::offset(); // startAt / maxResults, stops on isLast or total
/// let octopus = Pagination::skip_take(); // skip / take, stops after LastPageNumber
/// let jql = Pagination::cursor(); // nextPageToken in, nextPageToken out
/// let users = Pagination::array(); // a bare JSON array: stops on an empty page only
/// let custom = Pagination::offset().start_param("offset").limit_param("limit");
/// assert_eq!(custom.start_name(), Some("offset"));
/// # let _ = (jira, octopus, jql, users);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// One request returns everything.
    None,
    /// `startAt`/`maxResults`; ends on `isLast: true`, on `startAt + len >= total`, or on an empty page.
    Offset {
        /// The offset parameter (`startAt`).
        start: Cow<'static, str>,
        /// The page-size parameter (`maxResults`).
        limit: Cow<'static, str>,
    },
    /// `skip`/`take`; ends after `LastPageNumber`, when `Links["Page.Next"]` is absent, or at `TotalResults`.
    SkipTake {
        /// The offset parameter (`skip`).
        skip: Cow<'static, str>,
        /// The page-size parameter (`take`).
        take: Cow<'static, str>,
    },
    /// A continuation token; ends on `isLast: true` or when no token comes back.
    Cursor {
        /// The request parameter carrying the token.
        param: Cow<'static, str>,
        /// The response field holding the next token.
        field: Cow<'static, str>,
        /// The page-size parameter (`maxResults`).
        limit: Cow<'static, str>,
    },
    /// The body is a bare JSON array, paged by offset, with no total: ends on an empty page only.
    Array {
        /// The offset parameter (`startAt`).
        start: Cow<'static, str>,
        /// The page-size parameter (`maxResults`).
        limit: Cow<'static, str>,
    },
    /// RFC 8288 `Link: <…>; rel="next"` response headers (GitHub, GitLab, Okta, Shopify):
    /// the first page is asked with the page-size parameter, every next one at the link as
    /// given; ends when no `next` link comes back.
    LinkHeader {
        /// The page-size parameter (`per_page`).
        limit: Cow<'static, str>,
    },
    /// 1-based page numbers: ends on an empty or short page, at the last page a total-pages
    /// header or field names, or at the total.
    PageNumber {
        /// The page-number parameter (`page`).
        page: Cow<'static, str>,
        /// The page-size parameter (`per_page`).
        limit: Cow<'static, str>,
        /// A response header, or a body field, giving the number of pages.
        total_pages: Option<Cow<'static, str>>,
    },
    /// The next page's URL in the body, at a `/`-separated path of fields (`nextPage`,
    /// `Links/Page.Next`); ends when it is absent or null.
    NextUrl {
        /// Where the next URL is.
        field: Cow<'static, str>,
        /// The page-size parameter of the first request.
        limit: Cow<'static, str>,
    },
}

impl Pagination {
    /// Offset pagination with Jira's names, `startAt` and `maxResults`.
    pub const fn offset() -> Self {
        Self::Offset {
            start: Cow::Borrowed("startAt"),
            limit: Cow::Borrowed("maxResults"),
        }
    }

    /// Skip/take pagination with Octopus' names, `skip` and `take`.
    pub const fn skip_take() -> Self {
        Self::SkipTake {
            skip: Cow::Borrowed("skip"),
            take: Cow::Borrowed("take"),
        }
    }

    /// Cursor pagination with Jira's names: `nextPageToken` both ways, `maxResults`.
    pub const fn cursor() -> Self {
        Self::Cursor {
            param: Cow::Borrowed("nextPageToken"),
            field: Cow::Borrowed("nextPageToken"),
            limit: Cow::Borrowed("maxResults"),
        }
    }

    /// Bare-array pagination with `startAt` and `maxResults`.
    pub const fn array() -> Self {
        Self::Array {
            start: Cow::Borrowed("startAt"),
            limit: Cow::Borrowed("maxResults"),
        }
    }

    /// `Link`-header pagination with `per_page`.
    pub const fn link_header() -> Self {
        Self::LinkHeader {
            limit: Cow::Borrowed("per_page"),
        }
    }

    /// Page-number pagination with `page` (from 1) and `per_page`.
    pub const fn page_number() -> Self {
        Self::PageNumber {
            page: Cow::Borrowed("page"),
            limit: Cow::Borrowed("per_page"),
            total_pages: None,
        }
    }

    /// Next-URL-in-body pagination, the URL at `field` (`/`-separated: `Links/Page.Next`),
    /// the first request sized with `limit`.
    pub fn next_url(field: impl Into<Cow<'static, str>>) -> Self {
        Self::NextUrl {
            field: field.into(),
            limit: Cow::Borrowed("limit"),
        }
    }

    /// Names the response header or body field holding the number of pages. Page-number
    /// strategy only.
    pub fn total_pages(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        if let Self::PageNumber { total_pages, .. } = &mut self {
            *total_pages = Some(name.into());
        }
        self
    }

    /// Renames the offset parameter (`startAt`, `skip`) or the page-number parameter
    /// (`page`). No effect on other strategies.
    pub fn start_param(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        match &mut self {
            Self::Offset { start, .. } | Self::Array { start, .. } => *start = name.into(),
            Self::SkipTake { skip, .. } => *skip = name.into(),
            Self::PageNumber { page, .. } => *page = name.into(),
            Self::None | Self::Cursor { .. } | Self::LinkHeader { .. } | Self::NextUrl { .. } => {}
        }
        self
    }

    /// Renames the page-size parameter (`maxResults`, `take`). No effect on [`Pagination::None`].
    pub fn limit_param(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        match &mut self {
            Self::Offset { limit, .. }
            | Self::Array { limit, .. }
            | Self::Cursor { limit, .. }
            | Self::LinkHeader { limit }
            | Self::PageNumber { limit, .. }
            | Self::NextUrl { limit, .. } => *limit = name.into(),
            Self::SkipTake { take, .. } => *take = name.into(),
            Self::None => {}
        }
        self
    }

    /// Renames the request parameter that carries the cursor. Cursor strategy only.
    pub fn cursor_param(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        if let Self::Cursor { param, .. } = &mut self {
            *param = name.into();
        }
        self
    }

    /// Renames the response field that holds the next cursor, or (next-URL strategy) the
    /// `/`-separated path of the next URL. Cursor and next-URL strategies only.
    pub fn cursor_field(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        if let Self::Cursor { field, .. } | Self::NextUrl { field, .. } = &mut self {
            *field = name.into();
        }
        self
    }

    /// The offset parameter's name, for the strategies that have one.
    pub fn start_name(&self) -> Option<&str> {
        match self {
            Self::Offset { start, .. } | Self::Array { start, .. } => Some(start),
            Self::SkipTake { skip, .. } => Some(skip),
            Self::PageNumber { page, .. } => Some(page),
            Self::None | Self::Cursor { .. } | Self::LinkHeader { .. } | Self::NextUrl { .. } => {
                None
            }
        }
    }

    /// The page-size parameter's name.
    pub fn limit_name(&self) -> Option<&str> {
        match self {
            Self::Offset { limit, .. }
            | Self::Array { limit, .. }
            | Self::Cursor { limit, .. }
            | Self::LinkHeader { limit }
            | Self::PageNumber { limit, .. }
            | Self::NextUrl { limit, .. } => Some(limit),
            Self::SkipTake { take, .. } => Some(take),
            Self::None => None,
        }
    }
}

/// Where a list endpoint lives and how it pages: everything a stream needs
/// besides the client and runtime parameters.
///
/// Built by `#[derive(Resource)]`, or by hand with the same vocabulary:
///
/// ```
/// use ocean_core::{Endpoint, Pagination};
/// let sprints = Endpoint::new("sprint", "/rest/agile/1.0/board/{board_id}/sprint")
///     .items("values")
///     .paginate(Pagination::offset())
///     .page_size(50)
///     .id_field("id");
/// assert_eq!(sprints.path_params().collect::<Vec<_>>(), ["board_id"]);
/// ```
#[derive(Debug, Clone)]
pub struct Endpoint {
    kind: Cow<'static, str>,
    method: Method,
    path: Cow<'static, str>,
    items: Option<Cow<'static, str>>,
    pagination: Pagination,
    page_size: u32,
    max_items: Option<u64>,
    query: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    id_field: Option<Cow<'static, str>>,
    envelope: Envelope,
}

/// The envelope fields a page's end is read from, when an API names them differently
/// from its strategy's defaults (see [`Endpoint::total_field`] and its siblings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Envelope {
    total: Option<Cow<'static, str>>,
    is_last: Option<Cow<'static, str>>,
    last_page: Option<Cow<'static, str>>,
    next_link: Option<Cow<'static, str>>,
}

impl Endpoint {
    /// A `GET` endpoint answering one page with the whole body as the item list.
    pub fn new(kind: impl Into<Cow<'static, str>>, path: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: kind.into(),
            method: Method::GET,
            path: path.into(),
            items: None,
            pagination: Pagination::None,
            page_size: 50,
            max_items: None,
            query: Vec::new(),
            id_field: None,
            envelope: Envelope::default(),
        }
    }

    /// The field holding the item total (`total`; skip/take: `TotalResults`).
    pub fn total_field(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.envelope.total = Some(name.into());
        self
    }

    /// The boolean field that is true on the last page (`isLast`; skip/take: none).
    pub fn is_last_field(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.envelope.is_last = Some(name.into());
        self
    }

    /// The field holding the zero-based number of the last page (skip/take:
    /// `LastPageNumber`; others: none).
    pub fn last_page_field(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.envelope.last_page = Some(name.into());
        self
    }

    /// The `/`-separated path of a link whose presence says a next page exists
    /// (skip/take: `Links/Page.Next`; others: none).
    pub fn next_link_field(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.envelope.next_link = Some(path.into());
        self
    }

    /// The total's field name, set or the strategy's default.
    pub fn total_field_name(&self) -> &str {
        match (&self.envelope.total, &self.pagination) {
            (Some(name), _) => name,
            (None, Pagination::SkipTake { .. }) => "TotalResults",
            (None, _) => "total",
        }
    }

    /// The last-page flag's field name, set or the strategy's default.
    pub fn is_last_field_name(&self) -> Option<&str> {
        match (&self.envelope.is_last, &self.pagination) {
            (Some(name), _) => Some(name),
            (None, Pagination::SkipTake { .. }) => None,
            (None, _) => Some("isLast"),
        }
    }

    /// The last-page-number field name, set or the strategy's default.
    pub fn last_page_field_name(&self) -> Option<&str> {
        match (&self.envelope.last_page, &self.pagination) {
            (Some(name), _) => Some(name),
            (None, Pagination::SkipTake { .. }) => Some("LastPageNumber"),
            (None, _) => None,
        }
    }

    /// The next-link path, set or the strategy's default.
    pub fn next_link_field_name(&self) -> Option<&str> {
        match (&self.envelope.next_link, &self.pagination) {
            (Some(name), _) => Some(name),
            (None, Pagination::SkipTake { .. }) => Some("Links/Page.Next"),
            (None, _) => None,
        }
    }

    /// The HTTP method. With `POST`, page parameters travel in the JSON body,
    /// and the request is treated as a read (retried like a `GET`).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The key of the item array in the response object; `""` means the body itself is the array.
    pub fn items(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        let key = key.into();
        self.items = (!key.is_empty()).then_some(key);
        self
    }

    /// The pagination strategy.
    pub fn paginate(mut self, pagination: Pagination) -> Self {
        self.pagination = pagination;
        self
    }

    /// The page size asked for (servers may answer with fewer).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Stops every stream of this endpoint after this many items, with a warning.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    pub(crate) fn without_cap(mut self) -> Self {
        self.max_items = None;
        self
    }

    /// A constant query parameter sent with every page.
    pub fn query(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The field that identifies an item (used by fan-out, webhooks and the CLI).
    pub fn id_field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.id_field = Some(field.into());
        self
    }

    /// The resource kind, e.g. `"project"`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The path template, with `{placeholders}`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The HTTP method.
    pub fn http_method(&self) -> &Method {
        &self.method
    }

    /// The items key, `None` when the body is the array.
    pub fn items_key(&self) -> Option<&str> {
        self.items.as_deref()
    }

    /// The pagination strategy.
    pub fn pagination(&self) -> &Pagination {
        &self.pagination
    }

    /// The page size asked for.
    pub fn requested_page_size(&self) -> u32 {
        self.page_size
    }

    /// The item cap, if any.
    pub fn item_cap(&self) -> Option<u64> {
        self.max_items
    }

    /// The constant query parameters.
    pub fn constant_query(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The identifying field, if declared.
    pub fn id_field_name(&self) -> Option<&str> {
        self.id_field.as_deref()
    }

    /// The names of the path's `{placeholders}`, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        placeholders(&self.path)
    }
}

/// The `{name}` placeholders of a path template, in order.
pub(crate) fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}
