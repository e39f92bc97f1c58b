//! The rules whose harm lies past OSM's own code: the one list of exceptions to "deny exactly what
//! OSM mishandles".
//!
//! Every other rule is judged by OSM itself: `tests/osm_consumer.rs` runs each value through OSM's
//! decoder, configurator, log-level switch, resync ticker, certificate manager and injector
//! (`tools/osm-consumer`) and requires a denial exactly where OSM mishandles the value. OSM hands
//! the values below to another program unchanged (Envoy, the kubelet, the apiserver's pod
//! validation), so OSM's code cannot show the harm; each entry says where it happens. A denial
//! on one of these fields (or below it) is not counted as a disagreement. The table in docs/rules.md is
//! rendered from this one ([`markdown`]).

/// A field whose values OSM passes on to a program that fails on the ones the rule denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastOsm {
    /// The field as the schema names it (`spec.…`, or `data.…` for an `osm-config` key); errors
    /// on it or below it are covered.
    pub field: &'static str,
    /// Where the harm happens (docs/rules.md's table, the differential test's report).
    pub harm: &'static str,
}

impl PastOsm {
    /// Whether an error on `path` (`spec.sidecar.resources.limits.cpu`, `…List[3]`) is covered.
    pub fn covers(&self, path: &str) -> bool {
        path.strip_prefix(self.field)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    }
}

/// The exceptions, by field.
pub const PAST_OSM: &[PastOsm] = &[
    PastOsm {
        field: "spec.sidecar.envoyImage",
        harm: "the kubelet cannot pull an invalid image reference: every new meshed pod fails to start",
    },
    PastOsm {
        field: "spec.sidecar.envoyWindowsImage",
        harm: "the kubelet cannot pull an invalid image reference: every new meshed Windows pod fails to start",
    },
    PastOsm {
        field: "spec.sidecar.initContainerImage",
        harm: "the kubelet cannot pull an invalid image reference: every new meshed pod fails to start",
    },
    PastOsm {
        field: "spec.sidecar.resources",
        harm: "OSM copies them onto every injected Envoy container; the apiserver's pod validation rejects \
               an invalid resource name or a request above its limit, so every meshed pod is refused",
    },
    PastOsm {
        field: "spec.sidecar.tlsMaxProtocolVersion",
        harm: "Envoy then offers at most TLS 1.1 to OSM's xDS server, which accepts TLS 1.2 and later \
               (pkg/utils/mtls.go): sidecars get no configuration",
    },
    PastOsm {
        field: "spec.sidecar.tlsMinProtocolVersion",
        harm: "Envoy rejects TLS parameters whose minimum is above their maximum",
    },
    PastOsm {
        field: "spec.sidecar.cipherSuites",
        harm: "Envoy joins the names with ':' for BoringSSL, whose strict cipher list refuses an empty name",
    },
    PastOsm {
        field: "spec.sidecar.ecdhCurves",
        harm: "Envoy joins the names with ':' for BoringSSL, which refuses an empty curve name",
    },
    PastOsm {
        field: "spec.traffic.inboundExternalAuthorization.address",
        harm: "an enabled ext_authz filter dials address:port: Envoy rejects the inbound listener when the \
               host is missing or is neither a DNS name nor an IP",
    },
    PastOsm {
        field: "spec.traffic.inboundExternalAuthorization.port",
        harm: "an enabled ext_authz filter dials address:port: Envoy rejects the inbound listener without a port",
    },
    PastOsm {
        field: "spec.traffic.inboundExternalAuthorization.statPrefix",
        harm: "Envoy rejects an ext_authz filter with an empty stat prefix",
    },
    PastOsm {
        field: "spec.traffic.inboundExternalAuthorization.timeout",
        harm: "Envoy rejects a negative gRPC timeout (OSM's own fallback, for a timeout it cannot parse, is judged by OSM)",
    },
    PastOsm {
        field: "spec.observability.tracing.address",
        harm: "Envoy resolves the collector's cluster address as a DNS name or IP (the rule takes a host as \
               Kubernetes does, an IP or a lowercase DNS-1123 subdomain: stricter than DNS on upper case)",
    },
    PastOsm {
        field: "spec.observability.tracing.endpoint",
        harm: "Envoy's Zipkin tracer posts spans to this URL path",
    },
    PastOsm {
        field: "spec.certificate.ingressGateway.subjectAltNames",
        harm: "OSM issues the gateway's certificate with the first name as its common name: a name that is \
               no DNS name (or longer than a common name's 64 bytes) gives a certificate no client can verify",
    },
    PastOsm {
        field: "spec.certificate.ingressGateway.secret",
        harm: "OSM stores the gateway's certificate in this Secret: the apiserver refuses a name or namespace \
               that is not a DNS-1123 name",
    },
    // OSM v0.8's osm-config ConfigMap: the same harms, by key.
    PastOsm {
        field: "data.envoy_log_level",
        harm: "OSM v0.8 passes it as Envoy's --log-level to every new sidecar: Envoy refuses a level it does \
               not know (case-sensitive) and the sidecar does not start",
    },
    PastOsm {
        field: "data.tracing_address",
        harm: "Envoy resolves the collector's cluster address as a DNS name or IP (the rule takes a host as \
               Kubernetes does, an IP or a lowercase DNS-1123 subdomain: stricter than DNS on upper case)",
    },
    PastOsm {
        field: "data.tracing_endpoint",
        harm: "Envoy's Zipkin tracer posts spans to this URL path",
    },
    PastOsm {
        field: "data.inbound_extauthz_address",
        harm: "an enabled ext_authz filter dials address:port: Envoy rejects the inbound listener when the \
               host is missing or is neither a DNS name nor an IP",
    },
    PastOsm {
        field: "data.inbound_extauthz_port",
        harm: "an enabled ext_authz filter dials address:port: Envoy rejects the inbound listener without a port",
    },
    PastOsm {
        field: "data.inbound_extauthz_timeout",
        harm: "Envoy rejects a negative gRPC timeout",
    },
];

