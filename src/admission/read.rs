//! Reading a review's bytes in one pass.
//!
//! The general path ([`super::review_whole`]) parses the whole body into one tree, takes the
//! objects out and decodes the rest into kube-rs' `AdmissionRequest`. Most of that tree is never
//! read: the old object matters only to ratchet findings, and `managedFields` (half of what the
//! apiserver sends) never. This pass reads the same bytes once:
//!
//! - the request's fields straight into kube-rs' types, as its decoder would (the same fields
//!   required, the same defaults);
//! - `request.object` into a tree, but for `metadata.managedFields`, which is checked as
//!   ObjectMeta's decoder would check it and left out;
//! - of `request.oldObject` only the head (apiVersion, kind, metadata); the rest is checked and
//!   dropped, and read again from the body only if a finding needs ratcheting.
//!
//! What it skips it still reads as a tree would (serde's `IgnoredAny` would not: serde_json skips
//! without checking escapes or numbers a tree cannot hold, and a tree reads serde_json's private
//! raw-value key specially), so it fails wherever the general path fails; on any failure the
//! caller takes the general path, which words the problem. It may be stricter than the tree,
//! never laxer: a unit test and the `review_decode` fuzz target check both paths answer alike.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube_core::ObjectMeta;
use kube_core::admission::Operation;
use kube_core::gvk::GroupVersionKind;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::Error as _};
use serde_json::{Map, Value};

/// A key serde_json's `Value` reads specially when it comes first in a map (it parses the string
/// after it as JSON). Where this pass builds its own maps, such a map goes to the general path.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The review, read in one pass: the request typed as kube-rs types it, `object` as a tree
/// (without managedFields), and the old object's head.
pub(super) struct OnePass<'a> {
    pub request: super::Request,
    pub object: Option<Value>,
    pub old: OldObject<'a>,
}

impl<'a> OnePass<'a> {
    /// `None` when the body is anything but a plain review whose objects decode: the general
    /// path then answers it.
    pub fn of(body: &'a [u8]) -> Option<Self> {
        // One UTF-8 check of the whole body is far cheaper than serde_json's check of each
        // string read from bytes; a body that fails it fails the general path too.
        let text = std::str::from_utf8(body).ok()?;
        let review = serde_json::from_str::<Review>(text).ok()?;
        let (api_version, kind) = (review.api_version?, review.kind?);
        if kind != super::REVIEW_KIND || ![super::REVIEW_V1, super::REVIEW_V1BETA1].contains(&api_version.as_str()) {
            return None;
        }
        let (mut request, object, old_head) = review.request?;
        request.types = kube_core::TypeMeta { api_version, kind };
        Some(OnePass {
            request,
            object,
            old: OldObject {
                head: old_head.map(std::borrow::Cow::Owned),
                body: Some(text),
                whole: std::cell::OnceCell::new(),
            },
        })
    }
}

/// `request.oldObject`, read only as far as the decision needs: its head (apiVersion, kind,
/// metadata) identifies it; the whole object is read only to ratchet findings on UPDATE, which
/// most updates (those with nothing to report) never need.
pub(super) struct OldObject<'a> {
    /// apiVersion, kind and metadata (or the whole object, when it was parsed whole).
    head: Option<std::borrow::Cow<'a, Value>>,
    /// The review's body, when the whole object is read from it on first use.
    body: Option<&'a str>,
    whole: std::cell::OnceCell<Option<Value>>,
}

impl<'a> OldObject<'a> {
    /// The whole object, already parsed (the general path).
    pub fn parsed(old: Option<Value>) -> Self {
        Self {
            head: old.filter(|v| !v.is_null()).map(std::borrow::Cow::Owned),
            body: None,
            whole: std::cell::OnceCell::new(),
        }
    }

    /// The whole object, borrowed from a review parsed whole.
    pub fn borrowed(old: Option<&'a Value>) -> Self {
        Self {
            head: old.filter(|v| !v.is_null()).map(std::borrow::Cow::Borrowed),
            body: None,
            whole: std::cell::OnceCell::new(),
        }
    }

    pub fn head(&self) -> Option<&Value> {
        self.head.as_deref()
    }

    /// Only `spec.<name>` for each of `names`, as `{"spec": {…}}`, read again from the body;
    /// `None` on the general path (which has the whole object), or when the stored object has no
    /// `spec` map to take sections from (the whole object answers then).
    pub fn spec_sections(&self, names: &[&str]) -> Option<Value> {
        Stored::read(self.body?, Again::SpecSections(names))
    }

