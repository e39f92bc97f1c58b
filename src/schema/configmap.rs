//! Every key of OSM v0.8's `osm-config` ConfigMap, once, as data.
//!
//! Up to v0.8.4 OSM was configured by this ConfigMap instead of a MeshConfig. All its values are
//! strings, so the apiserver checks none of them; this table says what each key means to the v0.8
//! controller (`pkg/configurator` at v0.8.4, osm-upstream §3.1) and `validate::configmap` checks
//! it. Each row names its MeshConfig twin so both tables can be read side by side.

pub use super::meshconfig::ENVOY_LOG_LEVELS;

/// The only ConfigMap OSM v0.8 reads (`--osm-config-name` default).
pub const CONFIGMAP_NAME: &str = "osm-config";
/// Kind and (core, empty) group of the validated object, for the Status.
pub const CONFIGMAP_KIND: &str = "ConfigMap";
pub const CONFIGMAP_GROUP: &str = "";

/// What a value means to the v0.8 controller: selects the rule in `validate::configmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Go `strconv.ParseBool`: `1 t T TRUE true True 0 f F FALSE false False`.
    Bool,
    /// One of Envoy's eight log levels, exactly (case-sensitive).
    EnvoyLogLevel,
    /// Go duration longer than OSM's 34s renewal lead (warn < 1h), as
    /// `certificate.serviceCertValidityDuration`.
    ServiceCertDuration,
    /// Go duration (OSM v0.8 turns what it cannot parse into 0, which stops the ticker); below
    /// v0.8's 1m ticker floor, negative ones included, the resync never runs (a warning).
    ResyncInterval,
    /// Go duration ≥ 0, as `inboundExternalAuthorization.timeout`.
    ExtAuthzTimeout,
    /// Decimal integer (Go `strconv.Atoi`), 0..65535; 0 means the default 9411.
    TracingPort,
    /// Decimal integer (Go `strconv.Atoi`), 1..65535 when ext-authz is enabled (0 = unset otherwise).
    ExtAuthzPort,
    /// Comma-separated strict IPv4 CIDRs, spaces around entries allowed.
    CidrList,
    /// A host (DNS name or IP); empty means OSM's default.
    Host,
    /// A URL path; empty means OSM's default.
    UrlPath,
    /// Any string.
    Text,
}

/// One row of the table.
#[derive(Debug)]
pub struct KeyDef {
    /// The key under `data`.
    pub key: &'static str,
    pub kind: ValueKind,
    /// What OSM v0.8.4's chart writes with default values; `None` when it omits the key.
    pub default: Option<&'static str>,
    /// One of the nine keys v0.8's own webhook required (`checkDefaultFields`); required on
    /// CREATE and UPDATE.
    pub required: bool,
    /// The first release whose controller reads the key.
    pub since: &'static str,
    /// The MeshConfig spec field that replaced it (v0.9+), if any.
    pub meshconfig: Option<&'static str>,
    pub description: &'static str,
}

const fn k(key: &'static str, kind: ValueKind, description: &'static str) -> KeyDef {
    KeyDef {
        key,
        kind,
        default: None,
        required: false,
        since: "v0.8.0",
        meshconfig: None,
        description,
    }
}

impl KeyDef {
    /// A default key: the chart writes it and OSM's v0.8 webhook required it.
    const fn required(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self.required = true;
        self
    }
    /// Written by the chart but not required (`inbound_extauthz_enable`, v0.8.4).
    const fn default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }
    const fn since(mut self, tag: &'static str) -> Self {
        self.since = tag;
        self
    }
    const fn twin(mut self, path: &'static str) -> Self {
        self.meshconfig = Some(path);
        self
    }
}

use ValueKind::*;

