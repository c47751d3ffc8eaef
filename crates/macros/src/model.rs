//! `#[resource(...)]` parsed into a plain model that remembers where each value came from.
//!
//! Parsing records mistakes in the [`Ctxt`] and goes on, so that one derive reports every
//! mistake at once; only a syntax error stops the parse of the attribute it is in.
//! Relations between keys (a cursor key without cursor pagination, a `param` naming no
//! placeholder, …) are `check`'s business.

use proc_macro2::{Span, TokenTree};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Data, DeriveInput, Expr, ExprLit, Generics, Ident, Lit, LitStr, Token};
use syn::{Type, Visibility};

use crate::ctxt::Ctxt;
use crate::path_template::{self, Placeholder};
use crate::symbol::{self, Symbol};

/// The derive input, reduced to what the macro needs.
pub struct Container<'a> {
    /// The type's name.
    pub ident: &'a Ident,
    /// The type's visibility, given to the generated functions.
    pub vis: &'a Visibility,
    /// The type's generics, passed through to the impls.
    pub generics: &'a Generics,
    /// Struct, enum or union.
    pub shape: Shape,
    /// The first `#[resource(...)]` attribute, if any.
    pub attr: Option<&'a Attribute>,
    /// The keys of every `#[resource(...)]` attribute.
    pub keys: Keys,
}

/// What kind of type the derive is on.
#[derive(Clone, Copy)]
pub enum Shape {
    /// A struct of any form.
    Struct,
    /// An enum; the span of its `enum` keyword.
    Enum(Span),
    /// A union; the span of its `union` keyword.
    Union(Span),
}

/// The values of the `#[resource(...)]` keys.
#[derive(Default)]
pub struct Keys {
    /// `kind = "..."`.
    pub kind: Option<Keyed<LitStr>>,
    /// `path = "..."`, with its placeholders.
    pub path: Option<Keyed<PathTemplate>>,
    /// `method = "GET" | "POST"`.
    pub method: Option<Keyed<Method>>,
    /// `items = "..."`.
    pub items: Option<Keyed<LitStr>>,
    /// `paginate = offset | skip_take | cursor | array | none`.
    pub paginate: Option<Keyed<Paginate>>,
    /// `page_size = N`.
    pub page_size: Option<Keyed<u32>>,
    /// `max_items = N`.
    pub max_items: Option<Keyed<u64>>,
    /// `id = "..."`.
    pub id: Option<Keyed<LitStr>>,
    /// Every `query(name = "value")` pair, in order.
    pub query: Vec<QueryPair>,
    /// `start_param = "..."`.
    pub start_param: Option<Keyed<LitStr>>,
    /// `limit_param = "..."`.
    pub limit_param: Option<Keyed<LitStr>>,
    /// `cursor_param = "..."`.
    pub cursor_param: Option<Keyed<LitStr>>,
    /// `cursor_field = "..."`.
    pub cursor_field: Option<Keyed<LitStr>>,
    /// `total = "..."`: the item total's field.
    pub total: Option<Keyed<LitStr>>,
    /// `is_last = "..."`: the last-page flag's field.
    pub is_last: Option<Keyed<LitStr>>,
    /// `last_page = "..."`: the zero-based last page number's field.
    pub last_page: Option<Keyed<LitStr>>,
    /// `next_link = "..."`: the `/`-separated path of a next-page link.
    pub next_link: Option<Keyed<LitStr>>,
    /// Every `param(name = Type)` pair, in order.
    pub params: Vec<ParamType>,
    /// The single-valued keys given so far, to report duplicates.
    seen: Vec<Symbol>,
}

/// A value and the key it was given with.
#[derive(Clone)]
pub struct Keyed<T> {
    /// The key, for errors about the key's presence.
    pub key: Ident,
    /// The value.
    pub value: T,
    /// Where the value is, for errors about the value.
    pub span: Span,
}

/// `path = "..."`.
#[derive(Clone)]
pub struct PathTemplate {
    /// The literal as written.
    pub lit: LitStr,
    /// Its well-formed placeholders, in order.
    pub placeholders: Vec<Placeholder>,
}

/// The HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`: page parameters travel in the JSON body.
    Post,
}

