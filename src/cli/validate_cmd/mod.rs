//! `meshconfig-webhook validate`: the webhook's decision for manifests on disk, for CI and GitOps.
//!
//! A CI gate must fail closed: exit 0 only when at least one MeshConfig or `osm-config` ConfigMap
//! was validated and all of them are valid. Exit codes: 0 every document valid, 1 some document
//! invalid (or refused as the apiserver would refuse it), 2 some input unusable or nothing to
//! validate.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::UnknownKeysArg;
use crate::field::bounds::cli_warnings;
use crate::field::{ErrorType, FieldError, Status, go_quote};
use crate::schema::configmap::{CONFIGMAP_KIND, CONFIGMAP_NAME};
use crate::schema::{ApiVersion, GROUP, KIND, OTHER_KINDS, Release, Schema};
use crate::server::APISERVER_MAX_REQUEST_BYTES;
use crate::validate::{self, UnknownFields, UnknownKeys};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files to validate (YAML or JSON, multi-document); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// OSM release line whose schema applies (0.9, 0.10, 0.11, 1.0, 1.1, 1.2).
    #[arg(long, env = "MESHCONFIG_OSM_RELEASE", default_value = crate::server::DEFAULT_OSM_RELEASE)]
    pub osm_release: Release,
    /// A stored MeshConfig to patch (what `kubectl patch` would start from).
    #[arg(long, value_name = "FILE", requires = "patch")]
    pub base: Option<String>,
    /// The patch to apply to --base: JSON or YAML, as `kubectl patch -p` takes it.
    #[arg(long, value_name = "JSON|YAML", requires = "base")]
    pub patch: Option<String>,
    /// Patch type, as `kubectl patch --type`: merge (RFC 7386) or json (RFC 6902).
    #[arg(long = "type", value_enum, default_value_t = PatchType::Merge)]
    pub patch_type: PatchType,
    /// Output: kubectl's rendering (text) or, per document, the Status and warnings as a JSON array.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Fields a MeshConfig's schema does not know: deny (as `kubectl apply`'s strict field
    /// validation does), only warn, or ignore.
    #[arg(long, env = "MESHCONFIG_UNKNOWN_FIELDS", value_enum, default_value_t = UnknownFieldsArg::Deny)]
    pub unknown_fields: UnknownFieldsArg,
    /// Keys of the osm-config ConfigMap (OSM v0.8) that OSM does not read: deny, or only warn.
    #[arg(long, env = "MESHCONFIG_UNKNOWN_CONFIGMAP_KEYS", value_enum, default_value_t = UnknownKeysArg::Deny)]
    pub unknown_configmap_keys: UnknownKeysArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatchType {
    Merge,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// `--unknown-fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnknownFieldsArg {
    Deny,
    Warn,
    Ignore,
}

impl From<UnknownFieldsArg> for UnknownFields {
    fn from(a: UnknownFieldsArg) -> Self {
        match a {
            UnknownFieldsArg::Deny => Self::Deny,
            UnknownFieldsArg::Warn => Self::Warn,
            UnknownFieldsArg::Ignore => Self::Ignore,
        }
    }
}

/// What applies to every document.
#[derive(Clone, Copy)]
struct Opts {
    release: Release,
    unknown_keys: UnknownKeys,
    unknown_fields: UnknownFields,
}

/// One document's result.
struct Checked {
    source: String,
    name: String,
    /// kubectl's `<kind>[.<group>]/<name>`.
    resource: String,
    /// What the apiserver would answer; `None` when the object is allowed.
    status: Option<Status>,
    warnings: Vec<String>,
    /// How to fix what was found, when the cause is not in the object itself (stderr only).
    hints: Vec<String>,
}

/// Parsed input: documents, and whether they were read as YAML (for YAML 1.1 hints).
struct Docs {
    values: Vec<Value>,
    yaml: bool,
}

