//! The draft-07 JSON Schema of a version's chart values, generated from `VALUES`: what Helm checks
//! the merged values against, restated from our rows so the check runs from the binary alone.

use serde_json::{Map, Value, json};

use super::{ExtensionVersion, ValueDef, rows};
use crate::schema::JsonType;

/// The schema of the OSM chart's values (root key, `contour`, `smi`) for `v`.
pub fn values_schema(v: ExtensionVersion) -> Value {
    let mut roots: Vec<&ValueDef> = rows(v)
        .values()
        .copied()
        .filter(|d| !d.path.contains(['.', '[']))
        .collect();
    roots.sort_by_key(|d| d.path);
    let mut props = Map::new();
    let mut required = Vec::new();
    for d in roots {
        let name = if d.path == "$" { v.root_key() } else { d.path };
        props.insert(name.to_owned(), node(v, d));
        if d.required_in & v.bit() != 0 {
            required.push(Value::from(name));
        }
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": format!("OSM {} chart values (Azure Arc extension {v})", v.osm_tag()),
        "type": "object",
        "required": required,
        "properties": props,
    })
}

fn node(v: ExtensionVersion, d: &ValueDef) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), d.ty.as_str().into());
    if !d.enum_values.is_empty() {
        m.insert("enum".into(), d.enum_values.into());
    }
    if let Some(p) = d.pattern {
        m.insert("pattern".into(), p.into());
    }
    if let Some(min) = d.minimum {
        m.insert("minimum".into(), min.into());
    }
    if let Some(max) = d.maximum {
        m.insert("maximum".into(), max.into());
    }
    match d.ty {
        JsonType::Object | JsonType::Map => {
            let mut children: Vec<&ValueDef> = rows(v)
                .values()
                .copied()
                .filter(|c| {
                    c.path
                        .strip_prefix(d.path)
                        .and_then(|r| r.strip_prefix('.'))
                        .is_some_and(|r| !r.contains(['.', '[']))
                })
                .collect();
            children.sort_by_key(|c| c.path);
            let mut props = Map::new();
            let mut required = Vec::new();
            for c in children {
                let name = &c.path[d.path.len() + 1..];
                props.insert(name.to_owned(), node(v, c));
                if c.required_in & v.bit() != 0 {
                    required.push(Value::from(name));
                }
            }
            if !props.is_empty() {
                m.insert("properties".into(), Value::Object(props));
            }
            if !required.is_empty() {
                m.insert("required".into(), Value::Array(required));
            }
            if d.closed_in & v.bit() != 0 {
                m.insert("additionalProperties".into(), false.into());
            }
        }
        JsonType::Array => {
            let item_path = format!("{}[]", d.path);
            if let Some(item) = rows(v).get(item_path.as_str()) {
                m.insert("items".into(), node(v, item));
            }
        }
        _ => {}
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_compile_as_draft7() {
        for v in ExtensionVersion::ALL {
            let s = values_schema(v);
            assert!(jsonschema::draft7::new(&s).is_ok(), "{v}");
        }
    }

    #[test]
    fn constraints_come_from_the_rows() {
        let s = values_schema(ExtensionVersion::V1_2_6);
        let osm = &s["properties"]["osm"];
        assert_eq!(osm["additionalProperties"], false);
        assert_eq!(osm["properties"]["tracing"]["properties"]["port"]["maximum"], 65535);
        assert_eq!(
            osm["properties"]["localProxyMode"]["enum"],
            json!(["Localhost", "PodIP"])
        );
        assert_eq!(osm["properties"]["inboundPortExclusionList"]["items"]["minimum"], 1);
        assert!(osm["required"].as_array().is_some_and(|r| r.len() == 25));
        let old = values_schema(ExtensionVersion::V0_8_4);
        // OSM ≤ v0.8.4 accepts any key: Helm would not catch a typo.
        assert!(
            old["properties"]["OpenServiceMesh"]
                .get("additionalProperties")
                .is_none()
        );
    }
}
