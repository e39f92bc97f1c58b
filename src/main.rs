#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    meshconfig_webhook::cli::run(meshconfig_webhook::cli::Args::parse())
}
