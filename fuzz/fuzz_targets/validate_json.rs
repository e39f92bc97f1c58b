//! Bytes → serde_json → the MeshConfig validator under every schema (CREATE, and UPDATE against
//! itself) and the osm-config ConfigMap validator: never a panic, the same outcome every time, an
//! explained denial, and ratcheting's promise that an UPDATE changing nothing is never denied.

#![no_main]

use libfuzzer_sys::fuzz_target;
#[path = "../common/bounded.rs"]
mod bounded;

use meshconfig_webhook::schema::{Schema, SchemaId};
use meshconfig_webhook::validate::{self, Outcome, UnknownKeys};
use serde_json::Value;

fn check(outcome: &Outcome, again: &Outcome) {
    assert_eq!(outcome, again, "validation is not deterministic");
    bounded::assert_bounded(outcome);
    if let Some(status) = outcome.status("x") {
        assert!(!status.message.is_empty());
        assert_eq!(status.code, 422);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(object) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for id in SchemaId::ALL {
        let Some(schema) = Schema::get(id.release, id.version) else {
            continue;
        };
        let create = validate::meshconfig(schema, &object, None);
        check(&create, &validate::meshconfig(schema, &object, None));
        let update = validate::meshconfig(schema, &object, Some(&object));
        check(&update, &validate::meshconfig(schema, &object, Some(&object)));
        if object.is_object() {
            assert!(
                update.allowed(),
                "an unchanged object was denied on UPDATE: {:?}",
                update.errors
            );
        }
    }
    for keys in [UnknownKeys::Deny, UnknownKeys::Warn] {
        let create = validate::configmap(&object, None, keys);
        check(&create, &validate::configmap(&object, None, keys));
        let update = validate::configmap(&object, Some(&object), keys);
        check(&update, &validate::configmap(&object, Some(&object), keys));
        if object.is_object() {
            assert!(
                update.allowed(),
                "an unchanged ConfigMap was denied on UPDATE: {:?}",
                update.errors
            );
        }
    }
});
