//! `meshconfig-webhook validate`: the webhook's decision for manifests on disk, for CI and GitOps.
//!
//! A CI gate must fail closed: exit 0 only when at least one MeshConfig or `osm-config` ConfigMap
//! was validated and all of them are valid. Exit codes: 0 every document valid, 1 some document
//! invalid (or refused as the apiserver would refuse it), 2 some input unusable or nothing to
//! validate.

mod hints;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;

pub(crate) use input::read;
use output::{Entry, Verdict};

use super::UnknownKeysArg;
use crate::field::bounds::cli_warnings;
use crate::field::{Status, go_quote};
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
    /// Namespace of OSM's control plane, as `serve` takes it: objects in another namespace get a
    /// warning (OSM does not read them, and the chart's webhook does not review them).
    #[arg(long, env = "MESHCONFIG_MESH_NAMESPACE", default_value = crate::server::DEFAULT_MESH_NAMESPACE, value_parser = super::dns1123_label)]
    pub mesh_namespace: String,
    /// A stored MeshConfig to patch (what `kubectl patch` would start from).
    #[arg(long, value_name = "FILE", requires = "patch")]
    pub base: Option<String>,
    /// The patch to apply to --base: JSON or YAML, as `kubectl patch -p` takes it.
    #[arg(long, value_name = "JSON|YAML", requires = "base")]
    pub patch: Option<String>,
    /// Patch type, as `kubectl patch --type`: merge (RFC 7386) or json (RFC 6902).
    #[arg(long = "type", value_enum, default_value_t = PatchType::Merge)]
    pub patch_type: PatchType,
    /// Output: kubectl's rendering (text) or a JSON array with one entry per document (the Status,
    /// warnings, hints, and why a document was skipped or could not be validated).
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
struct Opts<'a> {
    release: Release,
    mesh_namespace: &'a str,
    unknown_keys: UnknownKeys,
    unknown_fields: UnknownFields,
}

pub fn run(a: ValidateArgs) -> ExitCode {
    let opts = Opts {
        release: a.osm_release,
        mesh_namespace: &a.mesh_namespace,
        unknown_keys: a.unknown_configmap_keys.into(),
        unknown_fields: a.unknown_fields.into(),
    };
    let entries = match entries(&a, opts) {
        Ok(entries) => entries,
        Err(usage) => {
            eprintln!("error: {usage}");
            if a.output == Output::Json {
                output::json(&[]);
            }
            return ExitCode::from(2);
        }
    };
    match a.output {
        Output::Text => output::text(&entries),
        Output::Json => output::json(&entries),
    }
    let unusable = entries.iter().any(|e| matches!(e.verdict, Verdict::Unusable(_)));
    let judged = entries.iter().any(|e| matches!(e.verdict, Verdict::Judged { .. }));
    if !judged && !unusable {
        // A gate that validated nothing must not pass.
        let inputs = a.base.as_slice().iter().chain(&a.files);
        let named: Vec<&str> = inputs
            .map(|f| if f == "-" { "standard input" } else { f.as_str() })
            .collect();
        eprintln!(
            "error: nothing validated: no {KIND} and no {CONFIGMAP_NAME} ConfigMap in {}",
            named.join(", ")
        );
        return ExitCode::from(2);
    }
    if unusable {
        ExitCode::from(2)
    } else if entries.iter().any(|e| e.status().is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every entry of the run, or why the command line gives nothing to read.
fn entries(a: &ValidateArgs, opts: Opts) -> Result<Vec<Entry>, String> {
    match (&a.base, &a.patch) {
        (Some(_), Some(_)) if !a.files.is_empty() => Err("--base/--patch and FILE arguments cannot be combined".into()),
        (Some(base), Some(patch)) => Ok(vec![patched(opts, base, patch, a.patch_type)]),
        _ if a.files.is_empty() => {
            Err("no input: give FILE arguments, `-` for standard input, or --base with --patch".into())
        }
        _ => Ok(a.files.iter().flat_map(|f| file(opts, f)).collect()),
    }
}

/// One entry per document of `file`, or one saying why it has none.
fn file(opts: Opts, file: &str) -> Vec<Entry> {
    let docs = match read(file).and_then(|text| input::documents(&text, file)) {
        Ok(docs) => docs,
        Err(e) => return vec![Entry::new(file, "", Verdict::Unusable(e))],
    };
    if docs.values.is_empty() {
        return vec![Entry::new(file, "", Verdict::Skipped("no documents".into()))];
    }
    let many = docs.values.len() > 1;
    docs.values
        .into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let source = if many {
                format!("{file}: document {}", i + 1)
            } else {
                file.to_owned()
            };
            check(opts, &source, doc, None, docs.yaml)
        })
        .collect()
}

