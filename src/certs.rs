//! Development certificates: a throw-away CA and a serving certificate it signs, for running the
//! webhook without a certificate manager (`serve` without `--tls-cert-file`, and `certs`).
//!
//! The serving certificate names `localhost`, `127.0.0.1` and the in-cluster names of the
//! webhook's Service, which is what kube-apiserver dials (`<svc>.<ns>.svc`).

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// The CA bundle to give kube-apiserver (`caBundle`) or a client (`curl --cacert`).
pub const CA_FILE: &str = "ca.crt";
/// The serving certificate (PEM), named as in a `kubernetes.io/tls` Secret.
pub const CERT_FILE: &str = "tls.crt";
/// The serving certificate's private key (PEM, PKCS#8), named as in a `kubernetes.io/tls` Secret.
pub const KEY_FILE: &str = "tls.key";

/// How long a generated CA is valid.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// How long a generated serving certificate is valid.
const CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// Generated certificates start this far in the past, tolerating clock skew between machines.
const BACKDATE: Duration = Duration::from_secs(3600);
/// Existing development certificates closer than this to expiry are regenerated.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why development certificates could not be made or written.
#[derive(Debug)]
pub enum CertError {
    Generate(rcgen::Error),
    Io { path: PathBuf, source: std::io::Error },
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Generate(e) => write!(f, "generating development certificates: {e}"),
            Self::Io { path, source } => write!(f, "writing {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for CertError {}

impl From<rcgen::Error> for CertError {
    fn from(e: rcgen::Error) -> Self {
        Self::Generate(e)
    }
}

/// A CA and a serving certificate signed by it, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Generated {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub sans: Vec<String>,
}

/// Where development certificates live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Paths {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join(CA_FILE),
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
        }
    }
}

/// The names the serving certificate must carry for `service` in `namespace`: what a local client
/// and kube-apiserver (through the Service) dial.
pub fn subject_alt_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// Generates a new CA (ECDSA P-256) and a serving certificate for `service` in `namespace`.
pub fn generate(service: &str, namespace: &str) -> Result<Generated, CertError> {
    let now = SystemTime::now();
    let start = now.checked_sub(BACKDATE).unwrap_or(now);

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "meshconfig-webhook development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = start.into();
    ca_params.not_after = (start + CA_VALIDITY).into();
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let sans = subject_alt_names(service, namespace);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(sans.clone())?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("{service}.{namespace}.svc"));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = start.into();
    params.not_after = (start + CERT_VALIDITY).into();
    let cert = params.signed_by(&key, &issuer)?;

    Ok(Generated {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        sans,
    })
}

/// Writes `g` into `dir` (created if missing). Each file is written to a temporary name and
/// renamed, so a reader never sees half a file; the key is readable by its owner only.
pub fn write(dir: &Path, g: &Generated) -> Result<Paths, CertError> {
    fs::create_dir_all(dir).map_err(|source| CertError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let paths = Paths::in_dir(dir);
    // The key first: a serving pair is only picked up once both files match.
    write_atomic(&paths.key, g.key_pem.as_bytes(), true)?;
    write_atomic(&paths.cert, g.cert_pem.as_bytes(), false)?;
    write_atomic(&paths.ca, g.ca_pem.as_bytes(), false)?;
    Ok(paths)
}

/// Whether `ensure` made new certificates or kept the ones it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    Reused,
    Created,
}

/// Reuses the development certificates in `dir` when they are usable for `service`/`namespace`
/// (all three files present, the pair matches, the CA issued it, every name present, more than 30
/// days left); otherwise generates and writes new ones.
pub fn ensure(dir: &Path, service: &str, namespace: &str) -> Result<(Paths, Provenance), CertError> {
    let paths = Paths::in_dir(dir);
    if reusable(&paths, service, namespace).is_ok() {
        return Ok((paths, Provenance::Reused));
    }
    let g = generate(service, namespace)?;
    Ok((write(dir, &g)?, Provenance::Created))
}

