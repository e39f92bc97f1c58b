//! Reading `validate`'s inputs as kubectl reads them: files or standard input, JSON value streams
//! or multi-document YAML with YAML 1.1 booleans, `kind: List` expanded; `--patch` as
//! `kubectl patch -p` takes it. Errors name the file, line and column.

use std::io::Read as _;

use serde_json::Value;

/// Parsed input: documents, and whether they were read as YAML (for YAML 1.1 hints).
pub(super) struct Docs {
    pub values: Vec<Value>,
    pub yaml: bool,
}

pub(crate) fn read(file: &str) -> Result<String, String> {
    let mut buf = Vec::new();
    let res = if file == "-" {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map(|_| ())
    };
    res.map_err(|e| format!("{file}: {e}"))?;
    String::from_utf8(buf).map_err(|e| format!("{file}: not UTF-8 text: {e}"))
}

/// Splits `text` (from `file`, for messages) into documents: a JSON value stream, or
/// multi-document YAML read with YAML 1.1 booleans as kubectl reads it (`enableEgress: no` is
/// `false`, `logLevel: off` is `false`). `kind: List` documents are expanded into their items.
pub(super) fn documents(text: &str, file: &str) -> Result<Docs, String> {
    let trimmed = text.trim_start();
    let yaml = !(trimmed.starts_with('{') || trimmed.starts_with('['));
    let raw: Vec<Value> = if yaml {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| yaml_error(file, &e))?
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{file}:{}:{}: invalid JSON: {}", e.line(), e.column(), json_problem(&e)))?
    };
    let mut values = Vec::with_capacity(raw.len());
    for doc in raw {
        match doc {
            Value::Null => {} // empty YAML documents (`---` separators)
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => match m.get("items") {
                Some(Value::Array(items)) => values.extend(items.iter().cloned()),
                _ => return Err(format!("{file}: a List document without an items array")),
            },
            Value::Array(items) => values.extend(items),
            other => values.push(other),
        }
    }
    Ok(Docs { values, yaml })
}

/// serde_json's message without its own ` at line L column C` suffix (the location leads).
fn json_problem(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// A YAML reader error in our words: `file:line:column: invalid YAML: problem`, limits stated.
pub(super) fn yaml_error(file: &str, e: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach;
    let e = e.without_snippet();
    let at = match e.location() {
        Some(l) if l.line() > 0 => format!("{file}:{}:{}", l.line(), l.column()),
        _ => file.to_owned(),
    };
    let problem = match e {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Documents { .. } => format!(
                "more than {} documents in one input, the most this reader takes; split the file",
                serde_saphyr::budget::Budget::default().max_documents
            ),
            BudgetBreach::Depth { .. } => format!(
                "nested deeper than {} levels, the most this reader takes",
                serde_saphyr::budget::Budget::default().max_depth
            ),
            other => format!("too large or too complex for this reader ({other:?})"),
        },
        other => {
            let opts = serde_saphyr::render_options! {
                formatter: &serde_saphyr::UserMessageFormatter,
                snippets: serde_saphyr::SnippetMode::Off,
            };
            let msg = other.render_with_options(opts);
            // The location is already in front.
            match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            }
        }
    };
    format!("{at}: invalid YAML: {problem}")
}

/// `--patch` as `kubectl patch -p` reads it: JSON, or else YAML (one document).
pub(super) fn parse_patch(patch: &str) -> Result<(Value, bool), String> {
    if let Ok(v) = serde_json::from_str::<Value>(patch) {
        return Ok((v, false));
    }
    let mut docs = serde_saphyr::from_multiple::<Value>(patch).map_err(|e| yaml_error("--patch", &e))?;
    docs.retain(|d| !d.is_null());
    match docs.len() {
        1 => Ok((docs.remove(0), true)),
        0 => Err("--patch: empty patch".into()),
        n => Err(format!("--patch: one patch expected, found {n} YAML documents")),
    }
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_like_kubectl() {
        let docs = documents("a: no\nb: off\nc: '24h'\n---\n---\nkind: X\n", "f")
            .expect("yaml")
            .values;
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["a"], false);
        assert_eq!(docs[0]["b"], false);
        assert_eq!(docs[0]["c"], "24h");
    }

    #[test]
    fn reads_json_streams_and_lists() {
        let docs = documents(r#"{"kind":"List","items":[{"a":1},{"a":2}]} {"a":3}"#, "f")
            .expect("json")
            .values;
        assert_eq!(docs.len(), 3);
        assert_eq!(
            documents("{", "f.json").err().as_deref(),
            Some("f.json:1:1: invalid JSON: EOF while parsing an object")
        );
    }
}
