//! How much one answer may carry, whatever the input: causes, warnings and echoed values.
//!
//! Without these caps a 3 MiB body of 1.5 M bad ports produced a 555 MB Status. apimachinery has
//! no cap of its own to copy (its `ErrorList` grows with the input); what it does have, and what
//! is copied here, is the way it leaves a value out (`"<value omitted>"`, the `BadValue` of
//! `field.TooLong`, also passed to `field.Invalid` by Kubernetes' own validation for values too
//! large to print) and the apiserver's warning limits (`endpoints/filters/warning.go`).

use super::{Cause, FieldError, sort_by_path};

/// Causes in one Status; further errors are counted in one last cause.
pub const MAX_CAUSES: usize = 100;
/// Warnings one validation keeps (what `validate` prints); further ones are counted.
pub const MAX_WARNINGS: usize = 100;
/// Longest string value echoed in a message; longer ones print as [`VALUE_OMITTED`].
pub const MAX_ECHOED_VALUE_BYTES: usize = 256;
/// apimachinery's stand-in for a value left out of a message.
pub const VALUE_OMITTED: &str = "<value omitted>";
/// Longest detail printed; a rule's detail can quote the value (Go's time errors do).
pub const MAX_DETAIL_BYTES: usize = 1024;
/// Longest field path printed: paths hold map keys, which only a client other than the apiserver
/// can make megabytes long.
pub const MAX_FIELD_BYTES: usize = 1024;

/// The apiserver cuts every warning to this many runes once their total exceeds
/// [`APISERVER_WARNING_TOTAL_RUNES`] (`truncateItemRunes`).
pub const APISERVER_WARNING_ITEM_RUNES: usize = 256;
/// The apiserver's budget for all warnings of one request, in runes (`truncateAtTotalRunes`).
pub const APISERVER_WARNING_TOTAL_RUNES: usize = 4 * 1024;
/// Warnings in one AdmissionReview response: with each at most 256 runes and the count line,
/// the total stays inside the apiserver's budget, so it never cuts or drops any of them.
pub const WEBHOOK_MAX_WARNINGS: usize = APISERVER_WARNING_TOTAL_RUNES / APISERVER_WARNING_ITEM_RUNES - 1;

/// `s` as echoed in a message: itself, or [`VALUE_OMITTED`] when longer than
/// [`MAX_ECHOED_VALUE_BYTES`].
pub fn echoed(s: &str) -> &str {
    if s.len() > MAX_ECHOED_VALUE_BYTES {
        VALUE_OMITTED
    } else {
        s
    }
}

/// A field path as printed: cut at [`MAX_FIELD_BYTES`] with `...`.
pub fn shown_field(field: &str) -> std::borrow::Cow<'_, str> {
    if field.len() <= MAX_FIELD_BYTES {
        return std::borrow::Cow::Borrowed(field);
    }
    let mut cut = MAX_FIELD_BYTES - 3;
    while !field.is_char_boundary(cut) {
        cut -= 1;
    }
    std::borrow::Cow::Owned(format!("{}...", &field[..cut]))
}

/// The last cause of a capped Status: how many errors were left out.
pub fn more_errors_cause(more: usize) -> Cause {
    Cause {
        reason: super::ErrorType::TooMany.cause_reason().to_owned(),
        message: more_errors_text(more),
        field: String::new(),
    }
}

/// `… and N more errors`.
pub fn more_errors_text(more: usize) -> String {
    format!("… and {more} more {}", if more == 1 { "error" } else { "errors" })
}

/// `… and N more warnings`.
pub fn more_warnings_text(more: usize) -> String {
    format!("… and {more} more {}", if more == 1 { "warning" } else { "warnings" })
}

/// Warnings as `validate` prints them: whole, at most [`MAX_WARNINGS`], then the count line.
pub fn cli_warnings(warnings: &[String], more: usize) -> Vec<String> {
    capped_warnings(warnings, more, MAX_WARNINGS, usize::MAX)
}

/// Warnings as the webhook returns them: at most [`WEBHOOK_MAX_WARNINGS`], each at most
/// [`APISERVER_WARNING_ITEM_RUNES`] runes (cut with `...`), then the count line.
pub fn webhook_warnings(warnings: &[String], more: usize) -> Vec<String> {
    capped_warnings(warnings, more, WEBHOOK_MAX_WARNINGS, APISERVER_WARNING_ITEM_RUNES)
}

fn capped_warnings(warnings: &[String], more: usize, max: usize, runes: usize) -> Vec<String> {
    let shown = warnings.len().min(max);
    let mut out: Vec<String> = warnings[..shown].iter().map(|w| clip(w, runes)).collect();
    let more = more + (warnings.len() - shown);
    if more > 0 {
        out.push(more_warnings_text(more));
    }
    out
}

