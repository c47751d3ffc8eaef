//! Code generation from a checked model.
//!
//! The generated code only calls ocean-core's public builders (`Endpoint`, `Pagination`,
//! `ListRequest`), by absolute path, so it compiles whatever the user imported and never
//! holds pagination logic of its own.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Generics, Ident, Type};

use crate::model::{Container, Method, Paginate};
use crate::path_template::Placeholder;

/// What the generated bodies do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// The real thing.
    Real,
    /// `unreachable!()`: the signatures only, next to a compile error (see `fallback`).
    Stub,
}

/// The `Resource` impl and the inherent list functions.
pub fn expand(cont: &Container<'_>, bodies: Bodies) -> TokenStream {
    let resource_impl = resource_impl(cont, bodies);
    let inherent_impl = inherent_impl(cont, bodies);
    quote! {
        #resource_impl
        #inherent_impl
    }
}

/// `impl ::ocean_core::Resource for T`.
fn resource_impl(cont: &Container<'_>, bodies: Bodies) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.generics.split_for_impl();
    let kind = cont.kind();
    let endpoint = match bodies {
        Bodies::Real => endpoint(cont, &kind),
        Bodies::Stub => quote!(::core::unreachable!("#[derive(Resource)] failed to expand")),
    };
    let id_field = cont.keys.id.as_ref().map(|id| {
        let id = &id.value;
        quote!(const ID_FIELD: ::core::option::Option<&'static str> = ::core::option::Option::Some(#id);)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ocean_core::Resource for #ident #ty_generics #where_clause {
            const KIND: &'static str = #kind;

            fn endpoint() -> ::ocean_core::Endpoint {
                #endpoint
            }

            #id_field
        }
    }
}

/// `::ocean_core::Endpoint::new(kind, path).items(..).paginate(..)…`: one builder call per key.
fn endpoint(cont: &Container<'_>, kind: &str) -> TokenStream {
    let keys = &cont.keys;
    let path = keys
        .path
        .as_ref()
        .map(|p| p.value.lit.value())
        .unwrap_or_default();
    let mut calls = Vec::new();
    if let Some(method) = &keys.method {
        let method = Ident::new(method.value.as_str(), method.span);
        calls.push(quote!(.method(::ocean_core::reqwest::Method::#method)));
    }
    if let Some(items) = &keys.items {
        let items = &items.value;
        calls.push(quote!(.items(#items)));
    }
    if let Some(paginate) = &keys.paginate {
        let mut pagination = match paginate.value {
            Paginate::None => quote!(::ocean_core::Pagination::None),
            Paginate::Offset => quote!(::ocean_core::Pagination::offset()),
            Paginate::SkipTake => quote!(::ocean_core::Pagination::skip_take()),
            Paginate::Cursor => quote!(::ocean_core::Pagination::cursor()),
            Paginate::Array => quote!(::ocean_core::Pagination::array()),
            Paginate::LinkHeader => quote!(::ocean_core::Pagination::link_header()),
            Paginate::PageNumber => quote!(::ocean_core::Pagination::page_number()),
            Paginate::NextUrl => quote!(::ocean_core::Pagination::next_url("next")),
        };
        for (rename, method) in [
            (&keys.start_param, "start_param"),
            (&keys.limit_param, "limit_param"),
            (&keys.cursor_param, "cursor_param"),
            (&keys.cursor_field, "cursor_field"),
        ] {
            if let Some(rename) = rename {
                let method = format_ident!("{method}");
                let name = &rename.value;
                pagination.extend(quote!(.#method(#name)));
            }
        }
        calls.push(quote!(.paginate(#pagination)));
    }
    for (field, method) in [
        (&keys.total, "total_field"),
        (&keys.is_last, "is_last_field"),
        (&keys.last_page, "last_page_field"),
        (&keys.next_link, "next_link_field"),
    ] {
        if let Some(field) = field {
            let method = format_ident!("{method}");
            let name = &field.value;
            calls.push(quote!(.#method(#name)));
        }
    }
    if let Some(size) = &keys.page_size {
        let size = size.value;
        calls.push(quote!(.page_size(#size)));
    }
    if let Some(max) = &keys.max_items {
        let max = max.value;
        calls.push(quote!(.max_items(#max)));
    }
    for pair in &keys.query {
        let (name, value) = (&pair.name, &pair.value);
        calls.push(quote!(.query(#name, #value)));
    }
    if let Some(id) = &keys.id {
        let id = &id.value;
        calls.push(quote!(.id_field(#id)));
    }
    quote! {
        ::ocean_core::Endpoint::new(#kind, #path) #(#calls)*
    }
}

/// One generated parameter: the placeholder it fills, its name and its type.
struct Param<'a> {
    placeholder: &'a Placeholder,
    ident: Ident,
    ty: ParamType<'a>,
}

enum ParamType<'a> {
    /// Declared with `param(name = Type)`.
    Declared(&'a Type),
    /// `impl ::core::fmt::Display`.
    Display,
}

impl Param<'_> {
    fn declaration(&self) -> TokenStream {
        let ident = &self.ident;
        match self.ty {
            ParamType::Declared(ty) => quote!(#ident: #ty),
            ParamType::Display => quote!(#ident: impl ::core::fmt::Display),
        }
    }

    /// `.path_param("name", name)`, spanned on the declared type so that a type that is not
    /// `Display` is reported there.
    fn fill(&self) -> TokenStream {
        let name = &self.placeholder.name;
        let span = match self.ty {
            ParamType::Declared(ty) => ty.span(),
            ParamType::Display => Span::call_site(),
        };
        let mut ident = self.ident.clone();
        ident.set_span(span);
        quote_spanned!(span=> .path_param(#name, #ident))
    }
}

/// The parameters of the generated functions, in path order. Placeholders that cannot be
/// parameters were reported by `check`; they are skipped here so that the stub of
/// `fallback` still compiles.
fn params<'a>(cont: &'a Container<'_>) -> Vec<Param<'a>> {
    let Some(path) = &cont.keys.path else {
        return Vec::new();
    };
    let mut params: Vec<Param<'a>> = Vec::new();
    for placeholder in &path.value.placeholders {
        let Some(ident) = placeholder.param_ident(Span::call_site()) else {
            continue;
        };
        let taken = ident == crate::symbol::CLIENT
            || params
                .iter()
                .any(|p| p.placeholder.param == placeholder.param);
        if taken {
            continue;
        }
        let declared = cont.keys.params.iter().find(|p| {
            let name = p.name.to_string();
            name == placeholder.name || name == placeholder.param
        });
        let ty = declared.map_or(ParamType::Display, |p| ParamType::Declared(&p.ty));
        params.push(Param {
            placeholder,
            ident,
            ty,
        });
    }
    params
}

/// `impl T { fn list; fn stream; fn pages; fn fetch_all }`.
fn inherent_impl(cont: &Container<'_>, bodies: Bodies) -> TokenStream {
    let ident = cont.ident;
    let vis = cont.vis;
    let generics = with_resource_bound(cont.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let params = params(cont);
    let declarations: Vec<TokenStream> = params.iter().map(Param::declaration).collect();
    let args: Vec<&Ident> = params.iter().map(|p| &p.ident).collect();
    let list_body = match bodies {
        Bodies::Real => {
            let fills = params.iter().map(Param::fill);
            quote! {
                ::ocean_core::ListRequest::<Self>::new(
                    client,
                    <Self as ::ocean_core::Resource>::endpoint(),
                )
                #(#fills)*
            }
        }
        Bodies::Stub => quote! {
            let _ = (client, #(#args,)*);
            ::core::unreachable!("#[derive(Resource)] failed to expand")
        },
    };
    let docs = Docs::new(cont, &params);
    let (list_doc, stream_doc, pages_doc, fetch_all_doc) =
        (docs.list(), docs.stream(), docs.pages(), docs.fetch_all());
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #impl_generics #ident #ty_generics #where_clause {
            #[doc = #list_doc]
            #vis fn list(
                client: &::ocean_core::Client,
                #(#declarations,)*
            ) -> ::ocean_core::ListRequest<Self> {
                #list_body
            }

            #[doc = #stream_doc]
            #vis fn stream(
                client: &::ocean_core::Client,
                #(#declarations,)*
            ) -> impl ::ocean_core::futures::Stream<Item = ::ocean_core::Result<Self>>
                + ::core::marker::Send
                + 'static {
                Self::list(client, #(#args,)*).stream()
            }

            #[doc = #pages_doc]
            #vis fn pages(
                client: &::ocean_core::Client,
                #(#declarations,)*
            ) -> impl ::ocean_core::futures::Stream<
                Item = ::ocean_core::Result<::std::vec::Vec<Self>>,
            > + ::core::marker::Send
                + 'static {
                Self::list(client, #(#args,)*).pages()
            }

            #[doc = #fetch_all_doc]
            #vis fn fetch_all(
                client: &::ocean_core::Client,
                #(#declarations,)*
            ) -> impl ::core::future::Future<
                Output = ::ocean_core::Result<::std::vec::Vec<Self>>,
            > + ::core::marker::Send
                + 'static {
                Self::list(client, #(#args,)*).fetch_all()
            }
        }
    }
}

/// The generics of the inherent impl: a generic resource gets `where Self: Resource`, which
/// brings the `DeserializeOwned + Send + 'static` that streaming needs.
fn with_resource_bound(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    if !generics.params.is_empty() {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(Self: ::ocean_core::Resource));
    }
    generics
}

/// The rustdoc of the generated functions, so that `#![warn(missing_docs)]` crates stay clean.
struct Docs {
    /// `` `project` ``.
    kind: String,
    /// `` `GET /rest/api/3/project/search` ``.
    route: String,
    /// `, paging with `startAt`/`maxResults``.
    paging: String,
    /// The paragraph about the parameters, or `""`.
    params: String,
}

impl Docs {
    fn new(cont: &Container<'_>, params: &[Param<'_>]) -> Self {
        let keys = &cont.keys;
        let method = keys.method.as_ref().map_or(Method::Get, |m| m.value);
        let path = keys
            .path
            .as_ref()
            .map(|p| p.value.lit.value())
            .unwrap_or_default();
        let rename = |key: &Option<crate::model::Keyed<syn::LitStr>>, default: &str| {
            key.as_ref()
                .map_or_else(|| default.to_owned(), |k| k.value.value())
        };
        let start = |default| rename(&keys.start_param, default);
        let limit = |default| rename(&keys.limit_param, default);
        let paging = match keys.paginate.as_ref().map_or(Paginate::None, |p| p.value) {
            Paginate::None => " in one request".to_owned(),
            Paginate::Offset => {
                format!(
                    ", paging with `{}`/`{}`",
                    start("startAt"),
                    limit("maxResults")
                )
            }
            Paginate::SkipTake => format!(", paging with `{}`/`{}`", start("skip"), limit("take")),
            Paginate::Cursor => format!(
                ", following the `{}` cursor",
                rename(&keys.cursor_field, "nextPageToken")
            ),
            Paginate::Array => format!(
                ", paging with `{}`/`{}` until an empty page",
                start("startAt"),
                limit("maxResults")
            ),
            Paginate::LinkHeader => format!(
                ", following `Link: <…>; rel=\"next\"` headers (`{}` sized)",
                limit("per_page")
            ),
            Paginate::PageNumber => format!(
                ", paging with `{}` (from 1)/`{}` until a short or empty page",
                start("page"),
                limit("per_page")
            ),
            Paginate::NextUrl => format!(
                ", following the next URL at `{}`",
                rename(&keys.cursor_field, "next")
            ),
        };
        let params = match params {
            [] => String::new(),
            params => {
                let fills: Vec<String> = params
                    .iter()
                    .map(|p| format!("`{}` fills `{{{}}}`", p.ident.unraw(), p.placeholder.name))
                    .collect();
                format!("\n\nThe arguments fill the path: {}.", fills.join(", "))
            }
        };
        Self {
            kind: format!("`{}`", cont.kind()),
            route: format!("`{} {path}`", method.as_str()),
            paging,
            params,
        }
    }

    fn list(&self) -> String {
        let Self {
            kind,
            route,
            paging,
            params,
        } = self;
        format!(
            "A request for every {kind} from {route}{paging}.\n\n\
             Add runtime parameters (`query`, `body`, `page_size`, `max_items`) to the \
             returned `ListRequest`, then call `stream`, `pages` or `fetch_all` on it.{params}"
        )
    }

    fn stream(&self) -> String {
        let Self {
            kind,
            route,
            paging,
            params,
        } = self;
        format!("Streams every {kind} from {route}{paging}, one item at a time.{params}")
    }

    fn pages(&self) -> String {
        let Self {
            kind,
            route,
            paging,
            params,
        } = self;
        format!(
            "Streams the pages of {kind} items from {route}{paging}, one `Vec` per page.{params}"
        )
    }

    fn fetch_all(&self) -> String {
        let Self {
            kind,
            route,
            paging,
            params,
        } = self;
        format!(
            "Fetches every {kind} from {route}{paging} into one `Vec`.\n\n\
             The returned future owns its arguments: it is `Send + 'static` and can be \
             spawned.{params}"
        )
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::{DeriveInput, parse_quote};

    use crate::derive;

    /// `derive(input)` as a string, and whether it holds `fragment` (both token-normalised).
    fn contains(input: &DeriveInput, fragment: TokenStream) -> bool {
        let output = derive(input).to_string();
        let fragment = fragment.to_string();
        output.contains(&fragment) || panic!("missing:\n  {fragment}\nin:\n  {output}")
    }

    #[test]
    fn endpoint_has_one_builder_call_per_key() {
        let input: DeriveInput = parse_quote! {
            #[resource(
                path = "/rest/api/3/search/jql", method = "POST", items = "issues",
                paginate = cursor, cursor_param = "token", cursor_field = "next",
                limit_param = "max", page_size = 100, max_items = 5000,
                query(fields = "*all", expand = "names"), id = "key",
            )]
            struct Issue;
        };
        assert!(contains(
            &input,
            quote! {
                const KIND: &'static str = "issue";
                fn endpoint() -> ::ocean_core::Endpoint {
                    ::ocean_core::Endpoint::new("issue", "/rest/api/3/search/jql")
                        .method(::ocean_core::reqwest::Method::POST)
                        .items("issues")
                        .paginate(::ocean_core::Pagination::cursor()
                            .limit_param("max")
                            .cursor_param("token")
                            .cursor_field("next"))
                        .page_size(100u32)
                        .max_items(5000u64)
                        .query("fields", "*all")
                        .query("expand", "names")
                        .id_field("key")
                }
            }
        ));
    }

    #[test]
    fn a_declared_id_is_also_a_constant() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/issues", id = "key")]
            struct Issue;
        );
        assert!(contains(
            &input,
            quote!(
                const ID_FIELD: ::core::option::Option<&'static str> =
                    ::core::option::Option::Some("key");
            )
        ));
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/users")]
            struct User;
        );
        assert!(!derive(&input).to_string().contains("ID_FIELD"));
    }

    #[test]
    fn a_minimal_endpoint_relies_on_the_builder_defaults() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/users")]
            struct User;
        );
        assert!(contains(
            &input,
            quote!(
                fn endpoint() -> ::ocean_core::Endpoint {
                    ::ocean_core::Endpoint::new("user", "/users")
                }
            ),
        ));
    }

    #[test]
    fn placeholders_become_parameters_in_path_order() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/board/{boardId}/x/{type}", param(board_id = u64))]
            pub(crate) struct Sprint;
        };
        assert!(contains(
            &input,
            quote! {
                pub(crate) fn list(
                    client: &::ocean_core::Client,
                    board_id: u64,
                    r#type: impl ::core::fmt::Display,
                ) -> ::ocean_core::ListRequest<Self> {
                    ::ocean_core::ListRequest::<Self>::new(
                        client,
                        <Self as ::ocean_core::Resource>::endpoint(),
                    )
                    .path_param("boardId", board_id)
                    .path_param("type", r#type)
                }
            }
        ));
        assert!(contains(
            &input,
            quote!(Self::list(client, board_id, r#type,).stream())
        ));
        assert!(contains(
            &input,
            quote!(Self::list(client, board_id, r#type,).pages())
        ));
        assert!(contains(
            &input,
            quote!(Self::list(client, board_id, r#type,).fetch_all())
        ));
    }

    #[test]
    fn functions_are_documented() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/board/{board_id}/sprint", items = "values", paginate = offset, start_param = "s")]
            pub struct Sprint;
        };
        let doc = "Streams every `sprint` from `GET /board/{board_id}/sprint`, paging with `s`/`maxResults`, \
                   one item at a time.\n\nThe arguments fill the path: `board_id` fills `{board_id}`.";
        assert!(contains(&input, quote!(#[doc = #doc] pub fn stream)));
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/q", method = "POST", paginate = cursor)]
            struct Issue;
        );
        let doc = "Fetches every `issue` from `POST /q`, following the `nextPageToken` cursor into one `Vec`.";
        let output = derive(&input).to_string();
        assert!(output.contains(doc), "{output}");
    }

    #[test]
    fn generic_structs_keep_their_bounds() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            pub struct Page<T: Clone>
            where
                T: Send,
            {
                items: Vec<T>,
            }
        );
        assert!(contains(
            &input,
            quote!(impl<T: Clone> ::ocean_core::Resource for Page<T> where T: Send)
        ));
        assert!(contains(
            &input,
            quote!(impl<T: Clone> Page<T> where T: Send, Self: ::ocean_core::Resource)
        ));
    }

    #[test]
    fn the_fallback_emits_the_errors_and_stubs() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/board/{board_id}/{}", paginate = pages)]
            pub struct Sprint;
        };
        let output = derive(&input).to_string();
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
        assert!(contains(
            &input,
            quote! {
                fn endpoint() -> ::ocean_core::Endpoint {
                    ::core::unreachable!("#[derive(Resource)] failed to expand")
                }
            }
        ));
        assert!(contains(
            &input,
            quote! {
                pub fn list(
                    client: &::ocean_core::Client,
                    board_id: impl ::core::fmt::Display,
                ) -> ::ocean_core::ListRequest<Self> {
                    let _ = (client, board_id,);
                    ::core::unreachable!("#[derive(Resource)] failed to expand")
                }
            }
        ));
        // The stubs skip placeholders that cannot be parameters, so that they compile.
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/{client}/{id}/{Id}")]
            struct A;
        );
        assert!(contains(&input, quote!(let _ = (client, id,);)));
    }

    #[test]
    fn no_stubs_for_a_borrowing_type() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            struct A<'a>(&'a str);
        );
        let output = derive(&input).to_string();
        assert!(
            output.contains("compile_error") && !output.contains("impl"),
            "{output}"
        );
    }
}
