//! Container image references, validated as kubelet and containerd parse
//! them: github.com/distribution/reference `ParseNormalizedNamed` (grammar
//! `[domain[:port]/]path[:tag][@digest]`, Docker Hub normalisation), with
//! digests checked by github.com/opencontainers/go-digest.
//!
//! The upstream regular expressions are replaced by hand-written matchers;
//! error texts are upstream's, byte for byte. An empty value is valid: OSM's
//! injector then uses its built-in default image.

/// `reference.RepositoryNameTotalLengthMax`: applies to the path (the name
/// without its domain), as in current distribution/reference.
const REPOSITORY_NAME_TOTAL_LENGTH_MAX: usize = 255;

pub const ERR_REFERENCE_INVALID_FORMAT: &str = "invalid reference format";
const ERR_NAME_CONTAINS_UPPERCASE: &str = "repository name must be lowercase";
const ERR_NAME_TOO_LONG: &str = "repository name must not be more than 255 characters";
pub const ERR_DIGEST_INVALID_FORMAT: &str = "invalid checksum digest format";
pub const ERR_DIGEST_INVALID_LENGTH: &str = "invalid checksum digest length";
pub const ERR_DIGEST_UNSUPPORTED: &str = "unsupported digest algorithm";

/// Checks an image reference; returns at most one detail (upstream stops at
/// the first error).
pub fn image_errors(v: &str) -> Vec<String> {
    if v.is_empty() {
        return Vec::new();
    }
    match parse_normalized_named(v) {
        Ok(()) => Vec::new(),
        Err(e) => vec![e],
    }
}

/// `reference.ParseNormalizedNamed`.
fn parse_normalized_named(s: &str) -> Result<(), String> {
    if is_identifier(s) {
        return Err(format!(
            "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        ));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = remainder.split_once(':').map_or(remainder.as_str(), |(r, _)| r);
    if go_to_lower(remote) != remote {
        return Err(format!(
            "invalid reference format: repository name ({remote}) must be lowercase"
        ));
    }
    parse(&format!("{domain}/{remainder}")).map_err(str::to_string)
}

/// `splitDockerDomain`: decides whether the first path element is a
/// registry and applies Docker Hub's `docker.io` / `library/` defaults.
fn split_docker_domain(name: &str) -> (&str, String) {
    const DEFAULT_DOMAIN: &str = "docker.io";
    const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
    const OFFICIAL_REPO_PREFIX: &str = "library/";

    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        // Single element ("ubuntu", "ubuntu:latest"): never a host:port.
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == "localhost" {
        (maybe_domain, maybe_remote)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain.contains(['.', ':']) || go_to_lower(maybe_domain) != maybe_domain {
        // Looks like a host (dot, port, IPv6) or is uppercase, which a
        // namespace cannot be.
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_string())
}

/// `reference.Parse` on the normalised string.
fn parse(s: &str) -> Result<(), &'static str> {
    let Some(m) = match_reference(s) else {
        let lower = go_to_lower(s);
        if lower != s && match_reference(&lower).is_some() {
            return Err(ERR_NAME_CONTAINS_UPPERCASE);
        }
        return Err(ERR_REFERENCE_INVALID_FORMAT);
    };
    if m.path.len() > REPOSITORY_NAME_TOTAL_LENGTH_MAX {
        return Err(ERR_NAME_TOO_LONG);
    }
    if let Some(d) = m.digest {
        validate_digest(d)?;
    }
    Ok(())
}

/// The parts of a reference that `Parse` looks at after matching.
struct RefMatch<'a> {
    /// The name without its domain (`anchoredNameRegexp` group 2).
    path: &'a str,
    digest: Option<&'a str>,
}

/// `referenceRegexp`: `^(name)(?::(tag))?(?:@(digest))?$`.
fn match_reference(s: &str) -> Option<RefMatch<'_>> {
    // No production but the separator contains '@'.
    let (left, digest) = match s.split_once('@') {
        Some((l, d)) => (l, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest_pat(d)) {
        return None;
    }
    // A ':' in the name only occurs in the domain, which is followed by a
    // '/'; so a ':' after the last '/' must start the tag.
    let (name, tag) = match left.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (left, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let path = split_name(name)?;
    Some(RefMatch { path, digest })
}

/// `anchoredNameRegexp`: `^(?:(domainAndPort)/)?(remoteName)$`, returning
/// the remote name. The optional domain group is greedy, so a first element
/// that is a valid domain is the domain.
fn split_name(name: &str) -> Option<&str> {
    if let Some((first, rest)) = name.split_once('/')
        && is_domain_and_port(first)
        && is_remote_name(rest)
    {
        return Some(rest);
    }
    is_remote_name(name).then_some(name)
}

/// `domainAndPort`: (`domainName` | `\[[a-fA-F0-9:]+\]`) then `(?::[0-9]+)?`.
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, port) = if let Some(inner) = s.strip_prefix('[') {
        let Some((addr, port)) = inner.split_once(']') else {
            return false;
        };
        let addr_ok = !addr.is_empty() && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
        (addr_ok, port)
    } else {
        // `domainName` has no ':', so the first one starts the port.
        let (host, port) = s.split_at(s.find(':').unwrap_or(s.len()));
        (host.split('.').all(is_domain_component), port)
    };
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()),
        None => port.is_empty(),
    };
    host_ok && port_ok
}

