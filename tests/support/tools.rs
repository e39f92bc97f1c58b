//! The external tools the tests drive (helm, kubectl, kubernetes-validate, actionlint and the
//! control plane's kube-apiserver and etcd), always the project's pinned copies in `./bin`, never
//! whatever happens to be on `PATH`: `make tools` (or `make test`, which runs it first) installs
//! them there. A missing tool fails the test and says how to get it; nothing is skipped.

use std::path::{Path, PathBuf};

/// Where `make tools` installs; `MESHCONFIG_TOOLS_DIR` overrides it (an envtest-style
/// `KUBEBUILDER_ASSETS` directory works too for the control plane).
pub fn tools_dir() -> PathBuf {
    std::env::var_os("MESHCONFIG_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("bin"))
}

/// The path of the project's copy of `name`, or a failure that says how to install it.
pub fn tool(name: &str) -> PathBuf {
    let dir = tools_dir();
    let path = dir.join(name);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => path,
        _ => panic!(
            "{name} is not installed in {}: run `make tools` (it installs helm, kubectl, \
             kubernetes-validate, actionlint, kube-apiserver, etcd and kube-controller-manager into ./bin; the first run \
             builds the control plane from the Go module proxy, 8-10 minutes on 2 cores), \
             or run the tests with `make test`, which does that first",
            dir.display()
        ),
    }
}
