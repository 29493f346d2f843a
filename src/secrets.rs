//! Encryption at rest of calendar passwords, OAuth tokens and private notes (XChaCha20-Poly1305),
//! under a key from `ONEONONE_SECRET_KEY` or a key file created with mode 0600 on first use. The
//! database only ever holds ciphertext; a copy of it without the key reveals nothing.
//!
//! A key source may hold several keys (file: one per line; environment: comma-separated): the
//! first encrypts, every one may decrypt. That is what makes rotation safe to interrupt: the new
//! key is added first, rows are re-encrypted in one transaction, and only then is the old key
//! removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// The environment variable that holds the key(s) (base64 of 32 bytes each, comma-separated,
/// the first one current); wins over the key file.
pub(crate) const KEY_ENV: &str = "ONEONONE_SECRET_KEY";
/// First byte of every ciphertext: the format, so a later scheme can be told apart.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// What a ciphertext protects. Each purpose binds its ciphertexts (as associated data), so a blob
/// of one kind cannot be replayed as another: a private note copied into `accounts.credentials`
/// does not decrypt there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Calendar passwords and OAuth tokens.
    Credentials,
    /// A manager's private notes about a 1:1 (personnel data, never in a calendar).
    PrivateNote,
    /// A direct's private link, kept so each pass can write it into the 1:1's invite.
    DirectLink,
}

impl Purpose {
    fn aad(self) -> &'static [u8] {
        match self {
            Purpose::Credentials => b"oneonone credentials v1",
            Purpose::PrivateNote => b"oneonone private note v1",
            Purpose::DirectLink => b"oneonone direct link v1",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Purpose::Credentials => "credentials",
            Purpose::PrivateNote => "private notes",
            Purpose::DirectLink => "direct's links",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{KEY_ENV} must be the base64 encoding of 32 bytes (several: comma-separated)")]
    BadEnvKey,
    #[error("key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },
    #[error(
        "cannot decrypt stored credentials: wrong key (was the key file or {KEY_ENV} changed?) or damaged data"
    )]
    Decrypt,
    #[error(
        "cannot decrypt stored {what}: wrong key (was the key file or {KEY_ENV} changed?) or damaged data"
    )]
    DecryptOther { what: &'static str },
}

/// Where the keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    Env,
    File(PathBuf),
    Memory,
}

/// The keys that protect credentials. `Debug` never shows them.
pub struct Keyring {
    /// The first encrypts; all decrypt.
    keys: Vec<SecretBox<[u8; 32]>>,
    source: KeySource,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({} key(s), {:?})", self.keys.len(), self.source)
    }
}

fn decode_key(text: &str) -> Option<SecretBox<[u8; 32]>> {
    let bytes: [u8; 32] = B64.decode(text.trim()).ok()?.try_into().ok()?;
    Some(SecretBox::new(Box::new(bytes)))
}

fn decode_keys<'a>(parts: impl Iterator<Item = &'a str>) -> Option<Vec<SecretBox<[u8; 32]>>> {
    let keys: Option<Vec<_>> = parts
        .filter(|p| !p.trim().is_empty())
        .map(decode_key)
        .collect();
    keys.filter(|k| !k.is_empty())
}

