//! Field errors as Kubernetes' apimachinery `util/validation/field` models and words them, the
//! `Status` an apiserver builds from them, and kubectl's rendering of that `Status`.
//!
//! Every message a user sees leaves through this module, so server, CLI and tests word things
//! identically.

pub mod bounds;
mod quote;
mod status;

pub use quote::{go_float, go_quote};
pub use status::{Cause, Details, Status, kubectl_invalid_message};

use std::fmt;

/// apimachinery's `field.ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    /// The CRD validator's wrong-JSON-type error (Kubernetes ≥ 1.24): worded as `Invalid value`.
    TypeInvalid,
}

impl ErrorType {
    /// `ErrorType.String()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// The `metav1.CauseType` of a `StatusCause` built from this error.
    pub fn cause_reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

/// The offending value, typed the way `ErrorBody` distinguishes them when printing.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// `field.OmitValueType`: nothing is printed.
    Omit,
    /// A nil value, printed as `"null"` (Kubernetes < 1.34 quotes it).
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Already rendered in Go syntax (`map[string]interface {}{}`), printed as is.
    Go(String),
}

impl From<&serde_json::Value> for BadValue {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value;
        match v {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Self::Str(s.clone()),
            // Composite values: apimachinery prints Go syntax here; a short JSON rendering reads better
            // and is what Kubernetes ≥ 1.34 prints.
            other => Self::Str(other.to_string()),
        }
    }
}

/// Which layer found the error: the CRD's structural schema (what the apiserver itself reports)
/// or our semantic rules (what OSM would do with the value at runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Crd,
    Semantic,
}

/// One `field.Error`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub kind: ErrorType,
    pub value: BadValue,
    pub detail: String,
    pub layer: Layer,
}