pub fn run(a: ValidateArgs) -> ExitCode {
    let opts = Opts {
        release: a.osm_release,
        unknown_keys: a.unknown_configmap_keys.into(),
        unknown_fields: a.unknown_fields.into(),
    };
    let mut unusable = false;
    let mut results = Vec::new();
    let mut report = |r: Result<Option<Checked>, String>| match r {
        Ok(Some(c)) => results.push(c),
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e}");
            unusable = true;
        }
    };
    let inputs: Vec<String> = match (&a.base, &a.patch) {
        (Some(base), Some(patch)) => {
            if !a.files.is_empty() {
                report(Err("--base/--patch and FILE arguments cannot be combined".into()));
            } else {
                report(patched(opts, base, patch, a.patch_type));
            }
            vec![base.clone()]
        }
        _ if a.files.is_empty() => {
            report(Err(
                "no input: give FILE arguments, `-` for standard input, or --base with --patch".into(),
            ));
            Vec::new()
        }
        _ => {
            for file in &a.files {
                match read(file).and_then(|text| documents(&text, file)) {
                    Err(e) => report(Err(e)),
                    Ok(docs) => {
                        let many = docs.values.len() > 1;
                        for (i, doc) in docs.values.into_iter().enumerate() {
                            let source = if many {
                                format!("{file}: document {}", i + 1)
                            } else {
                                file.clone()
                            };
                            report(check(opts, &source, doc, None, docs.yaml));
                        }
                    }
                }
            }
            a.files.clone()
        }
    };
    if results.is_empty() && !unusable {
        // A gate that validated nothing must not pass.
        let named: Vec<&str> = inputs
            .iter()
            .map(|f| if f == "-" { "standard input" } else { f.as_str() })
            .collect();
        eprintln!(
            "error: nothing validated: no {KIND} and no {CONFIGMAP_NAME} ConfigMap in {}",
            named.join(", ")
        );
        unusable = true;
    }
    let invalid = results.iter().any(|c| c.status.is_some());
    print_results(&results, a.output);
    if unusable {
        ExitCode::from(2)
    } else if invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_results(results: &[Checked], output: Output) {
    let many = results.len() > 1;
    for c in results {
        for w in &c.warnings {
            eprintln!("Warning: {w}");
        }
        for h in &c.hints {
            eprintln!("hint: {h}");
        }
    }
    // Written, not println!'d: `validate … | head` closes the pipe early, which must not panic.
    let mut out = std::io::stdout().lock();
    match output {
        Output::Text => {
            for c in results {
                let written = match &c.status {
                    Some(status) if many => write!(out, "{}:\n{}", c.source, status.kubectl_message()),
                    Some(status) => write!(out, "{}", status.kubectl_message()),
                    None => writeln!(out, "{} valid ({})", c.resource, c.source),
                };
                if written.is_err() {
                    return;
                }
            }
        }
        Output::Json => {
            // Always an array, one entry per document: scripts need one shape.
            let docs: Vec<Value> = results
                .iter()
                .map(|c| {
                    json!({
                        "source": c.source,
                        "name": c.name,
                        "allowed": c.status.is_none(),
                        "status": c.status,
                        "warnings": c.warnings,
                    })
                })
                .collect();
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&docs).unwrap_or_default());
        }
    }
}

pub(crate) fn read(file: &str) -> Result<String, String> {
    let mut buf = Vec::new();
    let res = if file == "-" {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map(|_| ())
    };
    res.map_err(|e| format!("{file}: {e}"))?;
    String::from_utf8(buf).map_err(|e| format!("{file}: not UTF-8 text: {e}"))
}

/// Splits `text` (from `file`, for messages) into documents: a JSON value stream, or
/// multi-document YAML read with YAML 1.1 booleans as kubectl reads it (`enableEgress: no` is
/// `false`, `logLevel: off` is `false`). `kind: List` documents are expanded into their items.
fn documents(text: &str, file: &str) -> Result<Docs, String> {
    let trimmed = text.trim_start();
    let yaml = !(trimmed.starts_with('{') || trimmed.starts_with('['));
    let raw: Vec<Value> = if yaml {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| yaml_error(file, &e))?
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{file}:{}:{}: invalid JSON: {}", e.line(), e.column(), json_problem(&e)))?
    };
    let mut values = Vec::with_capacity(raw.len());
    for doc in raw {
        match doc {
            Value::Null => {} // empty YAML documents (`---` separators)
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => match m.get("items") {
                Some(Value::Array(items)) => values.extend(items.iter().cloned()),
                _ => return Err(format!("{file}: a List document without an items array")),
            },
            Value::Array(items) => values.extend(items),
            other => values.push(other),
        }
    }
    Ok(Docs { values, yaml })
}