    pub fn whole(&self) -> Option<&Value> {
        match self.body {
            None => self.head(),
            // The body was read once already, so this cannot fail; if it did, there is nothing
            // to ratchet against.
            Some(body) => self.whole.get_or_init(|| Stored::read(body, Again::Whole)).as_ref(),
        }
    }
}

/// The review as the one pass reads it. kube-rs' derived decoders skip unknown keys unchecked,
/// so the maps are read here, key by key, each value into the type kube-rs gives it.
struct Review {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<(super::Request, Option<Value>, Option<Value>)>,
}

impl<'de> Deserialize<'de> for Review {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ReviewVisitor)
    }
}

struct ReviewVisitor;

impl<'de> Visitor<'de> for ReviewVisitor {
    type Value = Review;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionReview")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Review, A::Error> {
        let mut review = Review {
            api_version: None,
            kind: None,
            request: None,
        };
        let mut first = true;
        while let Some(key) = a.next_key::<Key>()? {
            refuse_token(key == Key::Token, &mut first)?;
            match key {
                Key::ApiVersion => review.api_version = Some(a.next_value()?),
                Key::Kind => review.kind = Some(a.next_value()?),
                Key::Request => review.request = Some(a.next_value_seed(RequestSeed)?),
                Key::Response => {
                    // Never sent by an apiserver; kube-rs refuses a review whose response is
                    // malformed, so it is read as kube-rs reads it.
                    let v: Value = a.next_value()?;
                    Option::<kube_core::admission::AdmissionResponse>::deserialize(&v).map_err(A::Error::custom)?;
                }
                _ => {
                    a.next_value::<Checked>()?;
                }
            }
        }
        Ok(review)
    }
}

/// `request`, as kube-rs' `AdmissionRequest` decodes it (the same fields required, the same
/// defaults), its two objects read by [`ObjectSeed`] instead.
struct RequestSeed;

impl<'de> DeserializeSeed<'de> for RequestSeed {
    type Value = (super::Request, Option<Value>, Option<Value>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed {
    type Value = (super::Request, Option<Value>, Option<Value>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an admission request")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        // Kept: what a decision reads. Checked as kube-rs would decode them, not kept: the
        // resource, subresources, requestKind/requestResource, the user's uid, groups and extra,
        // options.
        let (mut uid, mut kind, mut operation, mut user) = (None, None, None, None);
        let (mut name, mut namespace, mut dry_run) = (String::new(), None, false);
        let mut resource = false;
        let (mut object, mut old) = (None, None);
        let mut first = true;
        while let Some(key) = a.next_key::<Key>()? {
            refuse_token(key == Key::Token, &mut first)?;
            match key {
                Key::Uid => uid = Some(a.next_value::<String>()?),
                Key::Kind => kind = Some(a.next_value::<Gvk>()?.0),
                Key::Resource => {
                    a.next_value::<GvrShape>()?;
                    resource = true;
                }
                Key::RequestKind => {
                    a.next_value::<Option<GvkShape>>()?;
                }
                Key::RequestResource => {
                    a.next_value::<Option<GvrShape>>()?;
                }
                Key::SubResource | Key::RequestSubResource => {
                    a.next_value::<Option<Str>>()?;
                }
                Key::Name => name = a.next_value()?,
                Key::Namespace => namespace = a.next_value()?,
                Key::Operation => operation = Some(a.next_value::<Operation>()?),
                Key::UserInfo => user = Some(a.next_value::<User>()?.0),
                Key::Object => object = a.next_value_seed(Optional(ObjectSeed::Whole))?,
                Key::OldObject => old = a.next_value_seed(Optional(ObjectSeed::Head))?,
                Key::DryRun => dry_run = a.next_value()?,
                // `options` (a RawExtension: any JSON) and keys kube-rs does not know.
                _ => {
                    a.next_value::<Checked>()?;
                }
            }
        }
        if !resource {
            return Err(A::Error::missing_field("resource"));
        }
        let missing = |field| A::Error::missing_field(field);
        let request = super::Request {
            types: kube_core::TypeMeta::default(),
            uid: uid.ok_or_else(|| missing("uid"))?,
            kind: kind.ok_or_else(|| missing("kind"))?,
            name,
            namespace,
            operation: operation.ok_or_else(|| missing("operation"))?,
            user: user.ok_or_else(|| missing("userInfo"))?,
            dry_run,
        };
        Ok((request, object, old))
    }
}

/// kube-rs' `GroupVersionKind` (three required strings), unknown keys checked.
struct Gvk(GroupVersionKind);

/// A `GroupVersionKind` checked and not kept.
struct GvkShape;

/// kube-rs' `GroupVersionResource` (three required strings and an optional `api_version`),
/// checked and not kept.
struct GvrShape;

/// k8s-openapi's `UserInfo` (all optional): the username kept, the rest checked.
struct User(Option<String>);

impl<'de> Deserialize<'de> for Gvk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [group, version, kind, _] = d.deserialize_map(Triple {
            third: Key::Kind,
            keep: true,
        })?;
        let missing = |f| D::Error::missing_field(f);
        Ok(Gvk(GroupVersionKind {
            group: group.ok_or_else(|| missing("group"))?,
            version: version.ok_or_else(|| missing("version"))?,
            kind: kind.ok_or_else(|| missing("kind"))?,
        }))
    }
}