/// The pagination strategy, one per `ocean_core::Pagination` constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paginate {
    /// `Pagination::None`.
    None,
    /// `Pagination::offset()`.
    Offset,
    /// `Pagination::skip_take()`.
    SkipTake,
    /// `Pagination::cursor()`.
    Cursor,
    /// `Pagination::array()`.
    Array,
    /// `Pagination::link_header()`.
    LinkHeader,
    /// `Pagination::page_number()`.
    PageNumber,
    /// `Pagination::next_url("next")`.
    NextUrl,
}

/// One constant query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPair {
    /// The parameter name.
    pub name: String,
    /// Its value, as sent.
    pub value: String,
}

/// `param(name = Type)`.
#[derive(Clone)]
pub struct ParamType {
    /// The placeholder it types (raw `r#` prefix removed).
    pub name: Ident,
    /// The Rust type of the generated parameter.
    pub ty: Type,
}

impl Method {
    /// The name in `ocean_core::reqwest::Method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => symbol::GET.0,
            Self::Post => symbol::POST.0,
        }
    }
}

impl Paginate {
    /// The `paginate = ...` word.
    pub fn symbol(self) -> Symbol {
        match self {
            Self::None => symbol::NONE,
            Self::Offset => symbol::OFFSET,
            Self::SkipTake => symbol::SKIP_TAKE,
            Self::Cursor => symbol::CURSOR,
            Self::Array => symbol::ARRAY,
            Self::LinkHeader => symbol::LINK_HEADER,
            Self::PageNumber => symbol::PAGE_NUMBER,
            Self::NextUrl => symbol::NEXT_URL,
        }
    }
}

impl<'a> Container<'a> {
    /// Reads the derive input; mistakes go to `cx`, and whatever could be read is kept.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Self {
        let shape = match &input.data {
            Data::Struct(_) => Shape::Struct,
            Data::Enum(data) => Shape::Enum(data.enum_token.span),
            Data::Union(data) => Shape::Union(data.union_token.span),
        };
        let mut keys = Keys::default();
        let mut attr = None;
        for a in input.attrs.iter().filter(|a| a.path() == symbol::RESOURCE) {
            attr.get_or_insert(a);
            if let Err(error) = a.parse_nested_meta(|meta| keys.parse_key(cx, meta)) {
                cx.syn_error(error);
            }
        }
        Self {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            shape,
            attr,
            keys,
        }
    }

    /// `Resource::KIND`: `kind = "..."`, else the type's name in snake_case.
    pub fn kind(&self) -> String {
        match &self.keys.kind {
            Some(kind) => kind.value.value(),
            None => crate::case::snake_case(&self.ident.unraw().to_string()),
        }
    }
}

impl Keys {
    /// Whether the single-valued key `symbol` was given, even with a bad value.
    pub fn was_given(&self, symbol: Symbol) -> bool {
        self.seen.contains(&symbol)
    }

    /// Parses one `key = value` or `key(...)` of the attribute.
    fn parse_key(&mut self, cx: &Ctxt, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(key) = meta.path.get_ident().map(IdentExt::unraw) else {
            cx.error_spanned_by(&meta.path, unknown_key_message(&path_string(&meta.path)));
            return skip_value(&meta);
        };
        let Some(symbol) = Symbol::find(symbol::KEYS, &key.to_string()) else {
            cx.error_at(key.span(), unknown_key_message(&key.to_string()));
            return skip_value(&meta);
        };
        match symbol {
            symbol::QUERY => {
                let content;
                syn::parenthesized!(content in meta.input);
                let pairs = Punctuated::<RawQueryPair, Token![,]>::parse_terminated(&content)?;
                for pair in pairs {
                    if let Some(value) = query_value(cx, &pair.value) {
                        self.query.push(QueryPair {
                            name: pair.name,
                            value,
                        });
                    }
                }
            }
            symbol::PARAM => meta.parse_nested_meta(|inner| {
                let Some(name) = inner.path.get_ident().map(IdentExt::unraw) else {
                    cx.error_spanned_by(
                        &inner.path,
                        "expected a placeholder name, as in `param(board_id = u64)`",
                    );
                    return skip_value(&inner);
                };
                let ty: Type = inner.value()?.parse()?;
                self.params.push(ParamType { name, ty });
                Ok(())
            })?,
            _ => {
                let value: Expr = meta.value()?.parse()?;
                if self.seen.contains(&symbol) {
                    cx.error_at(
                        key.span(),
                        format!("duplicate key `{key}`: each key may be given only once"),
                    );
                } else {
                    self.seen.push(symbol);
                    self.set(cx, symbol, key, &value);
                }
            }
        }
        Ok(())
    }

