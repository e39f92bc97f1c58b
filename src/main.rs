#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

/// Reviews allocate and free a JSON tree per request; mimalloc takes about a quarter off the
/// instructions per review compared with glibc's malloc (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    meshconfig_webhook::cli::run(meshconfig_webhook::cli::Args::parse())
}
