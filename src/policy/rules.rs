//! The CEL of each semantic kind: one function per [`Kind`], beside the Rust rule it mirrors in
//! `validate::semantic`, reading the same bounds, value lists and message details from there.
//!
//! Each function gets the CEL text of the value (`v`, present: the caller guards presence and
//! ratcheting) and the field path, and returns the checks: a CEL condition that holds for valid
//! values and a `messageExpression` worded as the webhook's field error.

use super::cel::{self, lit, message, quoted, slot, value_slot};
use crate::field::FieldError;
use crate::schema::Kind;
use crate::validate::cidr::{INVALID_CIDR_MSG, IPV6_CIDR_MSG};
use crate::validate::names;
use crate::validate::resources::{ERR_FORMAT_WRONG, ERR_SUFFIX, IS_NEGATIVE_ERROR_MSG, IS_NOT_INTEGER_ERROR_MSG};
use crate::validate::semantic::{
    COMMON_NAME_MAX_BYTES, DurationRule, EXT_AUTHZ_REQUIRED, MULTIPORT_DETAIL, MULTIPORT_MAX_PORTS, TLS_MAX_SUPPORTED,
    int_bounds_detail,
};

/// What the generator may use on the target Kubernetes version.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// The IP/CIDR library (`isCIDR`, `cidr`): in new expressions from Kubernetes 1.31.
    pub ip_cidr: bool,
    pub release: crate::schema::Release,
}

/// One check: `condition` holds for valid values; otherwise `message` (CEL) says why.
#[derive(Debug, Clone)]
pub struct Check {
    pub condition: String,
    pub message: String,
}

/// Where a kind's rule reads its value and ratchets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ratchet {
    /// The value at the rule's own path is unchanged.
    Own,
    /// Every one of these child keys is unchanged (both TLS versions).
    Children(&'static [&'static str]),
}

/// One rule's surroundings: the target, the field path and the policy variable holding the
/// (optional) value; intermediate results shared by a rule's condition and message become
/// further variables (evaluated once, and only when used).
#[derive(Debug)]
pub struct Ctx<'a> {
    pub env: Env,
    pub path: &'a str,
    pub var: &'a str,
    pub variables: Vec<(String, String)>,
}

impl Ctx<'_> {
    /// Declares the variable `<var>_<suffix>` and returns the CEL that reads it.
    fn aux(&mut self, suffix: &str, expr: String) -> String {
        let name = format!("{}_{suffix}", self.var);
        self.variables.push((name.clone(), expr));
        format!("variables.{name}")
    }
}

/// Children an object kind's rule reads; without them in the schema (the sidecar's TLS versions
/// before v1alpha2) the rule does not apply, as in `validate::semantic`.
pub fn reads(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::SidecarTls => &["tlsMinProtocolVersion", "tlsMaxProtocolVersion"],
        _ => &[],
    }
}

/// How check `index` of `kind` ratchets on UPDATE, as `validate::semantic` does: the sidecar's
/// maximum TLS version rule on the maximum alone, the ordering rule on both versions.
pub fn ratchet(kind: Kind, index: usize) -> Ratchet {
    match (kind, index) {
        (Kind::SidecarTls, 0) => Ratchet::Children(&["tlsMaxProtocolVersion"]),
        (Kind::SidecarTls, _) => Ratchet::Children(&["tlsMinProtocolVersion", "tlsMaxProtocolVersion"]),
        _ => Ratchet::Own,
    }
}

