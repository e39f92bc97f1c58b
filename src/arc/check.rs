//! The check of a settings file: keys against the version's chart values, Helm's `--set` typing
//! and schema check (draft-07, generated from `VALUES`), then the MeshConfig / `osm-config` rules
//! of `validate` for every value that feeds one. Pure: text in, findings out.

use serde_json::{Map, Value, json};

use super::{
    ARC_NAMESPACE, ExtensionVersion, FEEDS, Feed, Target, ValueDef, rows, setting_key, suggest, values_schema,
};
use crate::field::{BadValue, FieldError, go_quote, sort_by_path};
use crate::schema::configmap::CONFIGMAP_NAME;
use crate::schema::{GROUP, JsonType, KIND, MESH_CONFIG_NAME, Schema};
use crate::validate::{self, UnknownKeys, resources};

/// Why a file cannot be checked at all (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A settings file, read: the settings (in key order) and, for an ARM template, the default of
/// its `ExtensionVersion` parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub settings: Vec<(String, Value)>,
    pub template_version: Option<String>,
    pub arm_template: bool,
}

/// What the check found. Errors mean the install fails or a setting is silently lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub version: ExtensionVersion,
    /// Sorted by setting key.
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
    /// The command that applies the MeshConfig-backed (or `osm-config`) settings to a running mesh.
    pub patch_command: Option<String>,
}

impl Report {
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Reads a `--configuration-settings-file` (a flat JSON object) or an ARM template holding a
/// `Microsoft.KubernetesConfiguration/extensions` resource, as `az` and ARM would.
pub fn parse_settings(text: &str) -> Result<Parsed, InputError> {
    if text.trim().is_empty() {
        return Err(InputError("the file is empty (az: \"File … is empty\")".into()));
    }
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        InputError(format!(
            "invalid JSON at line {} column {}: {} (az: \"File … is not a valid JSON file\")",
            e.line(),
            e.column(),
            json_reason(&e)
        ))
    })?;
    let Value::Object(obj) = doc else {
        return Err(InputError(format!(
            "expected a JSON object of settings, found {}",
            type_name(&doc)
        )));
    };
    let is_template = obj.contains_key("resources")
        || obj
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("deploymentTemplate"));
    if !is_template {
        return Ok(Parsed {
            settings: obj.into_iter().collect(),
            template_version: None,
            arm_template: false,
        });
    }
    let resources = obj
        .get("resources")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let extension = resources
        .iter()
        .find(|r| {
            r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.KubernetesConfiguration/extensions"))
        })
        .ok_or_else(|| {
            InputError("ARM template without a Microsoft.KubernetesConfiguration/extensions resource".into())
        })?;
    let settings = match extension.pointer("/properties/configurationSettings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(InputError(format!(
                "ARM template: properties.configurationSettings is {}, not an object",
                type_name(other)
            )));
        }
    };
    let template_version = obj
        .get("parameters")
        .and_then(Value::as_object)
        .and_then(|p| p.iter().find(|(k, _)| k.eq_ignore_ascii_case("ExtensionVersion")))
        .and_then(|(_, p)| p.get("defaultValue"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Parsed {
        settings: settings.into_iter().collect(),
        template_version,
        arm_template: true,
    })
}

/// serde_json's message without its own ` at line … column …` suffix.
fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// How `helm --set` types a value (Helm `strvals.typedVal`): `true`/`false` in any case are
/// booleans, `null` is null, `0` and base-10 integers without a leading zero are int64, `{a,b}`
/// is a list of such values; everything else stays a string.
pub fn typed_value(s: &str) -> Value {
    if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        if inner.is_empty() {
            return Value::Array(Vec::new());
        }
        return Value::Array(inner.split(',').map(typed_scalar).collect());
    }
    typed_scalar(s)
}

fn typed_scalar(s: &str) -> Value {
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if s == "0" {
        return Value::from(0);
    }
    if !s.starts_with('0')
        && let Ok(i) = s.parse::<i64>()
    {
        return Value::from(i);
    }
    Value::String(s.to_owned())
}