/// Why existing files cannot be reused (for tests and debug logs).
pub fn reusable(paths: &Paths, service: &str, namespace: &str) -> Result<(), String> {
    let read = |p: &Path| fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (ca_pem, cert_pem, key_pem) = (read(&paths.ca)?, read(&paths.cert)?, read(&paths.key)?);
    let pair = crate::server::tls::load_pair(&cert_pem, &key_pem)?;
    let ca_der = first_certificate(&ca_pem).ok_or_else(|| format!("{}: no CERTIFICATE block", paths.ca.display()))?;
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).map_err(|e| format!("{}: {e}", paths.ca.display()))?;
    let leaf_der = pair.certified.end_entity_cert().map_err(|e| e.to_string())?;
    verify_chain(&ca_der, leaf_der)?;
    let (_, leaf) = x509_parser::parse_x509_certificate(leaf_der).map_err(|e| e.to_string())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let renew_at = pair.not_after.min(ca.validity().not_after.timestamp());
    if renew_at < (now + RENEW_BEFORE.as_secs()) as i64 {
        return Err("the certificates expire within 30 days".into());
    }
    let names = leaf_names(&leaf);
    if let Some(missing) = subject_alt_names(service, namespace)
        .into_iter()
        .find(|n| !names.contains(n))
    {
        return Err(format!("the serving certificate does not name {missing:?}"));
    }
    Ok(())
}

/// Checks that the CA issued `leaf` and that it is valid now for `localhost`, as a client would.
fn verify_chain(ca_der: &[u8], leaf_der: &[u8]) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier as _;
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca_der.to_vec()))
        .map_err(|e| format!("ca.crt: {e}"))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        std::sync::Arc::new(roots),
        crate::server::tls::provider(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(
            &CertificateDer::from(leaf_der.to_vec()),
            &[],
            &name,
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| format!("the serving certificate does not verify against ca.crt: {e}"))
}

/// DNS names and IP addresses in a certificate's subjectAltName, as strings.
fn leaf_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some((*d).to_owned()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::Ipv4Addr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::Ipv6Addr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn first_certificate(pem: &[u8]) -> Option<Vec<u8>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(pem).next()?.ok().map(|c| c.to_vec())
}

fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<(), CertError> {
    let io = |source| CertError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = opts.open(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    if let Err(e) = result.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn names_cover_local_and_in_cluster_clients() {
        assert_eq!(
            subject_alt_names("wh", "ns"),
            [
                "localhost",
                "127.0.0.1",
                "wh",
                "wh.ns",
                "wh.ns.svc",
                "wh.ns.svc.cluster.local"
            ]
        );
    }

    #[test]
    fn generated_certificates_are_reused_until_they_no_longer_fit() {
        let dir = tempdir();
        let (paths, how) = ensure(dir.path(), "wh", "ns").expect("create");
        assert_eq!(how, Provenance::Created);
        let first = fs::read(&paths.cert).expect("read");
        let (_, how) = ensure(dir.path(), "wh", "ns").expect("reuse");
        assert_eq!(how, Provenance::Reused);
        assert_eq!(fs::read(&paths.cert).expect("read"), first);
        // Another service name needs other SANs: regenerate.
        let err = reusable(&paths, "other", "ns").expect_err("names differ");
        assert!(err.contains("\"other\""), "{err}");
        let (_, how) = ensure(dir.path(), "other", "ns").expect("regenerate");
        assert_eq!(how, Provenance::Created);
    }

    #[test]
    fn a_foreign_ca_or_broken_key_is_not_reused() {
        let dir = tempdir();
        let (paths, _) = ensure(dir.path(), "wh", "ns").expect("create");
        let other = generate("wh", "ns").expect("generate");
        fs::write(&paths.ca, &other.ca_pem).expect("write");
        assert!(
            reusable(&paths, "wh", "ns")
                .expect_err("foreign CA")
                .contains("does not verify against ca.crt")
        );
        fs::write(&paths.key, "garbage").expect("write");
        assert!(reusable(&paths, "wh", "ns").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempdir();
        let (paths, _) = ensure(dir.path(), "wh", "ns").expect("create");
        let mode = fs::metadata(&paths.key).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
