//! The semantic layer: one rule per [`Kind`], saying what OSM would do with a value at runtime
//! (osm-upstream §5) in apimachinery's words. Runs only on values the CRD layer accepted.

use serde_json::Value;

use super::{Findings, Walk, cidr, duration, image, names, resources};
use crate::field::{BadValue, FieldError, go_quote};
use crate::schema::meshconfig::{OSM_LOG_LEVELS, TLS_VERSIONS};
use crate::schema::{Kind, Node, Release};

const ONE_HOUR_NS: i64 = 3_600_000_000_000;

/// Rules on a single value (leaf or object).
/// `path` is the walk's path, lent while the rules run (`w.path` is empty meanwhile).
pub(super) fn value(w: &mut Walk, path: &str, n: &Node, v: &Value, old: Option<&Value>, unchanged: bool) {
    match (n.kind, v) {
        (
            Kind::ServiceCertDuration | Kind::GatewayCertDuration | Kind::ExtAuthzTimeout | Kind::ResyncInterval,
            Value::String(s),
        ) => {
            if let Some(rule) = DurationRule::of(n.kind, w.schema.id.release) {
                duration(&mut w.findings, rule, path, s, unchanged);
            }
        }
        // OSM logs an unknown level and keeps its own: a warning (judged by tests/osm_consumer.rs).
        (Kind::OsmLogLevel, Value::String(s)) if !OSM_LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s)) => {
            w.warn(osm_log_level_warning(path, s));
        }
        (Kind::Image, Value::String(s)) => {
            for d in image::image_errors(s) {
                w.push(FieldError::invalid(path, s.as_str(), d), unchanged);
            }
        }
        (Kind::Host, Value::String(s)) if !s.is_empty() => {
            for d in names::host_errors(s) {
                w.push(FieldError::invalid(path, s.as_str(), d), unchanged);
            }
        }
        (Kind::UrlPath, Value::String(s)) if !s.is_empty() && !s.starts_with('/') => {
            w.push(FieldError::invalid(path, s.as_str(), URL_PATH_DETAIL), unchanged);
        }
        // OSM enforces a limit only when it is positive: a negative one means none, as 0 does.
        (Kind::MaxConnections, Value::Number(_)) if int(v).is_some_and(|x| x < 0) => {
            w.warn(format!("{path}: a negative limit means no limit, as 0 does"));
        }
        (Kind::TracingPort | Kind::CertKeyBitSize, Value::Number(_)) => {
            if let (Some(x), Some((lo, hi))) = (int(v), n.kind.int_bounds())
                && (lo.is_some_and(|lo| x < lo) || hi.is_some_and(|hi| x > hi))
                && let Some(d) = int_bounds_detail(lo, hi)
            {
                w.push(FieldError::invalid(path, x, d), unchanged);
            }
        }
        (Kind::SecretName, Value::String(s)) => name_rule(w, path, s, names::dns1123_subdomain_errors, unchanged),
        (Kind::NamespaceName, Value::String(s)) => name_rule(w, path, s, names::dns1123_label_errors, unchanged),
        (Kind::Multicluster, Value::Bool(true)) if w.schema.id.release >= Release::V1_2 => {
            w.warn(format!("{path}: ignored since OSM v1.2 (deprecated, no longer used)"));
        }
        (Kind::Resources, Value::Object(_)) => resources_rule(w, path, v, unchanged),
        (Kind::SidecarTls, Value::Object(_)) => sidecar_tls(w, path, n, v, old, unchanged),
        (Kind::ExtAuthz, Value::Object(_)) => ext_authz(w, path, v, unchanged),
        _ => {}
    }
}

/// The detail for a value outside a kind's bounds (`Kind::int_bounds`); `None` when there is no
/// lower bound (no kind has only an upper one). The admission policy generator reads it too.
pub(crate) fn int_bounds_detail(lo: Option<i64>, hi: Option<i64>) -> Option<String> {
    match (lo, hi) {
        (Some(lo), Some(hi)) => Some(inclusive_range(lo, hi)),
        (Some(lo), None) => Some(format!("must be greater than or equal to {lo}")),
        (None, _) => None,
    }
}

