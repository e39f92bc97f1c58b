//! Flags of `serve` and `certs` that must be refused when parsed (exit 2, the valid forms named),
//! before anything starts: a webhook that starts misconfigured fails in a pod with empty logs.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use support::BIN;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MESHCONFIG_LOG_LEVEL")
        .env_remove("MESHCONFIG_SERVICE_NAME")
        .env_remove("MESHCONFIG_MESH_NAMESPACE")
        .output()
        .expect("binary runs")
}

#[test]
fn rejects_unknown_log_levels_with_the_valid_ones() {
    for level in ["warning", "verbose", "info,hyper=loud"] {
        let out = run(&[
            "serve",
            "--log-level",
            level,
            "--addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
        ]);
        assert_eq!(out.status.code(), Some(2), "{level}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("valid levels are trace, debug, info, warn, error, off"),
            "{level}: {stderr}"
        );
    }
}

#[test]
fn accepts_gos_port_only_listen_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            ":0",
            "--admin-addr",
            ":0",
            "--log-format",
            "json",
            "--cert-dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    let mut ready = None;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        seen.push(line);
        if v["message"] == "serving admission reviews" {
            ready = Some(v);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let ready = ready.unwrap_or_else(|| panic!("did not start: {seen:#?}"));
    for key in ["addr", "admin_addr"] {
        let addr: std::net::SocketAddr = ready[key].as_str().and_then(|a| a.parse().ok()).expect("address");
        assert!(addr.ip().is_unspecified() && addr.port() != 0, "{key}: {addr}");
    }

    let out = run(&["serve", "--addr", "8443"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be host:port or :port"));
}

#[test]
fn rejects_service_and_namespace_names_that_are_not_dns1123_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().to_str().expect("utf-8");
    for (flag, value) in [
        ("--service-name", "Bad_Name"),
        ("--namespace", "x y"),
        ("--namespace", ""),
        ("--service-name", "a.b"),
    ] {
        let out = run(&["certs", "--out", out_dir, flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("a lowercase RFC 1123 label must consist of") || stderr.contains("must not contain dots"),
            "{flag} {value:?}: {stderr}"
        );
        assert!(
            !dir.path().join("tls.crt").exists(),
            "nothing written for {flag} {value:?}"
        );
    }
    let out = run(&["serve", "--mesh-namespace", "Arc_OSM", "--addr", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
}
