//! The CRD layer: kube-openapi's schema validation as kube-apiserver runs it on custom resources
//! (Kubernetes ≥ 1.24 wording: `[i]` list paths, `FieldValueTypeInvalid` for wrong types).

use serde_json::Value;

use crate::field::{BadValue, FieldError, Layer, go_quote};
use crate::schema::{EnumMember, JsonType, Node};

/// The JSON type name kube-openapi reports for a decoded value. The apiserver decodes integral
/// numbers that fit in int64 as integers and every other number as float64.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// swag's `IsFloat64AJSONInteger`: kube-openapi accepts such a float where an integer is expected.
fn is_json_integer_float(f: f64) -> bool {
    const MAX_JSON_FLOAT: f64 = 9_007_199_254_740_992.0; // 2^53
    f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_JSON_FLOAT
}

/// `<path> in body must be of type <expected>: "<actual>"`, with the actual type as the value.
pub(super) fn type_error(path: &str, v: &Value, expected: &str) -> FieldError {
    let actual = type_name(v);
    let path = if path.is_empty() { "body" } else { path };
    FieldError::type_invalid(
        path,
        actual,
        format!("{path} in body must be of type {expected}: {}", go_quote(actual)),
    )
    .with_layer(Layer::Crd)
}

pub(super) fn check_type(path: &str, n: &Node, v: &Value) -> Option<FieldError> {
    let ok = match (n.ty, v) {
        (JsonType::Object | JsonType::Map, Value::Object(_)) => true,
        (JsonType::Array, Value::Array(_)) => true,
        (JsonType::String, Value::String(_)) => true,
        (JsonType::Boolean, Value::Bool(_)) => true,
        (JsonType::Integer, Value::Number(num)) => {
            num.is_i64() || num.as_f64().is_some_and(|f| !num.is_u64() && is_json_integer_float(f))
        }
        _ => false,
    };
    (!ok).then(|| type_error(path, v, n.ty.as_str()))
}

/// Enum, bounds, pattern and minItems. kube-openapi runs these even after a type error, each on
/// the values it applies to (bounds on any number, enum on any value).
pub(super) fn check_value(path: &str, n: &Node, v: &Value) -> Vec<FieldError> {
    let mut out = Vec::new();
    // The enum the apiserver holds: a boolean member (the CRDs' bare `off`) takes a boolean, so
    // `logLevel: false` has only its type error.
    if !n.enum_values.is_empty() && !n.enum_members().any(|m| m.matches(v)) {
        let value = match v {
            Value::Object(_) | Value::Array(_) => BadValue::Go(go_syntax_pruned(v)),
            other => BadValue::from(other),
        };
        let listed: Vec<&str> = n.enum_members().map(EnumMember::listed).collect();
        out.push(FieldError::not_supported(path, value, &listed).with_layer(Layer::Crd));
    }
    match v {
        Value::String(s) => {
            if let Some(p) = &n.pattern
                && !p.regex.is_match(s)
            {
                let detail = format!("{path} in body should match '{}'", p.source);
                out.push(FieldError::invalid(path, s.as_str(), detail).with_layer(Layer::Crd));
            }
        }
        Value::Number(num) => {
            let (value, x) = match num.as_i64() {
                Some(i) => (BadValue::Int(i), i as f64),
                None => {
                    let f = num.as_f64().unwrap_or(f64::NAN);
                    (BadValue::Float(f), f)
                }
            };
            if let Some(min) = n.minimum
                && x < min as f64
            {
                let detail = format!("{path} in body should be greater than or equal to {min}");
                out.push(FieldError::invalid(path, value.clone(), detail).with_layer(Layer::Crd));
            }
            if let Some(max) = n.maximum
                && x > max as f64
            {
                let detail = format!("{path} in body should be less than or equal to {max}");
                out.push(FieldError::invalid(path, value, detail).with_layer(Layer::Crd));
            }
        }
        Value::Array(items) => {
            if let Some(min) = n.min_items
                && items.len() < min
            {
                let detail = format!("{path} in body should have at least {min} items");
                out.push(FieldError::invalid(path, items.len() as i64, detail).with_layer(Layer::Crd));
            }
        }
        _ => {}
    }
    out
}

/// Go's `%#v` of a decoded value after pruning against a schema without properties (every object
/// key is dropped): how apimachinery prints a composite bad value.
fn go_syntax_pruned(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => crate::field::go_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_syntax_pruned).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Value::Object(_) => "map[string]interface {}{}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn composite_values_print_as_go_syntax() {
        assert_eq!(go_syntax_pruned(&json!({"a": 1})), "map[string]interface {}{}");
        assert_eq!(
            go_syntax_pruned(&json!(["a", 1, 1.5, {"x": 1}, null])),
            r#"[]interface {}{"a", 1, 1.5, map[string]interface {}{}, interface {}(nil)}"#
        );
    }
}
