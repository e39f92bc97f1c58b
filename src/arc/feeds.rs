//! Which chart value feeds which MeshConfig field (the `preset-mesh-config` template, v0.9+) or
//! `osm-config` key (the `osm-config` template, v0.8), per extension version.
//!
//! Only values copied as they are; fields the templates compute (image names from registry and
//! tag, ingress-gateway names) are not rows. The targets' rules live in the MeshConfig and
//! ConfigMap tables (`schema::meshconfig`, `schema::configmap`) and are applied by `validate`.

/// Where a value lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A MeshConfig field, as a path under `spec`.
    MeshConfig(&'static str),
    /// A key of the v0.8 `osm-config` ConfigMap.
    OsmConfig(&'static str),
}

/// One row of `FEEDS`.
#[derive(Debug)]
pub struct Feed {
    /// The chart value, as a `VALUES` path (`$` is the root key).
    pub value: &'static str,
    /// Extension versions whose template copies it.
    pub versions: u8,
    pub target: Target,
    /// The template renders it only when this boolean value is true.
    pub when: Option<&'static str>,
}

const fn mc(value: &'static str, versions: u8, field: &'static str) -> Feed {
    Feed {
        value,
        versions,
        target: Target::MeshConfig(field),
        when: None,
    }
}

const fn cm(value: &'static str, field: &'static str) -> Feed {
    Feed {
        value,
        versions: V0_8,
        target: Target::OsmConfig(field),
        when: None,
    }
}

impl Feed {
    const fn when(mut self, flag: &'static str) -> Self {
        self.when = Some(flag);
        self
    }
}

// Bits, in `ExtensionVersion::ALL` order.
const V0_8: u8 = 0b0000001;
const V0_9: u8 = 0b0000010;
const V0_11: u8 = 0b0000100;
/// Every version with a MeshConfig.
const MC: u8 = 0b1111110;
const FROM_0_11: u8 = 0b1111100;
const FROM_1_1: u8 = 0b1110000;
const UNTIL_0_11: u8 = V0_9 | V0_11;
/// v1.2.0 removed multicluster mode.
const UNTIL_1_1: u8 = 0b0011110;

pub static FEEDS: &[Feed] = &[
    // ---- MeshConfig (v0.9+)
    mc(
        "$.enablePrivilegedInitContainer",
        MC,
        "sidecar.enablePrivilegedInitContainer",
    ),
    mc("$.envoyLogLevel", MC, "sidecar.logLevel"),
    mc("$.maxDataPlaneConnections", MC, "sidecar.maxDataPlaneConnections"),
    mc("$.sidecarImage", UNTIL_0_11, "sidecar.envoyImage"),
    mc("$.sidecarWindowsImage", V0_11, "sidecar.envoyWindowsImage"),
    mc("$.configResyncInterval", MC, "sidecar.configResyncInterval"),
    mc("$.localProxyMode", FROM_1_1, "sidecar.localProxyMode"),
    mc("$.enableEgress", MC, "traffic.enableEgress"),
    mc("$.useHTTPSIngress", UNTIL_0_11, "traffic.useHTTPSIngress"),
    mc(
        "$.enablePermissiveTrafficPolicy",
        MC,
        "traffic.enablePermissiveTrafficPolicyMode",
    ),
    mc("$.outboundPortExclusionList", MC, "traffic.outboundPortExclusionList"),
    mc("$.inboundPortExclusionList", MC, "traffic.inboundPortExclusionList"),
    mc(
        "$.outboundIPRangeExclusionList",
        MC,
        "traffic.outboundIPRangeExclusionList",
    ),
    mc(
        "$.outboundIPRangeInclusionList",
        FROM_1_1,
        "traffic.outboundIPRangeInclusionList",
    ),
    mc(
        "$.networkInterfaceExclusionList",
        FROM_1_1,
        "traffic.networkInterfaceExclusionList",
    ),
    mc("$.enableDebugServer", MC, "observability.enableDebugServer"),
    mc("$.controllerLogLevel", MC, "observability.osmLogLevel"),
    mc("$.tracing.enable", MC, "observability.tracing.enable"),
    mc("$.tracing.port", MC, "observability.tracing.port").when("$.tracing.enable"),
    // From v0.10 through the `osm.tracingAddress` helper, which keeps a non-empty value.
    mc("$.tracing.address", MC, "observability.tracing.address").when("$.tracing.enable"),
    mc("$.tracing.endpoint", MC, "observability.tracing.endpoint").when("$.tracing.enable"),
    mc(
        "$.serviceCertValidityDuration",
        V0_9,
        "certificate.serviceCertValidityDuration",
    ),
    mc(
        "$.certificateProvider.serviceCertValidityDuration",
        FROM_0_11,
        "certificate.serviceCertValidityDuration",
    ),
    mc(
        "$.certificateProvider.certKeyBitSize",
        FROM_0_11,
        "certificate.certKeyBitSize",
    ),
    mc("$.featureFlags.enableWASMStats", MC, "featureFlags.enableWASMStats"),
    mc(
        "$.featureFlags.enableEgressPolicy",
        MC,
        "featureFlags.enableEgressPolicy",
    ),
    mc(
        "$.featureFlags.enableMulticlusterMode",
        UNTIL_1_1,
        "featureFlags.enableMulticlusterMode",
    ),
    mc(
        "$.featureFlags.enableSnapshotCacheMode",
        FROM_0_11,
        "featureFlags.enableSnapshotCacheMode",
    ),
    mc(
        "$.featureFlags.enableAsyncProxyServiceMapping",
        FROM_0_11,
        "featureFlags.enableAsyncProxyServiceMapping",
    ),
    mc(
        "$.featureFlags.enableIngressBackendPolicy",
        FROM_0_11,
        "featureFlags.enableIngressBackendPolicy",
    ),
    mc(
        "$.featureFlags.enableEnvoyActiveHealthChecks",
        FROM_0_11,
        "featureFlags.enableEnvoyActiveHealthChecks",
    ),
    mc(
        "$.featureFlags.enableRetryPolicy",
        FROM_0_11,
        "featureFlags.enableRetryPolicy",
    ),
    // ---- osm-config (v0.8)
    cm("$.enablePermissiveTrafficPolicy", "permissive_traffic_policy_mode"),
    cm("$.enableEgress", "egress"),
    cm("$.envoyLogLevel", "envoy_log_level"),
    cm("$.enablePrivilegedInitContainer", "enable_privileged_init_container"),
    cm("$.enableDebugServer", "enable_debug_server"),
    cm("$.enablePrometheusScraping", "prometheus_scraping"),
    cm("$.inbound_extauthz.enable", "inbound_extauthz_enable"),
    cm("$.inbound_extauthz.address", "inbound_extauthz_address").when("$.inbound_extauthz.enable"),
    cm("$.inbound_extauthz.port", "inbound_extauthz_port").when("$.inbound_extauthz.enable"),
    cm("$.inbound_extauthz.statPrefix", "inbound_extauthz_statprefix").when("$.inbound_extauthz.enable"),
    cm("$.inbound_extauthz.timeout", "inbound_extauthz_timeout").when("$.inbound_extauthz.enable"),
    cm(
        "$.inbound_extauthz.failureModeAllow",
        "inbound_extauthz_failuremodeallow",
    )
    .when("$.inbound_extauthz.enable"),
    cm("$.tracing.enable", "tracing_enable"),
    cm("$.tracing.address", "tracing_address").when("$.tracing.enable"),
    cm("$.tracing.port", "tracing_port").when("$.tracing.enable"),
    cm("$.tracing.endpoint", "tracing_endpoint").when("$.tracing.enable"),
    cm("$.useHTTPSIngress", "use_https_ingress"),
    cm("$.serviceCertValidityDuration", "service_cert_validity_duration"),
    cm("$.outboundIPRangeExclusionList", "outbound_ip_range_exclusion_list"),
];

#[cfg(test)]
mod tests {
    use super::super::{ExtensionVersion, rows};
    use super::*;
    use crate::schema::{FIELDS, Schema};

    #[test]
    fn every_feed_is_a_chart_value_and_a_target_field() {
        for f in FEEDS {
            for v in ExtensionVersion::ALL.into_iter().filter(|v| f.versions & v.bit() != 0) {
                assert!(rows(v).contains_key(f.value), "{v}: {} is not a chart value", f.value);
                match f.target {
                    Target::MeshConfig(field) => {
                        let release = v.meshconfig_release().expect("MeshConfig version");
                        let schema = Schema::get(release, release.storage_version()).expect("schema");
                        let def = FIELDS.iter().find(|d| d.path == field).expect(field);
                        assert_ne!(def.schemas & schema.id.bit(), 0, "{v}: {field} not in {release}");
                    }
                    Target::OsmConfig(key) => {
                        assert!(crate::schema::configmap::key(key).is_some(), "{key}");
                    }
                }
            }
        }
    }
}
