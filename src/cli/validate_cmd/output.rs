//! What `validate` prints: one entry per document (or per input that yielded none), as kubectl's
//! rendering with notes, warnings and hints on stderr, or as one JSON array holding all of it.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::field::Status;

/// One document, or an input that yielded no document to judge.
pub(super) struct Entry {
    /// The file, `file: document N`, or `base patched`.
    pub source: String,
    /// `metadata.name`, when the document has one.
    pub name: String,
    pub verdict: Verdict,
    pub warnings: Vec<String>,
    /// How to fix what was found, when the cause is not in the object as written.
    pub hints: Vec<String>,
}

pub(super) enum Verdict {
    /// Validated: what the apiserver would answer (`None`: allowed), and kubectl's
    /// `<kind>[.<group>]/<name>` for the line saying so.
    Judged {
        resource: String,
        status: Option<Box<Status>>,
    },
    /// Not validated and not ours to judge: why (another kind, another ConfigMap, no documents).
    Skipped(String),
    /// Could not be validated: why, naming the input.
    Unusable(String),
}

impl Entry {
    pub fn new(source: &str, name: &str, verdict: Verdict) -> Entry {
        Entry {
            source: source.to_owned(),
            name: name.to_owned(),
            verdict,
            warnings: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn status(&self) -> Option<&Status> {
        match &self.verdict {
            Verdict::Judged { status, .. } => status.as_deref(),
            _ => None,
        }
    }
}

/// Text: stderr gets errors, notes, warnings and hints, stdout kubectl's answer per validated
/// document; when more than one document was validated, each answer, warning and hint names
/// its source.
pub(super) fn text(entries: &[Entry]) {
    let many = entries
        .iter()
        .filter(|e| matches!(e.verdict, Verdict::Judged { .. }))
        .count()
        > 1;
    for e in entries {
        let from = if many { format!("{}: ", e.source) } else { String::new() };
        match &e.verdict {
            Verdict::Unusable(why) => eprintln!("error: {why}"),
            Verdict::Skipped(why) => eprintln!("note: {}: {why}", e.source),
            Verdict::Judged { .. } => {}
        }
        for w in &e.warnings {
            eprintln!("Warning: {from}{w}");
        }
        for h in &e.hints {
            eprintln!("hint: {from}{h}");
        }
    }
    // Written, not println!'d: `validate … | head` closes the pipe early, which must not panic.
    let mut out = std::io::stdout().lock();
    for e in entries {
        let Verdict::Judged { resource, status } = &e.verdict else {
            continue;
        };
        let written = match status {
            Some(status) if many => write!(out, "{}:\n{}", e.source, status.kubectl_message()),
            Some(status) => write!(out, "{}", status.kubectl_message()),
            None => writeln!(out, "{resource} valid ({})", e.source),
        };
        if written.is_err() {
            return;
        }
    }
}

/// JSON: always an array, one entry per document, every key always present, so scripts need
/// one shape; nothing about the entries goes to stderr.
pub(super) fn json(entries: &[Entry]) {
    let docs: Vec<Value> = entries.iter().map(entry_json).collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&docs).unwrap_or_default());
}

fn entry_json(e: &Entry) -> Value {
    // `allowed` is null only for what was not ours to judge; an unusable input fails the gate.
    let (allowed, skipped, error) = match &e.verdict {
        Verdict::Judged { status, .. } => (Some(status.is_none()), None, None),
        Verdict::Skipped(why) => (None, Some(why), None),
        Verdict::Unusable(why) => (Some(false), None, Some(why)),
    };
    json!({
        "source": e.source,
        "name": e.name,
        "allowed": allowed,
        "status": e.status(),
        "warnings": e.warnings,
        "hints": e.hints,
        "skipped": skipped,
        "error": error,
    })
}
