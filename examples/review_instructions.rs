//! Runs `admission::review` N times on one body, for counting instructions per review under
//! callgrind, which is repeatable on a noisy machine where timings are not:
//!
//! ```sh
//! cargo build --release --example review_instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/review_instructions BODY 0    # set-up alone
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/review_instructions BODY 1000
//! ```
//!
//! (instructions of the second − the first) / 1000 is the cost of one review. BODY is a file
//! (e.g. tests/fixtures/reviews/apiserver-update.json); `--deny` first sets its
//! serviceCertValidityDuration to "24x".

use std::hint::black_box;
use std::process::ExitCode;

use meshconfig_webhook::admission::{self, Policy, Reply};
use meshconfig_webhook::schema::Release;
use meshconfig_webhook::validate::UnknownKeys;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deny = args.iter().any(|a| a == "--deny");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--deny").collect();
    let [file, n] = rest.as_slice() else {
        eprintln!("usage: review_instructions [--deny] BODY N");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a whole number, got {n:?}");
        return ExitCode::from(2);
    };
    let mut review: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(2);
        }
    };
    if deny {
        review["request"]["object"]["spec"]["certificate"]["serviceCertValidityDuration"] = "24x".into();
    }
    let body = review.to_string().into_bytes();
    let policy = Policy {
        release: Release::V1_2,
        mesh_namespace: "arc-osm-system".into(),
        protect_delete: false,
        unknown_configmap_keys: UnknownKeys::Deny,
    };
    // One review before the counted ones, in both runs: first-use set-up (lazily compiled
    // patterns, the schema tables) is then in the N = 0 run and drops out of the difference.
    let _ = admission::review(&policy, black_box(&body));
    let mut allowed = 0;
    for _ in 0..n {
        if let Reply::Review { decision, .. } = admission::review(&policy, black_box(&body)) {
            allowed += usize::from(decision.allowed());
        }
    }
    println!("{n} reviews of {} bytes, {allowed} allowed", body.len());
    ExitCode::SUCCESS
}