/// Validates one document (an UPDATE of `old` when given).
fn check(opts: Opts, source: &str, doc: Value, old: Option<Value>, yaml: bool) -> Entry {
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    judge(opts, source, &name, doc, old, yaml).unwrap_or_else(|why| Entry::new(source, &name, Verdict::Unusable(why)))
}

fn judge(
    opts: Opts,
    source: &str,
    name: &str,
    mut doc: Value,
    old: Option<Value>,
    yaml: bool,
) -> Result<Entry, String> {
    let Some(obj) = doc.as_object() else {
        return Err(format!(
            "{source}: expected an object, found {}",
            input::json_type(&doc)
        ));
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind == CONFIGMAP_KIND {
        // OSM v0.8's configuration; the release flag is about MeshConfig schemas and does not apply.
        if name != CONFIGMAP_NAME {
            let why = format!("skipped ConfigMap {name:?}: not the {CONFIGMAP_NAME} ConfigMap");
            return Ok(Entry::new(source, name, Verdict::Skipped(why)));
        }
        if api_version != "v1" {
            return Err(format!("{source}: apiVersion {api_version:?} is not v1"));
        }
        if let Some(refused) = too_large(source, name, &doc) {
            return Ok(refused);
        }
        let mut outcome = validate::configmap(&doc, old.as_ref(), opts.unknown_keys);
        outcome.warnings.splice(
            0..0,
            outside_mesh_namespace(&doc, opts.mesh_namespace, "the osm-config ConfigMap"),
        );
        let hints = hints::configmap(&outcome.errors, &doc, yaml);
        return Ok(judged(source, name, outcome, hints));
    }
    if kind != KIND {
        let why = other_kind(source, kind, api_version, name)?;
        return Ok(Entry::new(source, name, Verdict::Skipped(why)));
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
    if let Some(refused) = too_large(source, name, &doc) {
        return Ok(refused);
    }
    // No apiserver ran before us: default as it would have.
    validate::apply_defaults(schema, &mut doc);
    let old = old.map(|mut o| {
        validate::apply_defaults(schema, &mut o);
        o
    });
    let mut outcome = validate::meshconfig_with(schema, &doc, old.as_ref(), opts.unknown_fields);
    outcome.warnings.splice(
        0..0,
        outside_mesh_namespace(&doc, opts.mesh_namespace, "the MeshConfig"),
    );
    let hints = hints::meshconfig(schema, &outcome.errors, &doc, yaml);
    Ok(judged(source, name, outcome, hints))
}

fn judged(source: &str, name: &str, outcome: validate::Outcome, hints: Vec<String>) -> Entry {
    let kind = outcome.kind.to_lowercase();
    let resource = if outcome.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", outcome.group)
    };
    let status = outcome.status(name).map(Box::new);
    let mut e = Entry::new(source, name, Verdict::Judged { resource, status });
    e.warnings = cli_warnings(&outcome.warnings, outcome.more_warnings);
    e.hints = hints;
    e
}

/// OSM reads its configuration only in its own namespace, and the chart's webhook configuration
/// selects only that namespace: an object elsewhere is neither reviewed nor read.
fn outside_mesh_namespace(doc: &Value, mesh_namespace: &str, what: &str) -> Option<String> {
    let ns = doc.get("metadata")?.get("namespace")?.as_str()?;
    (ns != mesh_namespace).then(|| {
        format!(
            "metadata.namespace: OSM reads {what} only in its namespace {} (--mesh-namespace), and only there does the webhook review it; {} has no effect",
            go_quote(mesh_namespace),
            go_quote(ns)
        )
    })
}

/// A document that is neither a MeshConfig nor a ConfigMap: a typo of one of ours is an error (a
/// gate must not pass it as "not ours"), anything else is skipped, and this says why.
fn other_kind(source: &str, kind: &str, api_version: &str, name: &str) -> Result<String, String> {
    if kind.is_empty() {
        return Err(format!(
            "{source}: the document has no kind; kubectl refuses it too (Object 'Kind' is missing)"
        ));
    }
    let skipped = || format!("skipped {kind} {name:?}: not a {KIND}");
    let in_group = api_version.split_once('/').is_some_and(|(g, _)| g == GROUP);
    if in_group && OTHER_KINDS.contains(&kind) {
        return Ok(skipped());
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
        None => Ok(skipped()),
    }
}

/// The apiserver's answer to an object it will not even read: over its request body limit.
fn too_large(source: &str, name: &str, doc: &Value) -> Option<Entry> {
    let size = serde_json::to_vec(doc).map_or(0, |v| v.len());
    (size > APISERVER_MAX_REQUEST_BYTES).then(|| {
        let status = Some(Box::new(Status::request_entity_too_large(APISERVER_MAX_REQUEST_BYTES)));
        let verdict = Verdict::Judged {
            resource: String::new(),
            status,
        };
        let mut e = Entry::new(source, name, verdict);
        e.hints.push(format!(
            "the object is {size} bytes as JSON; kube-apiserver refuses request bodies over {} MiB ({APISERVER_MAX_REQUEST_BYTES} bytes) before validating anything",
            APISERVER_MAX_REQUEST_BYTES >> 20
        ));
        e
    })
}

/// `kubectl patch --type merge|json` applied to `--base`, then validated as the UPDATE it would be.
fn patched(opts: Opts, base_file: &str, patch: &str, ty: PatchType) -> Entry {
    let source = format!("{base_file} patched");
    let entry = patch_target(base_file, patch, ty).and_then(|applied| match applied {
        Applied::Target { base, target, yaml } => {
            let e = check(opts, &source, target, Some(base), yaml);
            match e.verdict {
                Verdict::Skipped(_) => Err(format!(
                    "{base_file}: --base must be a {KIND} or the {CONFIGMAP_NAME} ConfigMap"
                )),
                _ => Ok(e),
            }
        }
        Applied::Failed(e) => Ok(*e),
    });
    entry.unwrap_or_else(|why| Entry::new(&source, "", Verdict::Unusable(why)))
}

/// A patch applied to its base, or the apiserver's answer to a JSON patch that does not apply.
enum Applied {
    Target { base: Value, target: Value, yaml: bool },
    Failed(Box<Entry>),
}

fn patch_target(base_file: &str, patch: &str, ty: PatchType) -> Result<Applied, String> {
    let text = read(base_file)?;
    let mut docs = input::documents(&text, base_file)?;
    if docs.values.len() != 1 {
        return Err(format!(
            "{base_file}: --base must hold exactly one object, found {}",
            docs.values.len()
        ));
    }
    let base = docs.values.remove(0);
    let (patch_value, patch_yaml) = input::parse_patch(patch)?;
    let mut target = base.clone();
    match (ty, &patch_value) {
        (PatchType::Merge, Value::Array(_)) => {
            return Err("--patch: an array is a JSON patch (RFC 6902): use --type json".into());
        }
        (PatchType::Merge, Value::Object(_)) => json_patch::merge(&mut target, &patch_value),
        (PatchType::Merge, other) => {
            return Err(format!(
                "--patch: a merge patch is an object, found {}",
                input::json_type(other)
            ));
        }
        (PatchType::Json, Value::Object(_)) => {
            return Err("--patch: a JSON patch (RFC 6902) is an array of operations; for an object (a merge patch) use --type merge".into());
        }
        (PatchType::Json, _) => {
            let ops: json_patch::Patch = serde_json::from_value(patch_value)
                .map_err(|e| format!("--patch: not a JSON patch (RFC 6902): {e}"))?;
            if let Err(e) = json_patch::patch(&mut target, &ops) {
                return Ok(Applied::Failed(Box::new(patch_failed(base_file, &base, &ops, &e))));
            }
        }
    }
    Ok(Applied::Target {
        base,
        target,
        yaml: docs.yaml || patch_yaml,
    })
}

/// A JSON patch that does not apply: what kubectl prints for the apiserver's 422, and which
/// operation failed.
fn patch_failed(base_file: &str, base: &Value, ops: &json_patch::Patch, e: &json_patch::PatchError) -> Entry {
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
    let name = base.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let verdict = Verdict::Judged {
        resource: String::new(),
        status: Some(Box::new(Status::unprocessable_patch())),
    };
    let mut entry = Entry::new(&format!("{base_file} patched"), name, verdict);
    entry.hints.push(format!(
        "--patch operation {} ({verb} {}) does not apply: {problem}",
        e.operation + 1,
        go_quote(e.path.as_str())
    ));
    entry
}