/// `domainNameComponent`: `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
}

/// `remoteName`: path components separated by single '/'.
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `pathComponent`: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.first().is_some_and(alnum) || !b.last().is_some_and(alnum) {
        return false;
    }
    // Every maximal run of non-alphanumerics must be one separator.
    b.split(alnum)
        .all(|sep| matches!(sep, b"" | b"." | b"_" | b"__") || sep.iter().all(|&c| c == b'-'))
}

/// `tag`: `[\w][\w.-]{0,127}`.
fn is_tag(s: &str) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let b = s.as_bytes();
    b.len() <= 128 && b.first().is_some_and(word) && b.iter().all(|c| word(c) || *c == b'.' || *c == b'-')
}

/// `digestPat`:
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_pat(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok =
        |c: &[u8]| c.first().is_some_and(u8::is_ascii_alphabetic) && c.iter().all(u8::is_ascii_alphanumeric);
    alg.as_bytes()
        .split(|c| matches!(c, b'-' | b'_' | b'+' | b'.'))
        .all(component_ok)
        && hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// go-digest `Digest.Validate` with sha256, sha384 and sha512 registered (as
/// in kubelet and containerd).
fn validate_digest(d: &str) -> Result<(), &'static str> {
    let Some((alg, encoded)) = d.split_once(':').filter(|(a, e)| !a.is_empty() && !e.is_empty()) else {
        return Err(ERR_DIGEST_INVALID_FORMAT);
    };
    let hex_len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(if is_go_digest_regexp(d) {
                ERR_DIGEST_UNSUPPORTED
            } else {
                ERR_DIGEST_INVALID_FORMAT
            });
        }
    };
    if encoded.len() != hex_len {
        return Err(ERR_DIGEST_INVALID_LENGTH);
    }
    if !encoded
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(ERR_DIGEST_INVALID_FORMAT);
    }
    Ok(())
}

/// go-digest `DigestRegexpAnchored`:
/// `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`.
fn is_go_digest_regexp(d: &str) -> bool {
    let Some((alg, encoded)) = d.split_once(':') else {
        return false;
    };
    let component_ok = |c: &[u8]| !c.is_empty() && c.iter().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit());
    alg.as_bytes()
        .split(|c| matches!(c, b'.' | b'+' | b'_' | b'-'))
        .all(component_ok)
        && !encoded.is_empty()
        && encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'))
}

