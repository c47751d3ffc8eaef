//! Reading a JSON body by path, so that every error says where the body was wrong.

use serde_json::Value;

/// A body that cannot be read as what it claims to be. Every variant names the JSON
/// path (`issue.key`, `Payload.Event.RelatedDocumentIds[2]`; `.` is the body itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is not JSON.
    #[error("the webhook body is not JSON: {message}")]
    Syntax {
        /// What the parser said, with line and column.
        message: String,
    },
    /// A field the reader needs is absent, null or empty.
    #[error("the webhook body has no `{path}`")]
    Missing {
        /// Where the field should be.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("`{path}` in the webhook body is {found}, expected {expected}")]
    WrongType {
        /// Where the field is.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
}

impl BodyError {
    /// The JSON path the error is about (`.` for the body itself).
    pub fn path(&self) -> &str {
        match self {
            Self::Syntax { .. } => ".",
            Self::Missing { path } | Self::WrongType { path, .. } => path,
        }
    }
}

impl From<BodyError> for crate::webhook::ParseError {
    fn from(e: BodyError) -> Self {
        Self {
            path: e.path().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Parses a body that must be a JSON object.
pub fn parse_object(body: &[u8]) -> Result<Value, BodyError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BodyError::Syntax {
        message: e.to_string(),
    })?;
    match value {
        Value::Object(_) => Ok(value),
        other => Err(wrong_type(".", "an object", &other)),
    }
}

/// A JSON value and where it sits in its document.
///
/// Paths are dotted (`issue.fields.summary`); absent and `null` read the same.
///
/// ```
/// use ocean_core::webhook::{BodyError, JsonNode, parse_object};
/// let body = parse_object(br#"{"issue":{"id":10042,"key":"OPS-1"},"ids":["a",7]}"#).unwrap();
/// let root = JsonNode::root(&body);
/// assert_eq!(root.id("issue.id").unwrap(), "10042");
/// assert_eq!(root.str("issue.key").unwrap(), "OPS-1");
/// assert_eq!(root.opt_str("issue.self").unwrap(), None);
/// assert_eq!(root.str_array("ids").unwrap_err().path(), "ids[1]");
/// assert!(matches!(root.str("user.name"), Err(BodyError::Missing { path }) if path == "user.name"));
/// ```
#[derive(Debug, Clone)]
pub struct JsonNode<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> JsonNode<'a> {
    /// The document root.
    pub fn root(value: &'a Value) -> Self {
        Self {
            value,
            path: String::new(),
        }
    }

    /// The value itself.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// Where this value sits (`.` for the root).
    pub fn path(&self) -> &str {
        if self.path.is_empty() {
            "."
        } else {
            &self.path
        }
    }

    /// The node at a dotted path below this one; `None` when absent or null. Fails when
    /// a step on the way is not an object.
    pub fn lookup(&self, dotted: &str) -> Result<Option<JsonNode<'a>>, BodyError> {
        let mut node = self.clone();
        for step in dotted.split('.') {
            let Value::Object(map) = node.value else {
                return Err(wrong_type(node.path(), "an object", node.value));
            };
            let path = if node.path.is_empty() {
                step.to_owned()
            } else {
                format!("{}.{step}", node.path)
            };
            match map.get(step) {
                None | Some(Value::Null) => return Ok(None),
                Some(value) => node = JsonNode { value, path },
            }
        }
        Ok(Some(node))
    }

    /// The object at `dotted`, which must be there.
    pub fn object(&self, dotted: &str) -> Result<JsonNode<'a>, BodyError> {
        self.opt_object(dotted)?.ok_or_else(|| self.missing(dotted))
    }

    /// The object at `dotted`, if any.
    pub fn opt_object(&self, dotted: &str) -> Result<Option<JsonNode<'a>>, BodyError> {
        match self.lookup(dotted)? {
            Some(node) if node.value.is_object() => Ok(Some(node)),
            Some(node) => Err(wrong_type(&node.path, "an object", node.value)),
            None => Ok(None),
        }
    }

    /// The non-empty string at `dotted`.
    pub fn str(&self, dotted: &str) -> Result<String, BodyError> {
        self.opt_str(dotted)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.missing(dotted))
    }

    /// The string at `dotted`, if any.
    pub fn opt_str(&self, dotted: &str) -> Result<Option<String>, BodyError> {
        match self.lookup(dotted)? {
            Some(JsonNode {
                value: Value::String(s),
                ..
            }) => Ok(Some(s.clone())),
            Some(node) => Err(wrong_type(&node.path, "a string", node.value)),
            None => Ok(None),
        }
    }

    /// The identifier at `dotted`: a non-empty string, or a number as text.
    pub fn id(&self, dotted: &str) -> Result<String, BodyError> {
        self.opt_id(dotted)?.ok_or_else(|| self.missing(dotted))
    }

    /// The identifier at `dotted`, if any (an empty string counts as none).
    pub fn opt_id(&self, dotted: &str) -> Result<Option<String>, BodyError> {
        match self.lookup(dotted)? {
            Some(JsonNode {
                value: Value::String(s),
                ..
            }) => Ok((!s.is_empty()).then(|| s.clone())),
            Some(JsonNode {
                value: Value::Number(n),
                ..
            }) => Ok(Some(n.to_string())),
            Some(node) => Err(wrong_type(&node.path, "a string or number", node.value)),
            None => Ok(None),
        }
    }

    /// The array of strings at `dotted`; absent or null is empty.
    pub fn str_array(&self, dotted: &str) -> Result<Vec<String>, BodyError> {
        let Some(node) = self.lookup(dotted)? else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = node.value else {
            return Err(wrong_type(&node.path, "an array of strings", node.value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(wrong_type(
                    &format!("{}[{i}]", node.path),
                    "a string",
                    other,
                )),
            })
            .collect()
    }

    fn missing(&self, dotted: &str) -> BodyError {
        let path = if self.path.is_empty() {
            dotted.to_owned()
        } else {
            format!("{}.{dotted}", self.path)
        };
        BodyError::Missing { path }
    }
}

fn wrong_type(path: &str, expected: &'static str, found: &Value) -> BodyError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    BodyError::WrongType {
        path: path.to_owned(),
        expected,
        found,
    }
}
