//! `meshconfig-webhook certs`: writes a development CA and serving certificate (always new).
//!
//! Exit codes: 0 written, 1 failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::certs;
use crate::server;

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Directory to write ca.crt, tls.crt and tls.key into (created if missing; files replaced).
    #[arg(long, env = "MESHCONFIG_CERT_DIR", default_value = server::DEFAULT_CERT_DIR)]
    pub out: PathBuf,
    /// Name of the webhook's Service (a DNS-1123 label).
    #[arg(long, env = "MESHCONFIG_SERVICE_NAME", default_value = server::DEFAULT_SERVICE_NAME, value_parser = super::dns1123_label)]
    pub service_name: String,
    /// Namespace of the webhook's Service (a DNS-1123 label).
    #[arg(long, env = "MESHCONFIG_MESH_NAMESPACE", default_value = server::DEFAULT_MESH_NAMESPACE, value_parser = super::dns1123_label)]
    pub namespace: String,
}

pub fn run(a: CertsArgs) -> ExitCode {
    let written = certs::generate(&a.service_name, &a.namespace).and_then(|g| Ok((certs::write(&a.out, &g)?, g.sans)));
    match written {
        Ok((paths, sans)) => {
            println!(
                "{}: development CA (the webhook's caBundle; curl --cacert)",
                paths.ca.display()
            );
            println!("{}: serving certificate for {}", paths.cert.display(), sans.join(", "));
            println!("{}: its private key", paths.key.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
