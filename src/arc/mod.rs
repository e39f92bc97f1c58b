//! Azure Arc's OSM extension: the `--configuration-settings` of each extension version, as data,
//! and the check of a settings file against them (`arc-settings` subcommand).
//!
//! `az k8s-extension create --configuration-settings-file` sends a flat map of strings; the
//! cluster agent installs the `osm-arc` wrapper chart with them, so `osm.<root>.<path>` lands at
//! the bundled OSM chart's `.Values.<root>.<path>`, typed as `helm --set` types it, and Helm checks
//! the result against OSM's `values.schema.json` (draft-07). Some values then seed the MeshConfig
//! (v0.9+) or render into the `osm-config` ConfigMap (v0.8). `values` holds the chart values per
//! version, `feeds` which value feeds which MeshConfig field or ConfigMap key, `draft7` the JSON
//! Schema generated from `values`, and `check` the check itself.

mod check;
mod draft7;
mod feeds;
mod suggest;
mod values;

pub use check::{InputError, Parsed, Report, check_settings, parse_settings, typed_value};
pub use draft7::values_schema;
pub use feeds::{FEEDS, Feed, Target};
pub use values::VALUES;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use crate::schema::{JsonType, Release};

/// The namespace Arc installs OSM into.
pub const ARC_NAMESPACE: &str = "arc-osm-system";

/// An `osm-arc` extension version Arc shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExtensionVersion {
    V0_8_4,
    V0_9_2,
    V0_11_1,
    V1_0_0_1,
    V1_1_1_1,
    V1_2_3,
    V1_2_6,
}

impl ExtensionVersion {
    pub const ALL: [Self; 7] = [
        Self::V0_8_4,
        Self::V0_9_2,
        Self::V0_11_1,
        Self::V1_0_0_1,
        Self::V1_1_1_1,
        Self::V1_2_3,
        Self::V1_2_6,
    ];
    pub const LATEST: Self = Self::V1_2_6;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_8_4 => "0.8.4",
            Self::V0_9_2 => "0.9.2",
            Self::V0_11_1 => "0.11.1",
            Self::V1_0_0_1 => "1.0.0-1",
            Self::V1_1_1_1 => "1.1.1-1",
            Self::V1_2_3 => "1.2.3",
            Self::V1_2_6 => "1.2.6",
        }
    }

    /// This version's bit in the tables' version masks.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The OSM chart's root key: v1.0.0 renamed `OpenServiceMesh` to `osm`.
    pub fn root_key(self) -> &'static str {
        if self < Self::V1_0_0_1 {
            "OpenServiceMesh"
        } else {
            "osm"
        }
    }

    /// What every mesh setting of this version starts with.
    pub fn prefix(self) -> String {
        format!("osm.{}.", self.root_key())
    }

    /// The OSM release bundled.
    pub fn osm_tag(self) -> &'static str {
        match self {
            Self::V0_8_4 => "v0.8.4",
            Self::V0_9_2 => "v0.9.2",
            Self::V0_11_1 => "v0.11.1",
            Self::V1_0_0_1 => "v1.0.0",
            Self::V1_1_1_1 => "v1.1.1",
            Self::V1_2_3 => "v1.2.3",
            Self::V1_2_6 => "v1.2.6",
        }
    }

    /// The MeshConfig schema the preset is validated with; `None` for v0.8 (the `osm-config`
    /// ConfigMap).
    pub fn meshconfig_release(self) -> Option<Release> {
        match self {
            Self::V0_8_4 => None,
            Self::V0_9_2 => Some(Release::V0_9),
            Self::V0_11_1 => Some(Release::V0_11),
            Self::V1_0_0_1 => Some(Release::V1_0),
            Self::V1_1_1_1 => Some(Release::V1_1),
            Self::V1_2_3 | Self::V1_2_6 => Some(Release::V1_2),
        }
    }
}

impl fmt::Display for ExtensionVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExtensionVersion {
    type Err = String;

    /// Accepts the version as Arc spells it, with or without a leading `v`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        Self::ALL.into_iter().find(|v| v.as_str() == t).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
            format!(
                "unknown Arc OSM extension version {s:?}: known versions are {}",
                known.join(", ")
            )
        })
    }
}