/// apimachinery's `InclusiveRangeError`, the detail of every bounds rule here and in `configmap`.
pub(crate) fn inclusive_range(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// Rules on a list; `clean[i]` says whether item `i` passed the CRD layer.
/// `path` as for [`value`].
pub(super) fn list(w: &mut Walk, path: &str, kind: Kind, items: &[Value], clean: &[bool], unchanged: bool) {
    let item_path = |i: usize| format!("{path}[{i}]");
    let strings = || {
        items
            .iter()
            .enumerate()
            .filter(|(i, _)| clean.get(*i).copied().unwrap_or(false))
            .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
    };
    match kind {
        Kind::CidrList => {
            // Sets, not Vec::contains: a 3 MiB list must not cost quadratic time.
            let mut seen: std::collections::HashSet<[u8; 5]> = std::collections::HashSet::new();
            for (i, s) in strings() {
                match cidr::parse_ipv4_cidr(s) {
                    Err(d) => w.push(FieldError::invalid(item_path(i), s, d), unchanged),
                    Ok(c) => {
                        if c.has_host_bits() {
                            w.warn(format!(
                                "{}: {s} has host bits set; it means {}",
                                item_path(i),
                                c.network()
                            ));
                        }
                        let key = [c.addr[0], c.addr[1], c.addr[2], c.addr[3], c.prefix];
                        if !seen.insert(key) {
                            w.warn(format!("{}: duplicate IP range {s}", item_path(i)));
                        }
                    }
                }
            }
        }
        Kind::PortList => {
            let mut seen = std::collections::HashSet::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                if let Some(p) = int(v).filter(|_| clean.get(i).copied().unwrap_or(false))
                    && !seen.insert(p)
                {
                    w.warn(format!("{}: duplicate port {p}", item_path(i)));
                }
            }
            // OSM merges duplicates and writes one multiport rule, which iptables-restore refuses
            // beyond 15 ports: the init container of every new pod fails.
            if seen.len() > MULTIPORT_MAX_PORTS {
                w.push(
                    FieldError::too_many(path, seen.len() as i64, MULTIPORT_DETAIL),
                    unchanged,
                );
            }
        }
        Kind::InterfaceList => {
            for (i, s) in strings() {
                if names::interface_never_matches(s) {
                    w.warn(format!("{}: {}", item_path(i), names::INTERFACE_NEVER_MATCHES));
                }
            }
            // OSM writes a repeated name's rules twice; iptables keeps both.
            each_string(w, path, strings(), unchanged, names::interface_name_errors, "interface");
        }
        Kind::DnsNameList => {
            each_string(
                w,
                path,
                strings(),
                unchanged,
                |s| {
                    if s.starts_with("*.") {
                        names::wildcard_dns1123_subdomain_errors(s)
                    } else {
                        names::dns1123_subdomain_errors(s)
                    }
                },
                "name",
            );
            // Only the first name is used, as the certificate's common name (at most 64 bytes).
            if let Some(first) = items.first().and_then(Value::as_str)
                && first.len() > COMMON_NAME_MAX_BYTES
            {
                w.push(
                    FieldError::invalid(item_path(0), first, names::max_len_error(COMMON_NAME_MAX_BYTES)),
                    unchanged,
                );
            }
        }
        Kind::TlsNameList => {
            each_string(
                w,
                path,
                strings(),
                unchanged,
                |s| {
                    if s.is_empty() {
                        vec![names::empty_error()]
                    } else {
                        Vec::new()
                    }
                },
                "name",
            );
        }
        _ => {}
    }
}

/// Per-item format errors; a repeated item only warns (OSM writes it again, and nothing it feeds
/// refuses a repeat).
fn each_string<'v>(
    w: &mut Walk,
    path: &str,
    items: impl Iterator<Item = (usize, &'v str)>,
    unchanged: bool,
    errors: impl Fn(&str) -> Vec<String>,
    what: &str,
) {
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (i, s) in items {
        let p = format!("{path}[{i}]");
        for d in errors(s) {
            w.push(FieldError::invalid(p.clone(), s, d), unchanged);
        }
        if !seen.insert(s) {
            w.warn(format!("{p}: duplicate {what} {}", go_quote(s)));
        }
    }
}

