//! `meshconfig-webhook policy`: golden output per release line (and the CIDR library's switch at
//! 1.31), flags and their errors. Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test cli_policy` and review the diff.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(support::BIN)
        .arg("policy")
        .args(args)
        .env_remove("MESHCONFIG_OSM_RELEASE")
        .env_remove("MESHCONFIG_KUBERNETES_VERSION")
        .env_remove("MESHCONFIG_MESH_NAMESPACE")
        .output()
        .expect("run meshconfig-webhook policy")
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy/golden")
        .join(name)
}

#[track_caller]
fn assert_golden(args: &[&str], name: &str) {
    let out = run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = String::from_utf8(out.stdout).expect("UTF-8");
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        got == want,
        "output differs from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

#[test]
fn accepts_every_release_line_and_matches_its_golden_policy() {
    for release in ["0.9", "0.10", "0.11", "1.0", "1.1", "1.2"] {
        assert_golden(
            &["--osm-release", release, "--mesh-namespace", "arc-osm-system"],
            &format!("osm-{release}-k8s-1.30.yaml"),
        );
    }
    assert_golden(
        &["--osm-release", "1.2", "--kubernetes-version", "1.31"],
        "osm-1.2-k8s-1.31.yaml",
    );
}

#[test]
fn accepts_defaults_release_1_2_for_kubernetes_1_30_in_arc_osm_system() {
    let out = run(&[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("name: meshconfig-osm-1.2\n"), "{text}");
    assert!(text.contains("kubernetes.io/metadata.name: arc-osm-system"));
    assert!(text.contains("- Deny"));
    assert!(text.contains("failurePolicy: Fail"));
    assert!(text.contains("reason: Invalid"));
    assert!(!text.contains("isCIDR("), "1.30 offers no CIDR library to new policies");
}

#[test]
fn rejects_unsupported_versions_and_bad_namespaces() {
    for (args, needle) in [
        (&["--kubernetes-version", "1.29"][..], "GA from 1.30"),
        (&["--kubernetes-version", "two"][..], "invalid Kubernetes version"),
        (&["--osm-release", "0.8"][..], "unsupported OSM release"),
        (&["--mesh-namespace", "Bad_NS"][..], "--mesh-namespace \"Bad_NS\""),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