/// The checks of `kind` on the value at `ctx.path`; empty for kinds without a denying rule
/// (the webhook only warns for them, or the CRD already checks them).
pub fn checks(kind: Kind, ctx: &mut Ctx) -> Vec<Check> {
    let (env, path) = (ctx.env, ctx.path);
    let v = &format!("variables.{}", ctx.var);
    if let Some(rule) = DurationRule::of(kind, env.release) {
        return duration(ctx, rule, v).into_iter().collect();
    }
    if let Some((lo, hi)) = kind.int_bounds() {
        return int_bounds(lo, hi, path, v).into_iter().collect();
    }
    match kind {
        Kind::CidrList => vec![cidr_list(ctx, v)],
        Kind::Resources => resources(ctx, v),
        Kind::Image => vec![image(path, v)],
        Kind::Host => vec![host(path, v)],
        Kind::UrlPath => vec![url_path(path, v)],
        Kind::InterfaceList => vec![items(ctx, v, &interface_name_ok("s"), &interface_name_detail)],
        Kind::PortList => vec![port_count(path, v)],
        Kind::DnsNameList => vec![items(ctx, v, &dns_name_ok("s"), &dns_name_detail), common_name(path, v)],
        Kind::TlsNameList => vec![items(ctx, v, "s != ''", &|_| lit(&names::empty_error()))],
        Kind::SecretName => name(path, v, true),
        Kind::NamespaceName => name(path, v, false),
        Kind::SidecarTls => sidecar_tls(path, v),
        Kind::ExtAuthz => ext_authz(path, v),
        // Only warnings in the webhook (OSM ignores these values), or the CRD's own checks.
        Kind::OsmLogLevel | Kind::ResyncInterval | Kind::MaxConnections | Kind::Multicluster | Kind::Plain => {
            Vec::new()
        }
        // Answered above (durations, integer bounds).
        Kind::ServiceCertDuration
        | Kind::GatewayCertDuration
        | Kind::ExtAuthzTimeout
        | Kind::TracingPort
        | Kind::CertKeyBitSize => Vec::new(),
    }
}

// ---- durations and numbers

/// `None` for a rule that only warns.
fn duration(ctx: &mut Ctx, rule: DurationRule, v: &str) -> Option<Check> {
    let bound = rule.lower_bound();
    if bound.is_none() && !rule.denies_parse_errors() {
        return None;
    }
    let body = ctx.aux("unsigned", cel::unsigned(v));
    let elements = ctx.aux("elements", cel::duration_elements(&body));
    let parses = ctx.aux("parses", cel::is_go_duration(&body, &elements));
    let bad = ctx.aux("bad_elements", cel::first_bad_element(&elements));
    let go_error = cel::go_duration_error(v, &body, &bad);
    let (condition, detail) = match bound {
        Some((bound, inclusive, detail)) => (
            format!(
                "{parses} && duration({v}) {} {}",
                if inclusive { ">=" } else { ">" },
                cel::duration_literal(bound)
            ),
            format!("{parses} ? {} : {go_error}", lit(detail)),
        ),
        // Only what does not parse is denied.
        None => (parses.clone(), go_error),
    };
    Some(Check {
        condition,
        message: message(
            &FieldError::invalid(ctx.path, value_slot(0), slot(1)),
            &[quoted(v), detail],
        ),
    })
}

/// `Kind::int_bounds`, worded by `int_bounds_detail`; no check where the webhook has none.
fn int_bounds(lo: Option<i64>, hi: Option<i64>, path: &str, v: &str) -> Option<Check> {
    let detail = int_bounds_detail(lo, hi)?;
    let bounds: Vec<String> = [lo.map(|lo| format!("{v} >= {lo}")), hi.map(|hi| format!("{v} <= {hi}"))]
        .into_iter()
        .flatten()
        .collect();
    Some(Check {
        condition: bounds.join(" && "),
        message: message(
            &FieldError::invalid(path, value_slot(0), detail),
            &[format!("string({v})")],
        ),
    })
}

/// At most 15 distinct ports (one iptables multiport rule). CEL counts items: with duplicates
/// the policy may deny what the webhook allows (`differences.rs`).
fn port_count(path: &str, l: &str) -> Check {
    Check {
        condition: format!("size({l}) <= {MULTIPORT_MAX_PORTS}"),
        message: message(
            &FieldError::too_many(path, value_slot(0), MULTIPORT_DETAIL),
            &[format!("string(size({l}))")],
        ),
    }
}

