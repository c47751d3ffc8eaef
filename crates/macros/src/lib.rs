//! `#[derive(Resource)]` for ocean-rs.
//!
//! Use it through ocean-core, which re-exports it next to the trait of the same name
//! (`ocean_core::Resource`), the way serde re-exports its derives. The runnable examples live
//! in ocean-core's docs, since a proc-macro crate cannot run code that uses the crate its
//! output names.
//!
//! # What it generates
//!
//! For a struct `T` with `#[resource(path = "/board/{board_id}/sprint", …)]`:
//!
//! - `impl ::ocean_core::Resource for T`: `KIND` and `endpoint()`, the
//!   `ocean_core::Endpoint` built from the keys below, one builder call per key;
//! - inherent functions taking the client, then one argument per `{placeholder}` of the
//!   path, in path order (typed by `param(...)`, else `impl Display`), with the struct's
//!   visibility and generated rustdoc:
//!
//! ```text
//! fn list(client: &Client, board_id: u64) -> ListRequest<T>;
//! fn stream(client: &Client, board_id: u64)
//!     -> impl Stream<Item = Result<T>> + Send + 'static;
//! fn pages(client: &Client, board_id: u64)
//!     -> impl Stream<Item = Result<Vec<T>>> + Send + 'static;
//! fn fetch_all(client: &Client, board_id: u64)
//!     -> impl Future<Output = Result<Vec<T>>> + Send + 'static;
//! ```
//!
//! `list` is the request builder: add runtime query or body parameters to it, then stream.
//! The other three are `list(..)` followed by `ListRequest::stream`, `pages` and
//! `fetch_all`. `fetch_all` is `async` to its callers; its future owns its arguments, so it
//! can be spawned. Placeholders are filled by `ListRequest::path_param`, which
//! percent-encodes them. A placeholder in camelCase becomes a snake_case argument
//! (`{issueIdOrKey}` → `issue_id_or_key`); a keyword becomes a raw identifier
//! (`{type}` → `r#type`).
//!
//! The generated code names everything by absolute path (`::ocean_core::…`), so the user
//! crate needs `ocean-core` (and `serde` for `Deserialize`) as dependencies, nothing else.
//!
//! # The attribute
//!
//! ```text
//! #[resource(
//!     path = "/rest/api/3/project/search",   // required; may hold {placeholders}
//!     kind = "project",                      // default: the struct's name in snake_case
//!     method = "POST",                       // "GET" (default) | "POST"
//!     items = "values",                      // key of the item array; "" (default) = bare array
//!     paginate = offset,                     // offset | skip_take | cursor | array | link_header | page_number | next_url | none (default)
//!     page_size = 50,                        // u32, at least 1
//!     max_items = 10000,                     // u64 cap on every stream
//!     id = "key",                            // the identifying field
//!     query(expand = "description,lead"),    // constant query parameters; repeatable
//!     start_param = "startAt",               // rename the offset parameter
//!     limit_param = "maxResults",            // rename the page-size parameter
//!     cursor_param = "nextPageToken",        // paginate = cursor only
//!     cursor_field = "nextPageToken",        // paginate = cursor, or next_url's `/`-separated path
//!     param(board_id = u64),                 // the Rust type of a placeholder; repeatable
//! )]
//! ```
//!
//! | key | value | builder call |
//! | --- | --- | --- |
//! | `path` | string; `{name}` placeholders | `Endpoint::new(kind, path)` |
//! | `kind` | string | `Endpoint::new(kind, path)`, `Resource::KIND` |
//! | `method` | `"GET"` or `"POST"` | `.method(Method::POST)` |
//! | `items` | string | `.items("values")` |
//! | `paginate` | `offset`, `skip_take`, `cursor`, `array`, `link_header`, `page_number`, `next_url` or `none` (no quotes) | `.paginate(Pagination::offset())` |
//! | `page_size` | integer literal | `.page_size(50)` |
//! | `max_items` | integer literal | `.max_items(10000)` |
//! | `query(name = value, …)` | string, integer or boolean literals; a name that is not an identifier is written as a string: `query("api-version" = "7.1")` | `.query("name", "value")`, in order |
//! | `id` | string | `.id_field("key")`, and `Resource::ID_FIELD = Some("key")` |
//! | `start_param` | string; `offset`, `skip_take`, `array`, `page_number` | `Pagination::….start_param("…")` |
//! | `limit_param` | string; every pagination but `none` | `Pagination::….limit_param("…")` |
//! | `cursor_param` | string; `cursor` | `Pagination::cursor().cursor_param("…")` |
//! | `total`, `is_last`, `last_page`, `next_link` | string: the envelope's item total, last-page flag, zero-based last page number, `/`-separated next-link path (defaults: `total`/`isLast`; skip/take `TotalResults`/`LastPageNumber`/`Links/Page.Next`) | `Endpoint::total_field("…")` and siblings |
//! | `cursor_field` | string; `cursor`, `next_url` (a `/`-separated path, default `next`) | `Pagination::….cursor_field("…")` |
//! | `param(name = Type, …)` | a placeholder (as written or in snake_case) and a type implementing `Display` | the argument's type |
//!
//! The keys may be spread over several `#[resource(...)]` attributes. Each key but `query`
//! and `param` may be given once.
//!
//! # One example per pagination
//!
//! ```text
//! // Jira: startAt/maxResults, ends on isLast or total.
//! #[derive(Deserialize, Resource)]
//! #[resource(path = "/rest/api/3/project/search", items = "values", paginate = offset,
//!            query(expand = "description,lead"), id = "key")]
//! struct Project { key: String }
//!
//! // Octopus: skip/take in an envelope with Items and LastPageNumber.
//! #[derive(Deserialize, Resource)]
//! #[resource(path = "/api/{space_id}/projects", items = "Items", paginate = skip_take,
//!            page_size = 30)]
//! struct OctopusProject { #[serde(rename = "Id")] id: String }
//!
//! // Jira enhanced search: POST with nextPageToken in the JSON body.
//! #[derive(Deserialize, Resource)]
//! #[resource(path = "/rest/api/3/search/jql", method = "POST", items = "issues",
//!            paginate = cursor, max_items = 10000)]
//! struct Issue { id: String }
//! // Issue::list(&client).body("jql", "project = DEMO").stream()
//!
//! // Jira users: a bare array, paged until an empty page.
//! #[derive(Deserialize, Resource)]
//! #[resource(path = "/rest/api/3/users/search", paginate = array, page_size = 100)]
//! struct User { #[serde(rename = "accountId")] account_id: String }
//!
//! // One request, a typed placeholder.
//! #[derive(Deserialize, Resource)]
//! #[resource(path = "/rest/agile/1.0/board/{board_id}/version", items = "values",
//!            param(board_id = u64))]
//! struct Version { id: String }
//! // Version::fetch_all(&client, 42).await?
//! ```
//!
//! # Errors
//!
//! Mistakes are compile errors underlining the offending token, all reported at once: an
//! unknown key (with a suggestion), a duplicate key, a missing attribute or `path`, a bad
//! `paginate` or `method` value, a pagination key the chosen pagination ignores, a malformed
//! placeholder (`{}`, an unclosed `{`, a stray `}`, a name that is not an identifier, a
//! repeated name), a `param` naming no placeholder, an enum or union, a lifetime parameter.
//! Next to the errors the derive still emits the impls, with stub bodies, so a mistake does
//! not cascade into errors at every use of the type.
//!
//! Generic structs are supported: the impls carry the struct's generics and bounds, and the
//! inherent functions add `where Self: Resource`.
#![warn(missing_docs)]

mod case;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod model;
mod path_template;
mod symbol;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `ocean_core::Resource` and the `list`, `stream`, `pages` and `fetch_all`
/// functions from a `#[resource(...)]` attribute; see the [crate docs](crate) for the
/// grammar.
#[proc_macro_derive(Resource, attributes(resource))]
pub fn derive_resource(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

/// Parse, check, generate; or, on any error, the errors and the stubs.
fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let cx = ctxt::Ctxt::new();
    let cont = model::Container::from_ast(&cx, input);
    check::check(&cx, &cont);
    match cx.check() {
        Ok(()) => expand::expand(&cont, expand::Bodies::Real),
        Err(errors) => fallback::expand(&cont, errors),
    }
}

/// The messages `derive` reports for `input`, in order (empty when it expands).
#[cfg(test)]
fn messages(input: &DeriveInput) -> Vec<String> {
    let cx = ctxt::Ctxt::new();
    let cont = model::Container::from_ast(&cx, input);
    check::check(&cx, &cont);
    match cx.check() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}