/// One row of `VALUES`.
#[derive(Debug)]
pub struct ValueDef {
    /// Path under the chart root; `$` is the root key, `name[]` the item of list `name`.
    pub path: &'static str,
    pub ty: JsonType,
    /// Extension versions that have the value.
    pub versions: u8,
    /// Versions whose parent object lists the value as required.
    pub required_in: u8,
    /// Versions where this object has `additionalProperties: false`.
    pub closed_in: u8,
    pub enum_values: &'static [&'static str],
    pub pattern: Option<&'static str>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    /// Defaults as JSON text, by the versions that have them.
    pub defaults: &'static [(u8, &'static str)],
}

impl ValueDef {
    pub(crate) const fn new(path: &'static str, ty: JsonType, versions: u8) -> Self {
        Self {
            path,
            ty,
            versions,
            required_in: 0,
            closed_in: 0,
            enum_values: &[],
            pattern: None,
            minimum: None,
            maximum: None,
            defaults: &[],
        }
    }
    pub(crate) const fn required(mut self, in_versions: u8) -> Self {
        self.required_in = in_versions;
        self
    }
    pub(crate) const fn closed(mut self, in_versions: u8) -> Self {
        self.closed_in = in_versions;
        self
    }
    pub(crate) const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.enum_values = values;
        self
    }
    pub(crate) const fn pattern(mut self, p: &'static str) -> Self {
        self.pattern = Some(p);
        self
    }
    pub(crate) const fn range(mut self, min: i64, max: i64) -> Self {
        self.minimum = Some(min);
        self.maximum = Some(max);
        self
    }
    pub(crate) const fn defaults(mut self, d: &'static [(u8, &'static str)]) -> Self {
        self.defaults = d;
        self
    }

    pub fn default_in(&self, v: ExtensionVersion) -> Option<&'static str> {
        self.defaults.iter().find(|(m, _)| m & v.bit() != 0).map(|(_, d)| *d)
    }
}

/// The rows of one version, by path.
pub fn rows(v: ExtensionVersion) -> &'static HashMap<&'static str, &'static ValueDef> {
    static BY_VERSION: LazyLock<Vec<HashMap<&'static str, &'static ValueDef>>> = LazyLock::new(|| {
        ExtensionVersion::ALL
            .iter()
            .map(|v| {
                VALUES
                    .iter()
                    .filter(|d| d.versions & v.bit() != 0)
                    .map(|d| (d.path, d))
                    .collect()
            })
            .collect()
    });
    &BY_VERSION[v as usize]
}

/// The setting key of a table path (`$.tracing.port` → `osm.osm.tracing.port`).
pub fn setting_key(v: ExtensionVersion, path: &str) -> String {
    match path.strip_prefix('$') {
        Some(rest) => format!("osm.{}{rest}", v.root_key()),
        None => format!("osm.{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_one_row_per_path() {
        for v in ExtensionVersion::ALL {
            let n = VALUES.iter().filter(|d| d.versions & v.bit() != 0).count();
            assert_eq!(rows(v).len(), n, "{v}: a path has two rows");
            assert!(rows(v).contains_key("$.envoyLogLevel"), "{v}");
        }
    }

    #[test]
    fn defaults_parse_and_match_their_type() {
        for d in VALUES {
            for (mask, text) in d.defaults {
                assert_eq!(
                    mask & !d.versions,
                    0,
                    "{}: default for a version without the row",
                    d.path
                );
                let value: serde_json::Value = serde_json::from_str(text).expect(d.path);
                let ok = match d.ty {
                    JsonType::Boolean => value.is_boolean(),
                    JsonType::Integer => value.is_i64(),
                    JsonType::String => value.is_string(),
                    JsonType::Array => value.is_array(),
                    JsonType::Object | JsonType::Map => value.is_object(),
                };
                assert!(ok, "{}: default {text} is not of type {:?}", d.path, d.ty);
            }
        }
    }

    #[test]
    fn versions_parse_and_name_their_prefix() {
        assert_eq!("1.2.6".parse(), Ok(ExtensionVersion::V1_2_6));
        assert_eq!("v0.8.4".parse(), Ok(ExtensionVersion::V0_8_4));
        assert!("1.0.0".parse::<ExtensionVersion>().is_err());
        assert_eq!(ExtensionVersion::V0_11_1.prefix(), "osm.OpenServiceMesh.");
        assert_eq!(ExtensionVersion::V1_0_0_1.prefix(), "osm.osm.");
        assert_eq!(
            setting_key(ExtensionVersion::V1_2_6, "$.tracing.port"),
            "osm.osm.tracing.port"
        );
        assert_eq!(
            setting_key(ExtensionVersion::V1_2_6, "contour.enabled"),
            "osm.contour.enabled"
        );
    }
}