fn url_path(path: &str, v: &str) -> Check {
    Check {
        condition: format!("{v} == '' || {v}.startsWith('/')"),
        message: message(
            &FieldError::invalid(path, value_slot(0), crate::validate::semantic::URL_PATH_DETAIL),
            &[quoted(v)],
        ),
    }
}

// ---- lists

/// Every item `s` of the list `l` satisfies `ok`; the message names the first item that does
/// not, with `detail(bad)` (a CEL string).
fn items(ctx: &mut Ctx, l: &str, ok: &str, detail: &dyn Fn(&str) -> String) -> Check {
    let bad = ctx.aux("bad_items", format!("{l}.filter(s, !({ok}))"));
    let bad = format!("{bad}[0]");
    let path = ctx.path;
    Check {
        condition: format!("{l}.all(s, {ok})"),
        message: message(
            &FieldError::invalid(format!("{path}[{}]", slot(2)), value_slot(0), slot(1)),
            &[quoted(&bad), detail(&bad), format!("string({l}.indexOf({bad}))")],
        ),
    }
}

/// A strict IPv4 CIDR (`validate::cidr`): with the CIDR library where the target version offers
/// it to new policies, else a regular expression of the same language.
fn cidr_list(ctx: &mut Ctx, l: &str) -> Check {
    if ctx.env.ip_cidr {
        // isCIDR guards every cidr() conversion.
        items(ctx, l, "isCIDR(s) && cidr(s).ip().family() == 4", &|bad| {
            format!(
                "isCIDR({bad}) && cidr({bad}).ip().family() == 6 ? {} : {}",
                lit(IPV6_CIDR_MSG),
                lit(INVALID_CIDR_MSG)
            )
        })
    } else {
        let ok = format!("s.matches({})", lit(&format!("^{}/(3[0-2]|[12][0-9]|[0-9])$", ipv4())));
        items(ctx, l, &ok, &|_| lit(INVALID_CIDR_MSG))
    }
}

/// An IPv4 octet without leading zeros (Go ≥ 1.17, netip).
const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

fn ipv4() -> String {
    format!("({OCTET}\\.){{3}}{OCTET}")
}

fn interface_name_ok(s: &str) -> String {
    format!(
        "{s} != '' && size(bytes({s})) <= {max} && !{s}.matches({splits}) && !{s}.matches({shell}) && !{s}.matches('\\x00')",
        max = names::INTERFACE_NAME_MAX_LENGTH,
        splits = lit(&format!("[{}]", names::INTERFACE_SPLITS)),
        shell = lit(names::INTERFACE_SHELL_RE),
    )
}

/// The first detail `names::interface_name_errors` gives.
fn interface_name_detail(s: &str) -> String {
    format!(
        "{s} == '' ? {empty} : size(bytes({s})) > {max} ? {long} : {s}.matches({splits}) ? {splits_msg} : {s}.matches({shell}) ? {shell_msg} : {nul}",
        empty = lit(&names::empty_error()),
        max = names::INTERFACE_NAME_MAX_LENGTH,
        long = lit(&names::interface_too_long_error()),
        splits = lit(&format!("[{}]", names::INTERFACE_SPLITS)),
        splits_msg = lit(names::INTERFACE_SPLITS_MSG),
        shell = lit(names::INTERFACE_SHELL_RE),
        shell_msg = lit(names::INTERFACE_SHELL_MSG),
        nul = lit(names::INTERFACE_NUL_MSG),
    )
}

fn subdomain_ok(s: &str) -> String {
    format!(
        "size({s}) <= {max} && {s}.matches({re})",
        max = names::DNS1123_SUBDOMAIN_MAX_LENGTH,
        re = lit(&format!("^{}$", names::DNS1123_SUBDOMAIN_FMT)),
    )
}

fn subdomain_detail(s: &str) -> String {
    format!(
        "size({s}) > {max} ? {long} : {re_err}",
        max = names::DNS1123_SUBDOMAIN_MAX_LENGTH,
        long = lit(&names::max_len_error(names::DNS1123_SUBDOMAIN_MAX_LENGTH)),
        re_err = lit(&names::dns1123_subdomain_errors("-").concat()),
    )
}

