//! The command line: one clap `Args`, one module per subcommand.

mod arc_settings_cmd;
mod certs_cmd;
mod log_writer;
mod policy_cmd;
mod schema_cmd;
pub mod serve;
mod validate_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "meshconfig-webhook",
    version,
    about = "Validating admission webhook for Open Service Mesh's MeshConfig"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the admission webhook (HTTPS, POST /validate) and its admin port.
    Serve(Box<serve::ServeArgs>),
    /// Validate MeshConfig documents offline (YAML or JSON, multi-document), as the webhook would.
    Validate(validate_cmd::ValidateArgs),
    /// Print the JSON Schema a MeshConfig is validated with (for editors and yaml-language-server).
    Schema(schema_cmd::SchemaArgs),
    /// Print the rules as a ValidatingAdmissionPolicy and binding (no webhook needed).
    Policy(policy_cmd::PolicyArgs),
    /// Write a development CA and serving certificate (ca.crt, tls.crt, tls.key).
    Certs(certs_cmd::CertsArgs),
    /// Check an Azure Arc OSM extension settings file (or ARM template) before `az k8s-extension create`.
    ArcSettings(arc_settings_cmd::ArcSettingsArgs),
}

/// `--unknown-configmap-keys`, shared by `serve` and `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UnknownKeysArg {
    Deny,
    Warn,
}

impl From<UnknownKeysArg> for crate::validate::UnknownKeys {
    fn from(a: UnknownKeysArg) -> Self {
        match a {
            UnknownKeysArg::Deny => Self::Deny,
            UnknownKeysArg::Warn => Self::Warn,
        }
    }
}

/// A flag naming a Kubernetes namespace or Service: a DNS-1123 label, worded as apimachinery's
/// `IsDNS1123Label` (both end up in certificate names like `<service>.<namespace>.svc`).
pub(crate) fn dns1123_label(v: &str) -> Result<String, String> {
    let errs = crate::validate::names::dns1123_label_errors(v);
    if errs.is_empty() {
        Ok(v.to_owned())
    } else {
        Err(errs.join("; "))
    }
}

/// A listen address `host:port`; Go's `:port` (all addresses), as Kubernetes components take it,
/// becomes `0.0.0.0:port`.
pub(crate) fn listen_addr(v: &str) -> Result<String, String> {
    let addr = if v.starts_with(':') {
        format!("0.0.0.0{v}")
    } else {
        v.to_owned()
    };
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(addr),
        _ => Err("must be host:port or :port (e.g. 0.0.0.0:8443, [::]:8443 or :8443)".into()),
    }
}

/// Runs a subcommand; the exit code is the subcommand's contract.
pub fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Validate(a) => validate_cmd::run(a),
        Command::Schema(a) => schema_cmd::run(a),
        Command::Serve(a) => serve::run(*a),
        Command::Certs(a) => certs_cmd::run(a),
        Command::Policy(a) => policy_cmd::run(a),
        Command::ArcSettings(a) => arc_settings_cmd::run(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_take_gos_port_only_form() {
        assert_eq!(listen_addr(":18443").as_deref(), Ok("0.0.0.0:18443"));
        assert_eq!(listen_addr("127.0.0.1:0").as_deref(), Ok("127.0.0.1:0"));
        assert_eq!(listen_addr("[::]:8443").as_deref(), Ok("[::]:8443"));
        assert_eq!(listen_addr("localhost:8443").as_deref(), Ok("localhost:8443"));
        for bad in ["8443", ":", ":http", "host:99999", ""] {
            assert!(listen_addr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_dns1123_labels() {
        assert!(dns1123_label("meshconfig-webhook").is_ok());
        assert!(dns1123_label("Bad_Name").is_err());
        assert!(dns1123_label("x y").is_err());
        assert!(dns1123_label("").is_err());
        assert_eq!(dns1123_label("a.b").err().as_deref(), Some("must not contain dots"));
    }
}
