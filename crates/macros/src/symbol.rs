//! Every name the macro recognises, in one table: the attribute, its keys and their values.
//!
//! The keys mirror the methods of `ocean_core::Endpoint` and `ocean_core::Pagination`
//! (`items`, `page_size`, `start_param`, …), so derived and hand-written endpoints share
//! one vocabulary.

use std::fmt;

use syn::{Ident, Path};

/// An attribute name or key.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Symbol(pub &'static str);

/// The attribute: `#[resource(...)]`.
pub const RESOURCE: Symbol = Symbol("resource");

/// `kind = "project"`: the resource kind (`Resource::KIND`).
pub const KIND: Symbol = Symbol("kind");
/// `path = "/rest/api/3/project/search"`: the path template, with `{placeholders}`.
pub const PATH: Symbol = Symbol("path");
/// `method = "POST"`: `Endpoint::method`.
pub const METHOD: Symbol = Symbol("method");
/// `items = "values"`: `Endpoint::items`.
pub const ITEMS: Symbol = Symbol("items");
/// `paginate = offset`: `Endpoint::paginate`.
pub const PAGINATE: Symbol = Symbol("paginate");
/// `page_size = 50`: `Endpoint::page_size`.
pub const PAGE_SIZE: Symbol = Symbol("page_size");
/// `max_items = 10000`: `Endpoint::max_items`.
pub const MAX_ITEMS: Symbol = Symbol("max_items");
/// `id = "key"`: `Endpoint::id_field`.
pub const ID: Symbol = Symbol("id");
/// `query(name = "value", ...)`: `Endpoint::query`, once per pair.
pub const QUERY: Symbol = Symbol("query");
/// `start_param = "startAt"`: `Pagination::start_param`.
pub const START_PARAM: Symbol = Symbol("start_param");
/// `limit_param = "maxResults"`: `Pagination::limit_param`.
pub const LIMIT_PARAM: Symbol = Symbol("limit_param");
/// `cursor_param = "nextPageToken"`: `Pagination::cursor_param`.
pub const CURSOR_PARAM: Symbol = Symbol("cursor_param");
/// `cursor_field = "nextPageToken"`: `Pagination::cursor_field`.
pub const CURSOR_FIELD: Symbol = Symbol("cursor_field");
/// `param(board_id = u64, ...)`: the Rust type of a path placeholder.
pub const PARAM: Symbol = Symbol("param");
/// `total = "total"`: `Endpoint::total_field`.
pub const TOTAL: Symbol = Symbol("total");
/// `is_last = "isLast"`: `Endpoint::is_last_field`.
pub const IS_LAST: Symbol = Symbol("is_last");
/// `last_page = "LastPageNumber"`: `Endpoint::last_page_field`.
pub const LAST_PAGE: Symbol = Symbol("last_page");
/// `next_link = "Links/Page.Next"`: `Endpoint::next_link_field`.
pub const NEXT_LINK: Symbol = Symbol("next_link");

/// Every key, in the order the docs list them (used by "unknown key" errors).
pub const KEYS: &[Symbol] = &[
    KIND,
    PATH,
    METHOD,
    ITEMS,
    PAGINATE,
    PAGE_SIZE,
    MAX_ITEMS,
    ID,
    QUERY,
    START_PARAM,
    LIMIT_PARAM,
    CURSOR_PARAM,
    CURSOR_FIELD,
    TOTAL,
    IS_LAST,
    LAST_PAGE,
    NEXT_LINK,
    PARAM,
];

/// `paginate = offset`: `Pagination::offset()`.
pub const OFFSET: Symbol = Symbol("offset");
/// `paginate = skip_take`: `Pagination::skip_take()`.
pub const SKIP_TAKE: Symbol = Symbol("skip_take");
/// `paginate = cursor`: `Pagination::cursor()`.
pub const CURSOR: Symbol = Symbol("cursor");
/// `paginate = array`: `Pagination::array()`.
pub const ARRAY: Symbol = Symbol("array");
/// `paginate = link_header`: `Pagination::link_header()`.
pub const LINK_HEADER: Symbol = Symbol("link_header");
/// `paginate = page_number`: `Pagination::page_number()`.
pub const PAGE_NUMBER: Symbol = Symbol("page_number");
/// `paginate = next_url`: `Pagination::next_url("next")`.
pub const NEXT_URL: Symbol = Symbol("next_url");
/// `paginate = none`: `Pagination::None`.
pub const NONE: Symbol = Symbol("none");

/// Every `paginate` value.
pub const PAGINATE_VALUES: &[Symbol] = &[
    OFFSET,
    SKIP_TAKE,
    CURSOR,
    ARRAY,
    LINK_HEADER,
    PAGE_NUMBER,
    NEXT_URL,
    NONE,
];

/// `method = "GET"`.
pub const GET: Symbol = Symbol("GET");
/// `method = "POST"`.
pub const POST: Symbol = Symbol("POST");

/// Every `method` value.
pub const METHODS: &[Symbol] = &[GET, POST];

/// The name of the client parameter of the generated functions; no placeholder may take it.
pub const CLIENT: Symbol = Symbol("client");

impl Symbol {
    /// The symbol whose name is `name`, among `table`.
    pub fn find(table: &[Symbol], name: &str) -> Option<Symbol> {
        table.iter().copied().find(|symbol| symbol.0 == name)
    }

    /// `a, b, c`, each in backticks, for error messages.
    pub fn list(table: &[Symbol]) -> String {
        table
            .iter()
            .map(|symbol| format!("`{}`", symbol.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.0)
    }
}