impl<'de> Deserialize<'de> for GvkShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [group, version, kind, _] = d.deserialize_map(Triple {
            third: Key::Kind,
            keep: false,
        })?;
        required([("group", group), ("version", version), ("kind", kind)]).map(|()| GvkShape)
    }
}

impl<'de> Deserialize<'de> for GvrShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [group, version, resource, _] = d.deserialize_map(Triple {
            third: Key::Resource,
            keep: false,
        })?;
        required([("group", group), ("version", version), ("resource", resource)]).map(|()| GvrShape)
    }
}

fn required<E: de::Error>(fields: [(&'static str, Option<String>); 3]) -> Result<(), E> {
    match fields.into_iter().find(|(_, v)| v.is_none()) {
        Some((name, _)) => Err(E::missing_field(name)),
        None => Ok(()),
    }
}

/// The fields of a group/version/kind or /resource: `group`, `version`, the third one named by
/// `third`, and (for a resource) `api_version`, kube-rs' name for a field of its own. Each a
/// string; kept, or only checked (`Some` of an empty string, which does not allocate).
struct Triple {
    third: Key,
    keep: bool,
}

impl<'de> Visitor<'de> for Triple {
    type Value = [Option<String>; 4];
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a group, version and kind or resource")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut fields: [Option<String>; 4] = Default::default();
        let mut first = true;
        while let Some(key) = a.next_key::<Key>()? {
            refuse_token(key == Key::Token, &mut first)?;
            let slot = match key {
                Key::Group => 0,
                Key::Version => 1,
                k if k == self.third => 2,
                Key::ApiVersionField if self.third == Key::Resource => 3,
                _ => {
                    a.next_value::<Checked>()?;
                    continue;
                }
            };
            fields[slot] = Some(if self.keep {
                a.next_value()?
            } else {
                a.next_value::<Str>()?;
                String::new()
            });
        }
        Ok(fields)
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(UserVisitor)
    }
}

struct UserVisitor;

impl<'de> Visitor<'de> for UserVisitor {
    type Value = User;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("UserInfo")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<User, A::Error> {
        let mut username = None;
        let mut first = true;
        while let Some(key) = a.next_key::<Key>()? {
            refuse_token(key == Key::Token, &mut first)?;
            match key {
                Key::Username => username = a.next_value()?,
                Key::Uid => {
                    a.next_value::<Option<Str>>()?;
                }
                Key::Groups => {
                    a.next_value::<Option<Vec<Str>>>()?;
                }
                Key::Extra => {
                    a.next_value::<Option<Extra>>()?;
                }
                _ => {
                    a.next_value::<Checked>()?;
                }
            }
        }
        Ok(User(username))
    }
}

/// `UserInfo.extra`, a map of string lists, checked and not kept.
struct Extra;

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Extra)
    }
}

impl<'de> Visitor<'de> for Extra {
    type Value = Extra;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of string lists")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Extra, A::Error> {
        while a.next_entry::<Str, Vec<Str>>()?.is_some() {}
        Ok(Extra)
    }
}