/// The bounds of a Go duration, shared by the MeshConfig fields and their v0.8 ConfigMap twins,
/// as OSM's own code judges them (`tests/osm_consumer.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum DurationRule {
    /// The validity of certificates OSM issues (service and ingress gateway): longer than the
    /// manager's renewal lead, or it renews each certificate as soon as it issues it. Service
    /// certificates under 1h warn (`vault_hours`: OSM's Vault provider requests whole hours).
    Certificate { vault_hours: bool },
    /// Zero or more (ext-authz timeout: Envoy refuses a negative one).
    NonNegative,
    /// The resync ticker: below its floor (0 included) it does not resync, as documented (a
    /// warning). From v0.11 it also logs and ignores what it cannot parse ("" configures nothing);
    /// up to v0.10 it reads the configurator's getter, which turns what it cannot parse into 0
    /// and so stops a running ticker (`parse_errors_deny`).
    Resync { floor_ns: i64, parse_errors_deny: bool },
}

/// OSM renews a certificate 30s plus up to 4s of random noise before it expires
/// (`certificate.RenewBeforeCertExpires`, `noiseSeconds` in pkg/certificate).
pub(crate) const CERT_RENEW_LEAD_NS: i64 = 34_000_000_000;
pub(crate) const CERT_RENEW_DETAIL: &str =
    "must be greater than 34s: OSM renews a certificate 30s to 34s before it expires";

impl DurationRule {
    /// The lower bound in nanoseconds, whether it is inclusive, and the detail when it is not met;
    /// `None` for a rule that only warns. The admission policy generator reads the same bound.
    pub(crate) fn lower_bound(self) -> Option<(i64, bool, &'static str)> {
        match self {
            Self::Certificate { .. } => Some((CERT_RENEW_LEAD_NS, false, CERT_RENEW_DETAIL)),
            Self::NonNegative => Some((0, true, "must be greater than or equal to 0s")),
            Self::Resync { .. } => None,
        }
    }

    /// Whether a value Go cannot parse is denied (else only warned).
    pub(crate) fn denies_parse_errors(self) -> bool {
        !matches!(
            self,
            Self::Resync {
                parse_errors_deny: false,
                ..
            }
        )
    }

    /// The rule of a duration kind, or `None` for other kinds.
    pub(crate) fn of(kind: Kind, release: Release) -> Option<Self> {
        match kind {
            Kind::ServiceCertDuration => Some(Self::Certificate { vault_hours: true }),
            Kind::GatewayCertDuration => Some(Self::Certificate { vault_hours: false }),
            Kind::ExtAuthzTimeout => Some(Self::NonNegative),
            Kind::ResyncInterval => Some(Self::Resync {
                floor_ns: release.resync_floor_ns(),
                parse_errors_deny: release <= Release::V0_10,
            }),
            _ => None,
        }
    }
}

/// iptables' multiport match takes at most 15 ports (`XT_MULTI_PORTS`).
pub(crate) const MULTIPORT_MAX_PORTS: usize = 15;
pub(crate) const MULTIPORT_DETAIL: &str =
    "must have at most 15 distinct ports: OSM writes them into one iptables multiport rule, which takes 15";

/// The warning for an OSM log level `logger.SetLogLevel` refuses.
pub(crate) fn osm_log_level_warning(path: &str, s: &str) -> String {
    let supported: Vec<String> = OSM_LOG_LEVELS.iter().map(|l| go_quote(l)).collect();
    format!(
        "{path}: unsupported value {}: OSM logs an error and keeps its log level (supported values: {})",
        go_quote(s),
        supported.join(", ")
    )
}

