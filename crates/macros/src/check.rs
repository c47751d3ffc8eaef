//! Validation of the parsed model: the rules that relate keys to each other and to the type.
//!
//! Every rule reports a spanned error into the [`Ctxt`] and lets the others run, so one
//! compile shows every mistake.

use proc_macro2::Span;
use syn::GenericParam;

use crate::ctxt::Ctxt;
use crate::model::{Container, Keyed, Paginate, Shape};
use crate::symbol::{self, Symbol};

/// Runs every rule on `cont`.
pub fn check(cx: &Ctxt, cont: &Container<'_>) {
    check_shape(cx, cont);
    check_generics(cx, cont);
    check_required(cx, cont);
    check_values(cx, cont);
    check_pagination_keys(cx, cont);
    check_placeholders(cx, cont);
    check_params(cx, cont);
}

/// A resource is one item of a JSON list: a struct.
fn check_shape(cx: &Ctxt, cont: &Container<'_>) {
    let (span, what) = match cont.shape {
        Shape::Struct => return,
        Shape::Enum(span) => (span, "an enum"),
        Shape::Union(span) => (span, "a union"),
    };
    cx.error_at(
        span,
        format!(
            "#[derive(Resource)] only supports structs, and `{}` is {what}",
            cont.ident
        ),
    );
}

/// Items are decoded from each page and handed out owned: no borrowed fields.
fn check_generics(cx: &Ctxt, cont: &Container<'_>) {
    for param in &cont.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            cx.error_spanned_by(
                lifetime,
                format!(
                    "a resource cannot have a lifetime parameter: items are decoded into owned, \
                     `'static` values; remove `{}`",
                    lifetime.lifetime
                ),
            );
        }
    }
}

/// The attribute and its `path`.
fn check_required(cx: &Ctxt, cont: &Container<'_>) {
    match cont.attr {
        None => cx.error_at(
            cont.ident.span(),
            "#[derive(Resource)] needs a `#[resource(path = \"...\")]` attribute naming the \
             endpoint that lists this type",
        ),
        Some(attr) if !cont.keys.was_given(symbol::PATH) => cx.error_spanned_by(
            attr,
            "missing key `path` in `#[resource(...)]`, as in \
             `path = \"/rest/api/3/project/search\"`",
        ),
        Some(_) => {}
    }
}

/// Values that parse but make no sense.
fn check_values(cx: &Ctxt, cont: &Container<'_>) {
    let keys = &cont.keys;
    if let Some(kind) = &keys.kind
        && kind.value.value().is_empty()
    {
        cx.error_at(kind.span, "`kind` must not be empty");
    }
    if let Some(path) = &keys.path
        && path.value.lit.value().is_empty()
    {
        cx.error_at(path.span, "`path` must not be empty");
    }
    if let Some(size) = &keys.page_size
        && size.value == 0
    {
        cx.error_at(size.span, "`page_size` must be at least 1");
    }
    for (key, symbol) in [
        (&keys.start_param, symbol::START_PARAM),
        (&keys.limit_param, symbol::LIMIT_PARAM),
        (&keys.cursor_param, symbol::CURSOR_PARAM),
        (&keys.cursor_field, symbol::CURSOR_FIELD),
        (&keys.total, symbol::TOTAL),
        (&keys.is_last, symbol::IS_LAST),
        (&keys.last_page, symbol::LAST_PAGE),
        (&keys.next_link, symbol::NEXT_LINK),
        (&keys.id, symbol::ID),
    ] {
        if let Some(name) = key
            && name.value.value().is_empty()
        {
            cx.error_at(name.span, format!("`{symbol}` must not be empty"));
        }
    }
}

/// Renames that the chosen pagination would silently ignore.
fn check_pagination_keys(cx: &Ctxt, cont: &Container<'_>) {
    let keys = &cont.keys;
    let paginate = keys.paginate.as_ref().map_or(Paginate::None, |p| p.value);
    // Without a valid `paginate` its own error is enough; guessing would add noise.
    if keys.was_given(symbol::PAGINATE) && keys.paginate.is_none() {
        return;
    }
    let rules: [(Option<&Keyed<_>>, Symbol, &[Paginate]); 4] = [
        (
            keys.start_param.as_ref(),
            symbol::START_PARAM,
            &[
                Paginate::Offset,
                Paginate::SkipTake,
                Paginate::Array,
                Paginate::PageNumber,
            ],
        ),
        (
            keys.limit_param.as_ref(),
            symbol::LIMIT_PARAM,
            &[
                Paginate::Offset,
                Paginate::SkipTake,
                Paginate::Cursor,
                Paginate::Array,
                Paginate::LinkHeader,
                Paginate::PageNumber,
                Paginate::NextUrl,
            ],
        ),
        (
            keys.cursor_param.as_ref(),
            symbol::CURSOR_PARAM,
            &[Paginate::Cursor],
        ),
        (
            keys.cursor_field.as_ref(),
            symbol::CURSOR_FIELD,
            &[Paginate::Cursor, Paginate::NextUrl],
        ),
    ];
    for (key, symbol, applies_to) in rules {
        let Some(key) = key else { continue };
        if applies_to.contains(&paginate) {
            continue;
        }
        let wanted: Vec<String> = applies_to
            .iter()
            .map(|p| format!("`paginate = {}`", p.symbol()))
            .collect();
        let actual = match &keys.paginate {
            Some(p) => format!("this resource has `paginate = {}`", p.value.symbol()),
            None => "this resource has no `paginate` (none)".to_owned(),
        };
        cx.error_at(
            key.key.span(),
            format!(
                "`{symbol}` only applies to {}, but {actual}",
                or_list(&wanted)
            ),
        );
    }
}