/// One step of a value's path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A setting that names a chart value of this version.
struct Known {
    key: String,
    /// Path in the values document (root key spelled out).
    segs: Vec<Seg>,
    /// The `VALUES` path of the deepest row (`$` for the root key, `[]` for items).
    row_path: String,
    typed: Value,
    raw: String,
}

/// Checks `settings` as extension `v` would install them.
pub fn check_settings(settings: &[(String, Value)], v: ExtensionVersion) -> Report {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut known = Vec::new();
    for (key, value) in settings {
        let Value::String(raw) = value else {
            errors.push(FieldError::type_invalid(
                key.as_str(),
                BadValue::from(value),
                "must be of type string: the ARM API types every configuration setting as a string",
            ));
            continue;
        };
        match resolve_key(v, key) {
            Ok((segs, row_path)) => known.push(Known {
                key: key.clone(),
                segs,
                row_path,
                typed: typed_value(raw),
                raw: raw.clone(),
            }),
            Err(e) => errors.push(e),
        }
    }

    // Helm: the chart's values with the settings merged in, checked against the values schema.
    let mut values = default_values(v);
    for k in &known {
        set_path(&mut values, &k.segs, k.typed.clone());
    }
    let mut bad_keys: Vec<String> = Vec::new();
    for e in schema_errors(v, &values, &known) {
        bad_keys.push(e.field.clone());
        errors.push(e);
    }

    for e in quantity_errors(v, &values, &known, &bad_keys) {
        bad_keys.push(e.field.clone());
        errors.push(e);
    }

    // OSM: the values that feed the MeshConfig or osm-config, through the webhook's rules.
    let mut fed: Vec<Fed> = Vec::new();
    for k in &known {
        let Some(feed) = feed_of(v, &k.row_path) else {
            continue;
        };
        // A list item (`name[0]`) feeds its whole list: report and patch the list.
        let key = if k.row_path.ends_with("[]") {
            setting_key(v, feed.value)
        } else {
            k.key.clone()
        };
        let in_error = |s: &str| bad_keys.iter().any(|b| b == s || b.starts_with(&format!("{s}[")));
        if in_error(&k.key) || in_error(&key) || fed.iter().any(|f| f.key == key) {
            continue;
        }
        let value = lookup(&values, v, feed.value).cloned().unwrap_or(Value::Null);
        fed.push(Fed { key, feed, value });
    }
    let (sem_errors, sem_warnings) = semantic(v, &values, &fed);
    errors.extend(sem_errors);
    warnings.extend(sem_warnings);

    for Fed { key, feed: f, .. } in &fed {
        if let Some(flag) = f.when
            && lookup(&values, v, flag) != Some(&Value::Bool(true))
        {
            warnings.push(format!(
                "{key}: has no effect unless {} is \"true\"",
                setting_key(v, flag)
            ));
        }
    }
    let patch_command = seed_warnings(v, &fed, &errors, &mut warnings);
    sort_by_path(&mut errors);
    Report {
        version: v,
        errors,
        warnings,
        patch_command,
    }
}

