//! Name, host, IP and interface-name validators.
//!
//! The DNS-1123 and IP checks are ports of k8s.io/apimachinery
//! `pkg/util/validation` (`validation.go`, `ip.go`); every returned string is
//! the *detail* of a `field.Invalid` error, worded byte for byte as upstream.
//! The regexes are replaced by hand-written byte matchers (this runs per
//! admission request), but the regex source is still quoted in the messages
//! because upstream's `RegexError` does so.
//!
//! An empty `Vec` means the value is valid.

/// Upstream `DNS1123LabelMaxLength`.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Upstream `DNS1123SubdomainMaxLength`.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Linux `IFNAMSIZ - 1`: the longest interface name the kernel accepts.
pub const INTERFACE_NAME_MAX_LENGTH: usize = 15;

pub const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";

// Upstream builds this as dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*".
pub const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

// Upstream: "\\*\\." + dns1123SubdomainFmt.
pub const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

/// Upstream `IsValidIP` detail (k8s.io/apimachinery `ip.go`).
pub const INVALID_IP_MSG: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// Upstream `MaxLenError`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Upstream `EmptyError`.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// Upstream `RegexError`, including its quirk of a comma before every " or "
/// (`(e.g. 'my-name',  or '123-abc', regex used ...)`).
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = String::with_capacity(msg.len() + fmt.len() + 64);
    out.push_str(msg);
    out.push_str(" (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(ex);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// Matches `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` (no length limit, as the regex).
fn is_label(b: &[u8]) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => alnum(first) && alnum(last) && b.iter().all(|&c| alnum(c) || c == b'-'),
        _ => false,
    }
}

/// Matches upstream's `dns1123SubdomainRegexp`: dot-separated labels.
fn is_subdomain(b: &[u8]) -> bool {
    // `split` yields an empty piece for leading, trailing or doubled dots,
    // which `is_label` rejects, exactly like the regex.
    b.split(|&c| c == b'.').all(is_label)
}