fn dns_name_ok(s: &str) -> String {
    format!(
        "{s}.startsWith('*.') ? size({s}) <= {max} && {s}.matches({wild}) : {sub}",
        max = names::DNS1123_SUBDOMAIN_MAX_LENGTH,
        wild = lit(&format!("^{}$", names::WILDCARD_DNS1123_SUBDOMAIN_FMT)),
        sub = subdomain_ok(s),
    )
}

fn dns_name_detail(s: &str) -> String {
    format!(
        "size({s}) > {max} ? {long} : {s}.startsWith('*.') ? {wild_err} : {sub_err}",
        max = names::DNS1123_SUBDOMAIN_MAX_LENGTH,
        long = lit(&names::max_len_error(names::DNS1123_SUBDOMAIN_MAX_LENGTH)),
        wild_err = lit(&names::wildcard_dns1123_subdomain_errors("*.-").concat()),
        sub_err = lit(&names::dns1123_subdomain_errors("-").concat()),
    )
}

/// The first SAN becomes the certificate's common name.
fn common_name(path: &str, l: &str) -> Check {
    Check {
        condition: format!("size({l}) == 0 || size(bytes({l}[0])) <= {COMMON_NAME_MAX_BYTES}"),
        message: message(
            &FieldError::invalid(
                format!("{path}[0]"),
                value_slot(0),
                names::max_len_error(COMMON_NAME_MAX_BYTES),
            ),
            &[quoted(&format!("{l}[0]"))],
        ),
    }
}

// ---- names and hosts

/// A Secret name (DNS-1123 subdomain) or a namespace (DNS-1123 label); empty is `Required`.
fn name(path: &str, v: &str, subdomain: bool) -> Vec<Check> {
    let required = Check {
        condition: format!("{v} != ''"),
        message: message(&FieldError::required(path, ""), &[]),
    };
    let (ok, detail) = if subdomain {
        (subdomain_ok(v), subdomain_detail(v))
    } else {
        (
            format!(
                "size({v}) <= {max} && {v}.matches({re})",
                max = names::DNS1123_LABEL_MAX_LENGTH,
                re = lit(&format!("^{}$", names::DNS1123_LABEL_FMT)),
            ),
            format!(
                "size({v}) > {max} ? {long} : {v}.matches({sub}) ? {dots} : {re_err}",
                max = names::DNS1123_LABEL_MAX_LENGTH,
                long = lit(&names::max_len_error(names::DNS1123_LABEL_MAX_LENGTH)),
                sub = lit(&format!("^{}$", names::DNS1123_SUBDOMAIN_FMT)),
                dots = lit(&names::dns1123_label_errors("a.b").concat()),
                re_err = lit(&names::dns1123_label_errors("-").concat()),
            ),
        )
    };
    let format = Check {
        condition: format!("{v} == '' || ({ok})"),
        message: message(&FieldError::invalid(path, value_slot(0), slot(1)), &[quoted(v), detail]),
    };
    vec![required, format]
}

/// IPv6 text forms `netutils.ParseIPSloppy` reads (no zones), with a dotted IPv4 tail allowed in
/// place of the last two groups; IPv4 octets may carry leading zeros (read as decimal).
fn ipv6_regex(v4: &str) -> String {
    let h = "[0-9A-Fa-f]{1,4}";
    let mut alts = vec![
        format!("({h}:){{7}}{h}"),
        format!("({h}:){{6}}{v4}"),
        format!("::({h}:){{0,5}}{v4}"),
    ];
    alts.push(format!("::(({h}:){{0,6}}{h})?"));
    for k in 1..=7 {
        // k groups before "::", up to 7-k after.
        let before = format!("({h}:){{{}}}{h}", k - 1);
        alts.push(format!("{before}::(({h}:){{0,{}}}{h})?", 6 - k.min(6)));
        if k <= 5 {
            alts.push(format!("{before}::({h}:){{0,{}}}{v4}", 5 - k));
        }
    }
    format!("^({})$", alts.join("|"))
}