    /// Stores the value of a single-valued key, reporting a bad value.
    fn set(&mut self, cx: &Ctxt, symbol: Symbol, key: Ident, value: &Expr) {
        fn keyed<T>(key: Ident, value: Option<(T, Span)>) -> Option<Keyed<T>> {
            value.map(|(value, span)| Keyed { key, value, span })
        }
        match symbol {
            symbol::KIND => self.kind = keyed(key, lit_str(cx, symbol, value)),
            symbol::PATH => {
                let template = lit_str(cx, symbol, value).map(|(lit, span)| {
                    let (placeholders, errors) = path_template::parse(&lit.value());
                    for error in errors {
                        cx.error_at(span, error);
                    }
                    (PathTemplate { lit, placeholders }, span)
                });
                self.path = keyed(key, template);
            }
            symbol::METHOD => self.method = keyed(key, method(cx, value)),
            symbol::ITEMS => self.items = keyed(key, lit_str(cx, symbol, value)),
            symbol::PAGINATE => self.paginate = keyed(key, paginate(cx, value)),
            symbol::PAGE_SIZE => self.page_size = keyed(key, int(cx, symbol, value, "u32")),
            symbol::MAX_ITEMS => self.max_items = keyed(key, int(cx, symbol, value, "u64")),
            symbol::ID => self.id = keyed(key, lit_str(cx, symbol, value)),
            symbol::START_PARAM => self.start_param = keyed(key, lit_str(cx, symbol, value)),
            symbol::LIMIT_PARAM => self.limit_param = keyed(key, lit_str(cx, symbol, value)),
            symbol::CURSOR_PARAM => self.cursor_param = keyed(key, lit_str(cx, symbol, value)),
            symbol::CURSOR_FIELD => self.cursor_field = keyed(key, lit_str(cx, symbol, value)),
            symbol::TOTAL => self.total = keyed(key, lit_str(cx, symbol, value)),
            symbol::IS_LAST => self.is_last = keyed(key, lit_str(cx, symbol, value)),
            symbol::LAST_PAGE => self.last_page = keyed(key, lit_str(cx, symbol, value)),
            symbol::NEXT_LINK => self.next_link = keyed(key, lit_str(cx, symbol, value)),
            _ => unreachable!("`{symbol}` is not a `key = value` key"),
        }
    }
}

/// `name = value` inside `query(...)`; the name may be a string for names that are not
/// identifiers (`query("api-version" = "7.1")`).
struct RawQueryPair {
    name: String,
    value: Expr,
}

impl Parse for RawQueryPair {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = if input.peek(LitStr) {
            input.parse::<LitStr>()?.value()
        } else {
            Ident::parse_any(input)?.unraw().to_string()
        };
        input.parse::<Token![=]>()?;
        Ok(Self {
            name,
            value: input.parse()?,
        })
    }
}

/// The literal of `expr`, if it is one.
fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// `key = "text"`.
fn lit_str(cx: &Ctxt, key: Symbol, value: &Expr) -> Option<(LitStr, Span)> {
    match literal(value) {
        Some(Lit::Str(lit)) => Some((lit.clone(), lit.span())),
        _ => {
            cx.error_spanned_by(
                value,
                format!("expected a string literal, as in `{key} = \"...\"`"),
            );
            None
        }
    }
}

/// `key = 50`, fitting in the integer type `ty`.
fn int<T>(cx: &Ctxt, key: Symbol, value: &Expr, ty: &str) -> Option<(T, Span)>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match literal(value) {
        Some(Lit::Int(lit)) => match lit.base10_parse::<T>() {
            Ok(n) => Some((n, lit.span())),
            Err(_) => {
                cx.error_spanned_by(lit, format!("`{key}` must fit in a `{ty}`"));
                None
            }
        },
        _ => {
            cx.error_spanned_by(
                value,
                format!("expected a non-negative integer literal, as in `{key} = 100`"),
            );
            None
        }
    }
}

