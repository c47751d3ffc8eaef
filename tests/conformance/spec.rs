//! The schema-to-model conformance check (issue 17), shared by the provider crates'
//! tests through `#[path]`: it reads a model's schema from the OpenAPI/swagger documents
//! in `tests/conformance/specs/` (copies of `shared/specs/`), builds a body holding a value
//! for every declared field, then, for every integer field (nested ones too), sends the
//! smallest and the largest value its format allows, and `null` where the schema says
//! nullable. A model that cannot decode one of them cannot hold the schema's range.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// How deep nested objects are followed (schemas refer to each other in cycles).
const DEPTH: usize = 4;

/// The specs directory: `$OCEAN_SPECS_DIR`, else the workspace's own copy
/// (`tests/conformance/specs`, the two documents of `shared/specs` the models follow), else the
/// first `shared/specs` found walking up from `start`. Panics, saying where it looked, when
/// there is none.
pub fn specs_dir(start: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("OCEAN_SPECS_DIR") {
        return PathBuf::from(dir);
    }
    let mut looked = Vec::new();
    for dir in start.ancestors() {
        for candidate in [
            dir.join("tests").join("conformance").join("specs"),
            dir.join("shared").join("specs"),
        ] {
            if candidate.is_dir() {
                return candidate;
            }
            looked.push(candidate.display().to_string());
        }
    }
    panic!(
        "the schema-to-model conformance test needs the OpenAPI specs: none in {}; \
         set OCEAN_SPECS_DIR",
        looked.join(", ")
    );
}

/// One OpenAPI 3 (`components.schemas`) or swagger 2 (`definitions`) document.
pub struct Spec {
    root: Value,
    name: String,
}

impl Spec {
    /// Loads `file` from the specs directory.
    pub fn load(start: &Path, file: &str) -> Self {
        let path = specs_dir(start).join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let root = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        Self {
            root,
            name: file.to_owned(),
        }
    }

    fn schemas(&self) -> &Map<String, Value> {
        self.root
            .pointer("/components/schemas")
            .or_else(|| self.root.get("definitions"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{} has no schemas", self.name))
    }

    /// The named schema, with `$ref` and `allOf` resolved.
    pub fn schema(&self, name: &str) -> Value {
        let schema = self
            .schemas()
            .get(name)
            .unwrap_or_else(|| panic!("{} has no schema `{name}`", self.name));
        self.resolve(schema, 0)
    }

    fn resolve(&self, schema: &Value, depth: usize) -> Value {
        if depth > 16 {
            return json!({});
        }
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let name = target.rsplit('/').next().unwrap_or_default();
            return match self.schemas().get(name) {
                Some(s) => self.resolve(s, depth + 1),
                None => json!({}),
            };
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = schema.clone();
            let mut props = Map::new();
            for part in parts {
                let part = self.resolve(part, depth + 1);
                if let Some(p) = part.get("properties").and_then(Value::as_object) {
                    props.extend(p.clone());
                }
                for key in ["type", "nullable", "x-nullable", "format"] {
                    if let Some(v) = part.get(key) {
                        merged[key] = v.clone();
                    }
                }
            }
            if let Some(own) = schema.get("properties").and_then(Value::as_object) {
                props.extend(own.clone());
            }
            merged["properties"] = Value::Object(props);
            return merged;
        }
        schema.clone()
    }

    /// A value for `schema`: every property filled, integers 1, strings by format.
    fn sample(&self, schema: &Value, depth: usize) -> Value {
        let schema = self.resolve(schema, 0);
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        match kind(&schema) {
            "integer" => json!(1),
            "number" => json!(1.5),
            "boolean" => json!(true),
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => json!("2024-01-02T03:04:05.000+0000"),
                Some("date") => json!("2024-01-02"),
                Some("uri" | "url") => json!("https://x.example/a"),
                _ => json!("x"),
            },
            "array" if depth < DEPTH => {
                json!([self.sample(schema.get("items").unwrap_or(&json!({})), depth + 1)])
            }
            "array" => json!([]),
            "object" if depth < DEPTH => {
                let mut object = Map::new();
                for (name, prop) in properties(&schema) {
                    object.insert(name.clone(), self.sample(prop, depth + 1));
                }
                Value::Object(object)
            }
            _ => json!({}),
        }
    }

