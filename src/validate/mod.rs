//! The walk over an object: the CRD layer (what kube-apiserver's structural validation reports,
//! worded identically) and the semantic layer (what OSM would do with each value at runtime),
//! warnings, and ratcheting against the stored object on updates.
//!
//! Pure and synchronous: no I/O, no async, nothing of the server.

pub mod cidr;
pub mod configmap;
pub mod duration;
pub mod image;
pub mod names;
pub mod resources;

mod crd;
mod defaults;
pub mod past_osm;
pub(crate) mod semantic;
pub(crate) mod suggest;

pub use configmap::{UnknownKeys, configmap};
pub use defaults::apply_defaults;
pub use suggest::closest;

use serde_json::Value;

use crate::field::bounds::{FirstErrors, FirstWarnings};
use crate::field::{FieldError, Layer, Status};
use crate::schema::{GROUP, JsonType, KIND, MESH_CONFIG_NAME, Node, Schema};

/// `metav1.ObjectMeta`'s fields; the apiserver prunes any other key under `metadata`.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// What validation found: errors deny, warnings are returned with an allowed (or denied) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// API group and kind of the validated object (for the Status).
    pub group: &'static str,
    pub kind: &'static str,
    /// The first [`MAX_CAUSES`](crate::field::bounds::MAX_CAUSES) errors by field path.
    pub errors: Vec<FieldError>,
    /// Errors found beyond `errors`.
    pub more_errors: usize,
    /// The first [`MAX_WARNINGS`](crate::field::bounds::MAX_WARNINGS) distinct warnings, whole.
    pub warnings: Vec<String>,
    /// Warnings found beyond `warnings`.
    pub more_warnings: usize,
}

impl Outcome {
    pub fn allowed(&self) -> bool {
        self.errors.is_empty()
    }

    /// The Status the apiserver would return for this object, or `None` when it is allowed.
    pub fn status(&self, name: &str) -> Option<Status> {
        (!self.errors.is_empty())
            .then(|| Status::invalid_capped(self.group, self.kind, name, &self.errors, self.more_errors))
    }

    /// Only the errors the CRD's schema itself reports (for comparing with the apiserver).
    pub fn crd_errors(&self) -> impl Iterator<Item = &FieldError> {
        self.errors.iter().filter(|e| e.layer == Layer::Crd)
    }
}

/// What to do with a field the schema does not know (a typo, or a field of another release).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFields {
    /// `Forbidden: unknown field`, naming the closest known field: what `kubectl apply` (strict
    /// field validation, its default) would refuse. `validate`'s default.
    Deny,
    /// `unknown field "…"` as a warning, the apiserver's own wording. The webhook's behaviour:
    /// the apiserver has pruned such fields before the webhook sees the object.
    #[default]
    Warn,
    /// Nothing.
    Ignore,
}

/// Validates a MeshConfig object (CREATE when `old` is `None`, UPDATE otherwise): both layers,
/// all errors together, sorted by field path. On UPDATE, errors in values that did not change
/// become warnings (ratcheting, as Kubernetes ≥ 1.30 does for CRDs). Unknown fields warn.
pub fn meshconfig(schema: &Schema, object: &Value, old: Option<&Value>) -> Outcome {
    meshconfig_with(schema, object, old, UnknownFields::Warn)
}

/// [`meshconfig`] with a choice of what unknown fields are.
pub fn meshconfig_with(schema: &Schema, object: &Value, old: Option<&Value>, unknown: UnknownFields) -> Outcome {
    let mut walk = Walk::new(schema, unknown);
    walk.root(object, old);
    walk.finish()
}

/// Top-level fields of a MeshConfig.
const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

/// What a validator found so far, bounded whatever the input: the first errors by path and the
/// first warnings, with counts of the rest. Errors about values unchanged from the stored object
/// become warnings at once (ratcheting). Shared by every object kind's validator.
pub(crate) struct Findings {
    errors: FirstErrors,
    warnings: FirstWarnings,
    /// Whether this is an UPDATE (ratcheting applies).
    update: bool,
}

impl Findings {
    pub(crate) fn new(update: bool) -> Self {
        Self {
            errors: FirstErrors::default(),
            warnings: FirstWarnings::default(),
            update,
        }
    }

    /// Records an error; on UPDATE an error about an unchanged value only warns.
    pub(crate) fn push(&mut self, error: FieldError, unchanged: bool) {
        if self.update && unchanged {
            if self.warnings.full() {
                self.warnings.count_one();
            } else {
                self.warnings.push(format!("unchanged invalid value kept: {error}"));
            }
        } else {
            self.errors.push(error);
        }
    }

