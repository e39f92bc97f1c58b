//! Every MeshConfig spec field of every supported schema, once.
//!
//! Read a row as: this field, of this JSON type, exists in these schemas, with these CRD
//! constraints and defaults there, and means this to OSM (`kind`). The rows restate OSM's CRDs
//! (v0.9.2 … v1.2.4 and pre-rel-v1.2); `tests/validate_crd.rs` checks them against golden output
//! of the apiserver's own validator.

use serde_json::Value;

use super::{JsonType, Kind};

// Bits of the schemas, in `SchemaId::ALL` order.
const S0_9: u16 = 1 << 0;
const S0_10: u16 = 1 << 1;
const S0_11: u16 = 1 << 2;
const S1_0: u16 = 1 << 3;
const S1_1A1: u16 = 1 << 4;
const S1_1A2: u16 = 1 << 5;
const S1_2A1: u16 = 1 << 6;
const S1_2A2: u16 = 1 << 7;
/// v1alpha3 of the tag pre-rel-v1.2.
const S1_2A3: u16 = 1 << 8;

const ALL: u16 = S0_9 | S0_10 | S0_11 | S1_0 | S1_1A1 | S1_1A2 | S1_2A1 | S1_2A2 | S1_2A3;
const FROM_0_10: u16 = ALL & !S0_9;
const FROM_0_11: u16 = FROM_0_10 & !S0_10;
const FROM_1_0: u16 = FROM_0_11 & !S0_11;
const UNTIL_0_11: u16 = S0_9 | S0_10 | S0_11;
/// v1alpha2 of v1.1/v1.2 and v1alpha3: the TLS settings, inclusion list, proxy mode.
const V1ALPHA2_UP: u16 = S1_1A2 | S1_2A2 | S1_2A3;
const NONE: u16 = 0;

