//! The `{placeholders}` of a path template such as `/rest/agile/1.0/board/{board_id}/sprint`.
//!
//! Syntax only: whether a placeholder can become a parameter of the generated functions is
//! `check`'s business.

use std::fmt;

use proc_macro2::Span;
use syn::Ident;

use crate::case::snake_case;

/// One `{name}` of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The name between the braces, as written (`issueIdOrKey`): what `path_param` fills.
    pub name: String,
    /// The name of the Rust parameter that fills it: the name in snake_case
    /// (`issue_id_or_key`), so that generated signatures read like Rust.
    pub param: String,
}

impl Placeholder {
    /// The generated parameter, `r#`-prefixed when it is a keyword (`{type}` → `r#type`);
    /// `None` for the words that cannot be parameters at all (`self`, `super`, `crate`).
    pub fn param_ident(&self, span: Span) -> Option<Ident> {
        match self.param.as_str() {
            "self" | "super" | "crate" => None,
            name if syn::parse_str::<Ident>(name).is_ok() => Some(Ident::new(name, span)),
            name => Some(Ident::new_raw(name, span)),
        }
    }
}

/// What is wrong with a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{}`.
    Empty { offset: usize },
    /// A `{` with no `}` after it.
    Unclosed { offset: usize },
    /// A `}` with no `{` before it.
    Unopened { offset: usize },
    /// `{board-id}`: the name cannot become a Rust parameter.
    NotIdentifier { name: String },
    /// `{id}` twice.
    Repeated { name: String },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { offset } => write!(
                f,
                "empty placeholder `{{}}` at byte {offset} of the path; name it, as in `{{board_id}}`"
            ),
            Self::Unclosed { offset } => write!(
                f,
                "unclosed `{{` at byte {offset} of the path; placeholders are written `{{name}}`"
            ),
            Self::Unopened { offset } => write!(
                f,
                "unmatched `}}` at byte {offset} of the path; placeholders are written `{{name}}`"
            ),
            Self::NotIdentifier { name } => write!(
                f,
                "placeholder `{{{name}}}` is not an identifier: use ASCII letters, digits and `_`, \
                 not starting with a digit"
            ),
            Self::Repeated { name } => write!(
                f,
                "placeholder `{{{name}}}` appears more than once in the path; \
                 each placeholder is filled by its own parameter"
            ),
        }
    }
}

/// The placeholders of `template` in order, and every mistake in it.
pub fn parse(template: &str) -> (Vec<Placeholder>, Vec<TemplateError>) {
    let mut placeholders: Vec<Placeholder> = Vec::new();
    let mut errors = Vec::new();
    // Braces are ASCII, so byte offsets from `find` always fall on char boundaries.
    let mut at = 0;
    while let Some(found) = template[at..].find(['{', '}']) {
        let offset = at + found;
        if template[offset..].starts_with('}') {
            errors.push(TemplateError::Unopened { offset });
            at = offset + 1;
            continue;
        }
        let start = offset + 1;
        let Some(len) = template[start..].find(['{', '}']) else {
            errors.push(TemplateError::Unclosed { offset });
            break;
        };
        let end = start + len;
        if template[end..].starts_with('{') {
            // `{a{b}`: this brace is unclosed; the next one may open a good placeholder.
            errors.push(TemplateError::Unclosed { offset });
            at = end;
            continue;
        }
        let name = &template[start..end];
        if name.is_empty() {
            errors.push(TemplateError::Empty { offset });
        } else if !is_identifier(name) {
            errors.push(TemplateError::NotIdentifier {
                name: name.to_owned(),
            });
        } else if placeholders.iter().any(|p| p.name == name) {
            errors.push(TemplateError::Repeated {
                name: name.to_owned(),
            });
        } else {
            placeholders.push(Placeholder {
                name: name.to_owned(),
                param: snake_case(name),
            });
        }
        at = end + 1;
    }
    (placeholders, errors)
}

/// ASCII letters, digits and `_`, not starting with a digit, and not `_` alone.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(template: &str) -> Vec<String> {
        let (placeholders, errors) = parse(template);
        assert_eq!(errors, [], "{template}");
        placeholders.into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn finds_placeholders_in_order() {
        assert_eq!(names("/rest/api/3/project/search"), Vec::<String>::new());
        assert_eq!(names("/board/{board_id}/sprint"), ["board_id"]);
        assert_eq!(names("/a/{x}/b/{y}{z}"), ["x", "y", "z"]);
        assert_eq!(names("/{_private}/{a1}"), ["_private", "a1"]);
        assert_eq!(names("/ünïcode/{id}"), ["id"]);
    }

    #[test]
    fn parameters_are_snake_case() {
        let (placeholders, _) = parse("/issue/{issueIdOrKey}/comment/{id}");
        let params: Vec<_> = placeholders.iter().map(|p| p.param.as_str()).collect();
        assert_eq!(params, ["issue_id_or_key", "id"]);
    }

    #[test]
    fn keyword_parameters_are_raw() {
        let (placeholders, _) = parse("/{type}/{self}/{Self}/{id}");
        let idents: Vec<_> = placeholders
            .iter()
            .map(|p| p.param_ident(Span::call_site()).map(|i| i.to_string()))
            .collect();
        assert_eq!(
            idents,
            [Some("r#type".into()), None, None, Some("id".into())]
        );
    }

    #[test]
    fn reports_every_malformed_placeholder() {
        let (placeholders, errors) = parse("/a/{}/b/{board-id}/c/{1st}/d}/{ok}/{open");
        assert_eq!(placeholders.len(), 1);
        assert_eq!(placeholders[0].name, "ok");
        assert_eq!(
            errors,
            [
                TemplateError::Empty { offset: 3 },
                TemplateError::NotIdentifier {
                    name: "board-id".into()
                },
                TemplateError::NotIdentifier { name: "1st".into() },
                TemplateError::Unopened { offset: 28 },
                TemplateError::Unclosed { offset: 35 },
            ]
        );
    }

    #[test]
    fn an_unclosed_brace_does_not_hide_the_next_placeholder() {
        let (placeholders, errors) = parse("/a/{b/{c}");
        assert_eq!(errors, [TemplateError::Unclosed { offset: 3 }]);
        assert_eq!(placeholders[0].name, "c");
    }

    #[test]
    fn repeated_and_underscore_placeholders_are_errors() {
        let (_, errors) = parse("/{id}/{id}/{_}");
        assert_eq!(
            errors,
            [
                TemplateError::Repeated { name: "id".into() },
                TemplateError::NotIdentifier { name: "_".into() },
            ]
        );
    }

    #[test]
    fn messages_show_the_placeholder() {
        let message = TemplateError::NotIdentifier {
            name: "board-id".into(),
        }
        .to_string();
        assert!(
            message.starts_with("placeholder `{board-id}` is not an identifier"),
            "{message}"
        );
        let message = TemplateError::Empty { offset: 3 }.to_string();
        assert!(
            message.starts_with("empty placeholder `{}` at byte 3"),
            "{message}"
        );
    }
}