/// `method = "GET" | "POST"`.
fn method(cx: &Ctxt, value: &Expr) -> Option<(Method, Span)> {
    let (lit, span) = lit_str(cx, symbol::METHOD, value)?;
    match Symbol::find(symbol::METHODS, &lit.value()) {
        Some(symbol::GET) => Some((Method::Get, span)),
        Some(_) => Some((Method::Post, span)),
        None => {
            let value = lit.value();
            let hint = match Symbol::find(symbol::METHODS, &value.to_ascii_uppercase()) {
                Some(method) => format!(" (write it in capitals: \"{method}\")"),
                None => String::new(),
            };
            cx.error_at(
                span,
                format!(
                    "unsupported method `{value}`{hint}; expected one of: {}",
                    quoted_list(symbol::METHODS)
                ),
            );
            None
        }
    }
}

/// `paginate = offset | skip_take | cursor | array | none`.
fn paginate(cx: &Ctxt, value: &Expr) -> Option<(Paginate, Span)> {
    let expected = Symbol::list(symbol::PAGINATE_VALUES);
    let word = match value {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().map(IdentExt::unraw),
        _ => None,
    };
    let Some(word) = word else {
        if let Some(Lit::Str(lit)) = literal(value) {
            cx.error_at(
                lit.span(),
                format!(
                    "write the pagination without quotes: `paginate = {}`",
                    lit.value()
                ),
            );
        } else {
            cx.error_spanned_by(value, format!("expected one of: {expected}"));
        }
        return None;
    };
    let found = match Symbol::find(symbol::PAGINATE_VALUES, &word.to_string()) {
        Some(symbol::NONE) => Paginate::None,
        Some(symbol::OFFSET) => Paginate::Offset,
        Some(symbol::SKIP_TAKE) => Paginate::SkipTake,
        Some(symbol::CURSOR) => Paginate::Cursor,
        Some(symbol::LINK_HEADER) => Paginate::LinkHeader,
        Some(symbol::PAGE_NUMBER) => Paginate::PageNumber,
        Some(symbol::NEXT_URL) => Paginate::NextUrl,
        Some(_) => Paginate::Array,
        None => {
            let hint = did_you_mean(&word.to_string(), symbol::PAGINATE_VALUES);
            cx.error_at(
                word.span(),
                format!("unknown pagination `{word}`{hint}; expected one of: {expected}"),
            );
            return None;
        }
    };
    Some((found, word.span()))
}

/// A `query(...)` value: a string, an integer or a boolean literal.
fn query_value(cx: &Ctxt, value: &Expr) -> Option<String> {
    match literal(value) {
        Some(Lit::Str(lit)) => Some(lit.value()),
        Some(Lit::Int(lit)) => Some(lit.base10_digits().to_owned()),
        Some(Lit::Bool(lit)) => Some(lit.value.to_string()),
        _ => {
            cx.error_spanned_by(
                value,
                "expected a string, integer or boolean literal, as in `query(expand = \"lead\")`",
            );
            None
        }
    }
}

/// Consumes the value of a key that was reported, so that the next keys are still read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let input = meta.input;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        while !input.is_empty() && !input.peek(Token![,]) {
            input.parse::<TokenTree>()?;
        }
    } else if input.peek(syn::token::Paren) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn unknown_key_message(key: &str) -> String {
    format!(
        "unknown key `{key}` in `#[resource(...)]`{}; the keys are: {}",
        did_you_mean(key, symbol::KEYS),
        Symbol::list(symbol::KEYS)
    )
}

fn path_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

