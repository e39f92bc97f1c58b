//! OSM v0.8's `osm-config` ConfigMap, validated with the MeshConfig engine's wording: field errors
//! at `data.<key>`, a `ConfigMap "osm-config" is invalid: …` Status, warnings and ratcheting.
//!
//! Every value in `data` is a string the v0.8 controller parses itself (osm-upstream §3.1), so
//! nothing in Kubernetes checks it; the key table is `schema::configmap::KEYS`. Any `data` this
//! validator allows, OSM v0.8's own webhook (§3.2) allows too: it is stricter everywhere.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::semantic::{self, DurationRule};
use super::{Findings, Outcome, cidr, crd};
use crate::field::{FieldError, go_quote};
use crate::schema::configmap::{
    CONFIGMAP_GROUP, CONFIGMAP_KIND, CONFIGMAP_NAME, ENVOY_LOG_LEVELS, KEYS, KeyDef, ValueKind,
};

/// The detail for a value Go's `strconv.ParseBool` rejects.
pub const BOOL_MSG: &str = "must be a boolean (true or false)";
/// The detail of the ext-authz cross-key rule.
pub const EXTAUTHZ_REQUIRED_MSG: &str = "required when inbound_extauthz_enable is true";

const EXTAUTHZ_ENABLE: &str = "inbound_extauthz_enable";

/// What to do with a key OSM v0.8 does not read (a typo, or a key of another release).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKeys {
    /// `Forbidden: unknown key` (with a suggestion when a known key is close).
    #[default]
    Deny,
    /// The same text as a warning; the object is allowed.
    Warn,
}

impl UnknownKeys {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Warn => "warn",
        }
    }
}

impl fmt::Display for UnknownKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnknownKeys {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deny" => Ok(Self::Deny),
            "warn" => Ok(Self::Warn),
            other => Err(format!(
                "unknown-configmap-keys must be \"deny\" or \"warn\", not {other:?}"
            )),
        }
    }
}

/// Validates an `osm-config` ConfigMap (CREATE when `old` is `None`, UPDATE otherwise). Errors
/// are sorted by path; on UPDATE, errors about values that did not change only warn.
pub fn configmap(object: &Value, old: Option<&Value>, unknown_keys: UnknownKeys) -> Outcome {
    let mut f = Findings::new(old.is_some());
    check(&mut f, object, old, unknown_keys);
    f.finish(CONFIGMAP_GROUP, CONFIGMAP_KIND)
}

fn check(f: &mut Findings, object: &Value, old: Option<&Value>, unknown_keys: UnknownKeys) {
    let Some(obj) = object.as_object() else {
        f.push(crd::type_error("", object, "object"), false);
        return;
    };
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !name.is_empty() && name != CONFIGMAP_NAME {
        f.warn(format!(
            "metadata.name: OSM v0.8 reads only the ConfigMap named {CONFIGMAP_NAME:?}; {name:?} has no effect"
        ));
    }
    let data_value = obj.get("data").filter(|v| !v.is_null());
    let old_data_value = old.and_then(|o| o.get("data")).filter(|v| !v.is_null());
    let data_unchanged = old.is_some() && data_value == old_data_value;
    let empty = Map::new();
    let data = match data_value {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            f.push(crd::type_error("data", other, "object"), data_unchanged);
            return;
        }
    };
    let old_data = old_data_value.and_then(Value::as_object);
    let c = Ctx { data, old_data };

    for d in KEYS.iter().filter(|d| d.required) {
        if !data.contains_key(d.key) {
            f.push(FieldError::required(format!("data.{}", d.key), ""), data_unchanged);
        }
    }
    let extauthz = c.str(EXTAUTHZ_ENABLE).and_then(parse_bool) == Some(true);
    for (key, value) in data {
        let path = format!("data.{key}");
        let unchanged = c.old(key) == Some(value);
        let def = crate::schema::configmap::key(key);
        if def.is_none() {
            let detail = match suggest(key) {
                Some(known) => format!("unknown key; did you mean {}?", go_quote(known)),
                None => "unknown key".to_owned(),
            };
            match unknown_keys {
                // The error is about the key, so it ratchets when the key was already there.
                UnknownKeys::Deny => f.push(FieldError::forbidden(path.as_str(), detail), c.old(key).is_some()),
                UnknownKeys::Warn => f.warn(format!("{path}: {detail}")),
            }
        }
        let Value::String(s) = value else {
            // The apiserver cannot decode a non-string into map[string]string; say so as the CRD
            // layer words a wrong type.
            f.push(crd::type_error(&path, value, "string"), unchanged);
            continue;
        };
        if let Some(def) = def {
            rule(f, def, &path, s, extauthz, unchanged);
        }
    }
    if extauthz {
        extauthz_required(f, &c);
    }
}