    pub(crate) fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    pub(crate) fn finish(self, group: &'static str, kind: &'static str) -> Outcome {
        let (errors, more_errors) = self.errors.finish();
        let (warnings, more_warnings) = self.warnings.finish();
        Outcome {
            group,
            kind,
            errors,
            more_errors,
            warnings,
            more_warnings,
        }
    }
}

/// The walk's state: the current path as a reusable buffer and what was found so far.
struct Walk<'s> {
    schema: &'s Schema,
    path: String,
    findings: Findings,
    unknown: UnknownFields,
}

impl<'s> Walk<'s> {
    fn new(schema: &'s Schema, unknown: UnknownFields) -> Self {
        Self {
            schema,
            path: String::with_capacity(96),
            findings: Findings::new(false),
            unknown,
        }
    }

    fn root(&mut self, object: &Value, old: Option<&Value>) {
        self.findings.update = old.is_some();
        let Some(obj) = object.as_object() else {
            // The apiserver cannot even decode this; say so in its words.
            let e = crd::type_error("", object, "object");
            self.push(e, false);
            return;
        };
        let old_obj = old.and_then(Value::as_object);
        for (key, value) in obj {
            match key.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    let old_meta = old_obj.and_then(|o| o.get("metadata")).and_then(Value::as_object);
                    for k in value.as_object().into_iter().flat_map(|m| m.keys()) {
                        if !OBJECT_META_FIELDS.contains(&k.as_str()) {
                            let known = suggest::closest(k, OBJECT_META_FIELDS.iter().copied());
                            let unchanged = old_meta.is_some_and(|m| m.contains_key(k));
                            self.unknown_field(
                                format!("metadata.{k}"),
                                known.map(|f| format!("metadata.{f}")),
                                unchanged,
                            );
                        }
                    }
                }
                "spec" => {
                    let old_spec = old_obj.and_then(|o| o.get("spec"));
                    let unchanged = old_spec == Some(value);
                    self.path.push_str("spec");
                    if !value.is_null() {
                        self.node(&self.schema.spec, value, old_spec, unchanged);
                    }
                    self.path.clear();
                }
                other => {
                    let known = suggest::closest(other, ROOT_FIELDS.iter().copied()).map(str::to_owned);
                    let unchanged = old_obj.is_some_and(|o| o.contains_key(other));
                    self.unknown_field(other.to_owned(), known, unchanged);
                }
            }
        }
        // `get`, not `pointer`: a JSON pointer is parsed (and its segments copied) on every call.
        let name = object
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !name.is_empty() && name != MESH_CONFIG_NAME {
            self.warn(format!(
                "metadata.name: OSM reads only the MeshConfig named {MESH_CONFIG_NAME:?}; {name:?} has no effect"
            ));
        }
        if let Some(w) = self.schema.id.deprecation_warning() {
            self.warn(w.to_owned());
        }
    }

    /// Validates `v` against `n` at `self.path`. Returns whether the subtree passed the CRD layer.
    fn node(&mut self, n: &Node, v: &Value, old: Option<&Value>, unchanged: bool) -> bool {
        let type_error = crd::check_type(&self.path, n, v);
        let mut clean = type_error.is_none();
        if let Some(e) = type_error {
            self.push(e, unchanged);
        }
        for e in crd::check_value(&self.path, n, v) {
            self.push(e, unchanged);
            clean = false;
        }
        if !matches!(
            (n.ty, v),
            (JsonType::Object | JsonType::Map, Value::Object(_)) | (JsonType::Array, Value::Array(_))
        ) {
            // A composite value where the schema has none: the apiserver prunes all of it.
            self.warn_pruned(v);
            if !clean {
                return false;
            }
        }
        match v {
            Value::Object(map) => {
                clean &= self.object(n, map, old.and_then(Value::as_object), unchanged);
            }
            Value::Array(items) => {
                let mut item_clean = Vec::with_capacity(items.len());
                if let Some(item_schema) = &n.items {
                    let len = self.path.len();
                    for (i, item) in items.iter().enumerate() {
                        self.path.push('[');
                        push_index(&mut self.path, i);
                        self.path.push(']');
                        // Items of atomic lists are not correlated with the old list.
                        let ok = self.node(item_schema, item, None, unchanged);
                        self.path.truncate(len);
                        clean &= ok;
                        item_clean.push(ok);
                    }
                }
                if n.kind != crate::schema::Kind::Plain {
                    let path = std::mem::take(&mut self.path);
                    semantic::list(self, &path, n.kind, items, &item_clean, unchanged);
                    self.path = path;
                }
                return clean;
            }
            _ => {}
        }
        // Object rules look at several children and tolerate bad ones; leaf rules need a value
        // the CRD accepted.
        if n.kind != crate::schema::Kind::Plain && (clean || v.is_object()) {
            // The path is lent, not copied: most values have nothing to report.
            let path = std::mem::take(&mut self.path);
            semantic::value(self, &path, n, v, old, unchanged);
            self.path = path;
        }
        clean
    }

    fn object(
        &mut self,
        n: &Node,
        map: &serde_json::Map<String, Value>,
        old: Option<&serde_json::Map<String, Value>>,
        unchanged: bool,
    ) -> bool {
        if n.ty == JsonType::Map {
            // Values of `additionalProperties: true` have an empty schema: objects inside are pruned.
            let len = self.path.len();
            for (key, value) in map {
                self.path.push('.');
                self.path.push_str(key);
                self.warn_pruned(value);
                self.path.truncate(len);
            }
            return true;
        }
        let mut clean = true;
        for req in &n.required {
            if map.get(*req).is_none_or(Value::is_null) {
                let field = self.child_path(req);
                self.push(FieldError::required(field, "").with_layer(Layer::Crd), unchanged);
                clean = false;
            }
        }
        let len = self.path.len();
        for (key, value) in map {
            // The apiserver prunes nulls of non-nullable fields before validating.
            if value.is_null() {
                continue;
            }
            self.path.push('.');
            self.path.push_str(key);
            match n.prop(key) {
                Some(child) => {
                    let old_child = old.and_then(|o| o.get(key));
                    let child_unchanged = unchanged || (self.findings.update && old_child == Some(value));
                    clean &= self.node(child, value, old_child, child_unchanged);
                }
                None => {
                    let known = match suggest::closest(key, n.props.iter().map(|(k, _)| *k)) {
                        Some(sibling) => Some(format!("{}.{sibling}", &self.path[..len])),
                        None => find_field(&self.schema.spec, "spec", key),
                    };
                    let unchanged = old.is_some_and(|o| o.contains_key(key));
                    self.unknown_field(self.path.clone(), known, unchanged);
                }
            }
            self.path.truncate(len);
        }
        clean
    }

    /// Warns about every object key in `v` (at `self.path`), all of which the apiserver prunes.
    fn warn_pruned(&mut self, v: &Value) {
        let len = self.path.len();
        match v {
            Value::Object(map) => {
                for key in map.keys() {
                    self.path.push('.');
                    self.path.push_str(key);
                    let w = format!("unknown field {}", crate::field::go_quote(&self.path));
                    self.warn(w);
                    self.path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push('[');
                    push_index(&mut self.path, i);
                    self.path.push(']');
                    self.warn_pruned(item);
                    self.path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// A field the schema does not know, at `path`; `known` is the field probably meant.
    fn unknown_field(&mut self, path: String, known: Option<String>, unchanged: bool) {
        match self.unknown {
            UnknownFields::Deny => {
                let detail = match known {
                    Some(k) => format!("unknown field; did you mean {}?", crate::field::go_quote(&k)),
                    None => "unknown field".to_owned(),
                };
                // The error is about the field's presence: it ratchets when the stored object had it.
                self.push(FieldError::forbidden(path, detail), unchanged);
            }
            UnknownFields::Warn => self.warn(format!("unknown field {}", crate::field::go_quote(&path))),
            UnknownFields::Ignore => {}
        }
    }

    fn child_path(&self, name: &str) -> String {
        let mut p = String::with_capacity(self.path.len() + 1 + name.len());
        p.push_str(&self.path);
        p.push('.');
        p.push_str(name);
        p
    }

    fn push(&mut self, error: FieldError, unchanged: bool) {
        self.findings.push(error, unchanged);
    }

    fn warn(&mut self, w: String) {
        self.findings.warn(w);
    }

    fn finish(self) -> Outcome {
        self.findings.finish(GROUP, KIND)
    }
}

/// The path of the one field named `name` (ignoring case) anywhere under `n` (at `path`): a field
/// put at the wrong level, such as `spec.tracing` for `spec.observability.tracing`. A name several
/// fields share (`enable`, `port`) suggests nothing rather than a guess.
fn find_field(n: &Node, path: &str, name: &str) -> Option<String> {
    let mut found = None;
    let mut stack: Vec<(String, &Node)> = vec![(path.to_owned(), n)];
    while let Some((p, node)) = stack.pop() {
        for (k, child) in &node.props {
            let child_path = format!("{p}.{k}");
            if k.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return None;
                }
                found = Some(child_path.clone());
            }
            stack.push((child_path, child));
        }
        if let Some(items) = &node.items {
            stack.push((format!("{p}[*]"), items));
        }
    }
    found
}

fn push_index(s: &mut String, i: usize) {
    use std::fmt::Write as _;
    let _ = write!(s, "{i}");
}