/// Resolves a setting key to a value of `v`'s chart, or says why it has no effect.
fn resolve_key(v: ExtensionVersion, key: &str) -> Result<(Vec<Seg>, String), FieldError> {
    let Some(rest) = key.strip_prefix("osm.") else {
        let detail = if key.starts_with("Azure.") {
            "set by Azure Arc itself; do not set it here".to_owned()
        } else {
            let mut d = "ignored: the osm-arc chart passes on only settings that start with \"osm.\"".to_owned();
            if resolve_key(v, &format!("osm.{key}")).is_ok() {
                d.push_str(&format!("; did you mean {}?", go_quote(&format!("osm.{key}"))));
            }
            d
        };
        return Err(FieldError::forbidden(key, detail));
    };
    let segs = split_key(rest);
    let first = match segs.first() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    let other_root = if v.root_key() == "osm" {
        "OpenServiceMesh"
    } else {
        "osm"
    };
    if first == other_root && !rows(v).contains_key(first) {
        let tail = &rest[first.len()..];
        let right = format!("{}{}", v.prefix().trim_end_matches('.'), tail);
        let detail = if resolve_key(v, &right).is_ok() {
            format!(
                "wrong prefix: extension {v} reads {}, so this key is silently ignored; use {}",
                go_quote(&v.prefix()),
                go_quote(&right)
            )
        } else {
            let mut d = format!(
                "wrong prefix: extension {v} reads {}, so this key is silently ignored",
                go_quote(&v.prefix())
            );
            if let Some(s) = suggest::near_key(v, &right) {
                d.push_str(&format!("; did you mean {}?", go_quote(&s)));
            }
            d
        };
        return Err(FieldError::forbidden(key, detail));
    }
    let mut row_path = if first == v.root_key() {
        "$".to_owned()
    } else {
        first.to_owned()
    };
    let unknown = || {
        let tail = rest.split_once('.').map_or("", |(_, t)| t);
        let detail = match (suggest::near_key(v, key), suggest::by_target(v, tail)) {
            (Some(s), _) => format!("unknown setting; did you mean {}?", go_quote(&s)),
            (None, Some((s, sets))) => format!("unknown setting; did you mean {} (it sets {sets})?", go_quote(&s)),
            (None, None) => {
                let mut d = format!("unknown setting: OSM {} (extension {v}) has no such value", v.osm_tag());
                let elsewhere = elsewhere(v, rest);
                if !elsewhere.is_empty() {
                    d.push_str(&format!("; it exists in extension versions {}", elsewhere.join(", ")));
                }
                d
            }
        };
        FieldError::forbidden(key, detail)
    };
    let mut row = rows(v).get(row_path.as_str()).copied().ok_or_else(unknown)?;
    for seg in &segs[1..] {
        match (row.ty, seg) {
            // Free-form: labels, affinity, the contour subchart's own values.
            (JsonType::Map, _) => return Ok((segs, row_path)),
            (JsonType::Object, Seg::Key(k)) => row_path = format!("{row_path}.{k}"),
            (JsonType::Array, Seg::Index(_)) => row_path.push_str("[]"),
            _ => {
                return Err(FieldError::forbidden(
                    key,
                    format!(
                        "{} is of type {}: it has no {}",
                        setting_key(v, row.path),
                        row.ty.as_str(),
                        if matches!(seg, Seg::Index(_)) { "items" } else { "keys" }
                    ),
                ));
            }
        }
        row = match rows(v).get(row_path.as_str()) {
            Some(r) => r,
            // Items of a list the schema does not describe.
            None if row.ty == JsonType::Array => return Ok((segs, row_path)),
            None => return Err(unknown()),
        };
    }
    Ok((segs, row_path))
}

/// Other extension versions that have the value `rest` (the key after `osm.`, either root key
/// spelling): removed and renamed values trip upgrades.
fn elsewhere(v: ExtensionVersion, rest: &str) -> Vec<&'static str> {
    let tail = rest.split_once('.').map_or("", |(_, t)| t);
    ExtensionVersion::ALL
        .into_iter()
        .filter(|o| *o != v)
        .filter(|o| rows(*o).contains_key(format!("$.{tail}").as_str()))
        .map(ExtensionVersion::as_str)
        .collect()
}

