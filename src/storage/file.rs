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
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use age::secrecy::ExposeSecret;

use super::limits::{MAX_FILE_LEN, MAX_KEY_FILE_LEN};
use super::name::{validate_instance_id, validate_slot};
use super::{BackendKind, EncryptionKey, StorageError, TokenStorage};
use crate::private_files::{create_private_dir, open, AnchoredDir, DirLock, User};
use crate::secret::Secret;

const KEY_FILE: &str = "encryption.key";
/// The lock file writers of an instance take.
const LOCK_FILE: &str = ".lock";
/// The directory of the token files in an instance directory.
const TOKENS_DIR: &str = "runbeam";
/// The longest a save or a removal waits for the lock: another writer holds it for a few
/// milliseconds, so only a stuck or hostile holder (any process of this user can take it)
/// keeps it longer, and that must not hold the call for ever.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// An instance's directories, opened and judged; see [`EncryptedFileStorage::dirs`].
struct Dirs {
    /// `<base>/<instance>`: the key and lock files.
    instance: AnchoredDir,
    /// `<base>/<instance>/runbeam`: the token files.
    tokens: AnchoredDir,
}

impl Dirs {
    /// Takes the instance's lock, waiting at most [`LOCK_WAIT`], or
    /// [`StorageError::Locked`].
    fn lock(&self) -> Result<DirLock, StorageError> {
        match self.instance.lock_within(LOCK_FILE, LOCK_WAIT)? {
            Some((lock, _)) => Ok(lock),
            None => Err(StorageError::Locked {
                path: self.instance.shown().join(LOCK_FILE),
                waited: LOCK_WAIT,
            }),
        }
    }
}

/// Token files encrypted with age to one X25519 key.
///
/// The key comes from [`with_key`](Self::with_key) when given, otherwise from the instance's
/// `encryption.key`. Only [`write`](TokenStorage::write) may create that key file; reading
/// without a key is [`StorageError::MissingKey`]. Writes are atomic and serialised across
/// threads and processes by a lock file; a save or removal waits at most 5 seconds for it,
/// then fails with [`StorageError::Locked`] and changes nothing. A save whose file a load would refuse (larger than
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
/// by what it points to. Each directory is opened once, judged on what was opened, and the
/// next directory and the files are reached through it (on Linux through
/// `/proc/self/fd/<fd>`), so a link on the way that another user switches between the check
/// and the use never leads a read or a write elsewhere; on other Unix systems the path is
/// compared (device and inode) with the opened directory after each use, and a directory
/// that changed is [`Insecurity::Replaced`](super::Insecurity::Replaced). A link in place
/// of a token, key, lock or temp file is never followed (`O_NOFOLLOW`; on Unix targets
/// without it, the opened file must be the one at the path) and is refused. Anything else that is not a regular file there (a FIFO, a
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
    instance: String,
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
            instance: instance_id.to_owned(),
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
        Ok(self.dir.join(TOKENS_DIR).join(file_name(slot)))
    }

    /// The path of the instance key file (used only without [`with_key`](Self::with_key)).
    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// Opens the base, instance and `runbeam/` directories, outermost first, each through
    /// the one before it and judged on its own descriptor (`AnchoredDir`), so that the files
    /// are reached in the very directories judged, whatever a link on the way leads to by
    /// then. With `create`, each missing one is made (0700) once its parent was judged;
    /// without, `None` when one is missing.
    fn dirs(&self, user: &User, create: bool) -> Result<Option<Dirs>, StorageError> {
        // `Path::new("")` is the current directory for joins, but not for opening.
        let base = if self.base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.base
        };
        if create {
            // The base's parents are not ours to judge; only the base is.
            create_private_dir(base)?;
        }
        let Some(base) = AnchoredDir::open(base, user)? else {
            return Ok(None);
        };
        let Some(instance) = base.child(&self.instance, user, create)? else {
            return Ok(None);
        };
        let Some(tokens) = instance.child(TOKENS_DIR, user, create)? else {
            return Ok(None);
        };
        Ok(Some(Dirs { instance, tokens }))
    }

    /// The directories, made when missing, for a save.
    fn dirs_for_writing(&self, user: &User) -> Result<Dirs, StorageError> {
        self.dirs(user, true)?.ok_or_else(|| {
            // Made a moment ago: only someone else removing it leads here.
            StorageError::io(
                "open directory",
                self.dir.join(TOKENS_DIR),
                ErrorKind::NotFound.into(),
            )
        })
    }

    /// The key: the given one, or the key file's in `instance`; `None` when there is no key
    /// file.
    fn existing_key(
        &self,
        user: &User,
        instance: &AnchoredDir,
    ) -> Result<Option<EncryptionKey>, StorageError> {
        if let Some(key) = &self.key {
            return Ok(Some(key.clone()));
        }
        let Some((file, meta)) =
            instance.open_file(KEY_FILE, open::options().read(true), "open")?
        else {
            return Ok(None);
        };
        let path = self.key_path();
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
    fn key_for_writing(
        &self,
        user: &User,
        instance: &AnchoredDir,
        _lock: &DirLock,
    ) -> Result<EncryptionKey, StorageError> {
        if let Some(key) = self.existing_key(user, instance)? {
            return Ok(key);
        }
        let key = EncryptionKey::generate();
        instance.write(KEY_FILE, key.to_key_file().expose_secret().as_bytes())?;
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

/// The name of a slot's token file in the `runbeam/` directory.
fn file_name(slot: &str) -> String {
    format!("{slot}.json")
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
        let dirs = self.dirs_for_writing(&user)?;
        let lock = dirs.lock()?;
        let key = self.key_for_writing(&user, &dirs.instance, &lock)?;
        let encrypted =
            age::encrypt(&key.identity().to_public(), data).map_err(|_| StorageError::Encrypt)?;
        if encrypted.len() as u64 > MAX_FILE_LEN {
            return Err(too_large(slot));
        }
        Ok(dirs.tokens.write(&file_name(slot), &encrypted)?)
    }

    fn read(&self, slot: &str) -> Result<Option<Secret<Vec<u8>>>, StorageError> {
        let path = self.token_path(slot)?;
        let user = User::current()?;
        let Some(dirs) = self.dirs(&user, false)? else {
            return Ok(None);
        };
        let mut options = open::options();
        options.read(true);
        let Some((file, _)) = dirs.tokens.open_file(&file_name(slot), &options, "open")? else {
            return Ok(None);
        };
        let encrypted = read_at_most(&path, file, MAX_FILE_LEN)?.ok_or_else(|| {
            StorageError::corrupt(slot, "the file is too large to be a stored token")
        })?;
        let key =
            self.existing_key(&user, &dirs.instance)?
                .ok_or_else(|| StorageError::MissingKey {
                    path: self.key_path(),
                })?;
        decrypt(slot, &key, &encrypted).map(Some)
    }

    fn delete(&self, slot: &str) -> Result<(), StorageError> {
        self.token_path(slot)?;
        let user = User::current()?;
        let Some(dirs) = self.dirs(&user, false)? else {
            return Ok(());
        };
        let _lock = dirs.lock()?;
        Ok(dirs.tokens.remove(&file_name(slot))?)
    }

    fn exists(&self, slot: &str) -> Result<bool, StorageError> {
        self.token_path(slot)?;
        let user = User::current()?;
        let Some(dirs) = self.dirs(&user, false)? else {
            return Ok(false);
        };
        Ok(dirs.tokens.has_file(&file_name(slot))?)
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
