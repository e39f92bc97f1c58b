//! How to fix what was found when the cause is not in the object as the user sees it: YAML 1.1
//! (kubectl's reading) turning unquoted words into booleans, in the user's file or in OSM's CRD.

use serde_json::Value;

use crate::field::{ErrorType, FieldError, go_quote};
use crate::schema::meshconfig::ENVOY_LOG_LEVELS;
use crate::schema::{EnumMember, JsonType, Node, Schema};
use crate::validate::configmap::yaml11_meant;

/// Hints for a MeshConfig's errors; `yaml` says whether the document was read as YAML.
pub(super) fn meshconfig(schema: &Schema, errors: &[FieldError], doc: &Value, yaml: bool) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    for e in errors {
        let value = doc.pointer(&pointer(&e.field));
        let node = node_at(schema, &e.field);
        let from_yaml_bool = yaml && e.kind == ErrorType::TypeInvalid && matches!(value, Some(Value::Bool(_)));
        let hint = match (node, value) {
            (Some(n), Some(v)) if e.kind == ErrorType::NotSupported || from_yaml_bool => {
                match crd_boolean_member(n, v) {
                    Some((word, b)) => Some(unsettable(&e.field, n, word, b, from_yaml_bool)),
                    None if from_yaml_bool && n.ty == JsonType::String => Some(quote_if_string(&e.field)),
                    None => None,
                }
            }
            _ => None,
        };
        // One hint per field: a wrong type and an enum miss on one value are one mistake.
        if let Some(h) = hint
            && !hints.contains(&h)
        {
            hints.push(h);
        }
    }
    hints
}

/// Hints for an `osm-config` ConfigMap's errors: every `data` value is a string, so an unquoted
/// word YAML 1.1 made a boolean is refused; say which string was meant where that is clear.
pub(super) fn configmap(errors: &[FieldError], doc: &Value, yaml: bool) -> Vec<String> {
    if !yaml {
        return Vec::new();
    }
    let mut hints = Vec::new();
    for e in errors.iter().filter(|e| e.kind == ErrorType::TypeInvalid) {
        let Some(Value::Bool(b)) = doc.pointer(&pointer(&e.field)) else {
            continue;
        };
        let Some(key) = e.field.strip_prefix("data.") else {
            continue;
        };
        hints.push(match yaml11_meant(key, *b) {
            Some(w) => format!(
                "{}: YAML 1.1 (as kubectl reads it) makes the unquoted value the boolean {b}, and ConfigMap data are strings; quote it: {key}: {}",
                e.field,
                go_quote(w)
            ),
            None => quote_if_string(&e.field),
        });
    }
    hints
}

/// The member of `n`'s enum that OSM's CRD wrote as a bare YAML 1.1 boolean word and that `v`
/// means: the word itself in any case (`"off"`), or the boolean it became (an unquoted `off`).
fn crd_boolean_member(n: &Node, v: &Value) -> Option<(&'static str, bool)> {
    n.enum_values
        .iter()
        .zip(n.enum_members())
        .find_map(|(word, member)| match (member, v) {
            (EnumMember::Bool(b), Value::String(s)) if s.eq_ignore_ascii_case(word) => Some((*word, b)),
            (EnumMember::Bool(b), Value::Bool(x)) if b == *x => Some((*word, b)),
            _ => None,
        })
}

/// The CRD's own trap: its enum has no string `word`, so no spelling of it can be stored.
fn unsettable(field: &str, n: &Node, word: &str, b: bool, from_yaml_bool: bool) -> String {
    let read = if from_yaml_bool {
        format!("YAML 1.1 (as kubectl reads it) makes the unquoted value the boolean {b}; ")
    } else {
        String::new()
    };
    let (what, instead) = if n.enum_values == ENVOY_LOG_LEVELS {
        (
            format!("Envoy's level {word}"),
            "; the quietest level it takes is \"critical\"",
        )
    } else {
        (word.to_owned(), "")
    };
    format!(
        "{field}: {read}{what} cannot be set through OSM's CRD at all, quoted or not: the CRD lists it unquoted, and YAML 1.1 (as kubectl, Helm and osm-bootstrap load the CRD) makes that the boolean {b}{instead}"
    )
}

fn quote_if_string(field: &str) -> String {
    format!(
        "{field}: YAML 1.1 (as kubectl reads it) makes unquoted on/off/yes/no booleans; quote the value if a string is meant"
    )
}

/// The schema node of an error's field (`spec.a.b[2]`), if the schema has one.
fn node_at<'s>(schema: &'s Schema, field: &str) -> Option<&'s Node> {
    let rest = field.strip_prefix("spec.")?;
    rest.split('.').try_fold(&schema.spec, |n, part| {
        let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
        let mut n = n.prop(key)?;
        for _ in indexes.split('[').filter(|i| !i.is_empty()) {
            n = n.items.as_deref()?;
        }
        Some(n)
    })
}

/// A field path (`spec.a.b[2]`) as a JSON pointer (`/spec/a/b/2`).
fn pointer(field: &str) -> String {
    let mut p = String::with_capacity(field.len() + 1);
    for part in field.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest)),
            None => (part, None),
        };
        p.push('/');
        p.push_str(&key.replace('~', "~0").replace('/', "~1"));
        for i in index.into_iter().flat_map(|r| r.split('[')) {
            p.push('/');
            p.push_str(i.trim_end_matches(']'));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ApiVersion, Release};

    #[test]
    fn fields_find_their_nodes_and_values() {
        let s = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("schema");
        assert!(node_at(s, "spec.sidecar.logLevel").is_some_and(|n| n.enum_values == ENVOY_LOG_LEVELS));
        let item = node_at(s, "spec.traffic.outboundPortExclusionList[3]").expect("item");
        assert_eq!(item.ty, JsonType::Integer);
        assert!(node_at(s, "spec.nope").is_none());
        assert!(node_at(s, "metadata.name").is_none());
        assert_eq!(pointer("spec.a.b[2]"), "/spec/a/b/2");
    }
}
