//! `meshconfig-webhook arc-settings`: checks an Azure Arc `--configuration-settings-file` (or an
//! ARM template) for the OSM extension before `az k8s-extension create` sends it.
//!
//! Exit codes: 0 the settings would install and take effect, 1 something is wrong, 2 the input is
//! unusable.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::arc::{self, ExtensionVersion, Report};

#[derive(Debug, Args)]
pub struct ArcSettingsArgs {
    /// The settings file (a flat JSON object of strings) or an ARM template; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Arc OSM extension version (0.8.4, 0.9.2, 0.11.1, 1.0.0-1, 1.1.1-1, 1.2.3, 1.2.6).
    /// Default: an ARM template's ExtensionVersion default, else 1.2.6.
    #[arg(long, env = "MESHCONFIG_ARC_EXTENSION_VERSION")]
    pub extension_version: Option<String>,
    /// Output: one line per finding (text) or one JSON object (json).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

pub fn run(a: ArcSettingsArgs) -> ExitCode {
    match checked(&a) {
        Ok(report) => {
            print_report(&a, &report);
            if report.valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            match a.output {
                Output::Text => eprintln!("error: {}: {e}", a.file),
                Output::Json => println!("{}", pretty(&document(&a.file, None, Some(&e)))),
            }
            ExitCode::from(2)
        }
    }
}

fn checked(a: &ArcSettingsArgs) -> Result<Report, String> {
    let text = super::validate_cmd::read(&a.file)?;
    let parsed = arc::parse_settings(&text).map_err(|e| e.to_string())?;
    let version: ExtensionVersion = match (&a.extension_version, &parsed.template_version) {
        (Some(v), _) => v.parse()?,
        (None, Some(v)) => v
            .parse()
            .map_err(|e| format!("the template's ExtensionVersion default: {e}"))?,
        (None, None) => ExtensionVersion::LATEST,
    };
    Ok(arc::check_settings(&parsed.settings, version))
}

fn print_report(a: &ArcSettingsArgs, r: &Report) {
    match a.output {
        Output::Text => {
            for e in &r.errors {
                println!("{e}");
            }
            for w in &r.warnings {
                eprintln!("Warning: {w}");
            }
            if let Some(cmd) = &r.patch_command {
                eprintln!("To change these settings on a running mesh: {cmd}");
            }
            if r.valid() {
                println!("{}: valid for Azure Arc OSM extension {}", a.file, r.version);
            }
        }
        Output::Json => println!("{}", pretty(&document(&a.file, Some(r), None))),
    }
}

/// The one JSON shape, whatever happened: every key is always present.
fn document(file: &str, r: Option<&Report>, error: Option<&str>) -> Value {
    let errors: Vec<Value> = r
        .map(|r| {
            r.errors
                .iter()
                .map(|e| {
                    json!({
                        "field": e.field,
                        "reason": e.kind.cause_reason(),
                        "message": e.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "file": file,
        "extensionVersion": r.map(|r| r.version.as_str()),
        "valid": r.is_some_and(Report::valid),
        "error": error,
        "errors": errors,
        "warnings": r.map(|r| r.warnings.clone()).unwrap_or_default(),
        "patchCommand": r.and_then(|r| r.patch_command.clone()),
    })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}