fn host(path: &str, v: &str) -> Check {
    let sloppy_octet = "0*(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let v4 = format!("({sloppy_octet}\\.){{3}}{sloppy_octet}");
    let is_ip = format!(
        "({v}.matches({}) || {v}.matches({}))",
        lit(&format!("^{v4}$")),
        lit(&ipv6_regex(&v4))
    );
    // names::host_errors: an attempted IP literal gets the IP detail, anything else the subdomain's.
    let looks_like_ip =
        format!("({v}.matches('(^|\\\\.)[0-9]+$') || ({v}.contains(':') && {v}.matches('^[0-9A-Fa-f:.]*(%|$)')))");
    Check {
        condition: format!("{v} == '' || {is_ip} || (!{looks_like_ip} && {})", subdomain_ok(v)),
        message: message(
            &FieldError::invalid(path, value_slot(0), slot(1)),
            &[
                quoted(v),
                format!(
                    "{looks_like_ip} ? {} : {}",
                    lit(names::INVALID_IP_MSG),
                    subdomain_detail(v)
                ),
            ],
        ),
    }
}

/// distribution/reference's grammar, anchored, as `validate::image` parses a reference.
fn image(path: &str, v: &str) -> Check {
    let alnum = "[a-z0-9]+";
    let sep = "(?:[._]|__|[-]+)";
    let path_component = format!("{alnum}(?:{sep}{alnum})*");
    let domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!("(?:{domain_component}(?:\\.{domain_component})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?");
    let tag = "[\\w][\\w.-]{0,127}";
    let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    let reference = format!("^(?:{domain}/)?{path_component}(?:/{path_component})*(?::{tag})?(?:@{digest})?$");
    // go-digest with sha256, sha384 and sha512: lower-case hex of the algorithm's length.
    let digest_ok = "@(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$";
    let identifier = "^[a-f0-9]{64}$";
    Check {
        condition: format!(
            "{v} == '' || (!{v}.matches({id}) && {v}.matches({re}) && (!{v}.contains('@') || {v}.matches({dig})))",
            id = lit(identifier),
            re = lit(&reference),
            dig = lit(digest_ok),
        ),
        message: message(
            &FieldError::invalid(path, value_slot(0), slot(1)),
            &[
                quoted(v),
                format!(
                    "{v}.matches({id}) ? 'invalid repository name (' + {v} + '), cannot specify 64-byte hexadecimal strings' : !{v}.matches({re}) ? {fmt} : !{v}.matches('@(sha256|sha384|sha512):') ? {unsupported} : {v}.matches('@[^:]+:[a-f0-9]*$') ? {length} : {format}",
                    id = lit(identifier),
                    re = lit(&reference),
                    fmt = lit(crate::validate::image::ERR_REFERENCE_INVALID_FORMAT),
                    unsupported = lit(crate::validate::image::ERR_DIGEST_UNSUPPORTED),
                    length = lit(crate::validate::image::ERR_DIGEST_INVALID_LENGTH),
                    format = lit(crate::validate::image::ERR_DIGEST_INVALID_FORMAT),
                ),
            ],
        ),
    }
}

// ---- objects

