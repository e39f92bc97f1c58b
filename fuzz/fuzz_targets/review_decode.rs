//! Bytes → `admission::review`: any request body gets either a 400 text or an AdmissionReview
//! answer that is valid JSON, echoes a uid, and explains every denial; the same bytes always get
//! the same answer, and the one-pass path (admission/read.rs: request fields typed, managedFields
//! and most of oldObject only checked) answers exactly as the general path that parses the whole
//! body into one tree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshconfig_webhook::admission::{self, Policy, Reply, Verdict};
use meshconfig_webhook::schema::Release;
use meshconfig_webhook::validate::UnknownKeys;
use serde_json::Value;

fn policies() -> [Policy; 2] {
    [
        Policy {
            release: Release::LATEST,
            mesh_namespace: "arc-osm-system".into(),
            protect_delete: true,
            unknown_configmap_keys: UnknownKeys::Deny,
        },
        Policy {
            release: Release::V0_9,
            mesh_namespace: "osm-system".into(),
            protect_delete: false,
            unknown_configmap_keys: UnknownKeys::Warn,
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    for policy in policies() {
        let first = admission::review(&policy, data);
        match &first {
            Reply::BadRequest(text) => assert!(!text.is_empty(), "empty 400 text"),
            Reply::Review { body, decision } => {
                let out: Value = serde_json::from_slice(body).expect("the answer is JSON");
                assert_eq!(out["kind"], "AdmissionReview");
                let response = &out["response"];
                assert_eq!(response["uid"].as_str(), Some(decision.uid.as_str()));
                assert!(!decision.uid.is_empty(), "answered with an empty uid");
                let allowed = response["allowed"].as_bool().expect("allowed is a bool");
                assert_eq!(allowed, decision.verdict == Verdict::Allowed);
                if !allowed {
                    let message = response["status"]["message"].as_str().unwrap_or("");
                    assert!(!message.is_empty(), "a denial without a message: {out}");
                    assert_eq!(message, decision.message);
                }
            }
        }
        // Deterministic: the same body, the same answer.
        let second = admission::review(&policy, data);
        match (&first, &second) {
            (Reply::BadRequest(a), Reply::BadRequest(b)) => assert_eq!(a, b),
            (Reply::Review { body: a, .. }, Reply::Review { body: b, .. }) => assert_eq!(a, b),
            _ => panic!("the same body got a 400 once and a review once"),
        }
        assert_eq!(
            first,
            admission::review_whole(&policy, data),
            "the one-pass path disagrees"
        );
    }
});
