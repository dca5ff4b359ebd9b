//! Passwords: argon2id hashes (PHC strings), the password policy, generated passwords.
//!
//! argon2 is deliberately slow and memory-hard: for passwords only, never for API tokens or
//! session ids (those are 256-bit random values, where one SHA-256 is enough). Hashing and
//! verifying block for tens of milliseconds: run them on the blocking pool.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use super::{random, AuthError, SecretText};

/// Shortest password accepted when changing it.
pub const MIN_CHARS: usize = 12;
/// Longest password accepted (bytes), so nobody can make the server hash megabytes.
pub const MAX_BYTES: usize = 1024;

/// The argon2id cost of new hashes. Verifying uses the cost stored in each hash, so raising it
/// later keeps old hashes working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl PasswordCost {
    fn hasher(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| AuthError::Crypto(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes `password` with a fresh random salt; returns the PHC string to store. Blocking.
pub fn hash(password: &str, cost: PasswordCost) -> Result<String, AuthError> {
    let salt = random::bytes::<16>()?;
    let hash = cost
        .hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| AuthError::Crypto(format!("argon2: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (its own parameters are used). A stored
/// value that is not a valid hash matches nothing. Blocking.
pub fn verify(password: &str, stored: &str) -> bool {
    password.len() <= MAX_BYTES
        && Argon2::default()
            .verify_password(password.as_bytes(), stored)
            .is_ok()
}

/// Checks a new password against the policy: at least [`MIN_CHARS`] characters, at most
/// [`MAX_BYTES`] bytes, not only whitespace.
pub fn check_policy(new: &str) -> Result<(), AuthError> {
    if new.trim().is_empty() {
        return Err(AuthError::WeakPassword("the password must not be blank"));
    }
    if new.chars().count() < MIN_CHARS {
        return Err(AuthError::WeakPassword(
            "the password must have at least 12 characters",
        ));
    }
    if new.len() > MAX_BYTES {
        return Err(AuthError::WeakPassword(
            "the password must have at most 1024 bytes",
        ));
    }
    Ok(())
}

/// A new random password: 24 URL-safe characters (144 bits).
pub fn generate() -> Result<SecretText, AuthError> {
    Ok(SecretText::new(random::encode(&random::bytes::<18>()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: these tests are about the logic, not the cost.
    const CHEAP: PasswordCost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash("correct horse battery", CHEAP).unwrap();
        let b = hash("correct horse battery", CHEAP).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse battery!", &a));
        assert!(!verify("anything", "not a hash"));
        assert!(!verify(&"x".repeat(MAX_BYTES + 1), &a));
    }

    #[test]
    fn the_default_cost_is_owasps() {
        let cost = PasswordCost::default();
        assert_eq!(
            (cost.memory_kib, cost.iterations, cost.parallelism),
            (19 * 1024, 2, 1)
        );
    }

    #[test]
    fn the_policy_wants_twelve_characters() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("            ").is_err());
        assert!(check_policy(&"x".repeat(MAX_BYTES + 1)).is_err());
        assert!(check_policy("twelve chars").is_ok());
        assert!(
            check_policy("äöüäöüäöüäöü").is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose().len(), 24);
        assert_ne!(a, b);
        assert!(check_policy(a.expose()).is_ok());
    }
}