/// Keys an enabled ext-authz filter needs (non-empty).
pub(crate) const EXT_AUTHZ_REQUIRED: [&str; 3] = ["address", "port", "statPrefix"];
pub(crate) const EXT_AUTHZ_DETAIL: &str = "required when enable is true";
pub(crate) const URL_PATH_DETAIL: &str = "must be an absolute path";
/// Maximum TLS versions OSM's control plane can talk to (it requires TLS ≥ 1.2 from sidecars).
pub(crate) const TLS_MAX_SUPPORTED: &[&str] = &["TLS_AUTO", "TLSv1_2", "TLSv1_3"];
/// The first ingress-gateway SAN becomes the certificate's common name: at most 64 bytes.
pub(crate) const COMMON_NAME_MAX_BYTES: usize = 64;

/// Parses `s` as Go's `time.ParseDuration` and applies `rule`.
pub(crate) fn duration(f: &mut Findings, rule: DurationRule, path: &str, s: &str, unchanged: bool) {
    let ns = match (duration::parse(s), rule) {
        (Ok(ns), _) => ns,
        (
            Err(_),
            DurationRule::Resync {
                parse_errors_deny: false,
                ..
            },
        ) if s.is_empty() => return,
        (
            Err(e),
            DurationRule::Resync {
                parse_errors_deny: false,
                ..
            },
        ) => {
            return f.warn(format!(
                "{path}: {e}: OSM's resync ticker logs the error and keeps its interval"
            ));
        }
        (Err(e), _) => return f.push(FieldError::invalid(path, s, e), unchanged),
    };
    if let Some((bound, inclusive, detail)) = rule.lower_bound()
        && (ns < bound || (!inclusive && ns == bound))
    {
        return f.push(FieldError::invalid(path, s, detail), unchanged);
    }
    match rule {
        DurationRule::Certificate { vault_hours: true } if ns < ONE_HOUR_NS => f.warn(format!(
            "{path}: {s} is under 1h: OSM's Vault provider issues whole hours, so it would request 0h"
        )),
        DurationRule::Resync { floor_ns, .. } if ns != 0 && ns < floor_ns => f.warn(format!(
            "{path}: {s} is below OSM's minimum resync interval of {}; OSM will not resync",
            duration::format(floor_ns)
        )),
        _ => {}
    }
}

/// A host OSM dials (DNS name or IP); empty means OSM's default.
pub(crate) fn host(f: &mut Findings, path: &str, s: &str, unchanged: bool) {
    if !s.is_empty() {
        for d in names::host_errors(s) {
            f.push(FieldError::invalid(path, s, d), unchanged);
        }
    }
}

/// A URL path; empty means OSM's default.
pub(crate) fn url_path(f: &mut Findings, path: &str, s: &str, unchanged: bool) {
    if !s.is_empty() && !s.starts_with('/') {
        f.push(FieldError::invalid(path, s, URL_PATH_DETAIL), unchanged);
    }
}

fn name_rule(w: &mut Walk, path: &str, s: &str, check: fn(&str) -> Vec<String>, unchanged: bool) {
    if s.is_empty() {
        w.push(FieldError::required(path, ""), unchanged);
        return;
    }
    for d in check(s) {
        w.push(FieldError::invalid(path, s, d), unchanged);
    }
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    })
}