/// Splits `a.b\.c.d[2]` as Helm's strvals does: `\.` is a literal dot, `[n]` a list index.
fn split_key(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let push = |cur: &mut String, out: &mut Vec<Seg>| {
        let mut name = std::mem::take(cur);
        let mut indexes = Vec::new();
        while name.ends_with(']')
            && let Some(open) = name.rfind('[')
            && let Ok(i) = name[open + 1..name.len() - 1].parse::<usize>()
        {
            indexes.push(i);
            name.truncate(open);
        }
        out.push(Seg::Key(name));
        out.extend(indexes.into_iter().rev().map(Seg::Index));
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                cur.push('.');
                chars.next();
            }
            '.' => push(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    push(&mut cur, &mut out);
    out
}

/// The chart's values with their (wrapper-overridden) defaults.
fn default_values(v: ExtensionVersion) -> Value {
    let mut values = Value::Object(Map::new());
    let mut defs: Vec<&ValueDef> = rows(v).values().copied().filter(|d| !d.path.ends_with("[]")).collect();
    defs.sort_by_key(|d| d.path);
    for d in defs {
        let segs = table_segs(v, d.path);
        let value = match (d.ty, d.default_in(v)) {
            (JsonType::Object, _) => Value::Object(Map::new()),
            (_, Some(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
            (_, None) => continue,
        };
        if d.ty == JsonType::Object && get_path(&values, &segs).is_some() {
            continue;
        }
        set_path(&mut values, &segs, value);
    }
    values
}

fn table_segs(v: ExtensionVersion, path: &str) -> Vec<Seg> {
    path.split('.')
        .map(|s| {
            Seg::Key(if s == "$" {
                v.root_key().to_owned()
            } else {
                s.to_owned()
            })
        })
        .collect()
}

fn lookup<'a>(values: &'a Value, v: ExtensionVersion, path: &str) -> Option<&'a Value> {
    get_path(values, &table_segs(v, path))
}

fn get_path<'a>(mut cur: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    for s in segs {
        cur = match s {
            Seg::Key(k) => cur.get(k)?,
            Seg::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

/// Sets a value as Helm merges `--set` values: objects are created on the way, lists padded with
/// nulls, and a null deletes the key (so the chart's default is gone too).
fn set_path(root: &mut Value, segs: &[Seg], value: Value) {
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut cur = root;
    for (i, s) in parents.iter().enumerate() {
        let next_is_index = matches!(segs.get(i + 1), Some(Seg::Index(_)));
        let empty = || {
            if next_is_index {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        cur = match s {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(m) = cur else { return };
                let child = m.entry(k.clone()).or_insert_with(empty);
                if !(child.is_object() || child.is_array()) {
                    *child = empty();
                }
                child
            }
            Seg::Index(i) => {
                if !cur.is_array() {
                    *cur = Value::Array(Vec::new());
                }
                let Value::Array(a) = cur else { return };
                if a.len() <= *i {
                    a.resize(*i + 1, Value::Null);
                }
                if !(a[*i].is_object() || a[*i].is_array()) {
                    a[*i] = empty();
                }
                &mut a[*i]
            }
        };
    }
    match last {
        Seg::Key(k) => {
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            if let Value::Object(m) = cur {
                if value.is_null() {
                    m.remove(k);
                } else {
                    m.insert(k.clone(), value);
                }
            }
        }
        Seg::Index(i) => {
            if !cur.is_array() {
                *cur = Value::Array(Vec::new());
            }
            if let Value::Array(a) = cur {
                if a.len() <= *i {
                    a.resize(*i + 1, Value::Null);
                }
                a[*i] = value;
            }
        }
    }
}

/// Helm's schema check of the merged values, each error worded as a field error on the setting
/// key (and list index) it is about.
fn schema_errors(v: ExtensionVersion, values: &Value, known: &[Known]) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as K;
    let schema = values_schema(v);
    let validator = match jsonschema::draft7::new(&schema) {
        Ok(val) => val,
        Err(e) => {
            // Our table generates the schema; a failure here is our bug, reported, not hidden.
            return vec![FieldError::forbidden(
                format!("osm.{}", v.root_key()),
                format!("internal error: the generated values schema does not compile: {e}"),
            )];
        }
    };
    let mut out = Vec::new();
    for e in validator.iter_errors(values) {
        let mut key = String::from("osm");
        let mut row_path = String::new();
        for seg in e.instance_path().segments() {
            match seg {
                jsonschema::paths::LocationSegment::Property(p) => {
                    key.push('.');
                    key.push_str(&p);
                    if row_path.is_empty() {
                        row_path = if p == v.root_key() { "$".into() } else { p.to_string() };
                    } else {
                        row_path.push('.');
                        row_path.push_str(&p);
                    }
                }
                jsonschema::paths::LocationSegment::Index(i) => {
                    key.push_str(&format!("[{i}]"));
                    row_path.push_str("[]");
                }
            }
        }
        let instance: &Value = e.instance();
        let given = known
            .iter()
            .find(|k| k.key == key || key.starts_with(&format!("{}[", k.key)));
        let hint = given
            .filter(|k| !k.typed.is_string())
            .map(|k| {
                format!(
                    " (Helm types {} as {})",
                    go_quote(&k.raw),
                    type_name(instance).trim_start_matches("an ").trim_start_matches("a ")
                )
            })
            .unwrap_or_default();
        let err = match e.kind() {
            K::Type { .. } => {
                let expected = rows(v)
                    .get(row_path.as_str())
                    .map_or("the chart's type", |d| d.ty.as_str());
                FieldError::type_invalid(
                    key,
                    BadValue::from(instance),
                    format!("must be of type {expected}{hint}"),
                )
            }
            K::Enum { options } => {
                let valid: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                FieldError::not_supported(key, BadValue::from(instance), &valid)
            }
            // The chart writes some enums as `^(a|b)$` patterns: say them as the enums they are.
            K::Pattern { pattern } => match pattern_words(pattern) {
                Some(words) => FieldError::not_supported(key, BadValue::from(instance), &words),
                None => FieldError::invalid(key, BadValue::from(instance), format!("should match '{pattern}'{hint}")),
            },
            K::Minimum { limit } => FieldError::invalid(
                key,
                BadValue::from(instance),
                format!("should be greater than or equal to {limit}"),
            ),
            K::Maximum { limit } => FieldError::invalid(
                key,
                BadValue::from(instance),
                format!("should be less than or equal to {limit}"),
            ),
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                FieldError::required(
                    format!("{key}.{name}"),
                    "the chart requires it; \"null\" deletes the chart's default",
                )
            }
            K::AdditionalProperties { unexpected } => {
                FieldError::forbidden(key, format!("unknown values: {}", unexpected.join(", ")))
            }
            _ => FieldError::invalid(key, BadValue::from(instance), e.to_string()),
        };
        out.push(err);
    }
    out
}

/// The words of a pattern that only lists them, `^(trace|debug|…)$`.
fn pattern_words(pattern: &str) -> Option<Vec<&str>> {
    let inner = pattern.strip_prefix("^(")?.strip_suffix(")$")?;
    let words: Vec<&str> = inner.split('|').collect();
    let literal = |w: &&str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    words.iter().all(literal).then_some(words)
}

/// Container resources of the control plane (`osmController.resource`, `injector.resource`, …):
/// quantities as the apiserver parses them, each request at most its limit, or the chart's
/// Deployment is rejected. Reported only on settings given, the chart's defaults being valid.
fn quantity_errors(v: ExtensionVersion, values: &Value, known: &[Known], bad_keys: &[String]) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut containers: Vec<&str> = rows(v)
        .keys()
        .copied()
        .filter(|p| p.ends_with(".resource.limits") || p.ends_with(".resources.limits"))
        .map(|p| p.trim_end_matches(".limits"))
        .collect();
    containers.sort_unstable();
    for container in containers {
        let given = |section: &str, name: &str| {
            let path = format!("{container}.{section}.{name}");
            known.iter().find(|k| k.row_path == path && !bad_keys.contains(&k.key))
        };
        for name in ["cpu", "memory"] {
            let mut parsed = Vec::new();
            for section in ["limits", "requests"] {
                let value = lookup(values, v, &format!("{container}.{section}.{name}")).and_then(Value::as_str);
                let Some(text) = value else {
                    parsed.push(None);
                    continue;
                };
                match resources::parse_quantity(text) {
                    Ok(q) => {
                        if let Some(k) = given(section, name) {
                            for d in resources::quantity_value_errors(name, &q) {
                                out.push(FieldError::invalid(k.key.as_str(), text, d));
                            }
                        }
                        parsed.push(Some(q));
                    }
                    Err(e) => {
                        if let Some(k) = given(section, name) {
                            out.push(FieldError::invalid(k.key.as_str(), text, e));
                        }
                        parsed.push(None);
                    }
                }
            }
            if let [Some(limit), Some(request)] = parsed.as_slice()
                && let Some(d) = resources::request_vs_limit(name, request, limit)
                && let Some(k) = given("requests", name).or_else(|| given("limits", name))
            {
                let text = k.raw.as_str();
                out.push(FieldError::invalid(k.key.as_str(), text, d));
            }
        }
    }
    out
}

