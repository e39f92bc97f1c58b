//! A CRD enum as the apiserver holds it.
//!
//! OSM's CRDs write every enum member as a bare YAML scalar, and kubectl, Helm and osm-bootstrap
//! load CRDs as YAML 1.1 (sigs.k8s.io/yaml): a member spelled like a YAML 1.1 boolean is that
//! boolean. `sidecar.logLevel`'s `- off` is the only such member in any shipped CRD, so the
//! apiserver's enum there is `…, "critical", false`: the string `"off"` is refused and the
//! supported values end in `"false"`.

use serde_json::Value;

/// One member of an enum after YAML 1.1 loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumMember {
    Str(&'static str),
    Bool(bool),
}

impl EnumMember {
    /// The member the bare YAML scalar `written` becomes.
    pub fn loaded(written: &'static str) -> Self {
        match yaml11_bool(written) {
            Some(b) => Self::Bool(b),
            None => Self::Str(written),
        }
    }

    /// Whether the decoded value `v` is this member (kube-openapi compares JSON values, so no
    /// string equals a boolean member).
    pub fn matches(self, v: &Value) -> bool {
        match (self, v) {
            (Self::Str(s), Value::String(x)) => s == x,
            (Self::Bool(b), Value::Bool(x)) => b == *x,
            _ => false,
        }
    }

    /// As the apiserver lists it under `supported values`: a string as it is, anything else as
    /// its JSON (`false`), each then quoted by `field.NotSupported`.
    pub fn listed(self) -> &'static str {
        match self {
            Self::Str(s) => s,
            Self::Bool(true) => "true",
            Self::Bool(false) => "false",
        }
    }
}

/// The boolean YAML 1.1 reads a plain scalar as, if any (go-yaml v2's resolve table, which
/// sigs.k8s.io/yaml uses: the `bool` type of YAML 1.1, `y` and `n` included).
pub fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bare_off_is_the_boolean_false() {
        assert_eq!(EnumMember::loaded("off"), EnumMember::Bool(false));
        assert_eq!(EnumMember::loaded("critical"), EnumMember::Str("critical"));
        assert_eq!(EnumMember::loaded("TLSv1_0"), EnumMember::Str("TLSv1_0"));
        assert!(!EnumMember::loaded("off").matches(&json!("off")));
        assert!(EnumMember::loaded("off").matches(&json!(false)));
        assert!(!EnumMember::loaded("off").matches(&json!(true)));
        assert_eq!(EnumMember::loaded("off").listed(), "false");
    }

    #[test]
    fn only_yaml_1_1_boolean_words_are_booleans() {
        for w in ["y", "Yes", "ON", "true", "TRUE"] {
            assert_eq!(yaml11_bool(w), Some(true), "{w}");
        }
        for w in ["n", "NO", "Off", "false", "FALSE"] {
            assert_eq!(yaml11_bool(w), Some(false), "{w}");
        }
        for w in ["oN", "tRUE", "1", "0", "", "yess", "warn"] {
            assert_eq!(yaml11_bool(w), None, "{w}");
        }
    }
}
