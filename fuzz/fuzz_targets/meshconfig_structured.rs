//! Structure-aware: `arbitrary` builds MeshConfig-shaped objects by walking the real schema tree
//! of a release (known fields, mostly the right JSON types, values near every bound and from a
//! dictionary of durations, CIDRs, quantities, hosts and images, with wrong types and unknown keys
//! mixed in), validated as CREATE and as UPDATE against a second generated object and against
//! itself. Plain byte fuzzing rarely gets past the first few keys; this reaches the semantic rules.

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
#[path = "../common/bounded.rs"]
mod bounded;

use meshconfig_webhook::schema::{JsonType, Node, Schema, SchemaId};
use meshconfig_webhook::validate;
use serde_json::{Map, Number, Value, json};

/// Strings the semantic rules care about, valid and nearly valid.
const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "0s",
    "1ns",
    "1.5h",
    "24h",
    "1h",
    "2m",
    "1m59s",
    "-5m",
    "10s",
    "30s",
    "29s",
    "87600h",
    "9223372036s",
    "2562047h47m16.854775807s",
    "2562048h",
    "1e3s",
    "24x",
    ".5s",
    "5.s",
    "1h-1m",
    "10.0.0.0/8",
    "10.0.0.1/8",
    "0.0.0.0/0",
    "255.255.255.255/32",
    "999.999.999.999/99",
    "10.0.0.0/33",
    "010.0.0.0/8",
    "::/0",
    "2001:db8::/64",
    "10.0.0.0",
    "1.2.3.4",
    "::1",
    "localhost",
    "a.b.c",
    "-a.b",
    "UPPER.example.com",
    "a_b",
    "x.svc.cluster.local",
    "/",
    "/api/v2/spans",
    "api",
    "//x",
    "/a?b",
    "100m",
    "1",
    "1Gi",
    "1G",
    "0.1",
    ".5",
    "1e3",
    "1E",
    "1Ki",
    "-1",
    "1.5Mi",
    "9223372036854775807",
    "99999999999999999999999Ti",
    "lots",
    "cpu",
    "memory",
    "ephemeral-storage",
    "hugepages-2Mi",
    "example.com/gpu",
    "debug",
    "info",
    "warn",
    "error",
    "fatal",
    "panic",
    "trace",
    "disabled",
    "off",
    "critical",
    "DEBUG",
    "loud",
    "TLSv1_0",
    "TLSv1_1",
    "TLSv1_2",
    "TLSv1_3",
    "TLS_AUTO",
    "TLSv1_4",
    "envoyproxy/envoy:v1.19.3",
    "docker.io/library/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "UPPER/image",
    "image:",
    ":tag",
    "a//b",
    "eth0",
    "lo",
    "a/b",
    "averyveryverylonginterfacename",
    "osm-ca-bundle",
    "arc-osm-system",
    "-bad-",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "X25519",
    "\u{0}",
    "é",
    "😀",
    "\u{202e}",
];

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => u.arbitrary::<String>()?,
        1 => format!("{}{}", u.choose(STRINGS)?, u.choose(STRINGS)?),
        _ => (*u.choose(STRINGS)?).to_owned(),
    })
}

/// Any small JSON value (for wrong types and free-form maps).
fn any(u: &mut Unstructured<'_>, depth: u8) -> Result<Value> {
    let pick = if depth >= 3 {
        u.int_in_range(0..=5u8)?
    } else {
        u.int_in_range(0..=7u8)?
    };
    Ok(match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number),
        4 => json!(u.arbitrary::<u64>()?),
        5 => Value::String(string(u)?),
        6 => {
            let n = u.int_in_range(0..=3usize)?;
            Value::Array((0..n).map(|_| any(u, depth + 1)).collect::<Result<_>>()?)
        }
        _ => {
            let n = u.int_in_range(0..=3usize)?;
            let mut m = Map::new();
            for _ in 0..n {
                m.insert(string(u)?, any(u, depth + 1)?);
            }
            Value::Object(m)
        }
    })
}

