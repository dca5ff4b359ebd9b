//! One rustls crypto provider for the whole process.
//!
//! reqwest, the simulator and any TLS server must agree on the provider: if two are compiled in
//! and none is installed, rustls panics at run time. We compile only `ring` and install it once.

/// Installs rustls' ring provider as the process default. Safe to call any number of times,
/// from `main` and from every test helper.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed, which is what we want.
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn installing_twice_leaves_a_provider_in_place() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
