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

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;

use super::limits::{MAX_FILE_LEN, MAX_KEY_FILE_LEN};
use super::name::{validate_instance_id, validate_slot};
use super::{BackendKind, EncryptionKey, StorageError, TokenStorage};
use crate::private_files::{create_private_dir, open, remove, write_atomic, DirLock, User};
use crate::secret::Secret;

const KEY_FILE: &str = "encryption.key";

/// Token files encrypted with age to one X25519 key.
///
/// The key comes from [`with_key`](Self::with_key) when given, otherwise from the instance's
/// `encryption.key`. Only [`write`](TokenStorage::write) may create that key file; reading
/// without a key is [`StorageError::MissingKey`]. Writes are atomic and serialised across
/// threads and processes by a lock file. A save whose file a load would refuse (larger than
/// 1 MiB encrypted) is [`StorageError::Unloadable`] and leaves the stored token as it was.
///
/// # Another local user cannot get the token
///
/// Before any use, and before creating anything, the base directory (when it exists), the
/// instance directory and its `runbeam/` directory must be directories owned by the
/// effective user and not writable by group or others, and an existing `encryption.key`
/// must be a regular file owned by the effective user with no group or other permission;
/// the `.lock` file must be owned by the effective user too (whoever owns it could hold it).
/// Otherwise the call is [`StorageError::InsecurePermissions`], whose message names the
/// path and the `chmod`/`chown` that fixes it, and nothing is read or written. Parents of
/// the base directory are not judged (a 0755 home is fine). A symlinked directory is judged
/// by what it points to; a link in place of a token, key, lock or temp file is never
/// followed (`O_NOFOLLOW`; on Unix targets without it, the opened file must be the one at
/// the path) and is refused. Anything else that is not a regular file there (a FIFO, a
/// device) is [`StorageError::NotAFile`], refused without waiting on it: files are opened
/// non-blocking and judged on the opened descriptor before a byte is read.
/// Directories are created 0700 and files 0600.
///
/// On Windows `std` reads neither owners nor ACLs: the files inherit the ACL of the
/// directory (the user's profile by default), and only the link rule applies (reparse points
/// in place of the files are refused).
#[derive(Debug)]
pub struct EncryptedFileStorage {
    base: PathBuf,
    dir: PathBuf,
    /// A key given by the caller; `None` means the instance key file, read on every use so
    /// a replaced or deleted key file is noticed (it is a few hundred bytes).
    key: Option<EncryptionKey>,
}

impl EncryptedFileStorage {
    /// Storage for `instance_id` under `base_dir` (files go to `<base_dir>/<instance_id>/`),
    /// keyed by the instance's `encryption.key`. Touches no file until used.
    ///
    /// # Errors
    /// [`StorageError::InvalidName`] when `instance_id` is not a valid instance id.
    pub fn new(base_dir: impl Into<PathBuf>, instance_id: &str) -> Result<Self, StorageError> {
        validate_instance_id(instance_id)?;
        let base = base_dir.into();
        Ok(Self {
            dir: base.join(instance_id),
            base,
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
    ///
    /// # Errors
    /// [`StorageError::InvalidName`] when `slot` is not a valid slot name.
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

    /// Checks base, instance and `runbeam/` directories, outermost first, up to the first
    /// one that does not exist; returns whether all exist.
    fn check_dirs(&self, user: &User) -> Result<bool, StorageError> {
        // `Path::new("")` is the current directory for joins, but not for metadata.
        let base = if self.base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.base
        };
        for dir in [base, &self.dir, &self.tokens_dir()] {
            if !user.check_dir(dir)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn lock(&self, user: &User) -> Result<DirLock, StorageError> {
        self.check_dirs(user)?;
        create_private_dir(&self.tokens_dir())?;
        // Again: a directory someone else made between the check and the creation is kept
        // by `create_private_dir` as it is.
        self.check_dirs(user)?;
        Ok(DirLock::acquire(&self.dir.join(".lock"))?)
    }

    /// The key: the given one, or the key file's; `None` when there is no key file.
    fn existing_key(&self, user: &User) -> Result<Option<EncryptionKey>, StorageError> {
        if let Some(key) = &self.key {
            return Ok(Some(key.clone()));
        }
        let path = self.key_path();
        let Some((file, meta)) = open::file(&path, open::options().read(true), "open")? else {
            return Ok(None);
        };
        user.check_key_file(&path, &meta)?;
        let invalid = |reason| StorageError::InvalidKey {
            origin: "key file",
            reason,
        };
        let bytes = read_at_most(&path, file, MAX_KEY_FILE_LEN)?
            .ok_or(invalid("larger than 4096 bytes"))?;
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8"))?;
        // The key text is key material: keep it in a zeroising secret while parsing.
        let text = age::secrecy::SecretString::from(text);
        EncryptionKey::parse_from(text.expose_secret(), "key file").map(Some)
    }

    /// The key, creating the key file if there is none. Takes the lock guard, so two first
    /// writers cannot each create a different key.
    fn key_for_writing(&self, user: &User, _lock: &DirLock) -> Result<EncryptionKey, StorageError> {
        if let Some(key) = self.existing_key(user)? {
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

/// The refusal of a save whose file a load would reject for its size.
fn too_large(slot: &str) -> StorageError {
    StorageError::Unloadable {
        name: slot.to_owned(),
        reason: "its encrypted file would exceed the 1 MiB that loading reads",
    }
}

impl TokenStorage for EncryptedFileStorage {
    fn write(&self, slot: &str, data: &[u8]) -> Result<(), StorageError> {
        self.token_path(slot)?;
        // The encrypted file is never smaller than the plaintext: refuse early, before any
        // directory or key is made.
        if data.len() as u64 > MAX_FILE_LEN {
            return Err(too_large(slot));
        }
        let user = User::current()?;
        let lock = self.lock(&user)?;
        let key = self.key_for_writing(&user, &lock)?;
        let encrypted =
            age::encrypt(&key.identity().to_public(), data).map_err(|_| StorageError::Encrypt)?;
        if encrypted.len() as u64 > MAX_FILE_LEN {
            return Err(too_large(slot));
        }
        Ok(write_atomic(
            &self.tokens_dir(),
            &format!("{slot}.json"),
            &encrypted,
        )?)
    }

    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        let path = self.token_path(slot)?;
        let user = User::current()?;
        if !self.check_dirs(&user)? {
            return Ok(None);
        }
        let Some((file, _)) = open::file(&path, open::options().read(true), "open")? else {
            return Ok(None);
        };
        let encrypted = read_at_most(&path, file, MAX_FILE_LEN)?.ok_or_else(|| {
            StorageError::corrupt(slot, "the file is too large to be a stored token")
        })?;
        let key = self
            .existing_key(&user)?
            .ok_or_else(|| StorageError::MissingKey {
                path: self.key_path(),
            })?;
        decrypt(slot, &key, &encrypted).map(Some)
    }

    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        self.token_path(slot)?;
        let user = User::current()?;
        if !self.check_dirs(&user)? {
            return Ok(());
        }
        let _lock = self.lock(&user)?;
        Ok(remove(&self.tokens_dir(), &format!("{slot}.json"))?)
    }

    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        let path = self.token_path(slot)?;
        let user = User::current()?;
        if !self.check_dirs(&user)? {
            return Ok(false);
        }
        Ok(open::regular_file_at(&path)?)
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

/// The whole of `file` if it holds at most `max` bytes, `None` when it holds more.
fn read_at_most(path: &Path, file: File, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StorageError::io("read", path, e))?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}