/// serde_json's message without its own ` at line L column C` suffix (the location leads).
fn json_problem(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// A YAML reader error in our words: `file:line:column: invalid YAML: problem`, limits stated.
fn yaml_error(file: &str, e: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach;
    let e = e.without_snippet();
    let at = match e.location() {
        Some(l) if l.line() > 0 => format!("{file}:{}:{}", l.line(), l.column()),
        _ => file.to_owned(),
    };
    let problem = match e {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Documents { .. } => format!(
                "more than {} documents in one input, the most this reader takes; split the file",
                serde_saphyr::budget::Budget::default().max_documents
            ),
            BudgetBreach::Depth { .. } => format!(
                "nested deeper than {} levels, the most this reader takes",
                serde_saphyr::budget::Budget::default().max_depth
            ),
            other => format!("too large or too complex for this reader ({other:?})"),
        },
        other => {
            let opts = serde_saphyr::render_options! {
                formatter: &serde_saphyr::UserMessageFormatter,
                snippets: serde_saphyr::SnippetMode::Off,
            };
            let msg = other.render_with_options(opts);
            // The location is already in front.
            match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            }
        }
    };
    format!("{at}: invalid YAML: {problem}")
}

/// Validates one document; `Ok(None)` for documents of other kinds, which are skipped with a note.
fn check(opts: Opts, source: &str, mut doc: Value, old: Option<Value>, yaml: bool) -> Result<Option<Checked>, String> {
    let Some(obj) = doc.as_object() else {
        return Err(format!("{source}: expected an object, found {}", json_type(&doc)));
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if kind == CONFIGMAP_KIND {
        // OSM v0.8's configuration; the release flag is about MeshConfig schemas and does not apply.
        if name != CONFIGMAP_NAME {
            eprintln!("note: {source}: skipped ConfigMap {name:?}: not the {CONFIGMAP_NAME} ConfigMap");
            return Ok(None);
        }
        if api_version != "v1" {
            return Err(format!("{source}: apiVersion {api_version:?} is not v1"));
        }
        if let Some(refused) = too_large(source, &name, &doc) {
            return Ok(Some(refused));
        }
        let outcome = validate::configmap(&doc, old.as_ref(), opts.unknown_keys);
        return Ok(Some(checked(source, name, outcome, Vec::new())));
    }
    if kind != KIND {
        other_kind(source, kind, api_version, &name)?;
        return Ok(None);
    }
    let version = api_version
        .strip_prefix(GROUP)
        .and_then(|v| v.strip_prefix('/'))
        .and_then(ApiVersion::parse)
        .ok_or_else(|| format!("{source}: apiVersion {api_version:?} is not {GROUP}/v1alpha1, v1alpha2 or v1alpha3"))?;
    let schema = Schema::get(opts.release, version).ok_or_else(|| {
        let served: Vec<String> = opts
            .release
            .api_versions()
            .iter()
            .map(|v| format!("{GROUP}/{v}"))
            .collect();
        format!(
            "{source}: OSM {} does not serve {api_version}; it serves {}",
            opts.release,
            served.join(", ")
        )
    })?;
    if let Some(refused) = too_large(source, &name, &doc) {
        return Ok(Some(refused));
    }
    // No apiserver ran before us: default as it would have.
    validate::apply_defaults(schema, &mut doc);
    let old = old.map(|mut o| {
        validate::apply_defaults(schema, &mut o);
        o
    });
    let outcome = validate::meshconfig_with(schema, &doc, old.as_ref(), opts.unknown_fields);
    let hints = if yaml {
        yaml11_hints(&outcome.errors, &doc)
    } else {
        Vec::new()
    };
    Ok(Some(checked(source, name, outcome, hints)))
}

fn checked(source: &str, name: String, outcome: validate::Outcome, hints: Vec<String>) -> Checked {
    let kind = outcome.kind.to_lowercase();
    let resource = if outcome.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", outcome.group)
    };
    Checked {
        source: source.to_owned(),
        status: outcome.status(&name),
        name,
        resource,
        warnings: cli_warnings(&outcome.warnings, outcome.more_warnings),
        hints,
    }
}