/// A setting that feeds the MeshConfig or `osm-config`: its key, the feed, the merged value.
struct Fed {
    key: String,
    feed: &'static Feed,
    value: Value,
}

fn feed_of(v: ExtensionVersion, row_path: &str) -> Option<&'static Feed> {
    // A list item (`name[]`) is fed with its list.
    let base = row_path.strip_suffix("[]").unwrap_or(row_path);
    FEEDS.iter().find(|f| f.versions & v.bit() != 0 && f.value == base)
}

/// Builds the MeshConfig preset (or the `osm-config` ConfigMap) from the values and validates it
/// as the webhook does; findings about fed settings are reported on their keys.
fn semantic(v: ExtensionVersion, values: &Value, fed: &[Fed]) -> (Vec<FieldError>, Vec<String>) {
    let mut target = Map::new();
    for f in FEEDS.iter().filter(|f| f.versions & v.bit() != 0) {
        let Some(value) = lookup(values, v, f.value).filter(|x| !x.is_null()) else {
            continue;
        };
        if let Some(flag) = f.when
            && lookup(values, v, flag) != Some(&Value::Bool(true))
        {
            continue;
        }
        match f.target {
            Target::MeshConfig(field) => {
                let segs: Vec<Seg> = field.split('.').map(|s| Seg::Key(s.to_owned())).collect();
                let mut spec = Value::Object(std::mem::take(&mut target));
                set_path(&mut spec, &segs, value.clone());
                if let Value::Object(m) = spec {
                    target = m;
                }
            }
            // The template writes the IP-range list only when it is not empty.
            Target::OsmConfig(_) if value.as_array().is_some_and(Vec::is_empty) => {}
            Target::OsmConfig(key) => {
                target.insert(key.to_owned(), Value::String(template_string(value)));
            }
        }
    }
    let outcome = match v.meshconfig_release() {
        Some(release) => {
            let Some(schema) = Schema::get(release, release.storage_version()) else {
                return (Vec::new(), Vec::new());
            };
            let object = json!({
                "apiVersion": format!("{GROUP}/{}", release.storage_version()),
                "kind": KIND,
                "metadata": {"name": MESH_CONFIG_NAME, "namespace": ARC_NAMESPACE},
                "spec": target,
            });
            validate::meshconfig(schema, &object, None)
        }
        None => {
            let object = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": CONFIGMAP_NAME, "namespace": ARC_NAMESPACE},
                "data": target,
            });
            validate::configmap(&object, None, UnknownKeys::Deny)
        }
    };
    // The target's path of each fed setting, e.g. `spec.sidecar.logLevel` or `data.egress`.
    let target_path = |f: &Feed| match f.target {
        Target::MeshConfig(field) => format!("spec.{field}"),
        Target::OsmConfig(key) => format!("data.{key}"),
    };
    let rename = |path: &str| -> Option<String> {
        fed.iter().find_map(|f| {
            let t = target_path(f.feed);
            let rest = path.strip_prefix(t.as_str())?;
            (rest.is_empty() || rest.starts_with('[') || rest.starts_with('.')).then(|| format!("{}{rest}", f.key))
        })
    };
    let mut errors = Vec::new();
    for mut e in outcome.errors {
        if let Some(key) = rename(&e.field) {
            e.field = key;
            errors.push(e);
        }
    }
    let mut warnings = Vec::new();
    for w in outcome.warnings {
        if let Some((path, text)) = w.split_once(": ")
            && let Some(key) = rename(path)
        {
            warnings.push(format!("{key}: {text}"));
        }
    }
    (errors, warnings)
}