/// Every placeholder must become a distinct parameter of the generated functions.
fn check_placeholders(cx: &Ctxt, cont: &Container<'_>) {
    let Some(path) = &cont.keys.path else { return };
    let placeholders = &path.value.placeholders;
    for (i, placeholder) in placeholders.iter().enumerate() {
        let name = &placeholder.name;
        if placeholder.param_ident(Span::call_site()).is_none() {
            cx.error_at(
                path.span,
                format!(
                    "placeholder `{{{name}}}` cannot be the name of a Rust parameter; rename it"
                ),
            );
        } else if placeholder.param == symbol::CLIENT.0 {
            cx.error_at(
                path.span,
                format!(
                    "placeholder `{{{name}}}` would clash with the `client` parameter of the \
                     generated functions; rename it"
                ),
            );
        } else if let Some(other) = placeholders[..i]
            .iter()
            .find(|p| p.param == placeholder.param)
        {
            cx.error_at(
                path.span,
                format!(
                    "placeholders `{{{}}}` and `{{{name}}}` would both become the parameter `{}`; \
                     rename one",
                    other.name, placeholder.param
                ),
            );
        }
    }
}

/// `param(name = Type)` must name a placeholder of the path, once.
fn check_params(cx: &Ctxt, cont: &Container<'_>) {
    let keys = &cont.keys;
    // With no (valid) path there is nothing to compare with; the path has its own error.
    let Some(path) = &keys.path else { return };
    let placeholders = &path.value.placeholders;
    let mut typed: Vec<&str> = Vec::new();
    for param in &keys.params {
        let name = param.name.to_string();
        let Some(placeholder) = placeholders
            .iter()
            .find(|p| p.name == name || p.param == name)
        else {
            let has = if placeholders.is_empty() {
                "the path has no placeholders".to_owned()
            } else {
                let names: Vec<String> = placeholders
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                format!("the path has: {}", names.join(", "))
            };
            cx.error_at(
                param.name.span(),
                format!("unknown placeholder `{name}`; {has}"),
            );
            continue;
        };
        if typed.contains(&placeholder.name.as_str()) {
            cx.error_at(
                param.name.span(),
                format!(
                    "duplicate `param` for placeholder `{{{}}}`",
                    placeholder.name
                ),
            );
        }
        typed.push(&placeholder.name);
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use syn::{DeriveInput, parse_quote};

    use crate::messages;

    #[test]
    fn a_complete_resource_passes() {
        let input: DeriveInput = parse_quote! {
            #[resource(
                path = "/rest/agile/1.0/board/{boardId}/sprint/{sprint_id}",
                items = "values",
                paginate = offset,
                start_param = "startAt",
                limit_param = "maxResults",
                param(board_id = u64, sprint_id = u64),
            )]
            pub struct Sprint { id: u64 }
        };
        assert_eq!(messages(&input), Vec::<String>::new());
    }

    #[test]
    fn generic_structs_pass_and_lifetimes_do_not() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            struct Page<T: Clone>
            where
                T: Send,
            {
                items: Vec<T>,
            }
        );
        assert_eq!(messages(&input), Vec::<String>::new());
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            struct Borrowed<'a> {
                name: &'a str,
            }
        );
        assert_eq!(
            messages(&input),
            [
                "a resource cannot have a lifetime parameter: items are decoded into owned, `'static` values; remove `'a`"
            ]
        );
    }

    #[test]
    fn only_structs() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a")]
            enum Status {
                Open,
                Done,
            }
        );
        assert_eq!(
            messages(&input),
            ["#[derive(Resource)] only supports structs, and `Status` is an enum"]
        );
        let input: DeriveInput = parse_quote!(#[resource(path = "/a")] union U { a: u32 });
        assert_eq!(
            messages(&input),
            ["#[derive(Resource)] only supports structs, and `U` is a union"]
        );
    }

    #[test]
    fn the_attribute_and_its_path_are_required() {
        let input: DeriveInput = parse_quote!(
            struct A;
        );
        assert_eq!(
            messages(&input),
            [
                "#[derive(Resource)] needs a `#[resource(path = \"...\")]` attribute naming the endpoint that lists this type"
            ]
        );
        let input: DeriveInput = parse_quote!(
            #[resource(items = "values")]
            struct A;
        );
        assert_eq!(
            messages(&input),
            [
                "missing key `path` in `#[resource(...)]`, as in `path = \"/rest/api/3/project/search\"`"
            ]
        );
        // A path with a bad value is not also "missing".
        let input: DeriveInput = parse_quote!(
            #[resource(path = 1)]
            struct A;
        );
        assert_eq!(
            messages(&input),
            ["expected a string literal, as in `path = \"...\"`"]
        );
    }

    #[test]
    fn empty_values() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "", kind = "", page_size = 0, id = "", paginate = cursor, cursor_field = "")]
            struct A;
        };
        assert_eq!(
            messages(&input),
            [
                "`kind` must not be empty",
                "`path` must not be empty",
                "`page_size` must be at least 1",
                "`cursor_field` must not be empty",
                "`id` must not be empty",
            ]
        );
    }

    #[test]
    fn pagination_keys_need_their_pagination() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/a", paginate = offset, cursor_param = "t", cursor_field = "n")]
            struct A;
        };
        assert_eq!(
            messages(&input),
            [
                "`cursor_param` only applies to `paginate = cursor`, but this resource has `paginate = offset`",
                "`cursor_field` only applies to `paginate = cursor` or `paginate = next_url`, but this resource has `paginate = offset`",
            ]
        );
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", start_param = "s", limit_param = "l")]
            struct A;
        );
        assert_eq!(
            messages(&input),
            [
                "`start_param` only applies to `paginate = offset`, `paginate = skip_take`, `paginate = array` or `paginate = page_number`, but this resource has no `paginate` (none)",
                "`limit_param` only applies to `paginate = offset`, `paginate = skip_take`, `paginate = cursor`, `paginate = array`, `paginate = link_header`, `paginate = page_number` or `paginate = next_url`, but this resource has no `paginate` (none)",
            ]
        );
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", paginate = cursor, start_param = "s", limit_param = "l")]
            struct A;
        );
        assert_eq!(messages(&input).len(), 1, "limit_param applies to cursor");
        // A bad `paginate` is reported alone.
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", paginate = curser, cursor_param = "t")]
            struct A;
        );
        assert_eq!(messages(&input).len(), 1);
    }

    #[test]
    fn params_must_name_a_placeholder_once() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/board/{boardId}/x/{id}", param(board = u64, boardId = u64, board_id = u32))]
            struct A;
        };
        assert_eq!(
            messages(&input),
            [
                "unknown placeholder `board`; the path has: `boardId`, `id`",
                "duplicate `param` for placeholder `{boardId}`",
            ]
        );
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/a", param(id = u64))]
            struct A;
        );
        assert_eq!(
            messages(&input),
            ["unknown placeholder `id`; the path has no placeholders"]
        );
    }

    #[test]
    fn keyword_placeholders_can_be_typed() {
        let input: DeriveInput = parse_quote! {
            #[resource(path = "/{type}/{match}", param(type = u32, r#match = u8))]
            struct A;
        };
        assert_eq!(messages(&input), Vec::<String>::new());
    }

    #[test]
    fn placeholders_must_make_distinct_usable_parameters() {
        let input: DeriveInput = parse_quote!(
            #[resource(path = "/{client}/{self}/{boardId}/{board_id}/{type}")]
            struct A;
        );
        assert_eq!(
            messages(&input),
            [
                "placeholder `{client}` would clash with the `client` parameter of the generated functions; rename it",
                "placeholder `{self}` cannot be the name of a Rust parameter; rename it",
                "placeholders `{boardId}` and `{board_id}` would both become the parameter `board_id`; rename one",
            ]
        );
    }

    #[test]
    fn several_errors_are_reported_together() {
        let input: DeriveInput = parse_quote! {
            #[resource(pth = "/a", paginate = pages, method = "PATCH", param(x = u8))]
            enum A {}
        };
        let messages = messages(&input);
        assert_eq!(messages.len(), 5, "{messages:#?}");
        assert!(messages[0].starts_with("unknown key `pth`"));
        assert!(messages[1].starts_with("unknown pagination `pages`"));
        assert!(messages[2].starts_with("unsupported method `PATCH`"));
        assert!(messages[3].starts_with("#[derive(Resource)] only supports structs"));
        assert!(messages[4].starts_with("missing key `path`"));
    }
}
