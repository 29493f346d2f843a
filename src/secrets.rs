//! Encryption at rest of calendar passwords and OAuth tokens (XChaCha20-Poly1305), under a key
//! from `ONEONONE_SECRET_KEY` or a key file created with mode 0600 on first use. The database only
//! ever holds ciphertext; a copy of it without the key reveals nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// The environment variable that holds the key (base64 of 32 bytes); wins over the key file.
pub const KEY_ENV: &str = "ONEONONE_SECRET_KEY";
/// First byte of every ciphertext: the format, so a later scheme can be told apart.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Binds ciphertexts to their purpose: a credential blob cannot be replayed as something else.
const AAD: &[u8] = b"oneonone credentials v1";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{KEY_ENV} must be the base64 encoding of 32 bytes")]
    BadEnvKey,
    #[error("key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },
    #[error(
        "cannot decrypt stored credentials: wrong key (was the key file or {KEY_ENV} changed?) or damaged data"
    )]
    Decrypt,
}

/// The key that encrypts credentials. `Debug` never shows it.
pub struct Keyring {
    key: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

impl Keyring {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// The key from `ONEONONE_SECRET_KEY` when set, else from `key_file` (created when absent).
    pub fn load(key_file: &Path) -> Result<Self, SecretsError> {
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                Self::from_base64(v.trim()).ok_or(SecretsError::BadEnvKey)
            }
            _ => Self::from_file(key_file),
        }
    }

    fn from_base64(text: &str) -> Option<Self> {
        let bytes = B64.decode(text).ok()?;
        Some(Self::from_bytes(bytes.try_into().ok()?))
    }

    /// Reads the key file, or creates it (mode 0600, folder created) with a fresh random key.
    pub fn from_file(path: &Path) -> Result<Self, SecretsError> {
        let err = |message: String| SecretsError::KeyFile {
            path: path.to_path_buf(),
            message,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(text.trim())
                .ok_or_else(|| err("does not hold the base64 encoding of 32 bytes".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| err(format!("cannot create folder: {e}")))?;
                }
                let key: [u8; 32] = rand::random();
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts
                    .open(path)
                    .map_err(|e| err(format!("cannot create: {e}")))?;
                writeln!(f, "{}", B64.encode(key))
                    .map_err(|e| err(format!("cannot write: {e}")))?;
                tracing::info!(path = %path.display(), "created a new secret key file");
                Ok(Self::from_bytes(key))
            }
            Err(e) => Err(err(format!("cannot read: {e}"))),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.expose_secret().into())
    }

    pub fn encrypt(&self, plaintext: &SecretString) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: AAD,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, blob: &[u8]) -> Result<SecretString, SecretsError> {
        if blob.len() < 1 + NONCE_LEN || blob[0] != VERSION {
            return Err(SecretsError::Decrypt);
        }
        let (nonce, ct) = blob[1..].split_at(NONCE_LEN);
        let pt = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: AAD })
            .map_err(|_| SecretsError::Decrypt)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| SecretsError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_decrypt_gives_the_secret_back_and_hides_it() {
        let k = Keyring::from_bytes([7; 32]);
        let blob = k.encrypt(&SecretString::from("hunter2-ünï"));
        assert!(!blob.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(k.decrypt(&blob).unwrap().expose_secret(), "hunter2-ünï");
        // Fresh nonce each time.
        assert_ne!(blob, k.encrypt(&SecretString::from("hunter2-ünï")));
    }

    #[test]
    fn a_wrong_key_or_tampered_blob_is_refused() {
        let blob = Keyring::from_bytes([7; 32]).encrypt(&SecretString::from("pw"));
        assert!(matches!(
            Keyring::from_bytes([8; 32]).decrypt(&blob),
            Err(SecretsError::Decrypt)
        ));
        let mut bad = blob.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(Keyring::from_bytes([7; 32]).decrypt(&bad).is_err());
        assert!(Keyring::from_bytes([7; 32]).decrypt(&[]).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.key");
        let a = Keyring::from_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = Keyring::from_file(&path).unwrap();
        let blob = a.encrypt(&SecretString::from("x"));
        assert_eq!(b.decrypt(&blob).unwrap().expose_secret(), "x");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            Keyring::from_file(&path),
            Err(SecretsError::KeyFile { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(
            format!("{:?}", Keyring::from_bytes([65; 32])),
            "Keyring(..)"
        );
    }
}