/// A value as the v0.8 `osm-config` template writes it (`quote`; lists joined with commas).
fn template_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(template_string).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// One warning per MeshConfig-backed (or `osm-config`) setting, and the command that changes a
/// running mesh instead, built from the settings that passed.
fn seed_warnings(
    v: ExtensionVersion,
    fed: &[Fed],
    errors: &[FieldError],
    warnings: &mut Vec<String>,
) -> Option<String> {
    let mut patch = Value::Object(Map::new());
    let mut any = false;
    for Fed { key, feed: f, value } in fed {
        // A setting already in error gets no second line about it.
        if errors
            .iter()
            .any(|e| e.field == *key || e.field.starts_with(&format!("{key}[")))
        {
            continue;
        }
        match f.target {
            Target::MeshConfig(field) => {
                warnings.push(format!(
                    "{key}: only seeds spec.{field} of MeshConfig {MESH_CONFIG_NAME} on the first install; \
                     later az k8s-extension changes to it have no effect"
                ));
                let mut segs = vec![Seg::Key("spec".into())];
                segs.extend(field.split('.').map(|s| Seg::Key(s.to_owned())));
                set_path(&mut patch, &segs, value.clone());
                any = true;
            }
            Target::OsmConfig(cm_key) => {
                warnings.push(format!(
                    "{key}: renders data.{cm_key} of ConfigMap {CONFIGMAP_NAME}; edits made there are \
                     reverted by any later az k8s-extension create or update without this setting"
                ));
                // An empty list renders no key; there is nothing to patch in.
                if !value.is_null() && !value.as_array().is_some_and(Vec::is_empty) {
                    set_path(
                        &mut patch,
                        &[Seg::Key("data".into()), Seg::Key(cm_key.into())],
                        Value::String(template_string(value)),
                    );
                    any = true;
                }
            }
        }
    }
    if !any {
        return None;
    }
    let resource = if v.meshconfig_release().is_some() {
        format!("meshconfig {MESH_CONFIG_NAME}")
    } else {
        format!("configmap {CONFIGMAP_NAME}")
    };
    // Single-quoted for a POSIX shell: a quote inside ends the string, is escaped, and reopens it.
    let body = patch.to_string().replace('\'', r"'\''");
    Some(format!(
        "kubectl patch {resource} -n {ARC_NAMESPACE} --type merge -p '{body}'"
    ))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: ExtensionVersion, pairs: &[(&str, &str)]) -> Report {
        let settings: Vec<(String, Value)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
        check_settings(&settings, v)
    }

    fn messages(r: &Report) -> Vec<String> {
        r.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn typing_follows_helm_strvals() {
        assert_eq!(typed_value("TRUE"), json!(true));
        assert_eq!(typed_value("false"), json!(false));
        assert_eq!(typed_value("null"), Value::Null);
        assert_eq!(typed_value("0"), json!(0));
        assert_eq!(typed_value("1"), json!(1));
        assert_eq!(typed_value("-5"), json!(-5));
        assert_eq!(typed_value("01"), json!("01"));
        assert_eq!(typed_value("0.5"), json!("0.5"));
        assert_eq!(typed_value("100m"), json!("100m"));
        assert_eq!(typed_value("99999999999999999999"), json!("99999999999999999999"));
        assert_eq!(typed_value("{80,443}"), json!([80, 443]));
        assert_eq!(typed_value("{}"), json!([]));
    }

    #[test]
    fn keys_split_like_strvals() {
        assert_eq!(
            split_key(r"a.b\.c.d[2]"),
            vec![
                Seg::Key("a".into()),
                Seg::Key("b.c".into()),
                Seg::Key("d".into()),
                Seg::Index(2)
            ]
        );
    }

    #[test]
    fn clean_settings_pass_and_seed_warnings_name_the_patch() {
        let r = check(
            ExtensionVersion::V1_2_6,
            &[
                ("osm.osm.enablePermissiveTrafficPolicy", "false"),
                ("osm.osm.envoyLogLevel", "debug"),
                ("osm.osm.osmController.resource.limits.cpu", "1000m"),
            ],
        );
        assert!(r.valid(), "{:?}", messages(&r));
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert_eq!(
            r.patch_command.as_deref(),
            Some(
                r#"kubectl patch meshconfig osm-mesh-config -n arc-osm-system --type merge -p '{"spec":{"sidecar":{"logLevel":"debug"},"traffic":{"enablePermissiveTrafficPolicyMode":false}}}'"#
            )
        );
    }

    #[test]
    fn typos_and_prefixes_are_named() {
        let r = check(
            ExtensionVersion::V1_2_6,
            &[("osm.osm.enablePermisiveTrafficPolicy", "true")],
        );
        assert_eq!(
            messages(&r),
            [
                r#"osm.osm.enablePermisiveTrafficPolicy: Forbidden: unknown setting; did you mean "osm.osm.enablePermissiveTrafficPolicy"?"#
            ]
        );
        let r = check(
            ExtensionVersion::V0_8_4,
            &[("osm.osm.enablePermissiveTrafficPolicy", "true")],
        );
        assert_eq!(
            messages(&r),
            [
                r#"osm.osm.enablePermissiveTrafficPolicy: Forbidden: wrong prefix: extension 0.8.4 reads "osm.OpenServiceMesh.", so this key is silently ignored; use "osm.OpenServiceMesh.enablePermissiveTrafficPolicy""#
            ]
        );
    }

    #[test]
    fn list_items_set_by_index_feed_their_list() {
        let r = check(
            ExtensionVersion::V1_2_6,
            &[("osm.osm.outboundPortExclusionList[0]", "8080")],
        );
        assert!(r.valid(), "{:?}", messages(&r));
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("osm.osm.outboundPortExclusionList: only seeds"));
        assert!(
            r.patch_command
                .as_deref()
                .is_some_and(|c| c.ends_with(r#"'{"spec":{"traffic":{"outboundPortExclusionList":[8080]}}}'"#))
        );
        // Helm pads a list with nulls up to the index given.
        let r = check(
            ExtensionVersion::V1_2_6,
            &[("osm.osm.outboundPortExclusionList[1]", "8080")],
        );
        assert_eq!(
            messages(&r),
            [r#"osm.osm.outboundPortExclusionList[0]: Invalid value: "null": must be of type integer"#]
        );
        let r = check(ExtensionVersion::V1_2_6, &[("osm.osm.envoyLogLevel[0]", "debug")]);
        assert_eq!(
            messages(&r),
            ["osm.osm.envoyLogLevel[0]: Forbidden: osm.osm.envoyLogLevel is of type string: it has no items"]
        );
    }

    #[test]
    fn helm_typing_meets_the_schema() {
        let r = check(
            ExtensionVersion::V1_2_6,
            &[("osm.osm.osmController.resource.limits.cpu", "1")],
        );
        assert_eq!(
            messages(&r),
            [
                r#"osm.osm.osmController.resource.limits.cpu: Invalid value: 1: must be of type string (Helm types "1" as integer)"#
            ]
        );
    }

    /// Every fed value set to its own default, as a settings string: the table's defaults, the
    /// typing and the MeshConfig / osm-config rules agree.
    #[test]
    fn every_versions_defaults_pass_as_settings() {
        for v in ExtensionVersion::ALL {
            let settings: Vec<(String, Value)> = FEEDS
                .iter()
                .filter(|f| f.versions & v.bit() != 0)
                .filter_map(|f| {
                    let d = rows(v).get(f.value)?.default_in(v)?;
                    let value: Value = serde_json::from_str(d).ok()?;
                    let text = match value {
                        Value::Array(_) => "{}".to_owned(),
                        other => template_string(&other),
                    };
                    Some((setting_key(v, f.value), Value::String(text)))
                })
                .collect();
            assert!(settings.len() > 8, "{v}");
            let r = check_settings(&settings, v);
            assert!(r.valid(), "{v}: {:?}", messages(&r));
            assert!(r.patch_command.is_some(), "{v}");
        }
    }

    #[test]
    fn semantic_rules_report_on_the_setting() {
        let r = check(
            ExtensionVersion::V1_2_6,
            &[("osm.osm.tracing.enable", "true"), ("osm.osm.tracing.port", "40000")],
        );
        assert_eq!(r.errors.len(), 1, "{:?}", messages(&r));
        assert_eq!(r.errors[0].field, "osm.osm.tracing.port");
        let r = check(
            ExtensionVersion::V0_8_4,
            &[("osm.OpenServiceMesh.serviceCertValidityDuration", "30s")],
        );
        assert_eq!(r.errors.len(), 1, "{:?}", messages(&r));
        assert_eq!(r.errors[0].field, "osm.OpenServiceMesh.serviceCertValidityDuration");
    }
}
