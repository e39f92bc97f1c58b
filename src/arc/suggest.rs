//! "Did you mean …?" for an unknown setting key: a near spelling of a known key, or the key that
//! sets what the unknown one is named after (`osm.osm.sidecarLogLevel` for the MeshConfig's
//! `sidecar.logLevel`, which `osm.osm.envoyLogLevel` sets).

use super::{ExtensionVersion, FEEDS, Target, rows, setting_key};
use crate::schema::JsonType;
use crate::schema::configmap::CONFIGMAP_NAME;
use crate::validate::{self, suggest::osa_distance};

/// The closest setting key of `v` to `key`, if close enough to be a typo.
pub(super) fn near_key(v: ExtensionVersion, key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    let last = key.rsplit('.').next().unwrap_or(key);
    let limit = (last.len() / 3).max(2);
    let mut best: Option<(usize, String)> = None;
    for d in rows(v).values() {
        if d.path.ends_with("[]") || d.ty == JsonType::Object {
            continue;
        }
        let candidate = setting_key(v, d.path);
        // The distance is at least the difference in length; skip what cannot be close.
        if lower.len().abs_diff(candidate.len()) > limit {
            continue;
        }
        let dist = osa_distance(lower.as_bytes(), candidate.to_ascii_lowercase().as_bytes());
        if dist <= limit
            && best
                .as_ref()
                .is_none_or(|(b, c)| dist < *b || (dist == *b && candidate < *c))
        {
            best = Some((dist, candidate));
        }
    }
    best.map(|(_, k)| k)
}

/// The setting of `v` that feeds the MeshConfig field or `osm-config` key that `tail` (the key
/// after `osm.<root>.`) spells run together, give or take a typo, with what it sets:
/// `("osm.osm.envoyLogLevel", "the MeshConfig's sidecar.logLevel")`.
pub(super) fn by_target(v: ExtensionVersion, tail: &str) -> Option<(String, String)> {
    // Compared without separators: `sidecarLogLevel`, `sidecar.logLevel`, `envoy_log_level`.
    let flat = |s: &str| -> String { s.chars().filter(|c| !matches!(c, '.' | '_' | '-')).collect() };
    let feeds: Vec<_> = FEEDS.iter().filter(|f| f.versions & v.bit() != 0).collect();
    let targets: Vec<String> = feeds
        .iter()
        .map(|f| match f.target {
            Target::MeshConfig(field) | Target::OsmConfig(field) => flat(field),
        })
        .collect();
    let wanted = flat(tail);
    let best = validate::closest(&wanted, targets.iter().map(String::as_str))?;
    let feed = targets.iter().position(|t| t == best).and_then(|i| feeds.get(i))?;
    let sets = match feed.target {
        Target::MeshConfig(field) => format!("the MeshConfig's {field}"),
        Target::OsmConfig(key) => format!("the {CONFIGMAP_NAME} ConfigMap's {key}"),
    };
    Some((setting_key(v, feed.value), sets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_named_after_what_they_set_find_their_setting() {
        let v = ExtensionVersion::V1_2_6;
        assert_eq!(
            by_target(v, "sidecarLogLevel"),
            Some((
                "osm.osm.envoyLogLevel".into(),
                "the MeshConfig's sidecar.logLevel".into()
            ))
        );
        assert_eq!(
            by_target(v, "sidecar.logLevel").map(|(k, _)| k).as_deref(),
            Some("osm.osm.envoyLogLevel")
        );
        assert_eq!(
            by_target(ExtensionVersion::V0_8_4, "envoy_log_level")
                .map(|(k, _)| k)
                .as_deref(),
            Some("osm.OpenServiceMesh.envoyLogLevel")
        );
        assert_eq!(by_target(v, "prometheusScraping"), None);
    }
}
