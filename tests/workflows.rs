//! The GitHub Actions workflows in `.github/workflows`, linted with the project's pinned actionlint
//! (`./bin`, from `make tools`), and checked for what they must do: CI runs `.ci/run`; a version
//! tag builds the multi-arch image from the Dockerfile and pushes it and the packaged chart to GHCR.

#[path = "support/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow_files() -> Vec<PathBuf> {
    let dir = repo().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

/// actionlint on `files`, run from `cwd`. shellcheck and pyflakes integrations are off: they would
/// come from `PATH`, and the result must not depend on what the machine happens to have.
fn actionlint(cwd: &Path, files: &[PathBuf]) -> Output {
    Command::new(tools::tool("actionlint"))
        .args(["-no-color", "-shellcheck=", "-pyflakes="])
        .args(files)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("actionlint: {e}"))
}

fn workflow(name: &str) -> Value {
    let path = repo().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every step of every job.
fn steps(w: &Value) -> Vec<&Value> {
    w["jobs"]
        .as_object()
        .into_iter()
        .flat_map(|jobs| jobs.values())
        .flat_map(|job| job["steps"].as_array().into_iter().flatten())
        .collect()
}

fn runs(w: &Value) -> String {
    steps(w)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn accepts_the_workflows_under_actionlint() {
    let files = workflow_files();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert!(
        names.contains(&"ci.yml".to_owned()) && names.contains(&"release.yml".to_owned()),
        "{names:?}"
    );
    let out = actionlint(repo(), &files);
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rejects_a_broken_workflow_so_the_lint_is_real() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    let bad = wf.join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.no_such_context }}\n",
    )
    .expect("write");
    let out = actionlint(dir.path(), &[bad]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no_such_context"));
}

#[test]
fn accepts_ci_that_runs_the_projects_ci_script_on_pushes_and_pull_requests() {
    let ci = workflow("ci.yml");
    assert!(ci["on"]["pull_request"].is_null() && ci["on"].get("pull_request").is_some());
    assert_eq!(ci["on"]["push"]["branches"][0], "main");
    assert!(runs(&ci).lines().any(|l| l.trim() == ".ci/run"), "{}", runs(&ci));
    assert!(repo().join(".ci/run").is_file());
}

#[test]
fn accepts_a_release_that_pushes_the_multi_arch_image_and_the_oci_chart_on_a_tag() {
    let release = workflow("release.yml");
    assert_eq!(release["on"]["push"]["tags"][0], "v*");
    let build = steps(&release)
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("a docker/build-push-action step");
    assert_eq!(build["with"]["file"], "Dockerfile");
    assert_eq!(build["with"]["push"], true);
    let platforms = build["with"]["platforms"].as_str().unwrap_or_default();
    assert!(
        platforms.contains("linux/amd64") && platforms.contains("linux/arm64"),
        "{platforms}"
    );
    let script = runs(&release);
    assert!(script.contains("helm package charts/meshconfig-webhook"), "{script}");
    assert!(script.contains("helm push "), "{script}");
    let job = release["jobs"]
        .as_object()
        .and_then(|j| j.values().next())
        .expect("a job");
    assert_eq!(job["permissions"]["packages"], "write");
    // The image and chart go to GHCR under the repository's owner.
    let text = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).expect("read");
    assert!(text.contains("image=ghcr.io/$owner/meshconfig-webhook"));
    assert!(text.contains("charts=oci://ghcr.io/$owner/charts"));
}