    /// Every integer and nullable field under `schema`, with the values to probe it with.
    fn probes(&self, schema: &Value, at: &mut Vec<Step>, depth: usize, out: &mut Vec<Probe>) {
        let schema = self.resolve(schema, 0);
        let nullable = schema.get("nullable").or_else(|| schema.get("x-nullable"));
        if !at.is_empty() && nullable == Some(&Value::Bool(true)) {
            out.push(Probe {
                path: at.clone(),
                value: Value::Null,
                why: "nullable".into(),
            });
        }
        match kind(&schema) {
            "integer" if !at.is_empty() => {
                let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
                let (min, max) = match format {
                    "int32" => (json!(i32::MIN), json!(i32::MAX)),
                    _ => (json!(i64::MIN), json!(i64::MAX)),
                };
                let format = if format.is_empty() { "integer" } else { format };
                for value in [min, max] {
                    out.push(Probe {
                        path: at.clone(),
                        value,
                        why: format.to_owned(),
                    });
                }
            }
            "array" if depth < DEPTH => {
                at.push(Step::Index);
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                self.probes(&items, at, depth + 1, out);
                at.pop();
            }
            "object" if depth < DEPTH => {
                for (name, prop) in properties(&schema) {
                    at.push(Step::Key(name.clone()));
                    self.probes(prop, at, depth + 1, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
}

fn kind(schema: &Value) -> &str {
    match schema.get("type").and_then(Value::as_str) {
        Some(t) => t,
        None if schema.get("properties").is_some() => "object",
        None => "",
    }
}

fn properties(schema: &Value) -> Vec<(&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().collect())
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index,
}

/// One value sent to one field.
#[derive(Debug)]
struct Probe {
    path: Vec<Step>,
    value: Value,
    why: String,
}

impl Probe {
    fn name(&self) -> String {
        self.path
            .iter()
            .map(|s| match s {
                Step::Key(k) => format!(".{k}"),
                Step::Index => "[0]".into(),
            })
            .collect()
    }

    fn apply(&self, body: &mut Value) {
        let mut at = body;
        for step in &self.path {
            at = match step {
                Step::Key(k) => &mut at[k.as_str()],
                Step::Index => match at {
                    Value::Array(a) if !a.is_empty() => &mut a[0],
                    _ => return,
                },
            };
        }
        *at = self.value.clone();
    }
}

/// Checks model `T` against schema `schema` of `spec`; returns one line per value of the
/// schema's range the model rejects (empty when it conforms).
pub fn check<T: DeserializeOwned>(spec: &Spec, schema: &str, model: &str) -> Vec<String> {
    let resolved = spec.schema(schema);
    let base = spec.sample(&resolved, 0);
    if let Err(e) = serde_json::from_value::<T>(base.clone()) {
        return vec![format!(
            "{model} rejects a body built from schema `{schema}`: {e}"
        )];
    }
    let mut probes = Vec::new();
    spec.probes(&resolved, &mut Vec::new(), 0, &mut probes);
    probes
        .iter()
        .filter_map(|probe| {
            let mut body = base.clone();
            probe.apply(&mut body);
            serde_json::from_value::<T>(body).err().map(|e| {
                format!(
                    "{model}{} ({} in `{schema}`) cannot hold {}: {e}",
                    probe.name(),
                    probe.why,
                    probe.value
                )
            })
        })
        .collect()
}

/// Fails with every line of every model that does not conform.
pub fn assert_conforms(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "models that cannot hold what their schema allows:\n{}",
        failures.join("\n")
    );
}
