//! Where the policy and the webhook differ, in one place. The webhook-vs-policy table of
//! `docs/policy.md` is rendered from it ([`markdown`]); `tests/policy_e2e.rs` treats rows with
//! `verdict: true` as the only allowed disagreements of verdict.

/// One known difference.
#[derive(Debug)]
pub struct Difference {
    pub rule: &'static str,
    pub webhook: &'static str,
    pub policy: &'static str,
    /// Whether the allow/deny verdict can differ (else only the words do).
    pub verdict: bool,
}

pub static DIFFERENCES: &[Difference] = &[
    Difference {
        rule: "several bad values",
        webhook: "every error, sorted by field path",
        policy: "the first failing validation only (a ValidatingAdmissionPolicy reports one); validations are ordered by field path",
        verdict: false,
    },
    Difference {
        rule: "denial",
        webhook: "`The MeshConfig \"osm-mesh-config\" is invalid: <error>`, one `Status` cause per field",
        policy: "`ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied request: <error>`, one cause without `field` (a policy validation has no field path; the field is the message's first part)",
        verdict: false,
    },
    Difference {
        rule: "warnings (values OSM ignores: OSM log levels it refuses, resync intervals it cannot parse or that are below the tick floor, a negative connection limit, multicluster mode; and host bits, duplicate ports, interface names and TLS or DNS names, interface names no interface can have, short certificates, TLS 1.0/1.1, v1alpha1, unknown fields, object name)",
        webhook: "returned as `Warning:`",
        policy: "none",
        verdict: false,
    },
    Difference {
        rule: "ratcheting",
        webhook: "an unchanged invalid value becomes a warning (`unchanged invalid value kept: …`)",
        policy: "the validation is skipped silently",
        verdict: false,
    },
    Difference {
        rule: "quoting of bad values",
        webhook: "Go's `strconv.Quote` (non-printable and invalid characters escaped)",
        policy: "CEL's `strings.quote` (only `\\a \\b \\f \\n \\r \\t \\v`, `\\\\` and `\\\"` escaped)",
        verdict: false,
    },
    Difference {
        rule: "durations",
        webhook: "Go's `time.ParseDuration`; its error escapes non-ASCII bytes as `\\xNN`",
        policy: "the same grammar and errors in CEL; non-ASCII shown as is; values within 0.2 % of Go's limit (±2^63 ns, about 292 years) are denied as `time: invalid duration`, and an element that overflows before one with an unknown unit is reported as the unknown unit",
        verdict: true,
    },
    Difference {
        rule: "image references",
        webhook: "distribution/reference; upper case found with Go's Unicode `strings.ToLower` (`repository name must be lowercase`); repository paths over 255 characters denied",
        policy: "the same grammar as an anchored regular expression (ASCII): upper case is `invalid reference format`; the 255-character path limit is not checked",
        verdict: true,
    },
    Difference {
        rule: "hosts (tracing, ext-authz address)",
        webhook: "`netutils.ParseIPSloppy` or a DNS-1123 subdomain",
        policy: "IPv4 with leading zeros and RFC 4291 IPv6 text forms as regular expressions: exotic IPv6 forms Go's parser reads may differ",
        verdict: true,
    },
    Difference {
        rule: "IP range lists on Kubernetes 1.30",
        webhook: "IPv6 CIDRs: `must be an IPv4 CIDR (OSM's iptables rules are IPv4-only)`",
        policy: "no IP/CIDR library for new policies before 1.31: a regular expression of strict IPv4 CIDRs, and IPv6 gets the generic CIDR message; from 1.31 `isCIDR`/`cidr()`, where IPv4-mapped IPv6 gets the generic message",
        verdict: false,
    },
    Difference {
        rule: "sidecar resources",
        webhook: "every name error; quantity errors as `resource.ParseQuantity` words them; limits printed canonically (`1000m` as `1`)",
        policy: "one name detail; `unable to parse numeric part of quantity` is reported as the suffix or format error; limits printed as written; whole numbers of extended resources checked with `isInteger()` (values beyond int64 differ)",
        verdict: true,
    },
    Difference {
        rule: "more than 15 ports in a port exclusion list",
        webhook: "counts distinct ports (OSM merges repeats before it writes the multiport rule)",
        policy: "counts items: a list of more than 15 items with repeats, but at most 15 distinct ports, is denied",
        verdict: true,
    },
    Difference {
        rule: "OSM v0.8 `osm-config` ConfigMap",
        webhook: "validated",
        policy: "not covered: the policy matches MeshConfig only",
        verdict: true,
    },
    Difference {
        rule: "deleting `osm-mesh-config` (`webhook.protectDelete`)",
        webhook: "can be denied",
        policy: "not covered",
        verdict: true,
    },
];

/// The table in `docs/policy.md`.
pub fn markdown() -> String {
    let mut out = String::from("| rule | webhook | policy | verdict can differ |\n|---|---|---|---|\n");
    for d in DIFFERENCES {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            d.rule,
            d.webhook,
            d.policy,
            if d.verdict { "yes" } else { "no" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_table_is_generated_from_this_one() {
        let doc = include_str!("../../docs/policy.md");
        let table = markdown();
        assert!(
            doc.contains(&table),
            "docs/policy.md's webhook-vs-policy table is stale; replace it with:\n{table}"
        );
    }
}
