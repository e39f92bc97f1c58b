//! `meshconfig-webhook validate`: the webhook's decision for manifests on disk, for CI and GitOps.
//!
//! Exit codes: 0 every document valid, 1 some document invalid, 2 some input unusable.

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::UnknownKeysArg;
use crate::field::bounds::cli_warnings;
use crate::schema::configmap::{CONFIGMAP_KIND, CONFIGMAP_NAME};
use crate::schema::{ApiVersion, GROUP, KIND, Release, Schema};
use crate::validate::{self, Outcome, UnknownKeys};

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
    /// The patch to apply to --base (JSON).
    #[arg(long, value_name = "JSON", requires = "base")]
    pub patch: Option<String>,
    /// Patch type, as `kubectl patch --type`: merge (RFC 7386) or json (RFC 6902).
    #[arg(long = "type", value_enum, default_value_t = PatchType::Merge)]
    pub patch_type: PatchType,
    /// Output: kubectl's rendering (text) or the Status and warnings (json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    pub output: Output,
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

/// One document's result.
struct Checked {
    source: String,
    name: String,
    outcome: Outcome,
}

pub fn run(a: ValidateArgs) -> ExitCode {
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
    match (&a.base, &a.patch) {
        (Some(base), Some(patch)) => {
            if !a.files.is_empty() {
                report(Err("--base/--patch and FILE arguments cannot be combined".into()));
            } else {
                report(
                    patched(
                        a.osm_release,
                        a.unknown_configmap_keys.into(),
                        base,
                        patch,
                        a.patch_type,
                    )
                    .map(Some),
                );
            }
        }
        _ if a.files.is_empty() => report(Err(
            "no input: give FILE arguments, `-` for standard input, or --base with --patch".into(),
        )),
        _ => {
            for file in &a.files {
                match read(file).and_then(|text| documents(&text).map_err(|e| format!("{file}: {e}"))) {
                    Err(e) => report(Err(e)),
                    Ok(docs) => {
                        let many = docs.len() > 1;
                        for (i, doc) in docs.into_iter().enumerate() {
                            let source = if many {
                                format!("{file}: document {}", i + 1)
                            } else {
                                file.clone()
                            };
                            report(check(
                                a.osm_release,
                                a.unknown_configmap_keys.into(),
                                &source,
                                doc,
                                None,
                            ));
                        }
                    }
                }
            }
        }
    }
    let invalid = results.iter().any(|c| !c.outcome.allowed());
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
        for w in cli_warnings(&c.outcome.warnings, c.outcome.more_warnings) {
            eprintln!("Warning: {w}");
        }
    }
    match output {
        Output::Text => {
            for c in results {
                match c.outcome.status(&c.name) {
                    Some(status) => {
                        if many {
                            println!("{}:", c.source);
                        }
                        print!("{}", status.kubectl_message());
                    }
                    None => println!("{} valid ({})", resource_ref(&c.outcome, &c.name), c.source),
                }
            }
        }
        Output::Json => {
            let docs: Vec<Value> = results
                .iter()
                .map(|c| {
                    json!({
                        "source": c.source,
                        "name": c.name,
                        "allowed": c.outcome.allowed(),
                        "status": c.outcome.status(&c.name),
                        "warnings": cli_warnings(&c.outcome.warnings, c.outcome.more_warnings),
                    })
                })
                .collect();
            let out = if docs.len() == 1 {
                docs[0].clone()
            } else {
                Value::Array(docs)
            };
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
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

/// Splits a file into documents: a JSON value stream, or multi-document YAML read with YAML 1.1
/// booleans as kubectl reads it (`enableEgress: no` is `false`, `logLevel: off` is `false`).
/// `kind: List` documents are expanded into their items.
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let raw: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("invalid JSON: {e}"))?
    } else {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| format!("invalid YAML: {e}"))?
    };
    let mut out = Vec::with_capacity(raw.len());
    for doc in raw {
        match doc {
            Value::Null => {} // empty YAML documents (`---` separators)
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => match m.get("items") {
                Some(Value::Array(items)) => out.extend(items.iter().cloned()),
                _ => return Err("a List document without an items array".into()),
            },
            Value::Array(items) => out.extend(items),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Validates one document; `Ok(None)` for documents of other kinds, which are skipped with a note.
fn check(
    release: Release,
    unknown_keys: UnknownKeys,
    source: &str,
    mut doc: Value,
    old: Option<Value>,
) -> Result<Option<Checked>, String> {
    let Some(obj) = doc.as_object() else {
        return Err(format!("{source}: expected an object, found {}", json_type(&doc)));
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind == CONFIGMAP_KIND {
        // OSM v0.8's configuration; the release flag is about MeshConfig schemas and does not apply.
        let name = obj
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if name != CONFIGMAP_NAME {
            eprintln!("note: {source}: skipped ConfigMap {name:?}: not the {CONFIGMAP_NAME} ConfigMap");
            return Ok(None);
        }
        if api_version != "v1" {
            return Err(format!("{source}: apiVersion {api_version:?} is not v1"));
        }
        let outcome = validate::configmap(&doc, old.as_ref(), unknown_keys);
        return Ok(Some(Checked {
            source: source.to_owned(),
            name: name.to_owned(),
            outcome,
        }));
    }
    if kind != KIND {
        let name = doc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let what = if kind.is_empty() {
            "a document without kind".to_owned()
        } else {
            format!("{kind} {name:?}")
        };
        eprintln!("note: {source}: skipped {what}: not a {KIND}");
        return Ok(None);
    }
    let version = api_version
        .strip_prefix(GROUP)
        .and_then(|v| v.strip_prefix('/'))
        .and_then(ApiVersion::parse)
        .ok_or_else(|| format!("{source}: apiVersion {api_version:?} is not {GROUP}/v1alpha1, v1alpha2 or v1alpha3"))?;
    let schema = Schema::get(release, version).ok_or_else(|| {
        let served: Vec<String> = release.api_versions().iter().map(|v| format!("{GROUP}/{v}")).collect();
        format!(
            "{source}: OSM {release} does not serve {api_version}; it serves {}",
            served.join(", ")
        )
    })?;
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    // No apiserver ran before us: default as it would have.
    validate::apply_defaults(schema, &mut doc);
    let old = old.map(|mut o| {
        validate::apply_defaults(schema, &mut o);
        o
    });
    let outcome = validate::meshconfig(schema, &doc, old.as_ref());
    Ok(Some(Checked {
        source: source.to_owned(),
        name,
        outcome,
    }))
}

/// `kubectl patch --type merge|json` applied to `--base`, then validated as the UPDATE it would be.
fn patched(
    release: Release,
    unknown_keys: UnknownKeys,
    base_file: &str,
    patch: &str,
    ty: PatchType,
) -> Result<Checked, String> {
    let text = read(base_file)?;
    let mut docs = documents(&text).map_err(|e| format!("{base_file}: {e}"))?;
    if docs.len() != 1 {
        return Err(format!(
            "{base_file}: --base must hold exactly one object, found {}",
            docs.len()
        ));
    }
    let base = docs.remove(0);
    let patch_value: Value = serde_json::from_str(patch).map_err(|e| format!("--patch: invalid JSON: {e}"))?;
    let mut target = base.clone();
    match ty {
        PatchType::Merge => json_patch::merge(&mut target, &patch_value),
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch_value)
                .map_err(|e| format!("--patch: not a JSON patch (RFC 6902): {e}"))?;
            json_patch::patch(&mut target, &ops).map_err(|e| format!("--patch: {e}"))?;
        }
    }
    check(release, unknown_keys, base_file, target, Some(base))?
        .ok_or_else(|| format!("{base_file}: --base must be a {KIND} or the {CONFIGMAP_NAME} ConfigMap"))
}

/// kubectl's `<kind>[.<group>]/<name>`.
fn resource_ref(o: &Outcome, name: &str) -> String {
    let kind = o.kind.to_lowercase();
    if o.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", o.group)
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
        let docs = documents("a: no\nb: off\nc: '24h'\n---\n---\nkind: X\n").expect("yaml");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["a"], false);
        assert_eq!(docs[0]["b"], false);
        assert_eq!(docs[0]["c"], "24h");
    }

    #[test]
    fn reads_json_streams_and_lists() {
        let docs = documents(r#"{"kind":"List","items":[{"a":1},{"a":2}]} {"a":3}"#).expect("json");
        assert_eq!(docs.len(), 3);
        assert!(documents("{").is_err());
    }
}
