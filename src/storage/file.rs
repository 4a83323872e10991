//! [`EncryptedFileStorage`]: age X25519 encrypted token files.
//!
//! Layout for instance `<id>` under a base directory (default `~/.runbeam`):
//!
//! ```text
//! <base>/<id>/                 0700
//! <base>/<id>/encryption.key   0600  base64 of "AGE-SECRET-KEY-1…" (upstream format)
//! <base>/<id>/.lock            0600  exclusive lock held by writers
//! <base>/<id>/runbeam/<slot>.json  0600  binary age file, one X25519 recipient
//! ```

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;

use super::atomic::{create_private_dir, remove, write_atomic, DirLock};
use super::name::{validate_instance_id, validate_slot};
use super::{BackendKind, EncryptionKey, StorageError, TokenStorage};
use crate::secret::Secret;

/// Largest token file accepted on read; anything larger is not something we wrote.
const MAX_FILE_LEN: u64 = 1024 * 1024;
const KEY_FILE: &str = "encryption.key";

/// Token files encrypted with age to one X25519 key.
///
/// The key comes from [`with_key`](Self::with_key) when given, otherwise from the instance's
/// `encryption.key`. Only [`write`](TokenStorage::write) may create that key file; reading
/// without a key is [`StorageError::MissingKey`]. Writes are atomic and serialised across
/// threads and processes by a lock file.
#[derive(Debug)]
pub struct EncryptedFileStorage {
    dir: PathBuf,
    /// A key given by the caller; `None` means the instance key file, read on every use so
    /// a replaced or deleted key file is noticed (it is a few hundred bytes).
    key: Option<EncryptionKey>,
}

impl EncryptedFileStorage {
    /// Storage for `instance_id` under `base_dir` (files go to `<base_dir>/<instance_id>/`),
    /// keyed by the instance's `encryption.key`. Touches no file until used.
    pub fn new(base_dir: impl Into<PathBuf>, instance_id: &str) -> Result<Self, StorageError> {
        validate_instance_id(instance_id)?;
        Ok(Self {
            dir: base_dir.into().join(instance_id),
            key: None,
        })
    }

    /// Uses `key` for every file and never reads or writes `encryption.key`.
    pub fn with_key(self, key: EncryptionKey) -> Self {
        Self {
            key: Some(key),
            ..self
        }
    }

    /// The instance directory, `<base>/<instance>`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of a slot's token file.
    pub fn token_path(&self, slot: &str) -> Result<PathBuf, StorageError> {
        validate_slot(slot)?;
        Ok(self.tokens_dir().join(format!("{slot}.json")))
    }

    /// The path of the instance key file (used only without [`with_key`](Self::with_key)).
    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    fn tokens_dir(&self) -> PathBuf {
        self.dir.join("runbeam")
    }

    fn lock(&self) -> Result<DirLock, StorageError> {
        create_private_dir(&self.tokens_dir())?;
        DirLock::acquire(&self.dir.join(".lock"))
    }

    /// The key: the given one, or the key file's; `None` when there is no key file.
    fn existing_key(&self) -> Result<Option<EncryptionKey>, StorageError> {
        if let Some(key) = &self.key {
            return Ok(Some(key.clone()));
        }
        let Some(bytes) = read_regular(&self.key_path(), 4096)? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|_| StorageError::InvalidKey {
            origin: "key file",
            reason: "not UTF-8",
        })?;
        // The key text is key material: keep it in a zeroising secret while parsing.
        let text = age::secrecy::SecretString::from(text);
        EncryptionKey::parse_from(text.expose_secret(), "key file").map(Some)
    }

    /// The key, creating the key file if there is none. Takes the lock guard, so two first
    /// writers cannot each create a different key.
    fn key_for_writing(&self, _lock: &DirLock) -> Result<EncryptionKey, StorageError> {
        if let Some(key) = self.existing_key()? {
            return Ok(key);
        }
        let key = EncryptionKey::generate();
        write_atomic(
            &self.dir,
            KEY_FILE,
            key.to_key_file().expose_secret().as_bytes(),
        )?;
        Ok(key)
    }
}

impl TokenStorage for EncryptedFileStorage {
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
        let path = self.token_path(slot)?;
        let lock = self.lock()?;
        let key = self.key_for_writing(&lock)?;
        let encrypted =
            age::encrypt(&key.identity().to_public(), data).map_err(|_| StorageError::Encrypt)?;
        if path.is_dir() {
            return Err(StorageError::NotAFile { path });
        }
        write_atomic(&self.tokens_dir(), &format!("{slot}.json"), &encrypted)
    }

    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        let path = self.token_path(slot)?;
        let Some(encrypted) = read_regular(&path, MAX_FILE_LEN)? else {
            return Ok(None);
        };
        let key = self
            .existing_key()?
            .ok_or_else(|| StorageError::MissingKey {
                path: self.key_path(),
            })?;
        decrypt(slot, &key, &encrypted).map(Some)
    }

    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        self.token_path(slot)?;
        if !self.dir.exists() {
            return Ok(());
        }
        let _lock = self.lock()?;
        remove(&self.tokens_dir(), &format!("{slot}.json"))
    }

    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        let path = self.token_path(slot)?;
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(true),
            Ok(_) => Err(StorageError::NotAFile { path }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StorageError::io("inspect", path, e)),
        }
    }

    fn kind(&self) -> BackendKind {
        BackendKind::EncryptedFile
    }
}

/// Decrypts one stored token, mapping every age failure to a typed error.
pub(crate) fn decrypt(
    slot: &str,
    key: &EncryptionKey,
    encrypted: &[u8],
) -> Result<Secret<Vec<u8>>, StorageError> {
    use age::DecryptError as E;
    let decryptor = age::Decryptor::new_buffered(encrypted).map_err(|e| match e {
        E::UnknownFormat => StorageError::corrupt(slot, "not an age v1 file"),
        _ => StorageError::corrupt(slot, "the age header is damaged or truncated"),
    })?;
    if decryptor.is_scrypt() {
        return Err(StorageError::PassphraseEncrypted { name: slot.into() });
    }
    let mut reader = decryptor
        .decrypt(std::iter::once(key.identity() as &dyn age::Identity))
        .map_err(|e| match e {
            E::NoMatchingKeys => StorageError::WrongKey { name: slot.into() },
            _ => StorageError::corrupt(slot, "the age header does not authenticate"),
        })?;
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).map_err(|_| {
        StorageError::corrupt(slot, "the encrypted payload is truncated or tampered")
    })?;
    Ok(Secret::new(plain))
}

/// Reads a regular file of at most `max` bytes; `None` when it does not exist.
fn read_regular(path: &Path, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("inspect", path, e)),
    };
    if !meta.is_file() {
        return Err(StorageError::NotAFile { path: path.into() });
    }
    let file = match fs::File::open(path) {
        Ok(file) => file,
        // Deleted between the two calls: as if it never existed.
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("open", path, e)),
    };
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StorageError::io("read", path, e))?;
    if bytes.len() as u64 > max {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        return Err(StorageError::Corrupt {
            name: name.unwrap_or_default(),
            reason: "the file is too large to be a stored token",
        });
    }
    Ok(Some(bytes))
}
