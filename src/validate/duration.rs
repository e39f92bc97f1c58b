//! Go's `time.ParseDuration` and `time.Duration.String`, ported byte for byte.
//!
//! OSM's controller is written in Go and reads MeshConfig durations with
//! `time.ParseDuration`, so the webhook must accept exactly what Go accepts and
//! fail with the same text. Ported from golang/go (BSD-style licence):
//! `src/time/format.go` (`ParseDuration`, `leadingInt`, `leadingFraction`,
//! `unitMap`, `quote`) and `src/time/time.go` (`Duration.String`, `fmtFrac`).
//! Go works on bytes and on `uint64` with wrap-around, so this port does too.

use std::fmt::Write as _;

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1000 * NANOSECOND;
const MILLISECOND: u64 = 1000 * MICROSECOND;
const SECOND: u64 = 1000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// Go's `1<<63`: the magnitude of `i64::MIN`, the bound of every overflow check.
const ONE_SHL_63: u64 = 1 << 63;

/// Parses `s` as Go's `time.ParseDuration` does. Ok = nanoseconds. Err = Go's error text exactly,
/// e.g. `time: unknown unit "x" in duration "24x"`, `time: invalid duration "abc"`,
/// `time: missing unit in duration "1"`, `time: invalid duration "9223372036854775808ns"` (overflow).
pub fn parse(s: &str) -> Result<i64, String> {
    parse_bytes(s.as_bytes())
}

/// Go's `Duration.String()`: "2m0s", "1h0m0s", "1.5s", "500ms", "0s", "-5m0s", "1µs" (U+00B5).
pub fn format(ns: i64) -> String {
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u < SECOND {
        // Under a second Go switches to a smaller unit so the leading digit is non-zero.
        let (prec, unit) = if u == 0 {
            return "0s".to_owned();
        } else if u < MICROSECOND {
            (0, "ns")
        } else if u < MILLISECOND {
            (3, "\u{b5}s")
        } else {
            (6, "ms")
        };
        let (frac, int) = fmt_frac(u, prec);
        let _ = write!(out, "{int}{frac}{unit}");
    } else {
        let (frac, secs) = fmt_frac(u, 9);
        let mins = secs / 60;
        if mins > 0 {
            // Go stops at hours because days can be different lengths.
            let hours = mins / 60;
            if hours > 0 {
                let _ = write!(out, "{hours}h");
            }
            let _ = write!(out, "{}m", mins % 60);
        }
        let _ = write!(out, "{}{frac}s", secs % 60);
    }
    out
}

/// Go's `fmtFrac`: the fraction of `v / 10^prec` as ".123" with trailing zeros
/// (and then the dot) omitted, and `v / 10^prec`.
fn fmt_frac(mut v: u64, prec: u32) -> (String, u64) {
    let mut rev = Vec::with_capacity(10);
    let mut print = false;
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            // digit < 10, so the cast is exact.
            rev.push(char::from(b'0' + digit as u8));
        }
        v /= 10;
    }
    if print {
        rev.push('.');
    }
    (rev.iter().rev().collect(), v)
}

fn invalid(orig: &[u8]) -> String {
    format!("time: invalid duration {}", quote(orig))
}

/// The body of `ParseDuration` over raw bytes, as Go's string is; `parse` can
/// only pass UTF-8, but Go's own tests feed invalid bytes, so these run here too.
fn parse_bytes(orig: &[u8]) -> Result<i64, String> {
    // [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
    let mut s = orig;
    let mut d: u64 = 0;
    let mut neg = false;

    if let Some((&c, rest)) = s.split_first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = rest;
    }
    // Special case: if all that is left is "0", this is zero.
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid(orig));
    }
    while let Some(&first) = s.first() {
        // The next character must be [0-9.]
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid(orig));
        }
        // Consume [0-9]*
        let pl = s.len();
        let Some((mut v, rest)) = leading_int(s) else {
            return Err(invalid(orig));
        };
        s = rest;
        let pre = pl != s.len();

        // Consume (\.[0-9]*)?
        let (mut f, mut scale, mut post) = (0u64, 1.0f64, false);
        if let Some((&b'.', rest)) = s.split_first() {
            let pl = rest.len();
            let (x, sc, rest) = leading_fraction(rest);
            (f, scale, s) = (x, sc, rest);
            post = pl != s.len();
        }
        if !pre && !post {
            // no digits (e.g. ".s" or "-.s")
            return Err(invalid(orig));
        }

        // Consume unit: everything up to the next '.' or digit.
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let (u, rest) = s.split_at(i);
        s = rest;
        let Some(unit) = unit_nanos(u) else {
            return Err(format!("time: unknown unit {} in duration {}", quote(u), quote(orig)));
        };
        if v > ONE_SHL_63 / unit {
            return Err(invalid(orig));
        }
        v = v.wrapping_mul(unit);
        if f > 0 {
            // Go uses float64 so fractions of hours stay nanosecond accurate;
            // the product is below `unit`, so the cast cannot saturate.
            v = v.wrapping_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > ONE_SHL_63 {
                return Err(invalid(orig));
            }
        }
        // Go adds in uint64 and checks afterwards, so 1<<63 + 1<<63 wraps to 0
        // and is accepted; kept so we agree with the Go controller.
        d = d.wrapping_add(v);
        if d > ONE_SHL_63 {
            return Err(invalid(orig));
        }
    }
    if neg {
        // -Duration(d): d == 1<<63 is i64::MIN, whose negation is itself.
        return Ok((d as i64).wrapping_neg());
    }
    if d > ONE_SHL_63 - 1 {
        return Err(invalid(orig));
    }
    Ok(d as i64)
}

