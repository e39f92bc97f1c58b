//! The schema of every supported OSM release line and API version, as data.
//!
//! One table (`meshconfig::FIELDS`) lists every MeshConfig spec field once, with the schemas
//! (release × API version) that have it, its CRD constraints per schema and our semantic kind.
//! [`Schema::get`] turns that table into a tree per schema, built once and shared.

pub mod configmap;
mod enums;
mod json_schema;
pub mod meshconfig;

pub use enums::{EnumMember, yaml11_bool};
pub use meshconfig::{FIELDS, FieldDef};

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde_json::Value;

pub const GROUP: &str = "config.openservicemesh.io";
pub const KIND: &str = "MeshConfig";
/// The group's other kinds (OSM main's MeshRootCertificate): not validated here, and not typos.
pub const OTHER_KINDS: &[&str] = &["MeshRootCertificate"];
/// The only MeshConfig OSM reads (`--osm-config-name` default).
pub const MESH_CONFIG_NAME: &str = "osm-mesh-config";

/// An OSM release line; each is modelled by its latest patch release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    V0_9,
    V0_10,
    V0_11,
    V1_0,
    V1_1,
    V1_2,
}

impl Release {
    pub const ALL: [Release; 6] = [Self::V0_9, Self::V0_10, Self::V0_11, Self::V1_0, Self::V1_1, Self::V1_2];
    pub const LATEST: Release = Self::V1_2;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_9 => "0.9",
            Self::V0_10 => "0.10",
            Self::V0_11 => "0.11",
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
        }
    }

    /// The patch release whose CRD this line's schema reproduces.
    pub fn modelled_tag(self) -> &'static str {
        match self {
            Self::V0_9 => "v0.9.2",
            Self::V0_10 => "v0.10.0",
            Self::V0_11 => "v0.11.1",
            Self::V1_0 => "v1.0.0",
            Self::V1_1 => "v1.1.4",
            Self::V1_2 => "v1.2.4",
        }
    }

    /// API versions the release's CRD serves, storage version first.
    pub fn api_versions(self) -> &'static [ApiVersion] {
        match self {
            Self::V0_9 | Self::V0_10 | Self::V0_11 | Self::V1_0 => &[ApiVersion::V1alpha1],
            Self::V1_1 => &[ApiVersion::V1alpha2, ApiVersion::V1alpha1],
            // v1alpha3 existed only at the tag pre-rel-v1.2.
            Self::V1_2 => &[ApiVersion::V1alpha2, ApiVersion::V1alpha1, ApiVersion::V1alpha3],
        }
    }

    pub fn storage_version(self) -> ApiVersion {
        self.api_versions()[0]
    }

    /// Below this interval OSM's resync ticker does not run (`pkg/ticker`): 1m up to v0.10, then 30s.
    pub fn resync_floor_ns(self) -> i64 {
        if self <= Self::V0_10 {
            RESYNC_FLOOR_TO_0_10_NS
        } else {
            RESYNC_FLOOR_FROM_0_11_NS
        }
    }
}

/// OSM's resync ticker floor up to v0.10, v0.8's `osm-config` included.
pub const RESYNC_FLOOR_TO_0_10_NS: i64 = 60_000_000_000;
/// OSM's resync ticker floor from v0.11.
pub const RESYNC_FLOOR_FROM_0_11_NS: i64 = 30_000_000_000;

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Release {
    type Err = String;

    /// Accepts `1.2`, `v1.2`, `1.2.4`, `v1.2.4` (any patch of a supported line).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let line = match (parts.next(), parts.next()) {
            (Some(major), Some(minor)) => format!("{major}.{minor}"),
            _ => String::new(),
        };
        let patch_ok = parts
            .next()
            .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == line && patch_ok)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unsupported OSM release {s:?}: supported release lines are {}",
                    known.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    V1alpha1,
    V1alpha2,
    V1alpha3,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1alpha1 => "v1alpha1",
            Self::V1alpha2 => "v1alpha2",
            Self::V1alpha3 => "v1alpha3",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "v1alpha1" => Some(Self::V1alpha1),
            "v1alpha2" => Some(Self::V1alpha2),
            "v1alpha3" => Some(Self::V1alpha3),
            _ => None,
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One schema: a release line's CRD at one API version. Also the bit used in [`FieldDef::schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId {
    pub release: Release,
    pub version: ApiVersion,
}

