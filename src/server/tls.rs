//! Direct HTTPS (`PROXLB_WEB_TLS_CERT`, `PROXLB_WEB_TLS_KEY`): for a server exposed without a
//! TLS-terminating proxy. rustls with the ring provider (the process's one TLS stack), TLS 1.2
//! and 1.3, HTTP/1.1 only (see [`super::serve`] for why). Session cookies get `Secure`.

use std::sync::Arc;

use plb_backend::settings::access::TlsFiles;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up. Messages name files, never key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file could not be read or holds no usable PEM.
    #[error("{variable}={path}: {reason}")]
    File {
        /// The setting naming the file.
        variable: &'static str,
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("PROXLB_WEB_TLS_CERT and PROXLB_WEB_TLS_KEY cannot be used together: {0}")]
    Pair(String),
}

/// The TLS acceptor for `files`. Blocking (reads two files): call at start.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsSetupError> {
    let cert_error = |reason: String| TlsSetupError::File {
        variable: "PROXLB_WEB_TLS_CERT",
        path: files.cert.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(format!("not a PEM certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(cert_error("holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsSetupError::File {
        variable: "PROXLB_WEB_TLS_KEY",
        path: files.key.display().to_string(),
        // The error names the PEM problem, never the key.
        reason: format!("no usable private key: {e}"),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsSetupError::Pair(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_loads_and_a_missing_file_is_named() {
        let dir = tempfile_dir();
        let (_, info) = plb_pve_sim::tls::setup(&dir, "plb").unwrap();
        let files = TlsFiles {
            cert: info.cert_path.clone(),
            key: info.key_path.clone(),
        };
        assert!(acceptor(&files).is_ok());
        let missing = TlsFiles {
            cert: dir.join("nope.pem"),
            key: info.key_path.clone(),
        };
        let error = acceptor(&missing).err().unwrap().to_string();
        assert!(
            error.contains("PROXLB_WEB_TLS_CERT") && error.contains("nope.pem"),
            "{error}"
        );
        let swapped = TlsFiles {
            cert: info.key_path.clone(),
            key: info.cert_path,
        };
        assert!(acceptor(&swapped).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "plb-tls-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
