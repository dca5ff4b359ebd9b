//! TLS: a self-signed certificate generated at start (rcgen, ring), its SHA-256 fingerprint in
//! PVE's notation (`AB:CD:...`), the files it is written to, and the rustls server config
//! (ring provider passed explicitly; aws-lc-rs is never used).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// Why TLS setup failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("invalid TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// Writing the certificate files failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// File.
        path: PathBuf,
        /// Error.
        source: std::io::Error,
    },
}

/// The served certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// PEM of the certificate.
    pub cert_pem: String,
    /// SHA-256 of the DER certificate, upper-case hex pairs joined by `:` (as PVE shows it).
    pub fingerprint: String,
    /// Where the certificate PEM was written (`pve-ssl.pem`).
    pub cert_path: PathBuf,
    /// Where the private key PEM was written (`pve-ssl.key`).
    pub key_path: PathBuf,
    /// Where the fingerprint was written (`pve-ssl.fingerprint`).
    pub fingerprint_path: PathBuf,
}

/// Formats bytes as upper-case hex pairs joined by `:`.
pub fn fingerprint_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// SHA-256 fingerprint of a DER certificate in PVE notation.
pub fn fingerprint_of(der: &[u8]) -> String {
    fingerprint_hex(&Sha256::digest(der))
}

/// Generates a certificate for `localhost`/`127.0.0.1`/`node_name`, writes it to `dir` and
/// returns the rustls server config plus the certificate facts.
pub fn setup(
    dir: &Path,
    node_name: &str,
) -> Result<(Arc<rustls::ServerConfig>, CertInfo), TlsError> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        node_name.to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)?;
    let der: CertificateDer<'static> = certified.cert.der().clone();
    let fingerprint = fingerprint_of(&der);
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));

    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let write = |name: &str, text: &str| -> Result<PathBuf, TlsError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| TlsError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    let cert_path = write("pve-ssl.pem", &cert_pem)?;
    let key_path = write("pve-ssl.key", &key_pem)?;
    let fingerprint_path = write("pve-ssl.fingerprint", &format!("{fingerprint}\n"))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![der], key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((
        Arc::new(config),
        CertInfo {
            cert_pem,
            fingerprint,
            cert_path,
            key_path,
            fingerprint_path,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_files_and_fingerprint() {
        let dir = std::env::temp_dir().join(format!("pve-sim-tls-{}", std::process::id()));
        let (_cfg, info) = setup(&dir, "pve1").unwrap();
        assert_eq!(info.fingerprint.len(), 32 * 3 - 1);
        assert!(info.fingerprint.split(':').all(|p| p.len() == 2
            && p.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
        let written = std::fs::read_to_string(&info.fingerprint_path).unwrap();
        assert_eq!(written.trim(), info.fingerprint);
        assert!(std::fs::read_to_string(&info.cert_path)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