/// The string `key` takes for the boolean `b` that YAML 1.1 (as kubectl reads a manifest) made of
/// an unquoted word, when one is clearly meant: `"true"`/`"false"` for a boolean key, and for
/// `envoy_log_level` the Envoy level spelled as a YAML 1.1 boolean (`off`), which v0.8 passes to
/// Envoy verbatim, so `"off"` quoted is right there (unlike a MeshConfig's CRD enum).
pub fn yaml11_meant(key: &str, b: bool) -> Option<&'static str> {
    match crate::schema::configmap::key(key)?.kind {
        ValueKind::Bool => Some(if b { "true" } else { "false" }),
        ValueKind::EnvoyLogLevel => ENVOY_LOG_LEVELS
            .iter()
            .copied()
            .find(|w| crate::schema::yaml11_bool(w) == Some(b)),
        _ => None,
    }
}

/// `data` of the new and the stored object.
struct Ctx<'a> {
    data: &'a Map<String, Value>,
    old_data: Option<&'a Map<String, Value>>,
}

impl Ctx<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }
    fn old(&self, key: &str) -> Option<&Value> {
        self.old_data.and_then(|o| o.get(key))
    }
    /// Whether `key` is the same (both absent counts) in the stored object.
    fn same(&self, key: &str) -> bool {
        self.old_data.is_some_and(|o| o.get(key) == self.data.get(key))
    }
}

fn rule(f: &mut Findings, def: &KeyDef, path: &str, s: &str, extauthz: bool, unchanged: bool) {
    let invalid = |f: &mut Findings, detail: String| f.push(FieldError::invalid(path, s, detail), unchanged);
    match def.kind {
        ValueKind::Bool => {
            if parse_bool(s).is_none() {
                invalid(f, BOOL_MSG.to_owned());
            }
        }
        ValueKind::EnvoyLogLevel => {
            // v0.8 passes the value verbatim to Envoy's --log-level: exact, case-sensitive; empty
            // is OSM's default ("error").
            if !s.is_empty() && !ENVOY_LOG_LEVELS.contains(&s) {
                f.push(FieldError::not_supported(path, s, ENVOY_LOG_LEVELS), unchanged);
            }
        }
        ValueKind::ServiceCertDuration => {
            semantic::duration(f, DurationRule::Certificate { vault_hours: true }, path, s, unchanged)
        }
        // OSM v0.8 stops its resync ticker below one minute, as every release up to v0.10.
        ValueKind::ResyncInterval => semantic::duration(
            f,
            DurationRule::Resync {
                floor_ns: crate::schema::RESYNC_FLOOR_TO_0_10_NS,
                parse_errors_deny: true,
            },
            path,
            s,
            unchanged,
        ),
        ValueKind::ExtAuthzTimeout => semantic::duration(f, DurationRule::NonNegative, path, s, unchanged),
        ValueKind::TracingPort => match atoi(s) {
            Err(e) => invalid(f, e),
            Ok(p) if !(0..=65535).contains(&p) => invalid(f, semantic::inclusive_range(0, 65535)),
            Ok(_) => {}
        },
        // Empty is "unset": the cross-key rule reports it when ext-authz is enabled.
        ValueKind::ExtAuthzPort if s.is_empty() => {}
        ValueKind::ExtAuthzPort => {
            // OSM truncates the port to uint16; 0 is the chart's placeholder while disabled.
            let min = i64::from(extauthz);
            match atoi(s) {
                Err(e) => invalid(f, e),
                Ok(p) if !(min..=65535).contains(&p) => invalid(f, semantic::inclusive_range(min, 65535)),
                Ok(_) => {}
            }
        }
        ValueKind::CidrList => cidr_list(f, path, s, unchanged),
        ValueKind::Host => semantic::host(f, path, s, unchanged),
        ValueKind::UrlPath => semantic::url_path(f, path, s, unchanged),
        ValueKind::Text => {}
    }
}

/// `inbound_extauthz_enable` true: Envoy's ext_authz filter needs an `address:port` target.
fn extauthz_required(f: &mut Findings, c: &Ctx) {
    let enable_same = c.same(EXTAUTHZ_ENABLE);
    for key in ["inbound_extauthz_address", "inbound_extauthz_port"] {
        if c.str(key).is_none_or(str::is_empty) && c.data.get(key).is_none_or(Value::is_string) {
            f.push(
                FieldError::required(format!("data.{key}"), EXTAUTHZ_REQUIRED_MSG),
                enable_same && c.same(key),
            );
        }
    }
    // OSM sends the prefix as the gRPC stat prefix, which Envoy requires to be non-empty.
    if c.str("inbound_extauthz_statprefix").is_none_or(str::is_empty) {
        f.warn(
            "data.inbound_extauthz_statprefix: empty while inbound_extauthz_enable is true; Envoy needs a stat prefix"
                .into(),
        );
    }
}

/// Invalid entries of `outbound_ip_range_exclusion_list` reported (the rest are not).
const MAX_ENTRY_ERRORS: usize = 10;

