//! TLS trust for the Proxmox VE client: one rustls `ClientConfig` per [`TlsTrust`] mode, always
//! with the ring provider (the process default installed by [`crate::tls`], or ring itself when
//! nothing is installed), handed to reqwest preconfigured.
//!
//! - [`TlsTrust::System`]: the platform verifier (system trust store), as reqwest does by default.
//! - [`TlsTrust::CaFile`]: webpki verification against the CA certificates of a PEM bundle.
//! - [`TlsTrust::Pinned`]: [`PinnedVerifier`] accepts exactly the certificates whose SHA-256
//!   fingerprint is pinned (compares the leaf certificate; handshake signatures still checked).
//! - [`TlsTrust::Insecure`]: [`NoVerification`] accepts any certificate.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::{Fingerprint, TlsTrust};
use crate::pve_wire::PveError;

/// The crypto provider: the installed process default, else ring.
pub fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

fn config_error(reason: impl Into<String>) -> PveError {
    PveError::Config {
        reason: reason.into(),
    }
}

/// Builds the rustls client configuration for a trust mode (HTTP/1.1 via ALPN).
pub fn client_config(trust: &TlsTrust) -> Result<ClientConfig, PveError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS setup failed: {e}")))?;
    let mut config = match trust {
        TlsTrust::System => {
            let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
                .map_err(|e| config_error(format!("cannot load the system trust store: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsTrust::CaFile(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read the CA bundle");
                    config_error("cannot read the CA bundle file (PEM certificates expected)")
                })?;
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(config_error(
                    "the CA bundle file holds no usable certificate",
                ));
            }
            let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| config_error(format!("invalid CA bundle: {e}")))?;
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        }
        TlsTrust::Pinned(fingerprints) => {
            if fingerprints.is_empty() {
                return Err(config_error("no certificate fingerprint to pin"));
            }
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                    fingerprints: fingerprints.clone(),
                    provider: Arc::clone(&provider),
                }))
                .with_no_client_auth()
        }
        TlsTrust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification {
                provider: Arc::clone(&provider),
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A user-facing reason for a rustls failure.
pub fn tls_reason(error: &rustls::Error) -> String {
    match error {
        rustls::Error::General(reason) => reason.clone(),
        other => other.to_string(),
    }
}

/// Accepts a server certificate iff the SHA-256 of its DER encoding (the leaf only) is pinned.
#[derive(Debug)]
pub struct PinnedVerifier {
    fingerprints: Vec<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    /// A verifier for these pins.
    pub fn new(fingerprints: Vec<Fingerprint>, provider: Arc<CryptoProvider>) -> Self {
        Self {
            fingerprints,
            provider,
        }
    }

    /// Whether a DER certificate matches one of the pins.
    pub fn matches(&self, der: &[u8]) -> bool {
        let seen = Fingerprint::of_der(der);
        self.fingerprints.contains(&seen)
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.matches(end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server certificate (SHA-256 {}) does not match the pinned fingerprint",
                Fingerprint::of_der(end_entity.as_ref())
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts every server certificate (`ssl_verification: false`); handshake signatures are still
/// checked against the presented certificate.
#[derive(Debug)]
pub struct NoVerification {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_verifier_compares_the_leaf_sha256() {
        crate::tls::install_crypto_provider();
        let der = b"not really a certificate";
        let verifier = PinnedVerifier::new(vec![Fingerprint::of_der(der)], provider());
        assert!(verifier.matches(der));
        assert!(!verifier.matches(b"another certificate"));
        let name = ServerName::try_from("pve1").unwrap();
        let other = CertificateDer::from(b"another certificate".to_vec());
        let err = verifier
            .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(tls_reason(&err).contains("does not match the pinned fingerprint"));
        let same = CertificateDer::from(der.to_vec());
        assert!(verifier
            .verify_server_cert(&same, &[], &name, &[], UnixTime::now())
            .is_ok());
    }

    #[test]
    fn every_mode_builds_a_config_except_bad_inputs() {
        crate::tls::install_crypto_provider();
        assert!(client_config(&TlsTrust::Insecure).is_ok());
        assert!(client_config(&TlsTrust::Pinned(vec![Fingerprint([1; 32])])).is_ok());
        assert!(matches!(
            client_config(&TlsTrust::Pinned(vec![])),
            Err(PveError::Config { .. })
        ));
        let missing = std::env::temp_dir().join("plb-backend-no-such-ca.pem");
        let err = client_config(&TlsTrust::CaFile(missing.clone())).unwrap_err();
        assert!(matches!(err, PveError::Config { .. }));
        // The configured path stays out of the error (it goes to the log only).
        assert!(!err.to_string().contains("plb-backend-no-such-ca"));
    }
}