fn integer(u: &mut Unstructured<'_>, n: &Node) -> Result<Value> {
    let mut candidates: Vec<i64> = vec![
        0,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        80,
        443,
        65535,
        65536,
        2048,
        4096,
        32767,
        32768,
    ];
    for b in [n.minimum, n.maximum].into_iter().flatten() {
        candidates.extend([b.saturating_sub(1), b, b.saturating_add(1)]);
    }
    Ok(match u.int_in_range(0..=9u8)? {
        0 => json!(u.arbitrary::<i64>()?),
        1 => json!(u64::MAX),
        2 => json!(u.arbitrary::<i16>()? as f64 + 0.5),
        3 => json!(*u.choose(&candidates)? as f64),
        _ => json!(*u.choose(&candidates)?),
    })
}

/// A value for `n`: mostly the schema's type, sometimes anything at all.
fn value(u: &mut Unstructured<'_>, n: &Node, depth: u8) -> Result<Value> {
    if u.ratio(1u8, 12u8)? {
        return any(u, depth);
    }
    Ok(match n.ty {
        JsonType::Object => {
            let mut m = Map::new();
            for (key, child) in &n.props {
                if u.ratio(2u8, 3u8)? {
                    m.insert((*key).to_owned(), value(u, child, depth + 1)?);
                }
            }
            if u.ratio(1u8, 16u8)? {
                m.insert(string(u)?, any(u, depth + 1)?);
            }
            Value::Object(m)
        }
        JsonType::Map => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=3usize)? {
                let v = if u.ratio(3u8, 4u8)? {
                    Value::String(string(u)?)
                } else {
                    any(u, depth + 1)?
                };
                m.insert(string(u)?, v);
            }
            Value::Object(m)
        }
        JsonType::Array => {
            let len = u.int_in_range(0..=4usize)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(match &n.items {
                    Some(item) => value(u, item, depth + 1)?,
                    None => any(u, depth + 1)?,
                });
            }
            Value::Array(items)
        }
        JsonType::String if !n.enum_values.is_empty() && u.ratio(3u8, 4u8)? => {
            Value::String((*u.choose(n.enum_values)?).to_owned())
        }
        JsonType::String => Value::String(string(u)?),
        JsonType::Integer => integer(u, n)?,
        JsonType::Boolean => Value::Bool(u.arbitrary()?),
    })
}

fn object(u: &mut Unstructured<'_>, id: SchemaId, schema: &Schema) -> Result<Value> {
    let name = if u.ratio(7u8, 8u8)? {
        "osm-mesh-config".to_owned()
    } else {
        string(u)?
    };
    Ok(json!({
        "apiVersion": format!("config.openservicemesh.io/{}", id.version),
        "kind": "MeshConfig",
        "metadata": {"name": name, "namespace": "arc-osm-system"},
        "spec": value(u, &schema.spec, 0)?,
    }))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(id) = u.choose(&SchemaId::ALL).copied() else {
        return;
    };
    let Some(schema) = Schema::get(id.release, id.version) else {
        return;
    };
    let Ok(new) = object(&mut u, id, schema) else {
        return;
    };
    let old = object(&mut u, id, schema).ok();
    for stored in [None, old.as_ref(), Some(&new)] {
        let outcome = validate::meshconfig(schema, &new, stored);
        assert_eq!(outcome, validate::meshconfig(schema, &new, stored), "not deterministic");
        bounded::assert_bounded(&outcome);
        if let Some(status) = outcome.status("osm-mesh-config") {
            assert!(
                status
                    .message
                    .starts_with("MeshConfig.config.openservicemesh.io \"osm-mesh-config\" is invalid: ")
            );
        }
    }
    // Ratcheting: an UPDATE that changes nothing is never denied.
    let unchanged = validate::meshconfig(schema, &new, Some(&new));
    assert!(
        unchanged.allowed(),
        "an unchanged object was denied on UPDATE: {:?}",
        unchanged.errors
    );
});
