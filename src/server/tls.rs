//! TLS: the rustls configuration (ring, TLS 1.2 and 1.3, ALPN) and a serving certificate that is
//! swapped without a restart.
//!
//! Each handshake asks [`CertStore`] for the current pair (one read lock per handshake, none per
//! request). [`Reloader`] re-reads the files it was started from when polled and swaps the pair
//! when their contents changed and the new pair is usable. Paths are followed through symlinks
//! on every read, so a Kubernetes Secret volume update (a new timestamped directory, then the
//! `..data` symlink renamed over) is seen like any other write. A broken or half-written pair
//! (unparsable, or key and certificate not matching) keeps the old pair in service.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The crypto provider this crate uses everywhere (ring; no aws-lc).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide default rustls provider; harmless when already installed.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A certificate chain with its key, checked to match, and when the leaf expires.
#[derive(Debug, Clone)]
pub struct LoadedPair {
    pub certified: Arc<CertifiedKey>,
    /// The leaf's notAfter, in seconds since the Unix epoch.
    pub not_after: i64,
}

/// Parses a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1)
/// and checks that they belong together.
pub fn load_pair(cert_pem: &[u8], key_pem: &[u8]) -> Result<LoadedPair, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate file: {e}"))?;
    let Some(leaf) = chain.first() else {
        return Err("certificate file: no CERTIFICATE block found".into());
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("certificate file: not an X.509 certificate: {e}"))?;
    let not_after = parsed.validity().not_after.timestamp();
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key file: {e}"))?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => "the private key does not match the certificate".to_owned(),
        other => format!("key file: {other}"),
    })?;
    Ok(LoadedPair {
        certified: Arc::new(certified),
        not_after,
    })
}

/// The pair handshakes are served with.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    pub fn new(pair: &LoadedPair) -> Self {
        Self {
            current: RwLock::new(pair.certified.clone()),
        }
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        // A poisoned lock still holds a valid pair: a writer only ever stores a whole Arc.
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, certified: Arc<CertifiedKey>) {
        match self.current.write() {
            Ok(mut g) => *g = certified,
            Err(poisoned) => *poisoned.into_inner() = certified,
        }
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// What one poll of the certificate files found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollResult {
    /// Same contents as the pair in service.
    Unchanged,
    /// New contents, loaded and now served.
    Reloaded { not_after: i64 },
    /// New contents that cannot be used; the old pair stays. Reported once per distinct content.
    Failed(String),
    /// The same unusable contents as last time (already reported).
    StillBroken,
}

/// Watches a certificate/key file pair and swaps it into a [`CertStore`].
#[derive(Debug)]
pub struct Reloader {
    cert_path: PathBuf,
    key_path: PathBuf,
    store: Arc<CertStore>,
    /// Fingerprint of the contents in service.
    served: u64,
    /// Fingerprint of the last unusable contents (or read error), to report each only once.
    failed: Option<u64>,
}

/// Why the initial pair could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot load the TLS certificate {} with key {}: {}",
            self.cert_path.display(),
            self.key_path.display(),
            self.reason
        )
    }
}

impl std::error::Error for LoadError {}

impl Reloader {
    /// Loads the pair for the first time; an unusable pair is an error (nothing to fall back to).
    pub fn start(cert_path: &Path, key_path: &Path) -> Result<(Self, LoadedPair), LoadError> {
        let err = |reason: String| LoadError {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            reason,
        };
        let (cert, key) = read_pair(cert_path, key_path).map_err(err)?;
        let pair = load_pair(&cert, &key).map_err(err)?;
        let store = Arc::new(CertStore::new(&pair));
        let reloader = Self {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            store,
            served: fingerprint(&cert, &key),
            failed: None,
        };
        Ok((reloader, pair))
    }

