//! The webhook's semantic rules as a ValidatingAdmissionPolicy: CEL generated from the schema
//! table (`schema::meshconfig`) and the per-kind rules (`rules`, beside `validate::semantic`),
//! evaluated inside the apiserver. What CEL cannot say the same way is in `differences`.
//!
//! The CRD's own constraints need no policy: the apiserver checks them before admission.

mod cel;
pub mod differences;
mod rules;

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use crate::schema::{FIELDS, GROUP, Release, SchemaId};
use rules::{Env, Ratchet};

/// A Kubernetes minor version the policy targets (1.30 or later: VAP v1 is GA from 1.30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub minor: u32,
}

impl KubeVersion {
    pub const MIN: KubeVersion = KubeVersion { minor: 30 };

    /// A library the apiserver introduced in 1.N is offered to *new* expressions from 1.N+1
    /// (the CEL environment follows the compatibility version, one minor behind): the IP/CIDR
    /// library came in 1.30, so policies may use it from 1.31.
    pub fn has_ip_cidr(self) -> bool {
        self.minor >= 31
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

impl FromStr for KubeVersion {
    type Err = String;

    /// `1.31`, `v1.31` or `1.31.2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let minor = match (parts.next(), parts.next().map(str::parse::<u32>)) {
            (Some("1"), Some(Ok(minor))) => minor,
            _ => return Err(format!("invalid Kubernetes version {s:?}: expected 1.MINOR, e.g. 1.31")),
        };
        if parts.next().is_some_and(|p| p.parse::<u32>().is_err()) {
            return Err(format!("invalid Kubernetes version {s:?}: expected 1.MINOR, e.g. 1.31"));
        }
        let v = KubeVersion { minor };
        if v < Self::MIN {
            return Err(format!(
                "Kubernetes {v} has no admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy: it is GA from {}",
                Self::MIN
            ));
        }
        Ok(v)
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub release: Release,
    pub kube: KubeVersion,
    pub mesh_namespace: String,
}

/// One validation of the policy.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The field the rule reads (`spec.…`).
    pub path: String,
    pub expression: String,
    pub message_expression: String,
}

/// The policy's name for a release line (also the binding's).
pub fn policy_name(release: Release) -> String {
    format!("meshconfig-osm-{release}")
}