/// `IsDNS1123Label`: a lowercase RFC 1123 label of at most 63 characters.
pub fn dns1123_label_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    let b = v.as_bytes();
    if !is_label(b) {
        if is_subdomain(b) {
            // A valid subdomain but not a label: since the regexes share
            // everything else, the problem must be the dots (as upstream).
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`: a lowercase RFC 1123 subdomain of at most 253
/// characters.
pub fn dns1123_subdomain_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !is_subdomain(v.as_bytes()) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsWildcardDNS1123Subdomain`: `*.` followed by a DNS-1123 subdomain; the
/// 253-character limit applies to the whole value, as upstream.
pub fn wildcard_dns1123_subdomain_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = v.as_bytes().strip_prefix(b"*.").is_some_and(is_subdomain);
    if !ok {
        errs.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errs
}

/// `IsValidIP`: accepts what k8s.io/utils `netutils.ParseIPSloppy` accepts
/// (Go's pre-1.17 `net.ParseIP`: IPv4 octets may carry leading zeros, read as
/// decimal; IPv6 with optional trailing dotted IPv4; no zones).
pub fn ip_errors(v: &str) -> Vec<String> {
    if parse_ip_sloppy(v).is_some() {
        Vec::new()
    } else {
        vec![INVALID_IP_MSG.to_string()]
    }
}

/// A host for a gRPC `address:port` target or a collector address: an IP
/// address (as `IsValidIP`) or a DNS-1123 subdomain.
///
/// Wording: values that look like an attempted IP literal get upstream's
/// `IsValidIP` detail: an all-digit last label (e.g. `10.0.0.256`, which the
/// subdomain regex would otherwise accept although no DNS name can end in a
/// number), or a ':' with only hex digits, ':' and '.' before an optional
/// `%zone` (e.g. `fe80::1%eth0`, `1::2::3`). Everything else gets
/// `IsDNS1123Subdomain`'s details (so `host:8080` is told which characters
/// are allowed).
pub fn host_errors(v: &str) -> Vec<String> {
    if parse_ip_sloppy(v).is_some() {
        return Vec::new();
    }
    let b = v.as_bytes();
    let last_label = b.rsplit(|&c| c == b'.').next().unwrap_or_default();
    // IPv6-ish: a ':' and only hex digits, ':' and '.' before any '%zone'.
    let before_zone = b.split(|&c| c == b'%').next().unwrap_or_default();
    let ipv6_like = b.contains(&b':')
        && before_zone
            .iter()
            .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
    let ipv4_like = !last_label.is_empty() && last_label.iter().all(u8::is_ascii_digit);
    let looks_like_ip = ipv6_like || ipv4_like;
    if looks_like_ip {
        return vec![INVALID_IP_MSG.to_string()];
    }
    dns1123_subdomain_errors(v)
}

/// ASCII whitespace (the kernel's `isspace()`), as the body of a regular-expression character
/// class (for the admission policy): it splits OSM's iptables rule into other arguments.
pub const INTERFACE_SPLITS: &str = " \\t\\n\\x0b\\x0c\\r";
/// What `/bin/sh` (the init container runs its rules through an unquoted here-document) or
/// `iptables-restore`'s tokenizer reads specially: `"`, `$`, `` ` `` and a backslash before a
/// backslash (the others are denied already). A regular expression, for the admission policy.
pub const INTERFACE_SHELL_RE: &str = "[\"$`]|\\\\\\\\";
/// Bytes the kernel refuses in an interface name that iptables takes as they are: a rule with
/// them never matches (a warning, not a denial), as the body of a character class.
pub const INTERFACE_KERNEL_ONLY: &str = "/:";
pub const INTERFACE_SPLITS_MSG: &str = "must not contain whitespace: it splits OSM's iptables rule";
pub const INTERFACE_SHELL_MSG: &str = "must not contain '\"', '$', '`' or two backslashes: OSM's init container passes \
its iptables rules through /bin/sh and iptables-restore, which read them specially";
pub const INTERFACE_NUL_MSG: &str = "must not contain NUL bytes";
/// The warning for a name iptables installs but no interface can have.
pub const INTERFACE_NEVER_MATCHES: &str =
    "no network interface can be named so (the kernel refuses '.', '..', '/' and ':'): the rule never matches";

pub fn interface_too_long_error() -> String {
    format!("must be no more than {INTERFACE_NAME_MAX_LENGTH} bytes")
}

/// A network interface name OSM writes into the init container's iptables rules (`-i`/`-o`),
/// judged by what those rules do (`tests/osm_consumer.rs` runs them): 1 to IFNAMSIZ-1 = 15
/// bytes, no ASCII whitespace (it splits the rule), and nothing `/bin/sh` or `iptables-restore`
/// reads specially. A trailing '+' is iptables' prefix wildcard (`eth+`) and needs no case.
/// Kubernetes has no such validator; messages follow apimachinery's style.
pub fn interface_name_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.is_empty() {
        errs.push(empty_error());
        return errs;
    }
    if v.len() > INTERFACE_NAME_MAX_LENGTH {
        errs.push(interface_too_long_error());
    }
    if v.bytes()
        .any(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        errs.push(INTERFACE_SPLITS_MSG.to_string());
    }
    if v.bytes().any(|c| matches!(c, b'"' | b'$' | b'`')) || v.contains("\\\\") {
        errs.push(INTERFACE_SHELL_MSG.to_string());
    }
    if v.bytes().any(|c| c == 0) {
        errs.push(INTERFACE_NUL_MSG.to_string());
    }
    errs
}

/// Whether iptables installs a rule for the name that can never match (a warning).
pub fn interface_never_matches(v: &str) -> bool {
    matches!(v, "." | "..") || v.bytes().any(|c| matches!(c, b'/' | b':'))
}

// ---------------------------------------------------------------------------
// Port of k8s.io/utils/net ParseIPSloppy (forked Go 1.16 net.ParseIP).
// ---------------------------------------------------------------------------

/// Go's `big`: bigger than any valid field, small enough not to overflow.
const BIG: u32 = 0x00FF_FFFF;

/// Go's `dtoi`: decimal prefix of `s` → (value, bytes consumed, ok).
fn dtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        n = n * 10 + u32::from(c - b'0');
        if n >= BIG {
            return (BIG, i, false);
        }
        i += 1;
    }
    if i == 0 {
        return (0, 0, false);
    }
    (n, i, true)
}

