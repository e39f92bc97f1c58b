//! Building blocks of CEL text: literals, messages rendered by `crate::field`, and the guarded
//! conversions (`duration()`, `quantity()`, `cidr()`) the rules share.

use crate::field::{BadValue, FieldError};

/// A CEL string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL list of string literals.
pub fn list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("[{}]", items.join(", "))
}

/// Marks the place of the n-th CEL expression inside a message rendered by `crate::field`.
pub fn slot(n: usize) -> String {
    format!("@@{n}@@")
}

/// A `messageExpression` for `error`, rendered by the one field-error renderer, with slot `n`
/// replaced by the CEL expression `exprs[n]` (a string): so the policy words its messages exactly
/// as the webhook's `FieldError` does.
pub fn message(error: &FieldError, exprs: &[String]) -> String {
    let rendered = error.to_string();
    let mut parts: Vec<String> = Vec::new();
    let mut rest = rendered.as_str();
    while let Some(start) = rest.find("@@") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("@@") else { break };
        let Some(expr) = after[..end].parse::<usize>().ok().and_then(|n| exprs.get(n)) else {
            break;
        };
        if start > 0 {
            parts.push(lit(&rest[..start]));
        }
        parts.push(format!("({expr})"));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(lit(rest));
    }
    parts.join(" + ")
}

/// The bad value of a string field, quoted as `strconv.Quote` would for printable text.
pub fn quoted(v: &str) -> String {
    format!("strings.quote({v})")
}

/// A bad value placed by slot `n` (printed as is: the slot's expression does the quoting).
pub fn value_slot(n: usize) -> BadValue {
    BadValue::Go(slot(n))
}

// ---- Go durations

/// Go's duration units with their length in nanoseconds (`time.unitMap`).
const UNITS: [(&str, &str); 8] = [
    ("ns", "1.0"),
    ("us", "1e3"),
    ("\u{b5}s", "1e3"),
    ("\u{3bc}s", "1e3"),
    ("ms", "1e6"),
    ("s", "1e9"),
    ("m", "6e10"),
    ("h", "3.6e12"),
];
/// One `[0-9]*(\.[0-9]*)?unit` element as Go's `ParseDuration` tokenises it.
const ELEMENT: &str = "[0-9]*(\\.[0-9]*)?[^0-9.]*";
/// The number of an element.
const NUMBER: &str = "^[0-9]*(\\.[0-9]*)?";
/// A number with at least one digit.
const DIGITS: &str = "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)";
/// Below this many nanoseconds (as a double) a grammatical duration cannot overflow Go's int64;
/// the gap to 2^63 (0.2 %) keeps float rounding on the safe side.
const NO_OVERFLOW_NS: &str = "9.2e18";

fn unit_alternation() -> String {
    let units: Vec<&str> = UNITS.iter().map(|(u, _)| *u).collect();
    format!("({})", units.join("|"))
}

fn unit_map() -> String {
    let entries: Vec<String> = UNITS.iter().map(|(u, ns)| format!("{}: {ns}", lit(u))).collect();
    format!("{{{}}}", entries.join(", "))
}

/// `s` without Go's optional leading sign.
pub fn unsigned(s: &str) -> String {
    format!("{s}.startsWith('-') || {s}.startsWith('+') ? {s}.substring(1) : {s}")
}

/// The elements of an unsigned duration `body`, as Go's `ParseDuration` tokenises it.
pub fn duration_elements(body: &str) -> String {
    format!("{body}.findAll({})", lit(ELEMENT))
}

/// True when the duration whose unsigned text is `body` (with `elements`) parses with Go's
/// `time.ParseDuration`. Guards `duration()`: cel-go converts with that same function, so
/// afterwards the conversion cannot fail.
pub fn is_go_duration(body: &str, elements: &str) -> String {
    let good = format!("^({}{})+$", &DIGITS[1..], unit_alternation());
    format!(
        "{body} == '0' || ({body}.matches({good}) && {elements}.map(e, double(e.find({number})) * {units}[e.substring(size(e.find({number})))]).sum() < {limit})",
        good = lit(&good),
        number = lit(NUMBER),
        units = unit_map(),
        limit = NO_OVERFLOW_NS,
    )
}

/// The first element of `elements` that is not a number with a known unit.
pub fn first_bad_element(elements: &str) -> String {
    format!(
        "{elements}.filter(e, !e.matches({}))",
        lit(&format!("^{}{}$", &DIGITS[1..], unit_alternation()))
    )
}

/// Go's `ParseDuration` error for the string `s` that [`is_go_duration`] rejects, given its
/// unsigned `body` and the list `bad` of [`first_bad_element`]: the first element without digits
/// is `invalid`, without unit `missing unit`, with another unit `unknown unit`.
pub fn go_duration_error(s: &str, body: &str, bad: &str) -> String {
    let invalid = format!("'time: invalid duration ' + {}", quoted(s));
    format!(
        "{body} == '' || size({bad}) == 0 || !{bad}[0].matches({digits}) ? {invalid} : {bad}[0].matches('^[0-9.]*$') ? 'time: missing unit in duration ' + {q} : 'time: unknown unit ' + strings.quote({bad}[0].find('[^0-9.]+')) + ' in duration ' + {q}",
        digits = lit(DIGITS),
        q = quoted(s),
    )
}

/// A CEL duration literal for `ns` (Go's `Duration.String`, which CEL's `duration()` reads).
pub fn duration_literal(ns: i64) -> String {
    format!("duration({})", lit(&crate::validate::duration::format(ns)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(list(&["a", "b"]), "['a', 'b']");
    }

    #[test]
    fn messages_are_rendered_by_the_field_module() {
        let e = FieldError::invalid("spec.a", value_slot(0), slot(1));
        assert_eq!(
            message(&e, &[quoted("v"), "'bad'".into()]),
            "'spec.a: Invalid value: ' + (strings.quote(v)) + ': ' + ('bad')"
        );
        let r = FieldError::required("spec.b", "required when enable is true");
        assert_eq!(
            message(&r, &[]),
            "'spec.b: Required value: required when enable is true'"
        );
    }

    #[test]
    fn the_duration_grammar_names_every_go_unit() {
        let g = is_go_duration("b", "e");
        for u in ["ns", "us", "\u{b5}s", "\u{3bc}s", "ms", "|s|", "|m|", "h"] {
            assert!(g.contains(u), "{u} missing from {g}");
        }
        assert_eq!(duration_literal(120_000_000_000), "duration('2m0s')");
    }
}