impl FieldError {
    fn new(field: impl Into<String>, kind: ErrorType, value: BadValue, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            kind,
            value,
            detail: detail.into(),
            layer: Layer::Semantic,
        }
    }

    /// `field.Required`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(field, ErrorType::Required, BadValue::Omit, detail)
    }

    /// `field.Invalid`.
    pub fn invalid(field: impl Into<String>, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::new(field, ErrorType::Invalid, value.into(), detail)
    }

    /// `field.TypeInvalid`.
    pub fn type_invalid(field: impl Into<String>, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::new(field, ErrorType::TypeInvalid, value.into(), detail)
    }

    /// `field.NotSupported`: the detail lists the valid values, each `strconv.Quote`d.
    pub fn not_supported<S: AsRef<str>>(field: impl Into<String>, value: impl Into<BadValue>, valid: &[S]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v.as_ref())).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(field, ErrorType::NotSupported, value.into(), detail)
    }

    /// `field.Forbidden`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(field, ErrorType::Forbidden, BadValue::Omit, detail)
    }

    /// `field.TooMany`: `actual` items where at most `max` are allowed (the detail says of what).
    pub fn too_many(field: impl Into<String>, actual: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::new(field, ErrorType::TooMany, actual.into(), detail)
    }

    /// `field.Duplicate`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<BadValue>) -> Self {
        Self::new(field, ErrorType::Duplicate, value.into(), "")
    }

    pub fn with_layer(mut self, layer: Layer) -> Self {
        self.layer = layer;
        self
    }

    /// `Error.ErrorBody()` as Kubernetes 1.24–1.33 words it, with a string value longer than
    /// [`bounds::MAX_ECHOED_VALUE_BYTES`] printed as `"<value omitted>"` (also where the detail
    /// quotes it) and the detail cut at [`bounds::MAX_DETAIL_BYTES`].
    pub fn body(&self) -> String {
        let mut s = String::from(self.kind.as_str());
        let omit = matches!(
            self.kind,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong | ErrorType::Internal
        ) || self.value == BadValue::Omit;
        let long = match &self.value {
            BadValue::Str(v) | BadValue::Go(v) if v.len() > bounds::MAX_ECHOED_VALUE_BYTES => Some(v.as_str()),
            _ => None,
        };
        if !omit {
            s.push_str(": ");
            match &self.value {
                _ if long.is_some() => s.push_str(&go_quote(bounds::VALUE_OMITTED)),
                BadValue::Omit => {}
                BadValue::Null => s.push_str("\"null\""),
                BadValue::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
                BadValue::Int(i) => s.push_str(&i.to_string()),
                BadValue::Float(f) => s.push_str(&go_float(*f)),
                BadValue::Str(v) => s.push_str(&go_quote(v)),
                BadValue::Go(v) => s.push_str(v),
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            let detail = match long {
                Some(v) if self.detail.len() > bounds::MAX_ECHOED_VALUE_BYTES => {
                    std::borrow::Cow::Owned(self.detail.replace(&go_quote(v), &go_quote(bounds::VALUE_OMITTED)))
                }
                _ => std::borrow::Cow::Borrowed(self.detail.as_str()),
            };
            if detail.len() > bounds::MAX_DETAIL_BYTES {
                let mut cut = bounds::MAX_DETAIL_BYTES - 3;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.push_str(&detail[..cut]);
                s.push_str("...");
            } else {
                s.push_str(&detail);
            }
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", bounds::shown_field(&self.field), self.body())
    }
}

impl From<&str> for BadValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}
impl From<String> for BadValue {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<i64> for BadValue {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
impl From<bool> for BadValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// `ErrorList.ToAggregate().Error()`: duplicates dropped, one error bare, several as `[a, b]`.
pub fn aggregate_message(errors: &[FieldError]) -> String {
    if let [only] = errors {
        // The usual denial: no set to build.
        return only.to_string();
    }
    // First occurrences in order; the set keeps thousands of errors from costing quadratic time.
    let mut seen: Vec<String> = Vec::with_capacity(errors.len());
    let mut known = std::collections::HashSet::with_capacity(errors.len());
    for e in errors {
        let msg = e.to_string();
        if known.insert(msg.clone()) {
            seen.push(msg);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// Sorts errors by field path (byte order, as Go compares strings), keeping the relative order of
/// errors on the same path: the apiserver's order is random, ours must be deterministic.
pub fn sort_by_path(errors: &mut [FieldError]) {
    errors.sort_by(|a, b| a.field.as_bytes().cmp(b.field.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_worded_as_apimachinery() {
        let e = FieldError::type_invalid(
            "spec.traffic.enableEgress",
            "string",
            "spec.traffic.enableEgress in body must be of type boolean: \"string\"",
        );
        assert_eq!(
            e.to_string(),
            r#"spec.traffic.enableEgress: Invalid value: "string": spec.traffic.enableEgress in body must be of type boolean: "string""#
        );
        assert_eq!(FieldError::required("spec.a", "").to_string(), "spec.a: Required value");
        assert_eq!(
            FieldError::required("spec.a", "required when enable is true").to_string(),
            "spec.a: Required value: required when enable is true"
        );
        assert_eq!(
            FieldError::forbidden("spec.a", "nope").to_string(),
            "spec.a: Forbidden: nope"
        );
        assert_eq!(
            FieldError::not_supported("spec.l", "x", &["a", "b"]).to_string(),
            r#"spec.l: Unsupported value: "x": supported values: "a", "b""#
        );
        assert_eq!(
            FieldError::duplicate("spec.l[1]", 80).to_string(),
            "spec.l[1]: Duplicate value: 80"
        );
        assert_eq!(
            FieldError::invalid("spec.p", BadValue::Null, "x").to_string(),
            r#"spec.p: Invalid value: "null": x"#
        );
        assert_eq!(
            FieldError::invalid("spec.p", BadValue::Float(1.5), "x").to_string(),
            "spec.p: Invalid value: 1.5: x"
        );
        assert_eq!(
            FieldError::invalid("spec.p", false, "x").to_string(),
            "spec.p: Invalid value: false: x"
        );
    }

    #[test]
    fn long_values_are_omitted_as_apimachinery_omits_them() {
        let long = "9".repeat(5_000_000);
        let e = FieldError::invalid(
            "spec.d",
            long.as_str(),
            format!("time: invalid duration {}", go_quote(&long)),
        );
        assert_eq!(
            e.to_string(),
            r#"spec.d: Invalid value: "<value omitted>": time: invalid duration "<value omitted>""#
        );
        let at_limit = "a".repeat(bounds::MAX_ECHOED_VALUE_BYTES);
        let e = FieldError::invalid("spec.d", at_limit.as_str(), "x");
        assert_eq!(e.to_string(), format!("spec.d: Invalid value: \"{at_limit}\": x"));
        // A detail quoting something else that is long is cut.
        let e = FieldError::invalid("spec.d", "x", "é".repeat(2000));
        assert_eq!(
            e.body().len(),
            "Invalid value: \"x\": ".len() + bounds::MAX_DETAIL_BYTES - 1
        );
        assert!(e.body().ends_with("é..."));
    }

    #[test]
    fn aggregates_dedupe_and_bracket() {
        let a = FieldError::required("spec.a", "");
        let b = FieldError::required("spec.b", "");
        assert_eq!(aggregate_message(std::slice::from_ref(&a)), "spec.a: Required value");
        assert_eq!(
            aggregate_message(&[a.clone(), b, a]),
            "[spec.a: Required value, spec.b: Required value]"
        );
        assert_eq!(aggregate_message(&[]), "");
    }
}