impl Keyring {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            keys: vec![SecretBox::new(Box::new(bytes))],
            source: KeySource::Memory,
        }
    }

    pub(crate) fn source(&self) -> &KeySource {
        &self.source
    }

    /// The keys from `ONEONONE_SECRET_KEY` when set, else from `key_file` (created when absent).
    pub(crate) fn load(key_file: &Path) -> Result<Self, SecretsError> {
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                let keys = decode_keys(v.split(',')).ok_or(SecretsError::BadEnvKey)?;
                Ok(Self {
                    keys,
                    source: KeySource::Env,
                })
            }
            _ => Self::from_file(key_file),
        }
    }

    /// Reads the key file, or creates it (mode 0600, folder created) with a fresh random key.
    pub fn from_file(path: &Path) -> Result<Self, SecretsError> {
        let err = |message: String| SecretsError::KeyFile {
            path: path.to_path_buf(),
            message,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let keys = decode_keys(text.lines()).ok_or_else(|| {
                    err("does not hold base64 keys of 32 bytes, one per line".into())
                })?;
                Ok(Self {
                    keys,
                    source: KeySource::File(path.to_path_buf()),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ring = Self {
                    keys: vec![SecretBox::new(Box::new(rand::random()))],
                    source: KeySource::File(path.to_path_buf()),
                };
                ring.write_file(path, true).map_err(err)?;
                tracing::info!(path = %path.display(), "created a new secret key file");
                Ok(ring)
            }
            Err(e) => Err(err(format!("cannot read: {e}"))),
        }
    }

    /// Writes the keys to `path` (mode 0600) through a temporary file and a rename, so the file
    /// is never half-written.
    fn write_file(&self, path: &Path, create_new: bool) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create folder: {e}"))?;
        }
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(|e| format!("cannot create: {e}"))?;
        for k in &self.keys {
            writeln!(f, "{}", B64.encode(k.expose_secret()))
                .map_err(|e| format!("cannot write: {e}"))?;
        }
        f.sync_all().map_err(|e| format!("cannot write: {e}"))?;
        if create_new && path.exists() {
            return Err("exists already".into());
        }
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace: {e}"))
    }

    fn cipher(key: &SecretBox<[u8; 32]>) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(key.expose_secret().into())
    }

    /// Encrypts credentials under the current (first) key.
    pub fn encrypt(&self, plaintext: &SecretString) -> Vec<u8> {
        self.encrypt_for(Purpose::Credentials, plaintext)
    }

    /// Decrypts credentials with whichever key fits.
    pub fn decrypt(&self, blob: &[u8]) -> Result<SecretString, SecretsError> {
        self.decrypt_for(Purpose::Credentials, blob)
    }

    /// Encrypts data of `purpose` under the current (first) key.
    pub(crate) fn encrypt_for(&self, purpose: Purpose, plaintext: &SecretString) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ct = Self::cipher(&self.keys[0])
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: purpose.aad(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts data of `purpose` with whichever key fits.
    pub(crate) fn decrypt_for(
        &self,
        purpose: Purpose,
        blob: &[u8],
    ) -> Result<SecretString, SecretsError> {
        let fail = || match purpose {
            Purpose::Credentials => SecretsError::Decrypt,
            other => SecretsError::DecryptOther { what: other.what() },
        };
        if blob.len() < 1 + NONCE_LEN || blob[0] != VERSION {
            return Err(fail());
        }
        let (nonce, ct) = blob[1..].split_at(NONCE_LEN);
        let pt = self
            .keys
            .iter()
            .find_map(|k| {
                Self::cipher(k)
                    .decrypt(
                        XNonce::from_slice(nonce),
                        Payload {
                            msg: ct,
                            aad: purpose.aad(),
                        },
                    )
                    .ok()
            })
            .ok_or_else(fail)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| fail())
    }

    /// Rotation, step 1: a fresh key becomes current; the old ones stay for decryption. For a
    /// key file, the file is rewritten with the new key first.
    pub(crate) fn begin_rotation(&mut self) -> Result<(), SecretsError> {
        self.keys
            .insert(0, SecretBox::new(Box::new(rand::random())));
        if let KeySource::File(path) = &self.source {
            self.write_file(path, false)
                .map_err(|message| SecretsError::KeyFile {
                    path: path.clone(),
                    message,
                })?;
        }
        Ok(())
    }

    /// Rotation, last step (after every row was re-encrypted): only the current key is kept.
    pub(crate) fn finish_rotation(&mut self) -> Result<(), SecretsError> {
        self.keys.truncate(1);
        if let KeySource::File(path) = &self.source {
            self.write_file(path, false)
                .map_err(|message| SecretsError::KeyFile {
                    path: path.clone(),
                    message,
                })?;
        }
        Ok(())
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
    fn a_blob_of_one_purpose_does_not_decrypt_as_another() {
        let k = Keyring::from_bytes([7; 32]);
        let note = k.encrypt_for(Purpose::PrivateNote, &SecretString::from("struggling"));
        assert_eq!(
            k.decrypt_for(Purpose::PrivateNote, &note)
                .unwrap()
                .expose_secret(),
            "struggling"
        );
        assert!(matches!(k.decrypt(&note), Err(SecretsError::Decrypt)));
        let cred = k.encrypt(&SecretString::from("pw"));
        let err = k.decrypt_for(Purpose::PrivateNote, &cred).unwrap_err();
        assert!(err.to_string().contains("private notes"), "{err}");
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
    fn rotation_keeps_old_ciphertexts_readable_until_it_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let mut ring = Keyring::from_file(&path).unwrap();
        let old_blob = ring.encrypt(&SecretString::from("pw"));
        ring.begin_rotation().unwrap();
        // A daemon that reads the key file mid-rotation decrypts both old and new ciphertexts.
        let mid = Keyring::from_file(&path).unwrap();
        assert_eq!(mid.decrypt(&old_blob).unwrap().expose_secret(), "pw");
        let new_blob = ring.encrypt(&SecretString::from("pw"));
        assert_eq!(mid.decrypt(&new_blob).unwrap().expose_secret(), "pw");
        ring.finish_rotation().unwrap();
        let after = Keyring::from_file(&path).unwrap();
        assert!(
            after.decrypt(&old_blob).is_err(),
            "the old key must be gone"
        );
        assert_eq!(after.decrypt(&new_blob).unwrap().expose_secret(), "pw");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", Keyring::from_bytes([65; 32]));
        assert!(!shown.contains(&B64.encode([65u8; 32])), "{shown}");
    }
}