/// The keys the one pass looks for, named without allocating; any other key is `Other`.
#[derive(PartialEq)]
enum Key {
    ApiVersion,
    Kind,
    Request,
    Response,
    Uid,
    Resource,
    SubResource,
    RequestKind,
    RequestResource,
    RequestSubResource,
    Name,
    Namespace,
    Operation,
    UserInfo,
    Object,
    OldObject,
    DryRun,
    /// An object's `spec` (read again by [`Stored`]).
    Spec,
    Options,
    // GroupVersionKind's and GroupVersionResource's (kind and resource above).
    Group,
    Version,
    /// GroupVersionResource's `api_version` (sic).
    ApiVersionField,
    // UserInfo's (uid above).
    Username,
    Groups,
    Extra,
    // ManagedFieldsEntry's (apiVersion and operation above).
    FieldsType,
    Manager,
    Subresource,
    Time,
    /// serde_json's raw-value key ([`RAW_VALUE_TOKEN`]).
    Token,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "apiVersion" => Key::ApiVersion,
            "kind" => Key::Kind,
            "request" => Key::Request,
            "response" => Key::Response,
            "uid" => Key::Uid,
            "resource" => Key::Resource,
            "subResource" => Key::SubResource,
            "requestKind" => Key::RequestKind,
            "requestResource" => Key::RequestResource,
            "requestSubResource" => Key::RequestSubResource,
            "name" => Key::Name,
            "namespace" => Key::Namespace,
            "operation" => Key::Operation,
            "userInfo" => Key::UserInfo,
            "object" => Key::Object,
            "oldObject" => Key::OldObject,
            "dryRun" => Key::DryRun,
            "spec" => Key::Spec,
            "options" => Key::Options,
            "group" => Key::Group,
            "version" => Key::Version,
            "api_version" => Key::ApiVersionField,
            "username" => Key::Username,
            "groups" => Key::Groups,
            "extra" => Key::Extra,
            "fieldsType" => Key::FieldsType,
            "manager" => Key::Manager,
            "subresource" => Key::Subresource,
            "time" => Key::Time,
            RAW_VALUE_TOKEN => Key::Token,
            _ => Key::Other,
        })
    }
}

/// What the one pass keeps of an object.
#[derive(Clone, Copy, PartialEq)]
enum ObjectSeed {
    /// Everything but `metadata.managedFields`.
    Whole,
    /// apiVersion, kind and metadata (without managedFields); the rest is checked and dropped.
    Head,
    /// Everything but `metadata.managedFields`, from a body the one pass has already checked:
    /// nothing is checked again.
    Reread,
}

/// `null` or absent is `None`, as in the general path; an object must be a map whose metadata
/// decodes as an ObjectMeta (what decoding a DynamicObject needs).
struct Optional(ObjectSeed);

impl<'de> DeserializeSeed<'de> for Optional {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Optional {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut first = true;
        while let Some(key) = a.next_key::<String>()? {
            refuse_token(key == RAW_VALUE_TOKEN, &mut first)?;
            match key.as_str() {
                "metadata" => {
                    let meta = a.next_value_seed(MetadataSeed {
                        check: self != ObjectSeed::Reread,
                    })?;
                    object.insert(key, meta);
                }
                "apiVersion" | "kind" => {
                    object.insert(key, a.next_value()?);
                }
                _ if self != ObjectSeed::Head => {
                    object.insert(key, a.next_value()?);
                }
                _ => {
                    a.next_value::<Checked>()?;
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// `metadata`: a tree of everything but managedFields, which is checked as ObjectMeta's decode
/// checks it (nothing here reads it); then the tree must decode as an ObjectMeta, the one way
/// decoding a DynamicObject fails for a map.
struct MetadataSeed {
    /// False when the body was checked already.
    check: bool,
}

impl<'de> DeserializeSeed<'de> for MetadataSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // `metadata: null` or a non-map does not decode as an ObjectMeta.
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetadataSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct ObjectMeta")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut meta = Map::new();
        let mut first = true;
        while let Some(key) = a.next_key::<String>()? {
            refuse_token(key == RAW_VALUE_TOKEN, &mut first)?;
            if key != "managedFields" {
                meta.insert(key, a.next_value()?);
            } else if self.check {
                // Every occurrence is checked; the tree would keep (and check) the last.
                a.next_value::<Option<Vec<ManagedFieldsEntry>>>()?;
            } else {
                a.next_value::<IgnoredAny>()?;
            }
        }
        let meta = Value::Object(meta);
        if self.check {
            ObjectMeta::deserialize(&meta).map_err(A::Error::custom)?;
        }
        Ok(meta)
    }
}

/// One entry of `managedFields`, checked as k8s-openapi's `ManagedFieldsEntry` decodes it (a map;
/// its strings strings or null, `time` a timestamp, `fieldsV1` any JSON), without building
/// `fieldsV1`, which is most of it.
struct ManagedFieldsEntry;

impl<'de> Deserialize<'de> for ManagedFieldsEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // k8s-openapi's decoder reads maps only (a derived one would take arrays too).
        d.deserialize_struct("ManagedFieldsEntry", &[], ManagedFieldsEntry)
    }
}

impl<'de> Visitor<'de> for ManagedFieldsEntry {
    type Value = ManagedFieldsEntry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("ManagedFieldsEntry")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self, A::Error> {
        let mut first = true;
        while let Some(key) = a.next_key::<Key>()? {
            refuse_token(key == Key::Token, &mut first)?;
            match key {
                Key::ApiVersion | Key::FieldsType | Key::Manager | Key::Operation | Key::Subresource => {
                    a.next_value::<Option<Str>>()?;
                }
                Key::Time => {
                    a.next_value::<Option<Time>>()?;
                }
                _ => {
                    a.next_value::<Checked>()?;
                }
            }
        }
        Ok(ManagedFieldsEntry)
    }
}

/// A string, checked and not kept.
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_string(Str)
    }
}