/// A document that is neither a MeshConfig nor a ConfigMap: a typo of one of ours is an error (a
/// gate must not pass it as "not ours"), anything else is skipped with a note.
fn other_kind(source: &str, kind: &str, api_version: &str, name: &str) -> Result<(), String> {
    if kind.is_empty() {
        return Err(format!(
            "{source}: the document has no kind; kubectl refuses it too (Object 'Kind' is missing)"
        ));
    }
    let in_group = api_version.split_once('/').is_some_and(|(g, _)| g == GROUP);
    if in_group && OTHER_KINDS.contains(&kind) {
        eprintln!("note: {source}: skipped {kind} {name:?}: not a {KIND}");
        return Ok(());
    }
    let meant = validate::closest(kind, [KIND, CONFIGMAP_KIND]);
    let did_you_mean = |k: &str| format!("; did you mean {}? (kinds are case-sensitive)", go_quote(k));
    if in_group {
        // OSM serves nothing else in its group: this is a mistake, not someone else's object.
        let known: Vec<String> = std::iter::once(KIND)
            .chain(OTHER_KINDS.iter().copied())
            .map(go_quote)
            .collect();
        return Err(format!(
            "{source}: kind {} is not a kind of {GROUP} ({}){}",
            go_quote(kind),
            known.join(", "),
            meant.filter(|k| *k == KIND).map(did_you_mean).unwrap_or_default()
        ));
    }
    match meant {
        Some(k) => Err(format!("{source}: unknown kind {}{}", go_quote(kind), did_you_mean(k))),
        None => {
            eprintln!("note: {source}: skipped {kind} {name:?}: not a {KIND}");
            Ok(())
        }
    }
}

/// The apiserver's answer to an object it will not even read: over its request body limit.
fn too_large(source: &str, name: &str, doc: &Value) -> Option<Checked> {
    let size = serde_json::to_vec(doc).map_or(0, |v| v.len());
    (size > APISERVER_MAX_REQUEST_BYTES).then(|| Checked {
        source: source.to_owned(),
        name: name.to_owned(),
        resource: String::new(),
        status: Some(Status::request_entity_too_large(APISERVER_MAX_REQUEST_BYTES)),
        warnings: Vec::new(),
        hints: vec![format!(
            "{source}: the object is {size} bytes as JSON; kube-apiserver refuses request bodies over {} MiB ({APISERVER_MAX_REQUEST_BYTES} bytes) before validating anything",
            APISERVER_MAX_REQUEST_BYTES >> 20
        )],
    })
}

/// YAML 1.1, as kubectl reads it, turns unquoted `off`/`on`/`no`/`yes` into booleans: where a
/// string was expected, say so and show the quoted spelling.
fn yaml11_hints(errors: &[FieldError], doc: &Value) -> Vec<String> {
    let mut hints = Vec::new();
    for e in errors {
        let is_bool_for_string =
            e.kind == ErrorType::TypeInvalid && e.detail.ends_with("must be of type string: \"boolean\"");
        if !is_bool_for_string {
            continue;
        }
        let Some(Value::Bool(b)) = doc.pointer(&pointer(&e.field)) else {
            continue;
        };
        // The enum's spelling of the word YAML 1.1 read, when the field has one.
        let words: &[&str] = if *b { &["on", "yes", "y"] } else { &["off", "no", "n"] };
        let supported = errors
            .iter()
            .filter(|o| o.field == e.field && o.kind == ErrorType::NotSupported)
            .find_map(|o| words.iter().find(|w| o.detail.contains(&go_quote(w))));
        let key = e.field.rsplit('.').next().unwrap_or(&e.field);
        hints.push(match supported {
            Some(w) => format!(
                "{}: YAML 1.1 (as kubectl reads it) makes an unquoted {w} the boolean {b}; quote it: {key}: {}",
                e.field,
                go_quote(w)
            ),
            None => format!(
                "{}: YAML 1.1 (as kubectl reads it) makes unquoted on/off/yes/no booleans; quote the value if a string is meant",
                e.field
            ),
        });
    }
    hints
}

/// A field path (`spec.a.b[2]`) as a JSON pointer (`/spec/a/b/2`).
fn pointer(field: &str) -> String {
    let mut p = String::with_capacity(field.len() + 1);
    for part in field.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest)),
            None => (part, None),
        };
        p.push('/');
        p.push_str(&key.replace('~', "~0").replace('/', "~1"));
        for i in index.into_iter().flat_map(|r| r.split('[')) {
            p.push('/');
            p.push_str(i.trim_end_matches(']'));
        }
    }
    p
}