/// `sidecar`: a maximum OSM's control plane can talk, and min ≤ max (TLS_AUTO compares with
/// nothing).
fn sidecar_tls(path: &str, v: &str) -> Vec<Check> {
    let min = format!("{v}.tlsMinProtocolVersion");
    let max = format!("{v}.tlsMaxProtocolVersion");
    let present = format!("!has({min}) || !has({max})");
    let versions = crate::schema::meshconfig::TLS_VERSIONS;
    let rank = |x: &str| format!("{}.indexOf({x})", cel::list(versions));
    vec![
        Check {
            condition: format!("{present} || {max} in {}", cel::list(TLS_MAX_SUPPORTED)),
            message: message(
                &FieldError::not_supported(
                    format!("{path}.tlsMaxProtocolVersion"),
                    value_slot(0),
                    TLS_MAX_SUPPORTED,
                ),
                &[quoted(&max)],
            ),
        },
        Check {
            condition: format!(
                "{present} || {rmin} <= 0 || {rmax} <= 0 || {rmin} <= {rmax}",
                rmin = rank(&min),
                rmax = rank(&max)
            ),
            message: message(
                &FieldError::invalid(
                    format!("{path}.tlsMinProtocolVersion"),
                    value_slot(0),
                    format!("must be less than or equal to tlsMaxProtocolVersion ({})", slot(1)),
                ),
                &[quoted(&min), quoted(&max)],
            ),
        },
    ]
}

/// `inboundExternalAuthorization`: when enabled, a target and a stats prefix.
fn ext_authz(path: &str, v: &str) -> Vec<Check> {
    EXT_AUTHZ_REQUIRED
        .iter()
        .map(|key| Check {
            condition: format!("!has({v}.enable) || {v}.enable != true || (has({v}.{key}) && {v}.{key} != '')"),
            message: message(
                &FieldError::required(format!("{path}.{key}"), crate::validate::semantic::EXT_AUTHZ_DETAIL),
                &[],
            ),
        })
        .collect()
}

/// `sidecar.resources`: names and quantities of `limits` and `requests`, and requests ≤ limits.
fn resources(ctx: &mut Ctx, v: &str) -> Vec<Check> {
    vec![
        resource_section(ctx, v, "limits"),
        resource_section(ctx, v, "requests"),
        requests_within_limits(ctx, v),
    ]
}

/// `resources::resource_name_errors` is empty for `k`.
fn resource_name_ok(k: &str) -> String {
    let label = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    let qualified = format!("^{}/{label}$", names::DNS1123_SUBDOMAIN_FMT);
    format!(
        "(!{k}.contains('/') && ({k} in {std} || ({k}.startsWith('hugepages-') && size({k}) <= 63 && {k}.matches({label_re})))) || ({k}.contains('/') && {k}.matches({qualified}) && size({k}) - {k}.indexOf('/') - 1 <= 63 && ({k}.contains('kubernetes.io/') ? {k}.indexOf('/') <= 253 : (!{k}.startsWith('requests.') && {k}.indexOf('/') <= 244)))",
        std = cel::list(&crate::validate::resources::STANDARD_CONTAINER_RESOURCES),
        label_re = lit(&format!("^{label}$")),
        qualified = lit(&qualified),
    )
}

/// A quantity's text as the webhook reads it: strings as they are, numbers printed.
fn quantity_text(q: &str) -> String {
    format!("(type({q}) == string ? {q} : string({q}))")
}

/// `sign` is declared as a function, not a method (the apiserver refuses `q.sign()`).
fn quantity_ok(k: &str, q: &str) -> String {
    let text = quantity_text(q);
    format!(
        "{q} == null || ((type({q}) == string || type({q}) == int || type({q}) == uint || type({q}) == double) && isQuantity({text}) && sign(quantity({text})) >= 0 && (!{k}.contains('/') || {k}.contains('kubernetes.io/') || quantity({text}).isInteger()))"
    )
}

/// The bad value of a quantity as `BadValue::from` prints it.
fn quantity_value(q: &str) -> String {
    format!("type({q}) == string ? strings.quote({q}) : string({q})")
}