/// `outbound_ip_range_exclusion_list`: v0.8 splits on `,` and trims spaces; each entry goes
/// verbatim into an (IPv4-only) iptables rule.
fn cidr_list(f: &mut Findings, path: &str, s: &str, unchanged: bool) {
    // OSM reads an empty value as no ranges (tests/osm_consumer.rs).
    if s.trim().is_empty() {
        return;
    }
    // A set, not Vec::contains: the value can hold a million entries.
    let mut seen = std::collections::HashSet::new();
    let mut reported = 0;
    for (i, raw) in s.split(',').enumerate() {
        let n = i + 1;
        // Go's strings.TrimSpace and Rust's trim agree: Unicode White_Space.
        let entry = raw.trim();
        let detail = if entry.is_empty() {
            format!("entry {n}: must not be empty")
        } else {
            match cidr::parse_ipv4_cidr(entry) {
                Err(d) => format!("entry {n} {}: {d}", go_quote(entry)),
                Ok(c) => {
                    if c.has_host_bits() {
                        f.warn(format!(
                            "{path}: entry {n} {entry} has host bits set; it means {}",
                            c.network()
                        ));
                    }
                    if !seen.insert(c) {
                        f.warn(format!("{path}: entry {n} duplicates IP range {entry}"));
                    }
                    continue;
                }
            }
        };
        // Every error repeats the whole value: past a few, more would only make the answer
        // quadratic in the value's length without changing the denial.
        if reported < MAX_ENTRY_ERRORS {
            reported += 1;
            f.push(FieldError::invalid(path, s, detail), unchanged);
        }
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform: `[+-]?[0-9]+`, with Go's error text, e.g.
/// `strconv.Atoi: parsing "x": invalid syntax`, `strconv.Atoi: parsing "99999999999999999999": value out of range`.
fn atoi(s: &str) -> Result<i64, String> {
    let err = |what: &str| format!("strconv.Atoi: parsing {}: {what}", go_quote(s));
    let (neg, digits) = match s.as_bytes().split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s.as_bytes()),
    };
    if digits.is_empty() {
        return Err(err("invalid syntax"));
    }
    // ParseUint's order: a bad byte is a syntax error, but overflow is reported as soon as it happens.
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(err("invalid syntax"));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
            .ok_or_else(|| err("value out of range"))?;
    }
    const CUTOFF: u64 = 1 << 63;
    match (neg, n) {
        (false, n) if n < CUTOFF => Ok(n as i64),
        (true, n) if n <= CUTOFF => Ok((n as i64).wrapping_neg()),
        _ => Err(err("value out of range")),
    }
}

/// The known key closest to `unknown`, when close enough to be a likely typo.
fn suggest(unknown: &str) -> Option<&'static str> {
    super::suggest::closest(unknown, KEYS.iter().map(|d| d.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bool_is_gos() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "no", "tRUE", "on", " true", "2"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn atoi_is_gos() {
        assert_eq!(atoi("9411"), Ok(9411));
        assert_eq!(atoi("+80"), Ok(80));
        assert_eq!(atoi("-0"), Ok(0));
        assert_eq!(atoi("0080"), Ok(80));
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(atoi("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(atoi(""), Err(r#"strconv.Atoi: parsing "": invalid syntax"#.into()));
        assert_eq!(atoi("+"), Err(r#"strconv.Atoi: parsing "+": invalid syntax"#.into()));
        assert_eq!(
            atoi("1_000"),
            Err(r#"strconv.Atoi: parsing "1_000": invalid syntax"#.into())
        );
        assert_eq!(
            atoi(" 80"),
            Err(r#"strconv.Atoi: parsing " 80": invalid syntax"#.into())
        );
        assert_eq!(
            atoi("9223372036854775808"),
            Err(r#"strconv.Atoi: parsing "9223372036854775808": value out of range"#.into())
        );
        // Overflow is found before the bad byte, as in Go's ParseUint.
        assert_eq!(
            atoi("99999999999999999999x"),
            Err(r#"strconv.Atoi: parsing "99999999999999999999x": value out of range"#.into())
        );
        assert_eq!(
            atoi("12x"),
            Err(r#"strconv.Atoi: parsing "12x": invalid syntax"#.into())
        );
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("egres"), Some("egress"));
        assert_eq!(suggest("Egress"), Some("egress"));
        assert_eq!(suggest("tracing_adress"), Some("tracing_address"));
        assert_eq!(suggest("envoy-log-level"), Some("envoy_log_level"));
        assert_eq!(suggest("tracnig_port"), Some("tracing_port"));
        assert_eq!(
            suggest("permissive_traffic_policy"),
            Some("permissive_traffic_policy_mode")
        );
        assert_eq!(suggest("foo"), None);
        assert_eq!(suggest("envoy_image"), None);
        assert_eq!(suggest("a"), None);
    }

    #[test]
    fn unknown_keys_parse() {
        assert_eq!("warn".parse::<UnknownKeys>(), Ok(UnknownKeys::Warn));
        assert_eq!(UnknownKeys::default().to_string(), "deny");
        assert!("Deny".parse::<UnknownKeys>().is_err());
    }
}