/// `anchoredIdentifierRegexp`: `^[a-f0-9]{64}$`.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Go's `strings.ToLower`: Unicode simple case mapping, one rune to one rune
/// (Rust's full mapping differs only for U+0130, which Go maps to 'i').
fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\u{130}' {
                return 'i';
            }
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(lc), None) => lc,
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_F: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    const FMT: &str = "invalid reference format";

    fn ok(v: &str) {
        assert_eq!(image_errors(v), Vec::<String>::new(), "{v:?} should be valid");
    }

    fn bad(v: &str, want: &str) {
        assert_eq!(image_errors(v), vec![want.to_string()], "{v:?}");
    }

    #[test]
    fn empty_is_the_injector_default() {
        ok("");
    }

    #[test]
    fn osm_defaults() {
        ok("envoyproxy/envoy-alpine:v1.18.3");
        ok(
            "envoyproxy/envoy-distroless:v1.22.2@sha256:541d31419b05e3d48cce2e3d6a3a7b3bc6b1d3ad6c4c7c3f4ccc4ea3f1c0a8d0",
        );
        ok("openservicemesh/init:v0.9.2");
        ok("openservicemesh/init@sha256:d290df02a1d6bc2b6bd02b5a4e3a0d6a2e9e4b1c2d3e4f5a6b7c8d9e0f1a2b3c");
        ok("envoyproxy/envoy-windows:v1.22.1");
        ok("mcr.microsoft.com/oss/envoyproxy/envoy:v1.22.2");
    }

    // Port of distribution/reference reference_test.go TestReferenceParse,
    // run through ParseNormalizedNamed (so familiar names get docker.io).
    #[test]
    fn reference_parse_table() {
        let long_path_ok = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
        let long_domainless = format!("domain/{}:tag", "a".repeat(256));
        let long_with_domain_ok = format!("example.com/{}:tag", "a".repeat(255));
        let long_with_domain = format!("example.com/{}:tag", "a".repeat(256));
        let valid: Vec<String> = [
            "test_com",
            "test.com:tag",
            "test.com:5000",
            "test.com/repo:tag",
            "test:5000/repo",
            "test:5000/repo:tag",
            &format!("test:5000/repo@{SHA256_F}"),
            &format!("test:5000/repo:tag@{SHA256_F}"),
            "lowercase:Uppercase",
            &long_path_ok,
            "sub-dom1.foo.com/bar/baz/quux",
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "xn--n3h.com/myimage:xn--n3h.com",
            &format!("xn--7o8h.com/myimage:xn--7o8h.com@sha512:{}", "f".repeat(128)),
            "foo_bar.com:8080",
            "foo/foo_bar.com:8080",
            "192.168.1.1",
            "192.168.1.1:tag",
            "192.168.1.1:5000",
            "192.168.1.1/repo",
            "192.168.1.1:5000/repo",
            "192.168.1.1:5000/repo:5050",
            "[2001:db8::1]/repo",
            "[2001:db8:1:2:3:4:5:6]/repo:tag",
            "[2001:db8::1]:5000/repo",
            "[2001:db8::1]:5000/repo:tag",
            &format!("[2001:db8::1]:5000/repo@{SHA256_F}"),
            &format!("[2001:db8::1]:5000/repo:tag@{SHA256_F}"),
            "[2001:db8::]:5000/repo",
            "[::1]:5000/repo",
            &long_with_domain_ok,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for v in &valid {
            ok(v);
        }

        bad(":justtag", FMT);
        bad(&format!("@{SHA256_F}"), FMT);
        bad(&format!("repo@sha256:{}", "f".repeat(34)), ERR_DIGEST_INVALID_LENGTH);
        bad(
            &format!("validname@invaliddigest:{}", "f".repeat(64)),
            ERR_DIGEST_UNSUPPORTED,
        );
        bad(
            "Uppercase:tag",
            "invalid reference format: repository name (library/Uppercase) must be lowercase",
        );
        bad(
            "test:5000/Uppercase/lowercase:tag",
            "invalid reference format: repository name (Uppercase/lowercase) must be lowercase",
        );
        bad(&long_domainless, ERR_NAME_TOO_LONG);
        bad(&long_with_domain, ERR_NAME_TOO_LONG);
        bad("aa/asdf$$^/aa", FMT);
        bad("[2001:db8::1]", FMT);
        bad("[2001:db8::1]:5000", FMT);
        bad("[2001:db8::1]:tag", FMT);
        bad("[fe80::1%eth0]:5000/repo", FMT);
        bad("[fe80::1%@invalidzone]:5000/repo", FMT);
    }

    // Port of normalize_test.go TestValidateReferenceName and
    // TestValidateRemoteName.
    #[test]
    fn normalize_tables() {
        for v in [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "docker.io/library/debian",
            "docker.io/debian",
            "index.docker.io/docker/docker",
            "index.docker.io/library/debian",
            "index.docker.io/debian",
            "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian",
            "127.0.0.1:5000/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "doc/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
            "localhost/foo",
            "localhost:5000/foo:bar",
            "Foo/bar",
            "FOO/bar",
            "ubuntu-12.04-base",
            "library/foo/bar",
            "store/foo/bar",
            "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
            "redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c",
            "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
            "dbcc1",
            "test-com:8080/foo",
            "xn--n3h.com:18080/foo",
            "a.b-c.d:1/e__f.g---h_i",
        ] {
            ok(v);
        }

        for (v, want) in [
            ("https://github.com/docker/docker", FMT),
            (
                "docker/Docker",
                "invalid reference format: repository name (docker/Docker) must be lowercase",
            ),
            ("-docker", FMT),
            ("-docker/docker", FMT),
            ("-docker.io/docker/docker", FMT),
            ("docker///docker", FMT),
            (
                "docker.io/docker/Docker",
                "invalid reference format: repository name (docker/Docker) must be lowercase",
            ),
            ("docker.io/docker///docker", FMT),
            ("[fc00::1]", FMT),
            ("[fc00::1]:5000", FMT),
            ("fc00::1:5000/debian", FMT),
            ("[fe80::1%eth0]:5000/debian", FMT),
            ("[2001:db8:3:4::192.0.2.33]:5000/debian", FMT),
            (
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
                "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), cannot specify 64-byte hexadecimal strings",
            ),
            ("docker-/docker", FMT),
            ("-docker-/docker", FMT),
            ("____/____", FMT),
            ("_docker/_docker", FMT),
            ("dock..er/docker", FMT),
            ("dock_.er/docker", FMT),
            ("dock-.er/docker", FMT),
            ("docker/", FMT),
            ("-foo", FMT),
        ] {
            bad(v, want);
        }
        // Namespace too long (upstream's "this_is_not_a_valid_namespace..." case).
        let ns = "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4);
        bad(&format!("{}/docker", ns.trim_end_matches('_')), ERR_NAME_TOO_LONG);
    }

    #[test]
    fn more_invalid_references() {
        for (v, want) in [
            ("nginx:", FMT),
            ("nginx:-tag", FMT),
            ("nginx:.tag", FMT),
            ("nginx:ta/g", FMT),
            ("nginx:tag:tag", FMT),
            ("nginx@", FMT),
            ("nginx@sha256", FMT),
            ("nginx@sha256:", FMT),
            ("nginx@sha256:abc", FMT),
            ("nginx@@sha256:ffffffffffffffffffffffffffffffff", FMT),
            (" nginx", FMT),
            ("nginx ", FMT),
            ("ngin x", FMT),
            ("nginx\n", FMT),
            ("nginx:latest ", FMT),
            ("a:b:c/d", FMT),
            ("host:/repo", FMT),
            ("host:port/repo", FMT),
            ("[]/repo", FMT),
            ("[::1/repo", FMT),
            ("-host.com/repo", FMT),
            ("host-.com/repo", FMT),
            ("host..com/repo", FMT),
            ("host.com/", FMT),
            ("host.com//repo", FMT),
            ("a__-b", FMT),
            ("a___b", FMT),
            ("a..b", FMT),
            ("a._b", FMT),
            ("ünïcode", FMT),
            ("repo:tág", FMT),
            (
                "NGINX",
                "invalid reference format: repository name (library/NGINX) must be lowercase",
            ),
            (
                "Nginx:Latest",
                "invalid reference format: repository name (library/Nginx) must be lowercase",
            ),
            (
                "example.com/Foo:tag@sha256:abc",
                "invalid reference format: repository name (Foo) must be lowercase",
            ),
            (
                "ÉCOLE",
                "invalid reference format: repository name (library/ÉCOLE) must be lowercase",
            ),
            // Uppercase in an underscored first element: treated as a domain,
            // which '_' makes invalid; lower-cased it is a valid path.
            ("Foo_Bar/baz", ERR_NAME_CONTAINS_UPPERCASE),
            // Go lower-cases U+0130 to a plain 'i'.
            ("\u{130}_x/baz", ERR_NAME_CONTAINS_UPPERCASE),
        ] {
            bad(v, want);
        }
        let tag128 = format!("nginx:{}", "t".repeat(128));
        ok(&tag128);
        bad(&format!("nginx:{}", "t".repeat(129)), FMT);
        ok("nginx:_tag");
        ok("nginx:1.2.3-alpine_x");
        ok("a-b--c___".trim_end_matches('_'));
        ok("a__b");
        ok("a_b.c-d");
    }

    #[test]
    fn digests() {
        let hex64 = "a".repeat(64);
        ok(&format!("nginx@sha256:{hex64}"));
        ok(&format!("nginx:1.25@sha256:{hex64}"));
        ok(&format!("nginx@sha384:{}", "0".repeat(96)));
        ok(&format!("nginx@sha512:{}", "9".repeat(128)));
        // Upper-case hex passes the reference regex but not go-digest.
        bad(&format!("nginx@sha256:{}", "A".repeat(64)), ERR_DIGEST_INVALID_FORMAT);
        bad(&format!("nginx@sha256:{}", "a".repeat(63)), ERR_DIGEST_INVALID_LENGTH);
        bad(&format!("nginx@sha256:{}", "a".repeat(65)), ERR_DIGEST_INVALID_LENGTH);
        bad(&format!("nginx@sha512:{}", "a".repeat(64)), ERR_DIGEST_INVALID_LENGTH);
        bad(&format!("nginx@md5:{}", "a".repeat(32)), ERR_DIGEST_UNSUPPORTED);
        bad(&format!("nginx@sha256+b64:{}", "a".repeat(64)), ERR_DIGEST_UNSUPPORTED);
        // Without a tag the remote name runs to the first ':', so upstream
        // reports the upper-case algorithm as part of the repository name.
        bad(
            &format!("nginx@SHA256:{hex64}"),
            "invalid reference format: repository name (library/nginx@SHA256) must be lowercase",
        );
        bad(&format!("nginx:1@SHA256:{hex64}"), ERR_DIGEST_INVALID_FORMAT);
        bad(&format!("nginx:1@Sha256:{hex64}"), ERR_DIGEST_INVALID_FORMAT);
        // Fewer than 32 hex digits or non-hex: the reference regex fails.
        bad(&format!("nginx@sha256:{}", "a".repeat(31)), FMT);
        bad(&format!("nginx@sha256:{}g", "a".repeat(63)), FMT);
        bad(&format!("nginx@1sha:{hex64}"), FMT);
        bad(&format!("nginx@sha-:{hex64}"), FMT);
        bad(&format!("nginx@sha256:{hex64}@sha256:{hex64}"), FMT);
    }

    #[test]
    fn matchers() {
        for d in ["a.b", "localhost:5000", "[::1]:80", "[fe80::1]", "A-1.b", "1.2.3.4"] {
            assert!(is_domain_and_port(d), "{d}");
        }
        for d in [
            "", "a:", ":80", "a:8x", "[]", "[::1", "[::1]x", "[g::1]", "-a", "a-", "a..b", "a_b",
        ] {
            assert!(!is_domain_and_port(d), "{d}");
        }
        assert!(is_go_digest_regexp("a.b+c_d-e:AZaz09=_-"));
        assert!(!is_go_digest_regexp("a..b:x"));
        assert!(!is_go_digest_regexp("A:x"));
        assert!(!is_go_digest_regexp("a:"));
        assert!(!is_go_digest_regexp("a:x!"));
        assert_eq!(validate_digest("nocolon"), Err(ERR_DIGEST_INVALID_FORMAT));
        assert_eq!(go_to_lower("ÀB\u{130}Σ\u{212A}"), "àbiσk");
    }

    /// Deterministic pseudo-random inputs: nothing may panic, and the result
    /// is always zero or one message.
    #[test]
    fn fuzz_no_panic() {
        let alphabet: &[u8] = b"aZ09-._:/@[]f%+ A";
        let mut state: u64 = 0xD1B5_4A32_D192_ED03;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut valid = 0;
        for _ in 0..50_000 {
            let len = (next() % 28) as usize;
            let mut s = String::with_capacity(len);
            for _ in 0..len {
                let r = next();
                match r % 101 {
                    0 => s.push('é'),
                    1 => s.push('\u{130}'),
                    _ => s.push(char::from(alphabet[(r % alphabet.len() as u64) as usize])),
                }
            }
            let errs = image_errors(&s);
            assert!(errs.len() <= 1);
            valid += usize::from(errs.is_empty());
        }
        assert!(valid > 100, "{valid}");
        // Long inputs.
        let _ = image_errors(&"a/".repeat(10_000));
        let _ = image_errors(&format!("a@sha256:{}", "f".repeat(100_000)));
        let _ = image_errors(&":".repeat(1000));
    }
}