impl SchemaId {
    /// Every schema we carry, in table order (the bit order of [`FieldDef::schemas`]).
    pub const ALL: [SchemaId; 9] = [
        SchemaId {
            release: Release::V0_9,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V0_10,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V0_11,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V1_0,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V1_1,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V1_1,
            version: ApiVersion::V1alpha2,
        },
        SchemaId {
            release: Release::V1_2,
            version: ApiVersion::V1alpha1,
        },
        SchemaId {
            release: Release::V1_2,
            version: ApiVersion::V1alpha2,
        },
        SchemaId {
            release: Release::V1_2,
            version: ApiVersion::V1alpha3,
        },
    ];

    pub fn bit(self) -> u16 {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        1 << i
    }

    /// The CRD's `deprecationWarning`, which the apiserver returns for requests through this version.
    pub fn deprecation_warning(self) -> Option<&'static str> {
        (self.version == ApiVersion::V1alpha1 && self.release >= Release::V1_1).then_some(
            "config.openservicemesh.io/v1alpha1 MeshConfig is deprecated; use config.openservicemesh.io/v1alpha2 MeshConfig",
        )
    }
}

/// JSON type of a schema node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Object,
    /// `type: object` with `additionalProperties: true`: any keys, any values.
    Map,
    Array,
    String,
    Integer,
    Boolean,
}

impl JsonType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Object | Self::Map => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }
}

/// What a value means to OSM at runtime: selects the semantic rule in `validate::semantic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No rule beyond the CRD's.
    Plain,
    /// `certificate.serviceCertValidityDuration`: Go duration longer than OSM's renewal lead (34s);
    /// warn < 1h.
    ServiceCertDuration,
    /// `certificate.ingressGateway.validityDuration`: Go duration longer than OSM's renewal lead.
    GatewayCertDuration,
    /// `inboundExternalAuthorization.timeout`: Go duration ≥ 0.
    ExtAuthzTimeout,
    /// `sidecar.configResyncInterval`: OSM's ticker ignores what it cannot parse or what is below
    /// its floor (warnings only).
    ResyncInterval,
    /// `observability.osmLogLevel`: zerolog level, case-insensitive; OSM ignores others (a warning).
    OsmLogLevel,
    /// A list of strict IPv4 CIDRs.
    CidrList,
    /// A list of ports (CRD bounds them): at most 15 distinct (one iptables multiport rule);
    /// duplicates warn.
    PortList,
    /// `sidecar.resources`: resource names → quantities, requests ≤ limits.
    Resources,
    /// An OCI image reference; empty means the injector's default.
    Image,
    /// A host (DNS name or IP); empty means OSM's default.
    Host,
    /// `observability.tracing.endpoint`: a URL path.
    UrlPath,
    /// `observability.tracing.port`: OSM decodes it as int16.
    TracingPort,
    /// `certificate.certKeyBitSize`: 2048..4096.
    CertKeyBitSize,
    /// `sidecar.maxDataPlaneConnections`: a negative limit means none (a warning).
    MaxConnections,
    /// Linux network interface names, as the init container's shell and iptables read them.
    InterfaceList,
    /// Subject alternative names: DNS names.
    DnsNameList,
    /// A Secret name: DNS-1123 subdomain.
    SecretName,
    /// A namespace: DNS-1123 label.
    NamespaceName,
    /// Envoy TLS parameter names (cipher suites, curves): non-empty, unique.
    TlsNameList,
    /// `sidecar`: tlsMinProtocolVersion ≤ tlsMaxProtocolVersion, max ≥ TLS 1.2.
    SidecarTls,
    /// `inboundExternalAuthorization`: when enabled, address, port and statPrefix are required.
    ExtAuthz,
    /// `featureFlags.enableMulticlusterMode`: ignored since v1.2.
    Multicluster,
}