/// The table in docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::from("| field | where the harm happens |\n|---|---|\n");
    for e in PAST_OSM {
        out.push_str(&format!("| `{}` | {} |\n", e.field, e.harm));
    }
    out
}

/// The entry covering an error on `path`, if any.
pub fn covering(path: &str) -> Option<&'static PastOsm> {
    PAST_OSM.iter().find(|e| e.covers(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Node, Release, Schema};

    #[test]
    fn the_readme_table_is_generated_from_this_one() {
        let readme = include_str!("../../docs/rules.md");
        let table = markdown();
        assert!(
            readme.contains(&table),
            "docs/rules.md's table of harm past OSM is stale; replace it with:\n{table}"
        );
    }

    #[test]
    fn covers_the_field_and_below_it_only() {
        let e = covering("spec.sidecar.resources.limits.cpu").expect("covered");
        assert_eq!(e.field, "spec.sidecar.resources");
        assert!(covering("spec.sidecar.envoyImage").is_some());
        assert!(covering("spec.certificate.ingressGateway.subjectAltNames[0]").is_some());
        assert!(covering("spec.sidecar.envoyImageX").is_none());
        assert!(covering("spec.traffic.outboundPortExclusionList").is_none());
    }

    /// Every entry names a field some release's schema has (a renamed field cannot linger).
    #[test]
    fn every_entry_names_a_schema_field() {
        fn has(node: &Node, path: &str) -> bool {
            let (head, rest) = path.split_once('.').unwrap_or((path, ""));
            node.prop(head).is_some_and(|child| rest.is_empty() || has(child, rest))
        }
        for e in PAST_OSM {
            if let Some(key) = e.field.strip_prefix("data.") {
                assert!(
                    crate::schema::configmap::key(key).is_some(),
                    "{} names no osm-config key",
                    e.field
                );
                continue;
            }
            let path = e.field.strip_prefix("spec.").expect("a spec or data path");
            let known = Release::ALL.iter().any(|&r| {
                r.api_versions()
                    .iter()
                    .filter_map(|&v| Schema::get(r, v))
                    .any(|s| has(&s.spec, path))
            });
            assert!(known, "{} names no field of any release", e.field);
        }
    }
}