/// Rows of the release's storage-version schema with a denying rule, sorted by field path like
/// the webhook's errors, and the policy's variables (name, expression).
///
/// The policy matches the storage version alone (`matchPolicy: Equivalent` converts requests in
/// the other served versions to it): kube-controller-manager type-checks each expression against
/// every listed version's schema, and a field that one version lacks is a type error there.
pub fn validations(release: Release, kube: KubeVersion) -> (Vec<(String, String)>, Vec<Validation>) {
    let mask = SchemaId {
        release,
        version: release.storage_version(),
    }
    .bit();
    let has_field = |path: &str| FIELDS.iter().any(|f| f.path == path && f.schemas & mask != 0);
    let env = Env {
        ip_cidr: kube.has_ip_cidr(),
        release,
    };
    let mut variables = Vec::new();
    let mut out = Vec::new();
    let mut rows: Vec<_> = FIELDS
        .iter()
        .filter(|f| f.schemas & mask != 0 && !f.path.ends_with("[]"))
        .collect();
    rows.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    for f in rows {
        let segments: Vec<&str> = std::iter::once("spec").chain(f.path.split('.')).collect();
        let var = segments[1..].join("_");
        let path = segments.join(".");
        let mut ctx = rules::Ctx {
            env,
            path: &path,
            var: &var,
            variables: Vec::new(),
        };
        let complete = rules::reads(f.kind)
            .iter()
            .all(|child| has_field(&format!("{}.{child}", f.path)));
        let checks = if complete {
            rules::checks(f.kind, &mut ctx)
        } else {
            Vec::new()
        };
        if checks.is_empty() {
            continue;
        }
        // The value as a plain selection, read only once `present` holds: the apiserver (1.37)
        // evaluates duration() and indexOf() on the `.value()` of an optional kept in a variable
        // as "no such overload", so optionals stay inline.
        variables.push((var.clone(), format!("object.{}", segments.join("."))));
        variables.append(&mut ctx.variables);
        let present = format!("{}.hasValue()", optional_path("object", &segments));
        for (index, c) in checks.into_iter().enumerate() {
            let ratchet = match rules::ratchet(f.kind, index) {
                Ratchet::Own => format!(
                    "{} == {}",
                    optional_path("oldObject", &segments),
                    optional_path("object", &segments)
                ),
                Ratchet::Children(keys) => keys
                    .iter()
                    .map(|k| {
                        let child: Vec<&str> = segments.iter().copied().chain(std::iter::once(*k)).collect();
                        format!(
                            "{} == {}",
                            optional_path("oldObject", &child),
                            optional_path("object", &child)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" && "),
            };

            out.push(Validation {
                path: path.clone(),
                // Absent values have nothing to check; on UPDATE an unchanged value is not
                // checked again (ratcheting, as the webhook does).
                expression: format!("!{present} || (oldObject != null && {ratchet}) || ({})", c.condition),
                message_expression: c.message,
            });
        }
    }
    (variables, out)
}

/// `root.?a.?b`: an optional that is empty when any segment is missing.
fn optional_path(root: &str, segments: &[&str]) -> String {
    let mut s = root.to_owned();
    for seg in segments {
        s.push_str(".?");
        s.push_str(seg);
    }
    s
}

/// The ValidatingAdmissionPolicy and its binding.
pub fn documents(o: &Options) -> [Value; 2] {
    let name = policy_name(o.release);
    let (variables, validations) = validations(o.release, o.kube);
    let variables: Vec<Value> = variables
        .into_iter()
        .map(|(name, expression)| json!({"name": name, "expression": expression}))
        .collect();
    let validations: Vec<Value> = validations
        .into_iter()
        .map(|v| {
            json!({
                "expression": v.expression,
                "messageExpression": v.message_expression,
                "reason": "Invalid",
            })
        })
        .collect();
    let labels = json!({
        "app.kubernetes.io/name": "meshconfig-webhook",
        "meshconfig-webhook/osm-release": o.release.as_str(),
        "meshconfig-webhook/kubernetes-version": o.kube.to_string(),
    });
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "matchPolicy": "Equivalent",
                "resourceRules": [{
                    "apiGroups": [GROUP],
                    // One version, not "*": kube-controller-manager type-checks only listed
                    // versions (see `validations`).
                    "apiVersions": [o.release.storage_version().as_str()],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["meshconfigs"],
                }],
            },
            "variables": variables,
            "validations": validations,
        },
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": o.mesh_namespace},
                },
            },
        },
    });
    [policy, binding]
}