fn resource_section(ctx: &mut Ctx, v: &str, section: &str) -> Check {
    let m = format!("{v}.{section}");
    let ok = |k: &str| {
        format!(
            "({}) && ({})",
            resource_name_ok(k),
            quantity_ok(k, &format!("{m}[{k}]"))
        )
    };
    // The smallest bad key: the webhook's first error by field path.
    let bad = ctx.aux(
        &format!("bad_{section}"),
        format!("{m}.filter(k, !({})).min()", ok("k")),
    );
    let path = ctx.path;
    let q = format!("{m}[{bad}]");
    let text = quantity_text(&q);
    let detail = format!(
        "!(type({q}) == string || type({q}) == int || type({q}) == uint || type({q}) == double) || !isQuantity({text}) ? ({text}.matches('^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$') ? {suffix} : {format}) : sign(quantity({text})) < 0 ? {negative} : {integer}",
        suffix = lit(ERR_SUFFIX),
        format = lit(ERR_FORMAT_WRONG),
        negative = lit(IS_NEGATIVE_ERROR_MSG),
        integer = lit(IS_NOT_INTEGER_ERROR_MSG),
    );
    let field = format!("{path}.{section}.{}", slot(0));
    let name_message = message(
        &FieldError::invalid(field.clone(), value_slot(1), slot(2)),
        &[
            bad.clone(),
            quoted(&bad),
            format!(
                "!{bad}.contains('/') ? {containers} : {extended}",
                containers = lit(crate::validate::resources::NOT_CONTAINER_RESOURCE_MSG),
                extended = lit(crate::validate::resources::NOT_EXTENDED_RESOURCE_MSG),
            ),
        ],
    );
    let quantity_message = message(
        &FieldError::invalid(field, value_slot(1), slot(2)),
        &[bad.clone(), quantity_value(&q), detail],
    );
    Check {
        condition: format!("!has({m}) || {m}.all(k, {})", ok("k")),
        message: format!("{} ? ({quantity_message}) : ({name_message})", resource_name_ok(&bad)),
    }
}

fn requests_within_limits(ctx: &mut Ctx, v: &str) -> Check {
    let (l, r) = (format!("{v}.limits"), format!("{v}.requests"));
    let both = |k: &str| {
        let (lq, rq) = (format!("{l}[{k}]"), format!("{r}[{k}]"));
        format!(
            "{k} in {l} && ({}) && {lq} != null && {rq} != null && ({}) && ({})",
            resource_name_ok(k),
            quantity_ok(k, &lq),
            quantity_ok(k, &rq),
        )
    };
    let within = |k: &str| {
        let lq = format!("quantity({})", quantity_text(&format!("{l}[{k}]")));
        let rq = format!("quantity({})", quantity_text(&format!("{r}[{k}]")));
        // Native resources other than hugepages may overcommit; the others must be equal.
        format!(
            "((!{k}.contains('/') || {k}.contains('kubernetes.io/')) && !{k}.startsWith('hugepages-') ? !{rq}.isGreaterThan({lq}) : {rq}.compareTo({lq}) == 0)"
        )
    };
    let bad = ctx.aux(
        "over_limit",
        format!("{r}.filter(k, {} && !{}).min()", both("k"), within("k")),
    );
    let path = ctx.path;
    let limit_text = quantity_text(&format!("{l}[{bad}]"));
    Check {
        condition: format!(
            "!has({l}) || !has({r}) || {r}.all(k, !({}) || {})",
            both("k"),
            within("k")
        ),
        message: message(
            &FieldError::invalid(format!("{path}.requests.{}", slot(0)), value_slot(1), slot(2)),
            &[
                bad.clone(),
                quantity_value(&format!("{r}[{bad}]")),
                format!(
                    "((!{bad}.contains('/') || {bad}.contains('kubernetes.io/')) && !{bad}.startsWith('hugepages-') ? 'must be less than or equal to ' : 'must be equal to ') + {bad} + ' limit of ' + {limit_text}"
                ),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipv6_pattern_compiles_and_reads_common_forms() {
        let re = regex::Regex::new(&ipv6_regex(&ipv4())).expect("compiles");
        for ok in [
            "::1",
            "::",
            "2001:db8::ffff",
            "fe80::1:2:3:4",
            "1:2:3:4:5:6:7:8",
            "::ffff:10.0.0.1",
            "1::2:3.4.5.6",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in ["1::2::3", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "12345::", ":1"] {
            assert!(!re.is_match(bad), "{bad}");
        }
    }
}