/// In the order of osm-upstream §3.1.
pub static KEYS: &[KeyDef] = &[
    k(
        "permissive_traffic_policy_mode",
        Bool,
        "Allows traffic between client and service pods within the mesh without SMI traffic policies.",
    )
    .required("false")
    .twin("traffic.enablePermissiveTrafficPolicyMode"),
    k("egress", Bool, "Enables egress in the mesh.")
        .required("false")
        .twin("traffic.enableEgress"),
    k(
        "enable_debug_server",
        Bool,
        "Enables a debug endpoint on the osm-controller pod.",
    )
    .required("false")
    .twin("observability.enableDebugServer"),
    k(
        "prometheus_scraping",
        Bool,
        "Enables Prometheus metrics scraping on sidecar proxies.",
    )
    .required("true"),
    k("use_https_ingress", Bool, "Enables HTTPS ingress on the mesh.")
        .required("false")
        .twin("traffic.useHTTPSIngress"),
    k(
        "tracing_enable",
        Bool,
        "Enables Jaeger tracing for the mesh; the other tracing_* keys are read only when true.",
    )
    .required("false")
    .twin("observability.tracing.enable"),
    k(
        "tracing_address",
        Host,
        "Address of the Jaeger deployment; empty means jaeger.<osm-namespace>.svc.cluster.local.",
    )
    .twin("observability.tracing.address"),
    k(
        "tracing_port",
        TracingPort,
        "Port of the Jaeger collector; 0 means 9411.",
    )
    .twin("observability.tracing.port"),
    k(
        "tracing_endpoint",
        UrlPath,
        "Path tracing data is sent to; empty means /api/v2/spans.",
    )
    .twin("observability.tracing.endpoint"),
    k(
        "envoy_log_level",
        EnvoyLogLevel,
        "Logging verbosity of Envoy sidecars created from now on.",
    )
    .required("error")
    .twin("sidecar.logLevel"),
    k(
        "service_cert_validity_duration",
        ServiceCertDuration,
        "Validity of service certificates (Go duration).",
    )
    .required("24h")
    .twin("certificate.serviceCertValidityDuration"),
    k(
        "outbound_ip_range_exclusion_list",
        CidrList,
        "Comma-separated IP ranges excluded from outbound interception.",
    )
    .twin("traffic.outboundIPRangeExclusionList"),
    k(
        "enable_privileged_init_container",
        Bool,
        "Runs the init container privileged; otherwise it only has NET_ADMIN.",
    )
    .required("false")
    .twin("sidecar.enablePrivilegedInitContainer"),
    k(
        "config_resync_interval",
        ResyncInterval,
        "Interval of forced proxy updates (Go duration); below 1m none run.",
    )
    .since("v0.8.1")
    .twin("sidecar.configResyncInterval"),
    k(
        "inbound_extauthz_enable",
        Bool,
        "Enables inbound external authorization; the other inbound_extauthz_* keys are read only when true.",
    )
    .default("false")
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.enable"),
    k(
        "inbound_extauthz_address",
        Host,
        "Host of the external authorization service.",
    )
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.address"),
    k(
        "inbound_extauthz_port",
        ExtAuthzPort,
        "Port of the external authorization service.",
    )
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.port"),
    k(
        "inbound_extauthz_statprefix",
        Text,
        "Prefix of the external authorization metrics.",
    )
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.statPrefix"),
    k(
        "inbound_extauthz_timeout",
        ExtAuthzTimeout,
        "Timeout of an external authorization request (Go duration); default 1s.",
    )
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.timeout"),
    k(
        "inbound_extauthz_failuremodeallow",
        Bool,
        "Lets traffic through when the external authorization service fails.",
    )
    .since("v0.8.4")
    .twin("traffic.inboundExternalAuthorization.failureModeAllow"),
];

/// The row of `key`, if it is one OSM v0.8 reads.
pub fn key(key: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|d| d.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FIELDS;

    #[test]
    fn nine_keys_are_required_in_v0_8_webhook_order() {
        // `checkDefaultFields` at v0.8.4, as a set.
        let mut expected = [
            "egress",
            "enable_debug_server",
            "permissive_traffic_policy_mode",
            "prometheus_scraping",
            "use_https_ingress",
            "envoy_log_level",
            "service_cert_validity_duration",
            "tracing_enable",
            "enable_privileged_init_container",
        ];
        let mut required: Vec<&str> = KEYS.iter().filter(|d| d.required).map(|d| d.key).collect();
        expected.sort_unstable();
        required.sort_unstable();
        assert_eq!(required, expected);
        assert!(KEYS.iter().filter(|d| d.required).all(|d| d.default.is_some()));
    }

    #[test]
    fn keys_are_unique_and_twins_exist() {
        for (i, d) in KEYS.iter().enumerate() {
            assert!(KEYS[..i].iter().all(|o| o.key != d.key), "{} twice", d.key);
            if let Some(path) = d.meshconfig {
                assert!(
                    FIELDS.iter().any(|f| f.path == path),
                    "{}: no MeshConfig field {path}",
                    d.key
                );
            }
            assert!(d.since.starts_with("v0.8."), "{}", d.key);
        }
        assert_eq!(key("egress").map(|d| d.kind), Some(ValueKind::Bool));
        assert!(key("egres").is_none());
    }
}
