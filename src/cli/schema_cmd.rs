//! `meshconfig-webhook schema`: the JSON Schema we validate with.

use std::process::ExitCode;

use clap::Args;

use crate::schema::{ApiVersion, Release, Schema};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// OSM release line whose schema to print (0.9, 0.10, 0.11, 1.0, 1.1, 1.2).
    #[arg(long, env = "MESHCONFIG_OSM_RELEASE", default_value = "1.2")]
    pub osm_release: Release,
    /// API version (default: the release's storage version).
    #[arg(long, value_parser = parse_api_version)]
    pub api_version: Option<ApiVersion>,
}

fn parse_api_version(s: &str) -> Result<ApiVersion, String> {
    ApiVersion::parse(s).ok_or_else(|| format!("unknown API version {s:?}: expected v1alpha1, v1alpha2 or v1alpha3"))
}

pub fn run(a: SchemaArgs) -> ExitCode {
    let version = a.api_version.unwrap_or_else(|| a.osm_release.storage_version());
    let Some(schema) = Schema::get(a.osm_release, version) else {
        let served: Vec<&str> = a.osm_release.api_versions().iter().map(|v| v.as_str()).collect();
        eprintln!(
            "error: OSM {} does not serve MeshConfig {version}; it serves {}",
            a.osm_release,
            served.join(", ")
        );
        return ExitCode::from(2);
    };
    match serde_json::to_string_pretty(&schema.to_json_schema()) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
