//! The CRD layer against golden output of kube-apiserver's own validator.
//!
//! `tests/fixtures/crd/*.json` were produced by `tools/golden` with the crd-oracle (kube-openapi,
//! Kubernetes 1.30 wording) from OSM's CRDs; see tools/golden/README.md. For every case our CRD
//! layer must report exactly the oracle's causes (reason, message, field, in order), the same
//! kubectl text, and the oracle's warnings; our semantic layer may only add to that.

use std::path::{Path, PathBuf};

use meshconfig_webhook::field::{FieldError, Status};
use meshconfig_webhook::schema::{ApiVersion, GROUP, KIND, Release, Schema};
use meshconfig_webhook::validate;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Case {
    label: String,
    schema: &'static Schema,
    object: Value,
    old: Option<Value>,
    expect: Value,
}

fn cases() -> Vec<Case> {
    let dir = fixtures_dir().join("crd");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "expected a golden file per schema in {}, found {}",
        dir.display(),
        files.len()
    );
    let mut out = Vec::new();
    for file in files {
        let doc = load(&file);
        let release: Release = doc["release"].as_str().and_then(|r| r.parse().ok()).expect("release");
        let version = doc["apiVersion"]
            .as_str()
            .and_then(ApiVersion::parse)
            .expect("apiVersion");
        let schema = Schema::get(release, version).expect("served schema");
        let fname = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in doc["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap_or("?");
            let (object, old) = if let Some(base) = case["base"].as_str() {
                let base = load(&fixtures_dir().join("objects").join(base));
                let mut object = base.clone();
                json_patch::merge(&mut object, &case["patch"]);
                (object, Some(base))
            } else {
                (case["object"].clone(), None)
            };
            out.push(Case {
                label: format!("{fname}: {name}"),
                schema,
                object,
                old,
                expect: case["expect"].clone(),
            });
        }
    }
    out
}

fn run(case: &Case) -> validate::Outcome {
    // The apiserver defaults the stored and the new object before validating; so do we here.
    let mut object = case.object.clone();
    validate::apply_defaults(case.schema, &mut object);
    let old = case.old.clone().map(|mut o| {
        validate::apply_defaults(case.schema, &mut o);
        o
    });
    validate::meshconfig(case.schema, &object, old.as_ref())
}

#[test]
fn crd_layer_matches_the_apiservers_validator_byte_for_byte() {
    let cases = cases();
    let mut failures = Vec::new();
    let (mut allowed, mut rejected) = (0, 0);
    for case in &cases {
        let outcome = run(case);
        let crd: Vec<FieldError> = outcome.crd_errors().cloned().collect();
        let name = case
            .object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if case.expect["allowed"] == Value::Bool(true) {
            allowed += 1;
            if !crd.is_empty() {
                failures.push(format!(
                    "{}: oracle allowed, we report {:?}",
                    case.label,
                    crd.iter().map(|e| e.to_string()).collect::<Vec<_>>()
                ));
            }
        } else {
            rejected += 1;
            let ours = Status::invalid(GROUP, KIND, name, &crd);
            let ours_json = serde_json::to_value(&ours).expect("status json");
            let theirs = &case.expect["status"];
            if ours_json["details"]["causes"] != theirs["details"]["causes"]
                || ours_json["message"] != theirs["message"]
            {
                failures.push(format!(
                    "{}:\n  oracle: {}\n  ours:   {}",
                    case.label, theirs["details"]["causes"], ours_json["details"]["causes"]
                ));
            } else if case.expect["kubectl"].as_str() != Some(ours.kubectl_message().as_str()) {
                failures.push(format!(
                    "{}: kubectl text differs:\n  oracle: {:?}\n  ours:   {:?}",
                    case.label,
                    case.expect["kubectl"],
                    ours.kubectl_message()
                ));
            }
        }
        for w in case.expect["warnings"].as_array().into_iter().flatten() {
            let w = w.as_str().unwrap_or_default();
            if !outcome.warnings.iter().any(|o| o == w) {
                failures.push(format!(
                    "{}: missing warning {w:?}; ours: {:?}",
                    case.label, outcome.warnings
                ));
            }
        }
    }
    println!(
        "golden CRD cases: {} ({allowed} allowed, {rejected} rejected by the oracle)",
        cases.len()
    );
    assert!(cases.len() >= 500, "too few golden cases: {}", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} golden cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn semantic_layer_only_adds_to_the_crd_layer() {
    for case in cases() {
        let outcome = run(&case);
        let crd_fields: Vec<&str> = outcome.crd_errors().map(|e| e.field.as_str()).collect();
        for e in outcome
            .errors
            .iter()
            .filter(|e| e.layer == meshconfig_webhook::field::Layer::Semantic)
        {
            assert!(
                !crd_fields.contains(&e.field.as_str()),
                "{}: semantic error on a field the CRD layer already rejected: {e}",
                case.label
            );
        }
    }
}
