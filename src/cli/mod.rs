//! The command line: one clap `Args`, one module per subcommand.

mod arc_settings_cmd;
mod certs_cmd;
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