/// Go's `xtoi`: hexadecimal prefix of `s` → (value, bytes consumed, ok).
fn xtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        n = n * 16 + u32::from(d);
        if n >= BIG {
            return (0, i, false);
        }
        i += 1;
    }
    if i == 0 {
        return (0, 0, false);
    }
    (n, i, true)
}

/// Sloppy dotted-quad parse: leading zeros allowed (decimal, not octal).
fn parse_ipv4_sloppy(mut s: &[u8]) -> Option<[u8; 4]> {
    let mut p = [0u8; 4];
    for (i, octet) in p.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            s = s.strip_prefix(b".")?;
        }
        let (n, c, ok) = dtoi(s);
        if !ok || n > 0xFF {
            return None;
        }
        s = s.get(c..)?;
        *octet = u8::try_from(n).ok()?;
    }
    s.is_empty().then_some(p)
}

/// Go 1.16 `parseIPv6` (no zone), with a sloppy embedded IPv4 tail.
fn parse_ipv6(mut s: &[u8]) -> Option<[u8; 16]> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;

    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(ip);
        }
    }

    let mut i = 0usize;
    while i < 16 {
        let (n, c, ok) = xtoi(s);
        if !ok || n > 0xFFFF {
            return None;
        }
        // Followed by a dot: this may be the trailing IPv4 part.
        if s.get(c) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                return None;
            }
            if i + 4 > 16 {
                return None;
            }
            let ip4 = parse_ipv4_sloppy(s)?;
            ip[i..i + 4].copy_from_slice(&ip4);
            s = &[];
            i += 4;
            break;
        }
        let [hi, lo] = u16::try_from(n).ok()?.to_be_bytes();
        ip[i] = hi;
        ip[i + 1] = lo;
        i += 2;

        s = s.get(c..)?;
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }

    if !s.is_empty() {
        return None;
    }

    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        // Shift the groups after the ellipsis to the end, zero the gap.
        ip.copy_within(e..i, e + n);
        ip[e..e + n].fill(0);
    } else if ellipsis.is_some() {
        // An ellipsis must stand for at least one zero group.
        return None;
    }
    Some(ip)
}