/// A CRD `default`.
#[derive(Debug, Clone, Copy)]
pub enum CrdDefault {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

impl CrdDefault {
    pub fn to_value(self) -> Value {
        match self {
            Self::Bool(b) => Value::Bool(b),
            Self::Int(i) => Value::from(i),
            Self::Str(s) => Value::from(s),
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct FieldDef {
    /// Path under `spec`; `name[]` is the item schema of the list `name`.
    pub path: &'static str,
    pub ty: JsonType,
    /// Schemas that have the field.
    pub schemas: u16,
    /// Schemas whose parent object lists the field as required.
    pub required_in: u16,
    /// The CRD's enum as written; the apiserver holds each member as YAML 1.1 reads it
    /// ([`super::EnumMember`]).
    pub enum_values: &'static [&'static str],
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub pattern: Option<&'static str>,
    /// Schemas where the list has `minItems: 1`.
    pub min_items_in: u16,
    /// CRD defaults, by the schemas that declare them.
    pub defaults: &'static [(u16, CrdDefault)],
    pub kind: Kind,
    pub description: &'static str,
}

const fn f(path: &'static str, ty: JsonType, schemas: u16, kind: Kind, description: &'static str) -> FieldDef {
    FieldDef {
        path,
        ty,
        schemas,
        required_in: NONE,
        enum_values: &[],
        minimum: None,
        maximum: None,
        pattern: None,
        min_items_in: NONE,
        defaults: &[],
        kind,
        description,
    }
}

impl FieldDef {
    const fn required(mut self, in_schemas: u16) -> Self {
        self.required_in = in_schemas;
        self
    }
    const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.enum_values = values;
        self
    }
    const fn range(mut self, min: i64, max: i64) -> Self {
        self.minimum = Some(min);
        self.maximum = Some(max);
        self
    }
    const fn pattern(mut self, p: &'static str) -> Self {
        self.pattern = Some(p);
        self
    }
    const fn min_one_item(mut self, in_schemas: u16) -> Self {
        self.min_items_in = in_schemas;
        self
    }
    const fn defaults(mut self, d: &'static [(u16, CrdDefault)]) -> Self {
        self.defaults = d;
        self
    }
}

use CrdDefault::{Bool, Int, Str};
use JsonType::{Array, Boolean, Integer, Map, Object, String};

/// Envoy's log levels, as OSM's CRDs write the `sidecar.logLevel` enum and as OSM v0.8 passes
/// `envoy_log_level` to Envoy. The CRDs' bare `off` is YAML 1.1's `false`, so the apiserver holds
/// no `"off"`: Envoy's `off` cannot be set through a MeshConfig.
pub const ENVOY_LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warning", "warn", "error", "critical", "off"];
/// zerolog levels accepted by OSM's `logger.SetLogLevel` (after lower-casing).
pub const OSM_LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error", "fatal", "panic", "disabled", "trace"];
pub const TLS_VERSIONS: &[&str] = &["TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"];
const PROXY_MODES: &[&str] = &["Localhost", "PodIP"];
/// The CRD's IPv4 CIDR pattern: a search anchored only at the end, so it admits junk prefixes.
const CIDR_PATTERN: &str = r"((?:\d{1,3}\.){3}\d{1,3})\/(\d{1,2})$";

pub static FIELDS: &[FieldDef] = &[
    // ---- sidecar
    f(
        "sidecar",
        Object,
        ALL,
        Kind::SidecarTls,
        "Configuration for Envoy sidecar",
    ),
    f(
        "sidecar.enablePrivilegedInitContainer",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables privileged init containers for pods in mesh. When false, init containers only have NET_ADMIN.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "sidecar.logLevel",
        String,
        ALL,
        Kind::Plain,
        "Sets the logging verbosity of Envoy proxy sidecar, only applicable to newly created pods joining the mesh.",
    )
    .one_of(ENVOY_LOG_LEVELS)
    .defaults(&[(S0_9, Str("error"))]),
    f(
        "sidecar.maxDataPlaneConnections",
        Integer,
        ALL,
        Kind::MaxConnections,
        "Max allowed data plane sidecar connections",
    )
    .defaults(&[(S0_9, Int(0))]),
    f(
        "sidecar.envoyImage",
        String,
        ALL,
        Kind::Image,
        "Image for the Envoy sidecar",
    )
    .defaults(&[
        (S0_9, Str("envoyproxy/envoy-alpine:v1.18.3")),
        (S0_10, Str("envoyproxy/envoy-alpine:v1.19.1")),
        (
            S0_11,
            Str("envoyproxy/envoy-alpine@sha256:6502a637c6c5fba4d03d0672d878d12da4bcc7a0d0fb3f1d506982dde0039abd"),
        ),
    ]),
    f(
        "sidecar.envoyWindowsImage",
        String,
        FROM_0_10,
        Kind::Image,
        "Image for the Envoy sidecar on Windows workers",
    )
    .defaults(&[
        (S0_10, Str("envoyproxy/envoy-windows:v1.19.1")),
        (
            S0_11,
            Str("envoyproxy/envoy-windows@sha256:c904fda95891ebbccb9b1f24c1a9482c8d01cbca215dd081fc8c8db36db85f85"),
        ),
    ]),
    f(
        "sidecar.initContainerImage",
        String,
        ALL,
        Kind::Image,
        "Image for the init container",
    )
    .defaults(&[(S0_9, Str("openservicemesh/init:v0.9.2"))]),
    f(
        "sidecar.resources",
        Object,
        ALL,
        Kind::Resources,
        "Resources for the Envoy sidecar container",
    ),
    f(
        "sidecar.resources.limits",
        Map,
        ALL,
        Kind::Plain,
        "Limits describes the maximum amount of compute resources allowed.",
    ),
    f(
        "sidecar.resources.requests",
        Map,
        ALL,
        Kind::Plain,
        "Requests describes the minimum amount of compute resources required.",
    ),
    f(
        "sidecar.configResyncInterval",
        String,
        ALL,
        Kind::ResyncInterval,
        "Resync interval for regular proxy broadcast updates",
    )
    .defaults(&[(S0_9, Str("0s"))]),
    f(
        "sidecar.tlsMinProtocolVersion",
        String,
        V1ALPHA2_UP,
        Kind::Plain,
        "The minimum TLS protocol version that the sidecar supports.",
    )
    .one_of(TLS_VERSIONS)
    .defaults(&[(V1ALPHA2_UP, Str("TLSv1_2"))]),
    f(
        "sidecar.tlsMaxProtocolVersion",
        String,
        V1ALPHA2_UP,
        Kind::Plain,
        "The maximum TLS protocol version that the sidecar supports.",
    )
    .one_of(TLS_VERSIONS)
    .defaults(&[(V1ALPHA2_UP, Str("TLSv1_3"))]),
    f(
        "sidecar.cipherSuites",
        Array,
        V1ALPHA2_UP,
        Kind::TlsNameList,
        "A list of ciphers that listener supports when negotiating TLS 1.0-1.2.",
    ),
    f("sidecar.cipherSuites[]", String, V1ALPHA2_UP, Kind::Plain, ""),
    f(
        "sidecar.ecdhCurves",
        Array,
        V1ALPHA2_UP,
        Kind::TlsNameList,
        "A list of ECDH curves that TLS connection supports.",
    ),
    f("sidecar.ecdhCurves[]", String, V1ALPHA2_UP, Kind::Plain, ""),
    f(
        "sidecar.localProxyMode",
        String,
        V1ALPHA2_UP,
        Kind::Plain,
        "Sets the destination ip address the envoy proxy will use when connecting to the backend application.",
    )
    .one_of(PROXY_MODES)
    .defaults(&[(V1ALPHA2_UP, Str("Localhost"))]),
    // ---- traffic
    f(
        "traffic",
        Object,
        ALL,
        Kind::Plain,
        "Configuration for traffic management",
    ),
    f(
        "traffic.enableEgress",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables egress in the mesh",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "traffic.outboundIPRangeExclusionList",
        Array,
        ALL,
        Kind::CidrList,
        "Global list of IP address ranges to exclude from outbound traffic interception by the sidecar proxy.",
    ),
    f("traffic.outboundIPRangeExclusionList[]", String, ALL, Kind::Plain, "").pattern(CIDR_PATTERN),
    f(
        "traffic.outboundIPRangeInclusionList",
        Array,
        V1ALPHA2_UP,
        Kind::CidrList,
        "Global list of IP address ranges to include for outbound traffic interception by the sidecar proxy.",
    ),
    f(
        "traffic.outboundIPRangeInclusionList[]",
        String,
        V1ALPHA2_UP,
        Kind::Plain,
        "",
    )
    .pattern(CIDR_PATTERN),
    f(
        "traffic.outboundPortExclusionList",
        Array,
        ALL,
        Kind::PortList,
        "Global list of ports to exclude from outbound traffic interception by the sidecar proxy.",
    ),
    f("traffic.outboundPortExclusionList[]", Integer, ALL, Kind::Plain, "").range(1, 65535),
    f(
        "traffic.inboundPortExclusionList",
        Array,
        ALL,
        Kind::PortList,
        "Global list of ports to exclude from inbound traffic interception by the sidecar proxy.",
    ),
    f("traffic.inboundPortExclusionList[]", Integer, ALL, Kind::Plain, "").range(1, 65535),
    f(
        "traffic.networkInterfaceExclusionList",
        Array,
        S1_1A2 | S1_2A2,
        Kind::InterfaceList,
        "Global list of network interface names to exclude from inbound and outbound traffic interception by the sidecar proxy.",
    ),
    f(
        "traffic.networkInterfaceExclusionList[]",
        String,
        S1_1A2 | S1_2A2,
        Kind::Plain,
        "",
    ),
    f(
        "traffic.useHTTPSIngress",
        Boolean,
        UNTIL_0_11,
        Kind::Plain,
        "Enables HTTPS ingress on the mesh",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "traffic.enablePermissiveTrafficPolicyMode",
        Boolean,
        ALL,
        Kind::Plain,
        "Allows traffic between client and service pods within the mesh without SMI traffic policies.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "traffic.inboundExternalAuthorization",
        Object,
        ALL,
        Kind::ExtAuthz,
        "Configures external authorization for inbound and ingress connections.",
    ),
    f(
        "traffic.inboundExternalAuthorization.enable",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables/disables the inbound external authorization policy if present.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "traffic.inboundExternalAuthorization.address",
        String,
        ALL,
        Kind::Host,
        "Target destination endpoint that will handle external authorization.",
    ),
    f(
        "traffic.inboundExternalAuthorization.port",
        Integer,
        ALL,
        Kind::Plain,
        "Remote destination port for the external authorization endpoint.",
    )
    .range(1, 65535),
    f(
        "traffic.inboundExternalAuthorization.statPrefix",
        String,
        ALL,
        Kind::Plain,
        "String prefix for inbound external authorization related metrics.",
    )
    .defaults(&[(ALL, Str("inboundExtAuthz"))]),
    f(
        "traffic.inboundExternalAuthorization.timeout",
        String,
        ALL,
        Kind::ExtAuthzTimeout,
        "Defines the timeout to consider for the remote endpoint to reply in time.",
    )
    .defaults(&[(ALL, Str("1s"))]),
    f(
        "traffic.inboundExternalAuthorization.failureModeAllow",
        Boolean,
        ALL,
        Kind::Plain,
        "Allows traffic to succeed if the external authorization endpoint fails to respond.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    // ---- observability
    f(
        "observability",
        Object,
        ALL,
        Kind::Plain,
        "Configuration for observing the service mesh, including metrics, logs, tracing etc.",
    ),
    f(
        "observability.osmLogLevel",
        String,
        ALL,
        Kind::OsmLogLevel,
        "Allows setting OSM control plane log level at runtime",
    )
    .defaults(&[(S0_9, Str("info"))]),
    f(
        "observability.enableDebugServer",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables a debug endpoint on the osm-controller pod.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "observability.tracing",
        Object,
        ALL,
        Kind::Plain,
        "Configuration for distributed tracing",
    ),
    f(
        "observability.tracing.enable",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables Jaeger tracing for the mesh.",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "observability.tracing.port",
        Integer,
        ALL,
        Kind::TracingPort,
        "Port on which tracing is enabled.",
    )
    .defaults(&[(S0_9, Int(9411))]),
    f(
        "observability.tracing.address",
        String,
        ALL,
        Kind::Host,
        "Address of Jaeger tracing deployment, if tracing is enabled.",
    )
    .defaults(&[(S0_9, Str("jaeger.osm-system.svc.cluster.local"))]),
    f(
        "observability.tracing.endpoint",
        String,
        ALL,
        Kind::UrlPath,
        "Endpoint for tracing data, if tracing is enabled.",
    )
    .defaults(&[(S0_9, Str("/api/v2/spans"))]),
    // ---- certificate
    f(
        "certificate",
        Object,
        ALL,
        Kind::Plain,
        "Configuration for certificate management",
    ),
    f(
        "certificate.serviceCertValidityDuration",
        String,
        ALL,
        Kind::ServiceCertDuration,
        "Sets the service certificate validity duration.",
    )
    .required(FROM_0_10)
    .defaults(&[(S0_9, Str("24h"))]),
    f(
        "certificate.certKeyBitSize",
        Integer,
        FROM_0_10,
        Kind::CertKeyBitSize,
        "Sets the certificate key bit size for data plane certificates.",
    )
    .required(FROM_0_10),
    f(
        "certificate.ingressGateway",
        Object,
        FROM_0_10,
        Kind::Plain,
        "Configuration for the ingress gateway's certificate",
    ),
    f(
        "certificate.ingressGateway.subjectAltNames",
        Array,
        FROM_0_10,
        Kind::DnsNameList,
        "Subject Alternative Names secured by the certificate",
    )
    .required(FROM_0_10)
    .min_one_item(FROM_1_0),
    f(
        "certificate.ingressGateway.subjectAltNames[]",
        String,
        FROM_0_10,
        Kind::Plain,
        "",
    ),
    f(
        "certificate.ingressGateway.validityDuration",
        String,
        FROM_0_10,
        Kind::GatewayCertDuration,
        "Certificate validity duration",
    )
    .required(FROM_0_10),
    f(
        "certificate.ingressGateway.secret",
        Object,
        FROM_0_10,
        Kind::Plain,
        "Secret reference to store the certificate in",
    )
    .required(FROM_0_10),
    f(
        "certificate.ingressGateway.secret.name",
        String,
        FROM_0_10,
        Kind::SecretName,
        "Name of the secret",
    )
    .required(FROM_0_10),
    f(
        "certificate.ingressGateway.secret.namespace",
        String,
        FROM_0_10,
        Kind::NamespaceName,
        "Namespace of the secret",
    )
    .required(FROM_0_10),
    // ---- featureFlags
    f("featureFlags", Object, ALL, Kind::Plain, "OSM feature flags"),
    f(
        "featureFlags.enableWASMStats",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables extra Envoy statistics generated by a WASM extension",
    )
    .defaults(&[(S0_9, Bool(true))]),
    f(
        "featureFlags.enableEgressPolicy",
        Boolean,
        ALL,
        Kind::Plain,
        "Enables OSM's Egress policy API",
    )
    .defaults(&[(S0_9, Bool(true))]),
    f(
        "featureFlags.enableMulticlusterMode",
        Boolean,
        ALL,
        Kind::Multicluster,
        "Enables multicluster mode (ignored since OSM v1.2)",
    )
    .defaults(&[(S0_9, Bool(false))]),
    f(
        "featureFlags.enableSnapshotCacheMode",
        Boolean,
        FROM_0_10,
        Kind::Plain,
        "Enables the snapshot cache xDS server",
    ),
    f(
        "featureFlags.enableAsyncProxyServiceMapping",
        Boolean,
        FROM_0_10,
        Kind::Plain,
        "Maps proxies to services asynchronously",
    ),
    f(
        "featureFlags.enableValidatingWebhook",
        Boolean,
        S0_10,
        Kind::Plain,
        "Enables the osm-validator webhook",
    ),
    f(
        "featureFlags.enableIngressBackendPolicy",
        Boolean,
        FROM_0_10,
        Kind::Plain,
        "Enables the IngressBackend API",
    ),
    f(
        "featureFlags.enableEnvoyActiveHealthChecks",
        Boolean,
        FROM_0_10,
        Kind::Plain,
        "Enables Envoy active health checks",
    ),
    f(
        "featureFlags.enableRetryPolicy",
        Boolean,
        FROM_0_11,
        Kind::Plain,
        "Enables the Retry policy API",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_and_parents_precede_children() {
        for (i, f) in FIELDS.iter().enumerate() {
            if let Some(p) = f.pattern {
                assert!(super::super::Pattern::compile(p).is_ok(), "{}", f.path);
            }
            let parent = f.path.trim_end_matches("[]");
            let parent = if f.path.ends_with("[]") {
                Some(parent)
            } else {
                parent.rsplit_once('.').map(|(p, _)| p)
            };
            if let Some(parent) = parent {
                let found = FIELDS[..i].iter().find(|p| p.path == parent);
                let p = found.unwrap_or_else(|| panic!("{} has no earlier parent", f.path));
                assert_eq!(f.schemas & !p.schemas, 0, "{} exists where its parent does not", f.path);
            }
        }
    }

    #[test]
    fn the_cidr_pattern_is_the_crds_weak_search() {
        let re = super::super::Pattern::compile(CIDR_PATTERN).expect("compiles").regex;
        assert!(re.is_match("10.0.0.0/8"));
        // Go's \d is ASCII: Arabic-Indic digits do not match.
        assert!(!re.is_match("\u{661}.1.1.1/8"));
        assert!(!re.is_match("1.1.1.1/\u{661}"));
        assert!(re.is_match("999.999.999.999/99"));
        assert!(re.is_match("foo 1.2.3.4/32"));
        assert!(!re.is_match("10.0.0.1"));
        assert!(!re.is_match("1.2.3.4/8 "));
    }
}