impl Visitor<'_> for Str {
    type Value = Str;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Str, E> {
        Ok(Str)
    }
}

/// Any JSON value, read as a tree reads it (numbers it cannot hold and bad escapes fail) and not
/// kept. `IgnoredAny` is not enough: serde_json skips without those checks.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        let mut first = true;
        while let Some(IsToken(token)) = a.next_key()? {
            refuse_token(token, &mut first)?;
            a.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// Whether a map key is [`RAW_VALUE_TOKEN`]: all [`Checked`] needs of a key (cheaper than [`Key`]).
struct IsToken(bool);

impl<'de> Deserialize<'de> for IsToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IsTokenVisitor)
    }
}

struct IsTokenVisitor;

impl Visitor<'_> for IsTokenVisitor {
    type Value = IsToken;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<IsToken, E> {
        Ok(IsToken(v == RAW_VALUE_TOKEN))
    }
}

/// Fails on serde_json's raw-value key as the first key of a map (see [`RAW_VALUE_TOKEN`]).
fn refuse_token<E: de::Error>(is_token: bool, first: &mut bool) -> Result<(), E> {
    let refuse = *first && is_token;
    *first = false;
    if refuse {
        Err(E::custom(
            "a map led by serde_json's raw-value key is left to the general path",
        ))
    } else {
        Ok(())
    }
}

/// What the ratchet reads again of the stored object.
#[derive(Clone, Copy)]
enum Again<'n> {
    /// The whole object (without managedFields).
    Whole,
    /// Only `spec.<name>` for each of the names, as `{"spec": {…}}`.
    SpecSections(&'n [&'n str]),
}

/// The stored object, read again from a body the one pass has already checked (so nothing is
/// checked again): the review (depth 0), its last `request` (1), that one's last `oldObject` (2)
/// and, for sections, its last `spec` (3), the last of each as a tree would keep it. `None` when
/// one of them is missing, null or not a map.
#[derive(Clone, Copy)]
struct Stored<'n> {
    again: Again<'n>,
    depth: u8,
}

impl Stored<'_> {
    fn read(body: &str, again: Again<'_>) -> Option<Value> {
        let mut review = serde_json::Deserializer::from_str(body);
        Stored { again, depth: 0 }.deserialize(&mut review).ok()?
    }
}

impl<'de> DeserializeSeed<'de> for Stored<'_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Stored<'_> {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        match (self.again, self.depth) {
            (Again::Whole, 2) => ObjectSeed::Reread.visit_map(a).map(Some),
            (Again::SpecSections(names), 3) => {
                let mut sections = Map::new();
                while let Some(key) = a.next_key::<String>()? {
                    if names.contains(&key.as_str()) {
                        sections.insert(key, a.next_value()?);
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Some(Value::Object(sections)))
            }
            (_, depth) => {
                let wanted = match depth {
                    0 => Key::Request,
                    1 => Key::OldObject,
                    _ => Key::Spec,
                };
                let mut found = None;
                while let Some(key) = a.next_key::<Key>()? {
                    if key == wanted {
                        found = a.next_value_seed(Stored {
                            depth: depth + 1,
                            ..self
                        })?;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(match wanted {
                    Key::Spec => found.map(|spec| Value::Object(Map::from_iter([("spec".to_owned(), spec)]))),
                    _ => found,
                })
            }
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}