    pub fn store(&self) -> Arc<CertStore> {
        self.store.clone()
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// Re-reads both files and swaps the pair in service when they changed and load.
    pub fn poll(&mut self) -> PollResult {
        let (cert, key) = match read_pair(&self.cert_path, &self.key_path) {
            Ok(c) => c,
            Err(e) => return self.fail(fingerprint(e.as_bytes(), b""), e),
        };
        let fp = fingerprint(&cert, &key);
        if fp == self.served {
            self.failed = None;
            return PollResult::Unchanged;
        }
        match load_pair(&cert, &key) {
            Ok(pair) => {
                self.store.set(pair.certified);
                self.served = fp;
                self.failed = None;
                PollResult::Reloaded {
                    not_after: pair.not_after,
                }
            }
            Err(e) => self.fail(fp, e),
        }
    }

    fn fail(&mut self, fp: u64, reason: String) -> PollResult {
        if self.failed == Some(fp) {
            return PollResult::StillBroken;
        }
        self.failed = Some(fp);
        PollResult::Failed(reason)
    }
}

fn read_pair(cert_path: &Path, key_path: &Path) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    Ok((read(cert_path)?, read(key_path)?))
}

fn fingerprint(cert: &[u8], key: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    cert.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// The ALPN protocols offered: HTTP/1.1 always, h2 first when enabled.
pub fn alpn(http2: bool) -> Vec<Vec<u8>> {
    if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    }
}

/// The server's rustls configuration: ring, TLS 1.3 and 1.2 only, the reloading certificate, and
/// (with `client_ca`) client certificates required and verified against that CA bundle.
pub fn server_config(store: Arc<CertStore>, http2: bool, client_ca: Option<&Path>) -> Result<ServerConfig, String> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("reading --client-ca-file {}: {e}", path.display()))?;
            let mut roots = RootCertStore::empty();
            let mut any = false;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("--client-ca-file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("--client-ca-file {}: {e}", path.display()))?;
                any = true;
            }
            if !any {
                return Err(format!(
                    "--client-ca-file {}: no CERTIFICATE block found",
                    path.display()
                ));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("--client-ca-file {}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(store);
    config.alpn_protocols = alpn(http2);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs;

    fn pair() -> certs::Generated {
        certs::generate("wh", "ns").expect("generate")
    }

    #[test]
    fn loads_a_matching_pair_and_rejects_a_mismatched_one() {
        let a = pair();
        let b = pair();
        let loaded = load_pair(a.cert_pem.as_bytes(), a.key_pem.as_bytes()).expect("pair");
        assert!(loaded.not_after > 1_700_000_000);
        let err = load_pair(a.cert_pem.as_bytes(), b.key_pem.as_bytes()).expect_err("mismatch");
        assert_eq!(err, "the private key does not match the certificate");
        let err = load_pair(b"", a.key_pem.as_bytes()).expect_err("empty");
        assert_eq!(err, "certificate file: no CERTIFICATE block found");
        assert!(
            load_pair(a.cert_pem.as_bytes(), b"")
                .expect_err("no key")
                .starts_with("key file: ")
        );
    }

    #[test]
    fn reloads_new_pairs_and_keeps_the_old_one_on_a_broken_pair() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = certs::write(dir.path(), &pair()).expect("write");
        let (mut r, _) = Reloader::start(&paths.cert, &paths.key).expect("start");
        let store = r.store();
        let first = store.current();
        assert_eq!(r.poll(), PollResult::Unchanged);

        // Half-written: new certificate, old key.
        let next = pair();
        std::fs::write(&paths.cert, &next.cert_pem).expect("write");
        assert_eq!(
            r.poll(),
            PollResult::Failed("the private key does not match the certificate".into())
        );
        assert_eq!(r.poll(), PollResult::StillBroken);
        assert!(Arc::ptr_eq(&store.current(), &first));

        std::fs::write(&paths.key, &next.key_pem).expect("write");
        assert!(matches!(r.poll(), PollResult::Reloaded { .. }));
        assert!(!Arc::ptr_eq(&store.current(), &first));
        assert_eq!(r.poll(), PollResult::Unchanged);

        std::fs::remove_file(&paths.key).expect("rm");
        assert!(matches!(r.poll(), PollResult::Failed(e) if e.starts_with("reading ")));
    }

    #[test]
    fn a_bad_initial_pair_names_both_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        std::fs::write(&cert, "not pem").expect("write");
        std::fs::write(&key, "not pem").expect("write");
        let err = Reloader::start(&cert, &key).expect_err("bad pair").to_string();
        assert!(err.starts_with("cannot load the TLS certificate "), "{err}");
        assert!(err.contains("no CERTIFICATE block found"), "{err}");
    }

    #[test]
    fn offers_h2_only_when_asked() {
        assert_eq!(alpn(false), vec![b"http/1.1".to_vec()]);
        assert_eq!(alpn(true), vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