/// `netutils.ParseIPSloppy`: the first '.' or ':' decides the family.
/// Returns the 16-byte form (IPv4 as IPv4-mapped), like Go.
pub(crate) fn parse_ip_sloppy(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    match b.iter().find(|&&c| c == b'.' || c == b':') {
        Some(b'.') => parse_ipv4_sloppy(b).map(|[a, b2, c, d]| [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b2, c, d]),
        Some(_) => parse_ipv6(b),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_character_classes_match_the_byte_rules() {
        let splits = regex::Regex::new(&format!("[{INTERFACE_SPLITS}]")).expect("compiles");
        let shell = regex::Regex::new(INTERFACE_SHELL_RE).expect("compiles");
        let kernel = regex::Regex::new(&format!("[{INTERFACE_KERNEL_ONLY}]")).expect("compiles");
        for b in 0u8..0x80 {
            for s in [char::from(b).to_string(), format!("{0}{0}", char::from(b))] {
                let name = format!("a{s}");
                let e = interface_name_errors(&name);
                assert_eq!(
                    splits.is_match(&s),
                    e.iter().any(|m| m == INTERFACE_SPLITS_MSG),
                    "{b:#x}"
                );
                assert_eq!(shell.is_match(&s), e.iter().any(|m| m == INTERFACE_SHELL_MSG), "{s:?}");
                assert_eq!(kernel.is_match(&s), interface_never_matches(&name), "{b:#x}");
            }
        }
    }

    #[test]
    fn interface_names_as_osm_s_init_container_reads_them() {
        for ok in [
            "eth0",
            "eth+",
            "veth1234567890a",
            "a\\b",
            "'eth0'",
            "!eth0",
            "é",
            "eth0.100",
        ] {
            assert_eq!(interface_name_errors(ok), Vec::<String>::new(), "{ok:?}");
            assert!(!interface_never_matches(ok), "{ok:?}");
        }
        for bad in ["eth$x", "a`b", "\"eth0\"", "a\\\\b", "eth 0", "veth1234567890ab", ""] {
            assert!(!interface_name_errors(bad).is_empty(), "{bad:?}");
        }
        for never in [".", "..", "a/b", "eth0:1"] {
            assert_eq!(interface_name_errors(never), Vec::<String>::new(), "{never:?}");
            assert!(interface_never_matches(never), "{never:?}");
        }
    }

    const LABEL_REGEX_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_REGEX_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const WILDCARD_REGEX_ERR: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn regex_error_formatting_matches_upstream() {
        assert_eq!(regex_error("m", "f", &[]), "m (regex used for validation is 'f')");
        assert_eq!(
            regex_error("m", "f", &["a"]),
            "m (e.g. 'a', regex used for validation is 'f')"
        );
        assert_eq!(
            regex_error("m", "f", &["a", "b", "c"]),
            "m (e.g. 'a',  or 'b',  or 'c', regex used for validation is 'f')"
        );
    }

    // Tables from upstream content/dns_test.go and validation_test.go.
    #[test]
    fn dns1123_label_good() {
        let long = "a".repeat(63);
        for v in [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
            &long,
        ] {
            assert!(dns1123_label_errors(v).is_empty(), "{v:?}");
        }
    }

    #[test]
    fn dns1123_label_bad() {
        let long = "a".repeat(64);
        for v in [
            "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1",
            "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", &long,
        ] {
            assert!(!dns1123_label_errors(v).is_empty(), "{v:?}");
        }
    }

    #[test]
    fn dns1123_label_messages() {
        assert_eq!(dns1123_label_errors("a.b"), vec!["must not contain dots"]);
        assert_eq!(dns1123_label_errors("A"), vec![LABEL_REGEX_ERR]);
        assert_eq!(dns1123_label_errors(""), vec![LABEL_REGEX_ERR]);
        assert_eq!(
            dns1123_label_errors(&"a".repeat(64)),
            vec!["must be no more than 63 characters"]
        );
        assert_eq!(
            dns1123_label_errors(&format!("{}-", "a".repeat(64))),
            vec!["must be no more than 63 characters", LABEL_REGEX_ERR]
        );
        // Too long *and* dotted: both, "dots" second (length checked first).
        let dotted = format!("{}.b", "a".repeat(63));
        assert_eq!(
            dns1123_label_errors(&dotted),
            vec!["must be no more than 63 characters", "must not contain dots"]
        );
    }

    #[test]
    fn dns1123_subdomain_good() {
        let long = "a".repeat(253);
        let long_labels = format!("{}.{}", "a".repeat(100), "b".repeat(100));
        for v in [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
            "a.a",
            "ab.a",
            "abc.a",
            "a1.a",
            "a-1.a",
            "a--1--2--b.a",
            "a.1",
            "ab.1",
            "abc.1",
            "a1.1",
            "a-1.1",
            "a--1--2--b.1",
            "0.a",
            "01.a",
            "012.a",
            "1a.a",
            "1-a.a",
            "0.1",
            "01.1",
            "012.1",
            "1a.1",
            "1-a.1",
            "1--a--b--2.1",
            "a.b.c.d.e",
            "aa.bb.cc.dd.ee",
            "1.2.3.4.5",
            "11.22.33.44.55",
            &long,
            &long_labels,
        ] {
            assert!(dns1123_subdomain_errors(v).is_empty(), "{v:?}");
        }
    }

    #[test]
    fn dns1123_subdomain_bad() {
        let long = "a".repeat(254);
        for v in [
            "",
            "A",
            "ABC",
            "aBc",
            "A1",
            "A-1",
            "1-A",
            "-",
            "a-",
            "-a",
            "1-",
            "-1",
            "_",
            "a_",
            "_a",
            "a_b",
            "1_",
            "_1",
            "1_2",
            ".",
            "a.",
            ".a",
            "a..b",
            "1.",
            ".1",
            "1..2",
            " ",
            "a ",
            " a",
            "a b",
            "1 ",
            " 1",
            "1 2",
            "A.a",
            "aB.a",
            "ab.A",
            "A1.a",
            "a1.A",
            "A.1",
            "aB.1",
            "A1.1",
            "1A.1",
            "0.A",
            "01.A",
            "012.A",
            "1A.a",
            "1a.A",
            "A.B.C.D.E",
            "AA.BB.CC.DD.EE",
            "a.B.c.d.e",
            "aa.bB.cc.dd.ee",
            "a@b",
            "a,b",
            "a;b",
            "a:b",
            "a%b",
            "a?b",
            "a$b",
            "a\n",
            "é",
            &long,
        ] {
            assert!(!dns1123_subdomain_errors(v).is_empty(), "{v:?}");
        }
    }

    #[test]
    fn dns1123_subdomain_messages() {
        assert_eq!(dns1123_subdomain_errors("a_b"), vec![SUBDOMAIN_REGEX_ERR]);
        assert_eq!(
            dns1123_subdomain_errors(&"a".repeat(254)),
            vec!["must be no more than 253 characters"]
        );
        assert_eq!(
            dns1123_subdomain_errors(&format!("{}-", "a".repeat(253))),
            vec!["must be no more than 253 characters", SUBDOMAIN_REGEX_ERR]
        );
    }

    #[test]
    fn wildcard_subdomain() {
        for v in ["*.example.com", "*.bar.com", "*.foo.bar.com", "*.a"] {
            assert!(wildcard_dns1123_subdomain_errors(v).is_empty(), "{v:?}");
        }
        for v in [
            "",
            "*",
            "*.",
            "*.*.bar.com",
            "*.foo.*.com",
            "*bar.com",
            "f*.bar.com",
            "bar.com",
            "*.Bar.com",
            "*..com",
            ".*.com",
        ] {
            assert_eq!(wildcard_dns1123_subdomain_errors(v), vec![WILDCARD_REGEX_ERR], "{v:?}");
        }
        let long = format!("*.{}", "a".repeat(252));
        assert_eq!(
            wildcard_dns1123_subdomain_errors(&long),
            vec!["must be no more than 253 characters"]
        );
    }

    // Cases from upstream ip_test.go (IsValidIP, sloppy parsing).
    #[test]
    fn ip_good() {
        for v in [
            "1.1.1.1",
            "1.1.1.01",
            "255.0.0.1",
            "1.0.0.0",
            "0.0.0.0",
            "010.010.010.010",
            "0001.2.3.4",
            "::",
            "2001:4860:4860::8888",
            "::fff:1.1.1.1",
            "::ffff:1.1.1.1",
            "::ffff:01.1.1.1",
            "2001:DB8::1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4",
            "1::",
            "::1",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
        ] {
            assert!(ip_errors(v).is_empty(), "{v:?}");
        }
    }

    #[test]
    fn ip_bad() {
        for v in [
            "",
            "1",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.-4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4/32",
            "a.b.c.d",
            "1..2.3",
            "1.2.3.",
            "0xa.0.0.1",
            ":",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "12345::",
            "1:",
            "fe80::1%eth0",
            "1.2.3.4:80",
            "[::1]",
            "::ffff:1.2.3",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:1.2.3.4",
            "::ffff:256.1.1.1",
            "g::1",
            "99999999999999999999.1.1.1",
        ] {
            assert_eq!(ip_errors(v), vec![INVALID_IP_MSG], "{v:?}");
        }
    }

    #[test]
    fn ip_parse_values() {
        assert_eq!(
            parse_ip_sloppy("010.1.2.3").map(|a| [a[12], a[13], a[14], a[15]]),
            Some([10, 1, 2, 3])
        );
        let mut want = [0u8; 16];
        want[0] = 0x20;
        want[1] = 0x01;
        want[2] = 0x0d;
        want[3] = 0xb8;
        want[15] = 1;
        assert_eq!(parse_ip_sloppy("2001:db8::1"), Some(want));
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(parse_ip_sloppy("::ffff:1.2.3.4"), Some(mapped));
        assert_eq!(parse_ip_sloppy("1.2.3.4"), Some(mapped));
    }

    #[test]
    fn hosts() {
        for v in [
            "jaeger.osm-system.svc.cluster.local",
            "zipkin",
            "10.0.0.1",
            "::1",
            "2001:db8::ffff",
            "ext-authz.default.svc",
            "1.2.3.4a",
        ] {
            assert!(host_errors(v).is_empty(), "{v:?}");
        }
        for v in [
            "10.0.0.256",
            "1.2.3.4.5",
            "fe80::1%eth0",
            "1::2::3",
            "::12345",
            "1.2.3",
            "1:2",
        ] {
            assert_eq!(host_errors(v), vec![INVALID_IP_MSG], "{v:?}");
        }
        for v in [
            "",
            "Jaeger",
            "a_b.svc",
            "http://jaeger",
            "jaeger.",
            "-a",
            "host:8080",
            "[::1]",
        ] {
            assert_eq!(host_errors(v), vec![SUBDOMAIN_REGEX_ERR], "{v:?}");
        }
    }

    #[test]
    fn interface_names() {
        for v in [
            "eth0",
            "lo",
            "cni0",
            "veth+",
            "+",
            "eth0.100",
            "docker0",
            "a",
            "tun-x_y",
            "br+x",
            "123456789012345",
            "wlp3s0",
            "..+",
            "ené0",
        ] {
            assert!(interface_name_errors(v).is_empty(), "{v:?}");
        }
        assert_eq!(interface_name_errors(""), vec!["must be non-empty"]);
        assert_eq!(
            interface_name_errors("1234567890123456"),
            vec!["must be no more than 15 bytes"]
        );
        // Bytes, not characters: 8 two-byte characters are 16 bytes.
        assert_eq!(interface_name_errors("éééééééé"), vec!["must be no more than 15 bytes"]);
        // The kernel refuses these names but iptables installs the rule: a warning, not an error.
        for v in [".", "..", "a/b", "eth0:1"] {
            assert!(interface_name_errors(v).is_empty(), "{v:?}");
            assert!(interface_never_matches(v), "{v:?}");
        }
        for v in ["eth 0", "eth0\n", "\teth0", "a\u{b}", "a\u{c}", "a\r"] {
            assert_eq!(interface_name_errors(v), vec![INTERFACE_SPLITS_MSG], "{v:?}");
        }
        for v in ["a\"b", "a$b", "a`b", "a\\\\b"] {
            assert_eq!(interface_name_errors(v), vec![INTERFACE_SHELL_MSG], "{v:?}");
        }
        // iptables-restore and the here-document keep these as written.
        for v in ["a'b", "a\\b"] {
            assert!(interface_name_errors(v).is_empty(), "{v:?}");
        }
        assert_eq!(interface_name_errors("a\0"), vec!["must not contain NUL bytes"]);
        assert_eq!(
            interface_name_errors("a b/c:d\"e f g h i"),
            vec![
                "must be no more than 15 bytes",
                INTERFACE_SPLITS_MSG,
                INTERFACE_SHELL_MSG
            ]
        );
    }

    /// Deterministic pseudo-random inputs: nothing may panic, and the
    /// hand-written matchers must agree with simple reference definitions.
    #[test]
    fn fuzz_no_panic() {
        let alphabet: &[u8] = b"aZ09-._:*/+%\" \t\n\\x";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let mut s = String::with_capacity(len);
            for _ in 0..len {
                let r = next();
                if r % 97 == 0 {
                    s.push('é');
                } else {
                    s.push(char::from(alphabet[(r % alphabet.len() as u64) as usize]));
                }
            }
            let label = dns1123_label_errors(&s);
            let sub = dns1123_subdomain_errors(&s);
            let _ = wildcard_dns1123_subdomain_errors(&s);
            let _ = ip_errors(&s);
            let _ = host_errors(&s);
            let _ = interface_name_errors(&s);
            // Every valid label is a valid subdomain.
            if label.is_empty() {
                assert!(sub.is_empty(), "{s:?}");
            }
        }
        // Hex/decimal overflow paths.
        for s in ["ffffffffffffffffffff::", "1.99999999999.1.1", "::1.2.3.4444444444"] {
            assert!(!ip_errors(s).is_empty());
        }
    }
}