impl Kind {
    /// The inclusive bounds of an integer kind's semantic rule (`None` for no bound on a side):
    /// the one place the rules in `validate::semantic` and the JSON Schema export read them from.
    pub fn int_bounds(self) -> Option<(Option<i64>, Option<i64>)> {
        match self {
            // OSM decodes the tracing port as int16.
            Self::TracingPort => Some((Some(0), Some(i64::from(i16::MAX)))),
            Self::CertKeyBitSize => Some((Some(2048), Some(4096))),
            _ => None,
        }
    }
}

/// A compiled schema node.
#[derive(Debug)]
pub struct Node {
    pub ty: JsonType,
    /// Object properties in CRD order.
    pub props: Vec<(&'static str, Node)>,
    pub items: Option<Box<Node>>,
    pub required: Vec<&'static str>,
    /// The CRD's enum as written (bare YAML scalars); [`Node::enum_members`] is what the
    /// apiserver holds.
    pub enum_values: &'static [&'static str],
    /// `enum_values` as YAML 1.1 loads them, resolved once when the schema is built (every
    /// review checks them).
    loaded_enum: Vec<EnumMember>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub pattern: Option<Pattern>,
    pub min_items: Option<usize>,
    pub default: Option<Value>,
    pub kind: Kind,
    pub description: &'static str,
}

impl Node {
    fn new(ty: JsonType) -> Self {
        Self {
            ty,
            props: Vec::new(),
            items: None,
            required: Vec::new(),
            enum_values: &[],
            loaded_enum: Vec::new(),
            minimum: None,
            maximum: None,
            pattern: None,
            min_items: None,
            default: None,
            kind: Kind::Plain,
            description: "",
        }
    }

    pub fn prop(&self, name: &str) -> Option<&Node> {
        self.props.iter().find(|(k, _)| *k == name).map(|(_, n)| n)
    }

    /// The enum as the apiserver holds it after loading the CRD as YAML 1.1, in CRD order.
    pub fn enum_members(&self) -> impl Iterator<Item = EnumMember> + '_ {
        self.loaded_enum.iter().copied()
    }
}

/// A CRD `pattern`, kept as written (for messages) and compiled (for matching, as a search the way
/// OpenAPI's `pattern` is: not anchored unless the pattern anchors itself).
#[derive(Debug)]
pub struct Pattern {
    pub source: &'static str,
    pub regex: regex::Regex,
}

impl Pattern {
    /// Compiles like Go's RE2 reads it: `\d`, `\w`, `\s` and `\b` are ASCII-only.
    pub fn compile(source: &'static str) -> Result<Self, regex::Error> {
        regex::RegexBuilder::new(source)
            .unicode(false)
            .build()
            .map(|regex| Self { source, regex })
    }
}

/// The root of one schema: `spec` and everything under it.
#[derive(Debug)]
pub struct Schema {
    pub id: SchemaId,
    pub spec: Node,
}

/// Every schema, in the order of [`SchemaId::ALL`] (looked up on every review: an index, no hash).
static SCHEMAS: LazyLock<Vec<Schema>> = LazyLock::new(|| SchemaId::ALL.into_iter().map(build).collect());

impl Schema {
    /// The schema of `release` at `version`, or `None` when that release does not serve it.
    pub fn get(release: Release, version: ApiVersion) -> Option<&'static Schema> {
        if !release.api_versions().contains(&version) {
            return None;
        }
        let id = SchemaId { release, version };
        SchemaId::ALL.iter().position(|s| *s == id).and_then(|i| SCHEMAS.get(i))
    }

    /// The JSON Schema (draft 2020-12) of a whole MeshConfig object under this schema, for editors.
    pub fn to_json_schema(&self) -> Value {
        json_schema::document(self)
    }
}

