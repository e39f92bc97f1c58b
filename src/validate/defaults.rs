//! Structural defaulting as the apiserver does it before validation: a CRD `default` fills an
//! absent (or null) property of an object that is present. Used where no apiserver ran first
//! (the offline `validate` command); a webhook receives objects already defaulted.

use serde_json::Value;

use crate::schema::{Node, Schema};

pub fn apply_defaults(schema: &Schema, object: &mut Value) {
    if let Some(spec) = object.get_mut("spec") {
        node(&schema.spec, spec);
    }
}

fn node(n: &Node, v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (name, child) in &n.props {
                match map.get_mut(*name) {
                    Some(existing) if !existing.is_null() => node(child, existing),
                    _ => {
                        if let Some(d) = &child.default {
                            map.insert((*name).to_owned(), d.clone());
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &n.items {
                for i in items {
                    node(item, i);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ApiVersion, Release};
    use serde_json::json;

    #[test]
    fn fills_absent_and_null_fields_of_present_objects_only() {
        let s = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("schema");
        let mut o = json!({"spec": {"sidecar": {"tlsMinProtocolVersion": null}, "traffic": {"inboundExternalAuthorization": {"enable": true}}}});
        apply_defaults(s, &mut o);
        assert_eq!(o["spec"]["sidecar"]["tlsMinProtocolVersion"], "TLSv1_2");
        assert_eq!(o["spec"]["sidecar"]["tlsMaxProtocolVersion"], "TLSv1_3");
        assert_eq!(
            o["spec"]["traffic"]["inboundExternalAuthorization"]["statPrefix"],
            "inboundExtAuthz"
        );
        assert!(o["spec"].get("certificate").is_none());
    }
}