/// `w` cut to `runes` characters, the cut marked with `...`.
pub fn clip(w: &str, runes: usize) -> String {
    match w.char_indices().nth(runes) {
        None => w.to_owned(),
        Some(_) => {
            let cut = w
                .char_indices()
                .nth(runes.saturating_sub(3))
                .map_or(w.len(), |(i, _)| i);
            format!("{}...", &w[..cut])
        }
    }
}

/// The first [`MAX_CAUSES`] errors by field path (ties in the order found) out of any number,
/// in memory bounded by the cap: a batch is sorted and cut whenever it doubles.
#[derive(Debug, Clone, Default)]
pub struct FirstErrors {
    kept: Vec<FieldError>,
    total: usize,
}

impl FirstErrors {
    pub fn push(&mut self, e: FieldError) {
        self.total += 1;
        self.kept.push(e);
        if self.kept.len() >= 2 * MAX_CAUSES {
            self.compact();
        }
    }

    fn compact(&mut self) {
        // Stable: errors on the same path keep the order they were found in.
        sort_by_path(&mut self.kept);
        self.kept.truncate(MAX_CAUSES);
    }

    /// The kept errors, sorted by path, and how many more there were.
    pub fn finish(mut self) -> (Vec<FieldError>, usize) {
        self.compact();
        let more = self.total - self.kept.len();
        (self.kept, more)
    }
}

/// The warnings of one validation: duplicates dropped (as the apiserver drops them), at most
/// [`MAX_WARNINGS`] kept, the rest counted.
#[derive(Debug, Clone, Default)]
pub struct FirstWarnings {
    kept: Vec<String>,
    seen: std::collections::HashSet<String>,
    more: usize,
}

impl FirstWarnings {
    /// Whether another warning would be kept (callers skip formatting one that would not).
    pub fn full(&self) -> bool {
        self.kept.len() >= MAX_WARNINGS
    }

    pub fn push(&mut self, w: String) {
        if self.full() {
            self.more += 1;
        } else if self.seen.insert(w.clone()) {
            self.kept.push(w);
        }
    }

    /// Counts a warning that was not formatted because the list is full.
    pub fn count_one(&mut self) {
        self.more += 1;
    }

    pub fn finish(self) -> (Vec<String>, usize) {
        (self.kept, self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_errors_by_path_and_counts_the_rest() {
        let mut f = FirstErrors::default();
        for i in (0..1000).rev() {
            f.push(FieldError::required(format!("spec.l[{i:04}]"), ""));
        }
        f.push(FieldError::invalid("spec.l[0000]", "x", "second on the same path"));
        let (kept, more) = f.finish();
        assert_eq!(kept.len(), MAX_CAUSES);
        assert_eq!(more, 1001 - MAX_CAUSES);
        assert_eq!(kept[0].field, "spec.l[0000]");
        assert_eq!(kept[0].detail, "");
        assert_eq!(kept[1].detail, "second on the same path");
        assert_eq!(kept[99].field, "spec.l[0098]");
    }

    #[test]
    fn warnings_are_deduplicated_and_capped() {
        let mut w = FirstWarnings::default();
        for i in 0..250 {
            w.push(format!("w{}", i % 150));
        }
        let (kept, more) = w.finish();
        assert_eq!(kept.len(), MAX_WARNINGS);
        // 50 new ones and 100 repeats arrived after the list was full: counted, not compared.
        assert_eq!(more, 150);
        assert_eq!(
            cli_warnings(&kept, more).last().map(String::as_str),
            Some("… and 150 more warnings")
        );
        let webhook = webhook_warnings(&kept, more);
        assert_eq!(webhook.len(), WEBHOOK_MAX_WARNINGS + 1);
        assert_eq!(webhook[WEBHOOK_MAX_WARNINGS], "… and 235 more warnings");
        let total: usize = webhook.iter().map(|w| w.chars().count()).sum();
        assert!(total <= APISERVER_WARNING_TOTAL_RUNES);
    }

    #[test]
    fn webhook_warnings_fit_the_apiservers_item_limit() {
        let long = "é".repeat(1000);
        let out = webhook_warnings(std::slice::from_ref(&long), 0);
        assert_eq!(out[0].chars().count(), APISERVER_WARNING_ITEM_RUNES);
        assert!(out[0].ends_with("é..."));
        assert_eq!(cli_warnings(std::slice::from_ref(&long), 0), [long]);
        assert_eq!(clip("short", 256), "short");
        assert_eq!(more_warnings_text(1), "… and 1 more warning");
        assert_eq!(echoed("osm-mesh-config"), "osm-mesh-config");
        assert_eq!(shown_field("data.egress"), "data.egress");
        let long = format!("data.{}", "k".repeat(5000));
        assert_eq!(shown_field(&long).len(), MAX_FIELD_BYTES);
        assert!(shown_field(&long).ends_with("k..."));
        assert_eq!(echoed(&"n".repeat(MAX_ECHOED_VALUE_BYTES + 1)), VALUE_OMITTED);
    }
}