/// Builds the tree of one schema from the field table.
fn build(id: SchemaId) -> Schema {
    let bit = id.bit();
    let mut spec = Node::new(JsonType::Object);
    spec.description = "MeshConfig spec";
    for f in FIELDS.iter().filter(|f| f.schemas & bit != 0) {
        let mut node = Node::new(f.ty);
        node.enum_values = f.enum_values;
        node.loaded_enum = f.enum_values.iter().map(|w| EnumMember::loaded(w)).collect();
        node.minimum = f.minimum;
        node.maximum = f.maximum;
        // The table's patterns are constants compiled by a unit test; a failure is a bug.
        node.pattern = f
            .pattern
            .map(|p| Pattern::compile(p).unwrap_or_else(|e| panic!("pattern {p:?} of {}: {e}", f.path)));
        node.min_items = (f.min_items_in & bit != 0).then_some(1);
        node.default = f
            .defaults
            .iter()
            .find(|(mask, _)| mask & bit != 0)
            .map(|(_, d)| d.to_value());
        node.kind = f.kind;
        node.description = f.description;
        let (parent_path, name) = match f.path.rsplit_once('.') {
            Some((p, n)) => (Some(p), n),
            None => (None, f.path),
        };
        let (parent_path, name, is_items) = match name.strip_suffix("[]") {
            Some(n) => (parent_path, n, true),
            None => (parent_path, name, false),
        };
        let parent = match parent_path {
            None => &mut spec,
            Some(p) => node_mut(&mut spec, p).unwrap_or_else(|| panic!("parent of {} must come first", f.path)),
        };
        if is_items {
            let list = node_mut(parent, name).unwrap_or_else(|| panic!("list of {} must come first", f.path));
            list.items = Some(Box::new(node));
        } else {
            if f.required_in & bit != 0 {
                parent.required.push(name);
            }
            parent.props.push((name, node));
        }
    }
    Schema { id, spec }
}

fn node_mut<'a>(root: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    path.split('.').try_fold(root, |n, seg| {
        n.props.iter_mut().find(|(k, _)| *k == seg).map(|(_, c)| c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_builds() {
        for id in SchemaId::ALL {
            let s = Schema::get(id.release, id.version).expect("served");
            assert!(s.spec.prop("sidecar").is_some(), "{id:?}");
        }
        assert!(Schema::get(Release::V1_0, ApiVersion::V1alpha2).is_none());
    }

    #[test]
    fn releases_parse_leniently_but_strictly() {
        assert_eq!("1.2".parse::<Release>(), Ok(Release::V1_2));
        assert_eq!("v0.9.2".parse::<Release>(), Ok(Release::V0_9));
        assert_eq!("0.10".parse::<Release>(), Ok(Release::V0_10));
        assert!("1.3".parse::<Release>().is_err());
        assert!("1.2.".parse::<Release>().is_err());
        assert!("0.1".parse::<Release>().is_err());
    }

    #[test]
    fn field_presence_follows_the_matrix() {
        let has = |r, v, path: &str| {
            let s = Schema::get(r, v).expect("served");
            path.split('.').try_fold(&s.spec, |n, seg| n.prop(seg)).is_some()
        };
        use ApiVersion::*;
        use Release::*;
        assert!(has(V0_9, V1alpha1, "traffic.useHTTPSIngress"));
        assert!(!has(V1_0, V1alpha1, "traffic.useHTTPSIngress"));
        assert!(!has(V0_9, V1alpha1, "certificate.certKeyBitSize"));
        assert!(has(V1_2, V1alpha2, "traffic.networkInterfaceExclusionList"));
        assert!(!has(V1_2, V1alpha3, "traffic.networkInterfaceExclusionList"));
        assert!(has(V1_2, V1alpha3, "sidecar.localProxyMode"));
        assert!(!has(V1_2, V1alpha1, "sidecar.tlsMinProtocolVersion"));
        assert!(has(V0_10, V1alpha1, "featureFlags.enableValidatingWebhook"));
        assert!(!has(V0_11, V1alpha1, "featureFlags.enableValidatingWebhook"));
    }
}