/// `"GET"`, `"POST"`.
fn quoted_list(table: &[Symbol]) -> String {
    table
        .iter()
        .map(|symbol| format!("\"{}\"", symbol.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `" (did you mean `paginate`?)"` when a known word is close to `word`, else `""`.
fn did_you_mean(word: &str, table: &[Symbol]) -> String {
    let best = table
        .iter()
        .map(|symbol| (edit_distance(word, symbol.0), symbol))
        .min_by_key(|(distance, _)| *distance);
    match best {
        Some((distance, symbol)) if distance > 0 && distance <= 1 + word.len() / 4 => {
            format!(" (did you mean `{symbol}`?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance, counting a swap of two neighbours as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between the first i chars of a and the first j of b.
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| {
            (0..=b.len())
                .map(|j| {
                    if i == 0 {
                        j
                    } else if j == 0 {
                        i
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use syn::{DeriveInput, parse_quote};

    use super::*;

    /// Parses `input`, returning the model's keys and the parse errors.
    fn parse(input: &DeriveInput) -> (Keys, Vec<String>) {
        let cx = Ctxt::new();
        let cont = Container::from_ast(&cx, input);
        let keys = cont.keys;
        let errors = cx.check().err().unwrap_or_default();
        (keys, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_every_key() {
        let input: DeriveInput = parse_quote! {
            #[resource(
                kind = "issue",
                path = "/rest/api/3/search/{project}/jql",
                method = "POST",
                items = "issues",
                paginate = cursor,
                page_size = 100,
                max_items = 10_000,
                id = "key",
                query(expand = "names", "api-version" = 7, r#type = true),
                limit_param = "max",
                cursor_param = "token",
                cursor_field = "next",
                param(project = String),
            )]
            struct Issue;
        };
        let (keys, errors) = parse(&input);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(keys.kind.unwrap().value.value(), "issue");
        let path = keys.path.unwrap().value;
        assert_eq!(path.lit.value(), "/rest/api/3/search/{project}/jql");
        assert_eq!(path.placeholders.len(), 1);
        assert_eq!(keys.method.unwrap().value, Method::Post);
        assert_eq!(keys.items.unwrap().value.value(), "issues");
        assert_eq!(keys.paginate.unwrap().value, Paginate::Cursor);
        assert_eq!(keys.page_size.unwrap().value, 100);
        assert_eq!(keys.max_items.unwrap().value, 10_000);
        assert_eq!(keys.id.unwrap().value.value(), "key");
        let query: Vec<_> = keys.query.iter().map(|q| (&*q.name, &*q.value)).collect();
        assert_eq!(
            query,
            [("expand", "names"), ("api-version", "7"), ("type", "true")]
        );
        assert_eq!(keys.limit_param.unwrap().value.value(), "max");
        assert_eq!(keys.cursor_param.unwrap().value.value(), "token");
        assert_eq!(keys.cursor_field.unwrap().value.value(), "next");
        assert_eq!(keys.params[0].name, "project");
    }

    #[test]
    fn keys_may_be_spread_over_attributes() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/a")]
            #[serde(rename_all = "camelCase")]
            #[resource(paginate = array, query(a = "1"))]
            #[resource(query(b = "2"))]
            struct A;
        };
        let (keys, errors) = parse(&input);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(keys.paginate.unwrap().value, Paginate::Array);
        assert_eq!(keys.query.len(), 2);
    }

    #[test]
    fn every_pagination_word() {
        for (word, expected) in [
            ("none", Paginate::None),
            ("offset", Paginate::Offset),
            ("skip_take", Paginate::SkipTake),
            ("cursor", Paginate::Cursor),
            ("array", Paginate::Array),
            ("link_header", Paginate::LinkHeader),
            ("page_number", Paginate::PageNumber),
            ("next_url", Paginate::NextUrl),
        ] {
            let word = Ident::new(word, Span::call_site());
            let input: DeriveInput = parse_quote!(
                #[resource(path = "/a", paginate = #word)]
                struct A;
            );
            let (keys, errors) = parse(&input);
            assert_eq!(errors, Vec::<String>::new());
            assert_eq!(keys.paginate.unwrap().value, expected);
            assert_eq!(expected.symbol().0, word.to_string());
        }
    }

    #[test]
    fn unknown_keys_suggest_a_near_key_and_parsing_goes_on() {
        let input: DeriveInput = parse_quote! {
            #[resource(pagniate = offset, colour = "red", serde::rename = "x", path = "/a", itmes(x))]
            struct A;
        };
        let (keys, errors) = parse(&input);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with("unknown key `pagniate` in `#[resource(...)]` (did you mean `paginate`?); the keys are: `kind`, `path`"), "{}", errors[0]);
        assert!(
            errors[1].starts_with("unknown key `colour` in `#[resource(...)]`; the keys"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("unknown key `serde::rename`"),
            "{}",
            errors[2]
        );
        assert!(
            errors[3].contains("(did you mean `items`?)"),
            "{}",
            errors[3]
        );
        assert!(
            keys.path.is_some(),
            "keys after an unknown one are still read"
        );
    }

    #[test]
    fn duplicate_keys_are_reported_even_when_the_first_value_was_bad() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/a", paginate = "offset", paginate = offset, path = "/b")]
            struct A;
        };
        let (keys, errors) = parse(&input);
        assert_eq!(
            errors,
            [
                "write the pagination without quotes: `paginate = offset`",
                "duplicate key `paginate`: each key may be given only once",
                "duplicate key `path`: each key may be given only once",
            ]
        );
        assert_eq!(
            keys.path.unwrap().value.lit.value(),
            "/a",
            "the first value wins"
        );
    }

    #[test]
    fn bad_values_name_what_was_expected() {
        let input: DeriveInput = parse_quote! {
            #[resource(
                path = 42,
                method = "PUT",
                paginate = pages,
                page_size = "50",
                max_items = -1,
                kind = project,
                query(expand = lead),
            )]
            struct A;
        };
        let (_, errors) = parse(&input);
        assert_eq!(
            errors,
            [
                "expected a string literal, as in `path = \"...\"`",
                "unsupported method `PUT`; expected one of: \"GET\", \"POST\"",
                "unknown pagination `pages`; expected one of: `offset`, `skip_take`, `cursor`, `array`, `link_header`, `page_number`, `next_url`, `none`",
                "expected a non-negative integer literal, as in `page_size = 100`",
                "expected a non-negative integer literal, as in `max_items = 100`",
                "expected a string literal, as in `kind = \"...\"`",
                "expected a string, integer or boolean literal, as in `query(expand = \"lead\")`",
            ]
        );
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", page_size = 5000000000)]
            struct A;
        );
        assert_eq!(parse(&input).1, ["`page_size` must fit in a `u32`"]);
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", method = "post")]
            struct A;
        );
        assert_eq!(
            parse(&input).1,
            [
                "unsupported method `post` (write it in capitals: \"POST\"); expected one of: \"GET\", \"POST\""
            ]
        );
    }

    #[test]
    fn a_near_pagination_word_is_suggested() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", paginate = skiptake)]
            struct A;
        );
        let (_, errors) = parse(&input);
        assert_eq!(
            errors,
            [
                "unknown pagination `skiptake` (did you mean `skip_take`?); expected one of: `offset`, `skip_take`, `cursor`, `array`, `link_header`, `page_number`, `next_url`, `none`"
            ]
        );
    }

    #[test]
    fn malformed_placeholders_are_reported_each() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a/{}/b/{x-y}/{c")]
            struct A;
        );
        let (keys, errors) = parse(&input);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].starts_with("empty placeholder `{}`"));
        assert!(errors[1].starts_with("placeholder `{x-y}` is not an identifier"));
        assert!(errors[2].starts_with("unclosed `{`"));
        assert!(keys.path.is_some(), "the path is kept for the stubs");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let input: DeriveInput = parse_quote!(
            #[resource]
            struct A;
        );
        let (_, errors) = parse(&input);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("expected attribute arguments in parentheses"),
            "{}",
            errors[0]
        );

        let input: DeriveInput = parse_quote!(
            #[resource(path)]
            struct A;
        );
        let (_, errors) = parse(&input);
        assert_eq!(errors, ["expected `=`"]);
    }

    #[test]
    fn default_kind_is_the_snake_case_name() {
        let cx = Ctxt::new();
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            struct JiraProject;
        );
        assert_eq!(Container::from_ast(&cx, &input).kind(), "jira_project");
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", kind = "proj")]
            struct P;
        );
        assert_eq!(Container::from_ast(&cx, &input).kind(), "proj");
        cx.check().unwrap();
    }
}