/// Both documents as multi-document YAML.
pub fn to_yaml(o: &Options) -> Result<String, String> {
    let [policy, binding] = documents(o);
    let mut out = String::new();
    for doc in [policy, binding] {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&doc).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The policy alone (the chart ships one per release line and target, and renders the binding
/// for the values' mesh namespace).
pub fn policy_yaml(release: Release, kube: KubeVersion) -> Result<String, String> {
    let [policy, _] = documents(&Options {
        release,
        kube,
        mesh_namespace: String::new(),
    });
    serde_saphyr::to_string(&policy)
        .map(|y| format!("---\n{y}"))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The balanced argument of each call `name(` in `text` (not preceded by an identifier
    /// character, so `isQuantity(` is not a `quantity(` call).
    fn calls<'t>(text: &'t str, name: &str) -> Vec<(usize, &'t str)> {
        let pat = format!("{name}(");
        let mut out = Vec::new();
        for (at, _) in text.match_indices(&pat) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let start = at + pat.len();
            let mut depth = 1;
            let mut end = start;
            for (i, c) in text[start..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = start + i;
                    break;
                }
            }
            out.push((at, &text[start..end]));
        }
        out
    }

    fn all_cel(release: Release, kube: KubeVersion) -> Vec<String> {
        let (variables, validations) = validations(release, kube);
        variables
            .into_iter()
            .map(|(_, e)| e)
            .chain(
                validations
                    .into_iter()
                    .flat_map(|v| [v.expression, v.message_expression]),
            )
            .collect()
    }

    #[test]
    fn every_conversion_is_guarded() {
        for release in Release::ALL {
            for kube in [KubeVersion { minor: 30 }, KubeVersion { minor: 31 }] {
                let (variables, validations) = validations(release, kube);
                let cel: Vec<String> = validations
                    .iter()
                    .flat_map(|v| [v.expression.clone(), v.message_expression.clone()])
                    .chain(variables.iter().map(|(_, e)| e.clone()))
                    .collect();
                let mut conversions = 0;
                for text in &cel {
                    for (at, arg) in calls(text, "quantity") {
                        conversions += 1;
                        assert!(
                            text[..at].contains(&format!("isQuantity({arg})")),
                            "unguarded quantity({arg}) in {text}"
                        );
                    }
                    for (at, arg) in calls(text, "cidr") {
                        conversions += 1;
                        assert!(
                            text[..at].contains(&format!("isCIDR({arg})")),
                            "unguarded cidr({arg}) in {text}"
                        );
                    }
                    for (at, arg) in calls(text, "duration") {
                        if arg.starts_with('\'') {
                            continue; // a literal, checked when the policy is created
                        }
                        conversions += 1;
                        let guard = format!("{arg}_parses && ");
                        assert!(text[..at].contains(&guard), "unguarded duration({arg}) in {text}");
                        // The guard is the Go grammar and the overflow bound.
                        let parses = variables
                            .iter()
                            .find(|(n, _)| format!("variables.{n}") == format!("{arg}_parses"));
                        assert!(
                            parses.is_some_and(|(_, e)| e.contains(".matches(") && e.contains(".sum() < 9.2e18")),
                            "{arg}"
                        );
                    }
                }
                assert!(conversions > 0, "{release}");
            }
        }
    }

    #[test]
    fn the_ip_library_is_used_from_1_31_only() {
        for release in Release::ALL {
            let old = all_cel(release, KubeVersion { minor: 30 }).join("\n");
            for f in ["isCIDR(", "cidr(", "isIP(", "ip("] {
                assert!(
                    calls(&old, f.trim_end_matches('(')).is_empty(),
                    "{f} on 1.30 for {release}"
                );
            }
            let new = all_cel(release, KubeVersion { minor: 31 }).join("\n");
            assert!(new.contains("isCIDR("), "{release}");
        }
    }

    #[test]
    fn validations_are_ordered_by_field_path_like_the_webhooks_errors() {
        let (_, v) = validations(Release::V1_2, KubeVersion::MIN);
        let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(paths, sorted);
        assert!(paths.contains(&"spec.sidecar.resources"));
        assert!(paths.contains(&"spec.traffic.networkInterfaceExclusionList"));
        // v0.9 has no v1alpha2 fields.
        let (_, v) = validations(Release::V0_9, KubeVersion::MIN);
        assert!(!v.iter().any(|v| v.path.contains("networkInterfaceExclusionList")));
    }

    #[test]
    fn kubernetes_versions_parse_and_start_at_1_30() {
        assert_eq!("1.31".parse::<KubeVersion>(), Ok(KubeVersion { minor: 31 }));
        assert_eq!("v1.30.2".parse::<KubeVersion>(), Ok(KubeVersion { minor: 30 }));
        assert!("1.29".parse::<KubeVersion>().unwrap_err().contains("GA from 1.30"));
        assert!("2.0".parse::<KubeVersion>().is_err());
        assert!("1.x".parse::<KubeVersion>().is_err());
    }
}
