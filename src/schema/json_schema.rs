//! The JSON Schema we validate with, for editors and yaml-language-server (`schema` subcommand).
//!
//! CRD constraints map one to one; semantic kinds that JSON Schema can express (bounds, the
//! log-level list) are added, the rest are named in `x-meshconfig-kind` and described.

use serde_json::{Map, Value, json};

use super::{EnumMember, JsonType, Kind, Node, Schema};

pub(super) fn document(schema: &Schema) -> Value {
    let id = schema.id;
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("MeshConfig {}/{} (OSM {})", super::GROUP, id.version, id.release.modelled_tag()),
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"const": format!("{}/{}", super::GROUP, id.version)},
            "kind": {"const": super::KIND},
            "metadata": {
                "type": "object",
                "properties": {
                    "name": {"const": super::MESH_CONFIG_NAME, "description": "OSM reads only the MeshConfig named osm-mesh-config"},
                    "namespace": {"type": "string", "description": "the OSM control-plane namespace (arc-osm-system on Azure Arc, osm-system upstream)"}
                }
            },
            "spec": node(&schema.spec),
        }
    })
}

fn node(n: &Node) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), n.ty.as_str().into());
    if !n.description.is_empty() {
        m.insert("description".into(), n.description.into());
    }
    match n.ty {
        JsonType::Object => {
            let props: Map<String, Value> = n.props.iter().map(|(k, c)| ((*k).to_owned(), node(c))).collect();
            m.insert("properties".into(), Value::Object(props));
            m.insert("additionalProperties".into(), false.into());
            if !n.required.is_empty() {
                m.insert("required".into(), n.required.clone().into());
            }
        }
        JsonType::Map => {
            m.insert("additionalProperties".into(), json!({"type": ["string", "number"]}));
        }
        JsonType::Array => {
            if let Some(items) = &n.items {
                m.insert("items".into(), node(items));
            }
            if let Some(min) = n.min_items {
                m.insert("minItems".into(), min.into());
            }
        }
        JsonType::String | JsonType::Integer | JsonType::Boolean => {}
    }
    if !n.enum_values.is_empty() {
        // The string members only: the boolean the CRD's bare `off` became never passes
        // `type: string`, and an editor offering `off` would offer what the cluster refuses.
        let strings: Vec<&str> = n
            .enum_members()
            .filter_map(|m| match m {
                EnumMember::Str(s) => Some(s),
                EnumMember::Bool(_) => None,
            })
            .collect();
        m.insert("enum".into(), strings.into());
    }
    let (min, max) = n.kind.int_bounds().unwrap_or((n.minimum, n.maximum));
    if let Some(v) = min {
        m.insert("minimum".into(), v.into());
    }
    if let Some(v) = max {
        m.insert("maximum".into(), v.into());
    }
    if let Some(p) = &n.pattern {
        m.insert("pattern".into(), p.source.into());
    }
    if let Some(d) = &n.default {
        m.insert("default".into(), d.clone());
    }
    if n.kind != Kind::Plain {
        m.insert("x-meshconfig-kind".into(), format!("{:?}", n.kind).into());
    }
    Value::Object(m)
}