/// `sidecar.resources`: resource names and quantities as corev1 would decode and validate them,
/// and each request at most its limit (else every injected pod is rejected).
fn resources_rule(w: &mut Walk, path: &str, v: &Value, unchanged: bool) {
    let mut parsed: [Vec<(&str, resources::Quantity)>; 2] = [Vec::new(), Vec::new()];
    for (slot, section) in ["limits", "requests"].into_iter().enumerate() {
        let Some(map) = v.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (name, q) in map {
            if q.is_null() {
                continue;
            }
            let p = format!("{path}.{section}.{name}");
            for d in resources::resource_name_errors(name) {
                w.push(FieldError::invalid(p.clone(), name.as_str(), d), unchanged);
            }
            let text = match q {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            match resources::parse_quantity(&text) {
                Err(e) => w.push(FieldError::invalid(p, BadValue::from(q), e), unchanged),
                Ok(quantity) => {
                    for d in resources::quantity_value_errors(name, &quantity) {
                        w.push(FieldError::invalid(p.clone(), BadValue::from(q), d), unchanged);
                    }
                    parsed[slot].push((name.as_str(), quantity));
                }
            }
        }
    }
    let [limits, requests] = &parsed;
    for (name, request) in requests {
        if let Some((_, limit)) = limits.iter().find(|(n, _)| n == name)
            && let Some(d) = resources::request_vs_limit(name, request, limit)
        {
            let value = v.pointer(&format!("/requests/{}", name.replace('~', "~0").replace('/', "~1")));
            let value = value.map_or(BadValue::Omit, BadValue::from);
            w.push(
                FieldError::invalid(format!("{path}.requests.{name}"), value, d),
                unchanged,
            );
        }
    }
}

/// `sidecar.tlsMinProtocolVersion` ≤ `tlsMaxProtocolVersion`, and a maximum OSM's control plane
/// can talk (it requires TLS ≥ 1.2 from sidecars).
fn sidecar_tls(w: &mut Walk, path: &str, n: &Node, v: &Value, old: Option<&Value>, unchanged: bool) {
    let (Some(min_node), Some(max_node)) = (n.prop("tlsMinProtocolVersion"), n.prop("tlsMaxProtocolVersion")) else {
        return;
    };
    let get = |obj: Option<&Value>, key: &str, node: &Node| -> Option<String> {
        match obj.and_then(|o| o.get(key)) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => node.default.as_ref().and_then(Value::as_str).map(str::to_owned),
            Some(_) => None,
        }
    };
    let (Some(min), Some(max)) = (
        get(Some(v), "tlsMinProtocolVersion", min_node),
        get(Some(v), "tlsMaxProtocolVersion", max_node),
    ) else {
        return;
    };
    let rank = |s: &str| TLS_VERSIONS.iter().position(|t| *t == s);
    let (Some(min_rank), Some(max_rank)) = (rank(&min), rank(&max)) else {
        return;
    };
    // Each rule ratchets on the fields it reads: the maximum's own rule on the maximum alone,
    // the ordering rule on both.
    let max_unchanged =
        unchanged || (old.is_some() && get(old, "tlsMaxProtocolVersion", max_node).as_deref() == Some(&*max));
    let both_unchanged =
        max_unchanged && (unchanged || get(old, "tlsMinProtocolVersion", min_node).as_deref() == Some(&*min));
    if max == "TLSv1_0" || max == "TLSv1_1" {
        w.push(
            FieldError::not_supported(format!("{path}.tlsMaxProtocolVersion"), max.as_str(), TLS_MAX_SUPPORTED),
            max_unchanged,
        );
    }
    // TLS_AUTO (rank 0) leaves the choice to Envoy: nothing to compare.
    if min_rank > 0 && max_rank > 0 && min_rank > max_rank {
        w.push(
            FieldError::invalid(
                format!("{path}.tlsMinProtocolVersion"),
                min.as_str(),
                format!(
                    "must be less than or equal to tlsMaxProtocolVersion ({})",
                    go_quote(&max)
                ),
            ),
            both_unchanged,
        );
    }
    if min == "TLSv1_0" || min == "TLSv1_1" {
        w.warn(format!(
            "{path}.tlsMinProtocolVersion: {min} is deprecated and insecure; use TLSv1_2 or later"
        ));
    }
}

/// An enabled external authorization filter needs a target and a stats prefix, or Envoy rejects it.
fn ext_authz(w: &mut Walk, path: &str, v: &Value, unchanged: bool) {
    if v.get("enable") != Some(&Value::Bool(true)) {
        return;
    }
    for key in EXT_AUTHZ_REQUIRED {
        let missing = match v.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if missing {
            w.push(
                FieldError::required(format!("{path}.{key}"), EXT_AUTHZ_DETAIL),
                unchanged,
            );
        }
    }
}
