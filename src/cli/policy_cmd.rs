//! `meshconfig-webhook policy`: the webhook's rules as a ValidatingAdmissionPolicy and binding.

use std::process::ExitCode;

use clap::Args;

use crate::policy::{self, KubeVersion};
use crate::schema::Release;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// OSM release line whose rules to generate (0.9, 0.10, 0.11, 1.0, 1.1, 1.2).
    #[arg(long, env = "MESHCONFIG_OSM_RELEASE", default_value = "1.2")]
    pub osm_release: Release,
    /// Kubernetes version the policy is for (≥ 1.30): decides which CEL libraries it may use.
    #[arg(long, env = "MESHCONFIG_KUBERNETES_VERSION", default_value = "1.30")]
    pub kubernetes_version: KubeVersion,
    /// Namespace OSM runs in; the binding matches MeshConfigs there only.
    #[arg(long, env = "MESHCONFIG_MESH_NAMESPACE", default_value = "arc-osm-system")]
    pub mesh_namespace: String,
}

pub fn run(a: PolicyArgs) -> ExitCode {
    if let Err(e) = crate::validate::names::dns1123_label_errors(&a.mesh_namespace)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
    {
        eprintln!("error: --mesh-namespace {:?}: {e}", a.mesh_namespace);
        return ExitCode::from(2);
    }
    let options = policy::Options {
        release: a.osm_release,
        kube: a.kubernetes_version,
        mesh_namespace: a.mesh_namespace,
    };
    match policy::to_yaml(&options) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