/// `kubectl patch --type merge|json` applied to `--base`, then validated as the UPDATE it would be.
fn patched(opts: Opts, base_file: &str, patch: &str, ty: PatchType) -> Result<Option<Checked>, String> {
    let text = read(base_file)?;
    let mut docs = documents(&text, base_file)?;
    if docs.values.len() != 1 {
        return Err(format!(
            "{base_file}: --base must hold exactly one object, found {}",
            docs.values.len()
        ));
    }
    let base = docs.values.remove(0);
    let (patch_value, patch_yaml) = parse_patch(patch)?;
    let mut target = base.clone();
    match (ty, &patch_value) {
        (PatchType::Merge, Value::Array(_)) => {
            return Err("--patch: an array is a JSON patch (RFC 6902): use --type json".into());
        }
        (PatchType::Merge, Value::Object(_)) => json_patch::merge(&mut target, &patch_value),
        (PatchType::Merge, other) => {
            return Err(format!(
                "--patch: a merge patch is an object, found {}",
                json_type(other)
            ));
        }
        (PatchType::Json, Value::Object(_)) => {
            return Err("--patch: a JSON patch (RFC 6902) is an array of operations; for an object (a merge patch) use --type merge".into());
        }
        (PatchType::Json, _) => {
            let ops: json_patch::Patch = serde_json::from_value(patch_value)
                .map_err(|e| format!("--patch: not a JSON patch (RFC 6902): {e}"))?;
            if let Err(e) = json_patch::patch(&mut target, &ops) {
                return Ok(Some(patch_failed(base_file, &base, &ops, &e)));
            }
        }
    }
    let source = format!("{base_file} patched");
    let checked = check(opts, &source, target, Some(base), docs.yaml || patch_yaml)?;
    checked
        .map(Some)
        .ok_or_else(|| format!("{base_file}: --base must be a {KIND} or the {CONFIGMAP_NAME} ConfigMap"))
}

/// `--patch` as `kubectl patch -p` reads it: JSON, or else YAML (one document).
fn parse_patch(patch: &str) -> Result<(Value, bool), String> {
    if let Ok(v) = serde_json::from_str::<Value>(patch) {
        return Ok((v, false));
    }
    let mut docs = serde_saphyr::from_multiple::<Value>(patch).map_err(|e| yaml_error("--patch", &e))?;
    docs.retain(|d| !d.is_null());
    match docs.len() {
        1 => Ok((docs.remove(0), true)),
        0 => Err("--patch: empty patch".into()),
        n => Err(format!("--patch: one patch expected, found {n} YAML documents")),
    }
}

/// A JSON patch that does not apply: what kubectl prints for the apiserver's 422, and which
/// operation failed.
fn patch_failed(base_file: &str, base: &Value, ops: &json_patch::Patch, e: &json_patch::PatchError) -> Checked {
    let op = ops.0.get(e.operation);
    let verb = op.map_or("", |o| match o {
        json_patch::PatchOperation::Add(_) => "add",
        json_patch::PatchOperation::Remove(_) => "remove",
        json_patch::PatchOperation::Replace(_) => "replace",
        json_patch::PatchOperation::Move(_) => "move",
        json_patch::PatchOperation::Copy(_) => "copy",
        json_patch::PatchOperation::Test(_) => "test",
    });
    let problem = match e.kind {
        json_patch::PatchErrorKind::InvalidPointer => format!("{base_file} has no path {}", go_quote(e.path.as_str())),
        ref other => other.to_string(),
    };
    let name = base
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Checked {
        source: format!("{base_file} patched"),
        name,
        resource: String::new(),
        status: Some(Status::unprocessable_patch()),
        warnings: Vec::new(),
        hints: vec![format!(
            "--patch operation {} ({verb} {}) does not apply: {problem}",
            e.operation + 1,
            go_quote(e.path.as_str())
        )],
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_like_kubectl() {
        let docs = documents("a: no\nb: off\nc: '24h'\n---\n---\nkind: X\n", "f")
            .expect("yaml")
            .values;
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["a"], false);
        assert_eq!(docs[0]["b"], false);
        assert_eq!(docs[0]["c"], "24h");
    }

    #[test]
    fn reads_json_streams_and_lists() {
        let docs = documents(r#"{"kind":"List","items":[{"a":1},{"a":2}]} {"a":3}"#, "f")
            .expect("json")
            .values;
        assert_eq!(docs.len(), 3);
        assert_eq!(
            documents("{", "f.json").err().as_deref(),
            Some("f.json:1:1: invalid JSON: EOF while parsing an object")
        );
    }
}