/// Go's `unitMap`.
fn unit_nanos(u: &[u8]) -> Option<u64> {
    match u {
        b"ns" => Some(NANOSECOND),
        // "µs" (U+00B5 micro sign) and "μs" (U+03BC Greek mu) as UTF-8.
        b"us" | [0xc2, 0xb5, b's'] | [0xce, 0xbc, b's'] => Some(MICROSECOND),
        b"ms" => Some(MILLISECOND),
        b"s" => Some(SECOND),
        b"m" => Some(MINUTE),
        b"h" => Some(HOUR),
        _ => None,
    }
}

/// Go's `leadingInt`: consumes the leading [0-9]*; None on overflow past 1<<63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        if x > ONE_SHL_63 / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > ONE_SHL_63 {
            return None;
        }
        i += 1;
    }
    Some((x, s.split_at(i).1))
}

/// Go's `leadingFraction`: consumes the leading [0-9]*, silently dropping
/// precision once the value would pass 1<<63.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1.0f64;
    let mut overflow = false;
    let mut i = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        i += 1;
        if overflow {
            continue;
        }
        if x > (ONE_SHL_63 - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > ONE_SHL_63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, s.split_at(i).1)
}

/// The time package's own `quote` (not strconv.Quote): `"` and `\` get a
/// backslash, and control bytes and every byte of a non-ASCII rune become
/// `\xNN`. Go walks runes, but any byte >= 0x80 is either part of a multi-byte
/// rune (all of whose bytes are escaped) or an invalid byte (escaped alone),
/// so escaping per byte gives the same text.
fn quote(s: &[u8]) -> String {
    const LOWERHEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        if !(b' '..0x80).contains(&b) {
            out.push_str("\\x");
            out.push(char::from(LOWERHEX[usize::from(b >> 4)]));
            out.push(char::from(LOWERHEX[usize::from(b & 0xf)]));
        } else {
            if b == b'"' || b == b'\\' {
                out.push('\\');
            }
            out.push(char::from(b));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i64 = 1;
    const US: i64 = 1000 * NS;
    const MS: i64 = 1000 * US;
    const SEC: i64 = 1000 * MS;
    const MIN: i64 = 60 * SEC;
    const HR: i64 = 60 * MIN;

    /// Go's `parseDurationTests` (src/time/time_test.go), every row.
    #[test]
    fn go_parse_duration_table() {
        let table: &[(&str, i64)] = &[
            // simple
            ("0", 0),
            ("5s", 5 * SEC),
            ("30s", 30 * SEC),
            ("1478s", 1478 * SEC),
            // sign
            ("-5s", -5 * SEC),
            ("+5s", 5 * SEC),
            ("-0", 0),
            ("+0", 0),
            // decimal
            ("5.0s", 5 * SEC),
            ("5.6s", 5 * SEC + 600 * MS),
            ("5.s", 5 * SEC),
            (".5s", 500 * MS),
            ("1.0s", SEC),
            ("1.00s", SEC),
            ("1.004s", SEC + 4 * MS),
            ("1.0040s", SEC + 4 * MS),
            ("100.00100s", 100 * SEC + MS),
            // different units
            ("10ns", 10 * NS),
            ("11us", 11 * US),
            ("12\u{b5}s", 12 * US),  // U+00B5
            ("12\u{3bc}s", 12 * US), // U+03BC
            ("13ms", 13 * MS),
            ("14s", 14 * SEC),
            ("15m", 15 * MIN),
            ("16h", 16 * HR),
            // composite durations
            ("3h30m", 3 * HR + 30 * MIN),
            ("10.5s4m", 4 * MIN + 10 * SEC + 500 * MS),
            ("-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)),
            ("1h2m3s4ms5us6ns", HR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS),
            ("39h9m14.425s", 39 * HR + 9 * MIN + 14 * SEC + 425 * MS),
            // large value
            ("52763797000ns", 52763797000 * NS),
            // more than 9 digits after decimal point, see https://golang.org/issue/6617
            ("0.3333333333333333333h", 20 * MIN),
            // 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
            ("9007199254740993ns", ((1 << 53) + 1) * NS),
            // largest duration that can be represented by int64 in nanoseconds
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            // largest negative value
            ("-9223372036854775808ns", i64::MIN),
            // largest negative round trip value, see https://golang.org/issue/48629
            ("-2562047h47m16.854775808s", i64::MIN),
            // huge string; issue 15011.
            ("0.100000000000000000000h", 6 * MIN),
            // This value tests the first overflow check in leadingFraction.
            ("0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS),
        ];
        for &(input, want) in table {
            assert_eq!(parse(input), Ok(want), "ParseDuration({input:?})");
        }
    }

    /// Go's `parseDurationErrorTests` (src/time/time_test.go), every row: Go
    /// checks the error contains `expect`; we also pin the whole text. The
    /// invalid-UTF-8 rows go through `parse_bytes`, as `&str` cannot hold them.
    #[test]
    fn go_parse_duration_error_table() {
        let invalid = |q: &str| format!("time: invalid duration {q}");
        let table: Vec<(&[u8], &str, String)> = vec![
            // invalid
            (b"", r#""""#, invalid(r#""""#)),
            (b"3", r#""3""#, r#"time: missing unit in duration "3""#.to_owned()),
            (b"-", r#""-""#, invalid(r#""-""#)),
            (b"s", r#""s""#, invalid(r#""s""#)),
            (b".", r#"".""#, invalid(r#"".""#)),
            (b"-.", r#""-.""#, invalid(r#""-.""#)),
            (b".s", r#"".s""#, invalid(r#"".s""#)),
            (b"+.s", r#""+.s""#, invalid(r#""+.s""#)),
            (
                b"1d",
                r#""1d""#,
                r#"time: unknown unit "d" in duration "1d""#.to_owned(),
            ),
            (b"\x85\x85", r#""\x85\x85""#, invalid(r#""\x85\x85""#)),
            (b"\xffff", r#""\xffff""#, invalid(r#""\xffff""#)),
            (
                b"hello \xffff world",
                r#""hello \xffff world""#,
                invalid(r#""hello \xffff world""#),
            ),
            // utf8.RuneError
            ("\u{FFFD}".as_bytes(), r#""\xef\xbf\xbd""#, invalid(r#""\xef\xbf\xbd""#)),
            (
                "\u{FFFD} hello \u{FFFD} world".as_bytes(),
                r#""\xef\xbf\xbd hello \xef\xbf\xbd world""#,
                invalid(r#""\xef\xbf\xbd hello \xef\xbf\xbd world""#),
            ),
            // overflow
            (
                b"9223372036854775810ns",
                r#""9223372036854775810ns""#,
                invalid(r#""9223372036854775810ns""#),
            ),
            (
                b"9223372036854775808ns",
                r#""9223372036854775808ns""#,
                invalid(r#""9223372036854775808ns""#),
            ),
            (
                b"-9223372036854775809ns",
                r#""-9223372036854775809ns""#,
                invalid(r#""-9223372036854775809ns""#),
            ),
            (
                b"9223372036854776us",
                r#""9223372036854776us""#,
                invalid(r#""9223372036854776us""#),
            ),
            (b"3000000h", r#""3000000h""#, invalid(r#""3000000h""#)),
            (
                b"9223372036854775.808us",
                r#""9223372036854775.808us""#,
                invalid(r#""9223372036854775.808us""#),
            ),
            (
                b"9223372036854ms775us808ns",
                r#""9223372036854ms775us808ns""#,
                invalid(r#""9223372036854ms775us808ns""#),
            ),
        ];
        for (input, expect, full) in table {
            let err = match parse_bytes(input) {
                Ok(d) => panic!("ParseDuration({input:?}) = {d}, want an error"),
                Err(e) => e,
            };
            assert!(
                err.contains(expect),
                "ParseDuration({input:?}) = {err:?}, does not contain {expect:?}"
            );
            assert_eq!(err, full, "ParseDuration({input:?})");
            // The valid-UTF-8 rows must fail the same way through the public API.
            if let Ok(s) = std::str::from_utf8(input) {
                assert_eq!(parse(s), Err(full));
            }
        }
    }

    /// Go's `durationTests` (src/time/time_test.go) for `Duration.String`,
    /// including its check that a positive row negated prints with a '-'.
    #[test]
    fn go_duration_string_table() {
        let table: &[(&str, i64)] = &[
            ("0s", 0),
            ("1ns", NS),
            ("1.1\u{b5}s", 1100 * NS),
            ("2.2ms", 2200 * US),
            ("3.3s", 3300 * MS),
            ("4m5s", 4 * MIN + 5 * SEC),
            ("4m5.001s", 4 * MIN + 5001 * MS),
            ("5h6m7.001s", 5 * HR + 6 * MIN + 7001 * MS),
            ("8m0.000000001s", 8 * MIN + NS),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
        ];
        for &(want, d) in table {
            assert_eq!(format(d), want, "Duration({d}).String()");
            if d > 0 {
                assert_eq!(format(-d), format!("-{want}"), "Duration({}).String()", -d);
            }
        }
    }

    /// Go's `TestParseDurationRoundTrip`: the extremes (golang.org/issue/48629),
    /// then 100 whole-millisecond values (Go draws them from rand.Int31; a
    /// fixed xorshift keeps this deterministic).
    #[test]
    fn go_parse_duration_round_trip() {
        for d in [i64::MAX, i64::MIN] {
            assert_eq!(parse(&format(d)), Ok(d), "{d}");
        }
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..100 {
            let d0 = i64::from(rng.next_u32() >> 1) * MS;
            let s = format(d0);
            assert_eq!(parse(&s), Ok(d0), "{d0} => {s:?}");
        }
    }

    #[test]
    fn brief_examples() {
        assert_eq!(format(2 * MIN), "2m0s");
        assert_eq!(format(HR), "1h0m0s");
        assert_eq!(format(1500 * MS), "1.5s");
        assert_eq!(format(500 * MS), "500ms");
        assert_eq!(format(-5 * MIN), "-5m0s");
        assert_eq!(format(US), "1\u{b5}s");
        assert_eq!(format(0), "0s");
        assert_eq!(
            parse("24x"),
            Err(r#"time: unknown unit "x" in duration "24x""#.to_owned())
        );
        assert_eq!(parse("abc"), Err(r#"time: invalid duration "abc""#.to_owned()));
        assert_eq!(parse("1"), Err(r#"time: missing unit in duration "1""#.to_owned()));
        assert_eq!(parse("1.5h"), Ok(90 * MIN));
        assert_eq!(parse("2h45m"), Ok(2 * HR + 45 * MIN));
        assert_eq!(parse("-1.5h"), Ok(-90 * MIN));
        assert_eq!(parse("300ms"), Ok(300 * MS));
    }

    #[test]
    fn errors_quote_like_the_time_package() {
        // The crate go-parse-duration panics on "5µs"; Go accepts it.
        assert_eq!(parse("5\u{b5}s"), Ok(5 * US));
        assert_eq!(
            parse("5\u{b5}x"),
            Err(r#"time: unknown unit "\xc2\xb5x" in duration "5\xc2\xb5x""#.to_owned())
        );
        // Go's unit is everything up to the next digit or '.', spaces included.
        assert_eq!(
            parse("1 s"),
            Err(r#"time: unknown unit " s" in duration "1 s""#.to_owned())
        );
        assert_eq!(
            parse("1S"),
            Err(r#"time: unknown unit "S" in duration "1S""#.to_owned())
        );
        // `"` and `\` are backslashed, controls are \xNN, DEL passes through.
        assert_eq!(
            parse("1\"\\\n\t\x7f"),
            Err("time: unknown unit \"\\\"\\\\\\x0a\\x09\x7f\" in duration \"1\\\"\\\\\\x0a\\x09\x7f\"".to_owned())
        );
        assert_eq!(parse(" 1s"), Err(r#"time: invalid duration " 1s""#.to_owned()));
        assert_eq!(
            parse("1s "),
            Err(r#"time: unknown unit "s " in duration "1s ""#.to_owned())
        );
    }

    #[test]
    fn go_edge_cases() {
        // Only a bare 0 may omit the unit.
        assert_eq!(parse("00"), Err(r#"time: missing unit in duration "00""#.to_owned()));
        assert_eq!(parse("0s"), Ok(0));
        assert_eq!(parse("-0s"), Ok(0));
        assert_eq!(parse("+-1s"), Err(r#"time: invalid duration "+-1s""#.to_owned()));
        // The unit runs to the next digit or '.', so a later sign joins it.
        assert_eq!(
            parse("1s-1s"),
            Err(r#"time: unknown unit "s-" in duration "1s-1s""#.to_owned())
        );
        assert_eq!(parse("1.s2.m"), Ok(SEC + 2 * MIN));
        assert_eq!(
            parse("1.5.5s"),
            Err(r#"time: missing unit in duration "1.5.5s""#.to_owned())
        );
        // Units may repeat and come in any order.
        assert_eq!(parse("1s1s1h"), Ok(2 * SEC + HR));
        // Fractions below a nanosecond are truncated, as Go's float-to-uint cast does.
        assert_eq!(parse("1.9ns"), Ok(1));
        assert_eq!(parse("0.0000000001s"), Ok(0));
        // Leading zeros never overflow leadingInt.
        assert_eq!(parse("0000000000000000000000001s"), Ok(SEC));
        // Go sums in uint64 and only checks d > 1<<63 afterwards, so two halves
        // of 2^64 wrap to 0 and are accepted (a quirk kept for agreement).
        assert_eq!(parse("9223372036854775808ns9223372036854775808ns"), Ok(0));
        assert_eq!(parse("9223372036854775808ns9223372036854775808ns5s"), Ok(5 * SEC));
        assert_eq!(
            parse("9223372036854775808ns1ns"),
            Err(r#"time: invalid duration "9223372036854775808ns1ns""#.to_owned())
        );
    }

    /// Deterministic xorshift64 so the property tests need no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn next_u32(&mut self) -> u32 {
            u32::try_from(self.next_u64() >> 32).unwrap_or(0)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
        }
    }

    /// Pieces that steer generated strings into the parser's corners.
    const PIECES: &[&str] = &[
        "0",
        "1",
        "9",
        "5",
        "00",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "3000000",
        ".",
        "..",
        "-",
        "+",
        "ns",
        "us",
        "\u{b5}s",
        "\u{3bc}s",
        "ms",
        "s",
        "m",
        "h",
        "d",
        "\u{b5}",
        "\u{3bc}",
        "\u{FFFD}",
        " ",
        "\"",
        "\\",
        "\n",
        "x",
        "123456789012345678901234567890",
        ".000000001",
        ".999999999",
    ];

    /// Never panics, and every Ok parses back from its Go formatting, on
    /// strings built from parser-relevant pieces and on raw random bytes.
    #[test]
    fn no_panic_on_generated_inputs() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut oks = 0;
        for _ in 0..200_000 {
            let mut s = String::new();
            for _ in 0..rng.below(8) {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
            if let Ok(d) = parse(&s) {
                oks += 1;
                assert_eq!(parse(&format(d)), Ok(d), "{s:?} -> {d}");
            }
        }
        assert!(oks > 1000, "generator too weak: {oks} valid inputs");

        for _ in 0..100_000 {
            let len = rng.below(12);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64().to_le_bytes()[0]).collect();
            if let Err(e) = parse_bytes(&bytes) {
                assert!(e.starts_with("time: "), "{e}");
                assert!(e.is_ascii(), "{e:?}");
            }
        }
    }

    /// `format` then `parse` is the identity over the whole i64 range.
    #[test]
    fn format_parse_round_trip_over_i64() {
        let mut rng = XorShift(0xdead_beef_cafe_f00d);
        let fixed = [
            0,
            1,
            -1,
            999,
            1000,
            999_999,
            1_000_000,
            SEC - 1,
            SEC,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        for d in fixed.into_iter().chain((0..100_000).map(|_| {
            // Spread magnitudes: shift a random value right by a random amount.
            let v = rng.next_u64() >> rng.below(64);
            v as i64
        })) {
            let s = format(d);
            assert_eq!(parse(&s), Ok(d), "{d} => {s:?}");
        }
    }
}
