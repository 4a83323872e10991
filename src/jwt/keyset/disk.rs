//! The opt-in persistent key-set cache: one file per JWKS URL holding the raw JWKS JSON, its
//! fetch time and validators, so that short-lived processes share one fetch.
//!
//! Files are private (0600 in a 0700 directory that must be ours and writable by nobody
//! else), written atomically under a lock, and never trusted: a record is re-parsed with the
//! validator's key policy on every load, must name the URL it is loaded for, and is used only
//! within its TTL (fresh) or TTL + stale window (when the network fails). Any problem with
//! the cache is logged and the network is used instead; it never fails a validation.

use std::io::{ErrorKind, Read as _};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fetch::MAX_JWKS_BYTES;
use super::freshness::{Freshness, Validators};
use crate::private_files::{create_private_dir, open, AnchoredDir, DirLock};
use crate::private_files::{FileError, User};

/// The record format's version; another version is ignored (and replaced on the next fetch).
const VERSION: u32 = 1;
/// A record is JSON around the escaped JWKS body; escaping at most doubles typical bodies.
const MAX_RECORD_BYTES: u64 = 4 * MAX_JWKS_BYTES;
/// The lock file writers of the directory take.
const LOCK_FILE: &str = ".jwks.lock";

/// One stored key set.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    version: u32,
    /// The JWKS URL it was fetched from (the file name is only its hash).
    url: String,
    /// Unix seconds of the fetch (or of the last `304` for it).
    pub fetched_at: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub max_age: Option<u64>,
    /// The response body as received.
    pub jwks: String,
}

impl Record {
    pub(crate) fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }

    pub(crate) fn freshness(&self) -> Freshness {
        Freshness {
            max_age: self.max_age,
            no_store: false,
        }
    }
}

/// The note a holder of a fetch turn leaves when its fetch failed. Each holder clears the
/// note when it takes the turn (unless it acts on it), so a waiter reads only what the
/// holder it waited for found out.
const FETCH_FAILED: &[u8] = b"fetch failed\n";

/// This process's turn to fetch one URL's set, held until dropped.
pub(crate) struct FetchTurn {
    lock: Option<DirLock>,
    /// Another process held the turn while this one waited, and its fetch failed. Only
    /// this justifies serving a stale copy without asking: a holder that got an answer
    /// (even one it could not store, `no-store`) leaves no fresh copy, yet the issuer is up
    /// and may have rotated its keys.
    pub another_failed: bool,
}

impl FetchTurn {
    /// Tells the processes waiting for the turn that this fetch failed.
    pub(crate) fn note_failure(&self) {
        if let Some(lock) = &self.lock {
            if let Err(err) = lock.set_note(FETCH_FAILED) {
                log::warn!("key-set cache: fetch failure not noted for others ({err})");
            }
        }
    }
}

/// A directory of key-set records.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    /// The longest any lock of the directory is waited for (the fetch timeout): a holder
    /// that never lets go may delay a validation by this much, never hold it.
    lock_wait: Duration,
}

impl DiskCache {
    pub(crate) fn new(dir: PathBuf, lock_wait: Duration) -> Self {
        Self { dir, lock_wait }
    }

    /// The record's file name: the SHA-256 of the URL, so any URL maps to a safe name.
    fn file_name(url: &str) -> String {
        format!("{}.jwks.json", Self::url_hash(url))
    }

    fn url_hash(url: &str) -> String {
        let digest = Sha256::digest(url.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Waits, at most the lock wait, for this process's turn to fetch the set of `url`, so
    /// that processes starting together make one request: the others wait, then read its
    /// copy. Past the wait, or when the lock cannot be had (a lock file another user owns
    /// is never used), the turn is taken anyway: a stuck or hostile holder can delay a
    /// validation by the wait, never fail it.
    pub(crate) fn fetch_turn(&self, url: &str) -> FetchTurn {
        let name = format!("{}.fetch.lock", Self::url_hash(url));
        let turn = self
            .writable_dir()
            .and_then(|dir| dir.lock_within(&name, self.lock_wait));
        let (lock, another_failed) = match turn {
            Ok(Some((lock, waited))) => {
                let another_failed = waited && Self::holder_failed(&lock);
                // Acting on the failure passes its note on; otherwise it is this turn's
                // to rewrite, and a stale note must not reach the next waiter.
                if !another_failed {
                    if let Err(err) = lock.set_note(b"") {
                        log::warn!(
                            "key-set cache {}: fetch note not cleared ({err})",
                            self.dir.display()
                        );
                    }
                }
                (Some(lock), another_failed)
            }
            Ok(None) => {
                log::warn!(
                    "key-set cache {}: another process kept the fetch lock for {:?}; fetching anyway",
                    self.dir.display(),
                    self.lock_wait
                );
                (None, false)
            }
            Err(err) => {
                log::warn!(
                    "key-set cache {}: no fetch lock ({err})",
                    self.dir.display()
                );
                (None, false)
            }
        };
        FetchTurn {
            lock,
            another_failed,
        }
    }

    /// Whether the previous holder of `lock` noted a failed fetch.
    fn holder_failed(lock: &DirLock) -> bool {
        match lock.note() {
            Ok(note) => note == FETCH_FAILED,
            Err(err) => {
                log::warn!("key-set cache: fetch note unreadable ({err})");
                false
            }
        }
    }

    /// The record for `url`, when there is a usable one (ours, private, well-formed, for
    /// this URL). Freshness is the caller's to judge.
    pub(crate) fn load(&self, url: &str) -> Option<Record> {
        match self.try_load(url) {
            Ok(record) => record,
            Err(err) => {
                log::warn!("key-set cache {}: not used ({err})", self.dir.display());
                None
            }
        }
    }

    fn try_load(&self, url: &str) -> Result<Option<Record>, FileError> {
        let user = User::current()?;
        let Some(dir) = AnchoredDir::open(&self.dir, &user)? else {
            return Ok(None);
        };
        let name = Self::file_name(url);
        let path = dir.shown().join(&name);
        let opened = dir.open_file(&name, open::options().read(true), "open")?;
        let Some((file, meta)) = opened else {
            return Ok(None);
        };
        // Ours and 0600: a record others could write could plant keys.
        user.check_key_file(&path, &meta)?;
        let mut text = String::new();
        file.take(MAX_RECORD_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| FileError::io("read", &path, e))?;
        if text.len() as u64 > MAX_RECORD_BYTES {
            log::warn!("key-set cache {}: record too large", path.display());
            return Ok(None);
        }
        let record: Record = match serde_json::from_str(&text) {
            Ok(record) => record,
            Err(_) => {
                log::warn!("key-set cache {}: unreadable record", path.display());
                return Ok(None);
            }
        };
        Ok((record.version == VERSION && record.url == url).then_some(record))
    }

    /// Stores a fetched key set for `url`. Failures are logged only.
    pub(crate) fn store(
        &self,
        url: &str,
        jwks: &[u8],
        fetched_at: u64,
        freshness: Freshness,
        validators: Validators,
    ) {
        let Ok(jwks) = std::str::from_utf8(jwks) else {
            return;
        };
        let record = Record {
            version: VERSION,
            url: url.to_owned(),
            fetched_at,
            etag: validators.etag,
            last_modified: validators.last_modified,
            max_age: freshness.max_age,
            jwks: jwks.to_owned(),
        };
        self.write(url, &record);
    }

    /// Marks the stored record for `url` as confirmed at `now` by a `304`, if it is the one
    /// that was revalidated (same validators).
    pub(crate) fn touch(&self, url: &str, known: &Validators, now: u64, freshness: Freshness) {
        if let Some(mut record) = self.load(url) {
            if record.validators() == *known {
                record.fetched_at = now;
                record.max_age = freshness.max_age;
                self.write(url, &record);
            }
        }
    }

    fn write(&self, url: &str, record: &Record) {
        if let Err(err) = self.try_write(url, record) {
            log::warn!("key-set cache {}: not written ({err})", self.dir.display());
        }
    }

    /// Creates the directory (0700) when missing, opens it, and checks that what was opened
    /// is ours and writable by nobody else, before anything is written in it.
    fn writable_dir(&self) -> Result<AnchoredDir, FileError> {
        let user = User::current()?;
        create_private_dir(&self.dir)?;
        AnchoredDir::open(&self.dir, &user)?
            .ok_or_else(|| FileError::io("open directory", &self.dir, ErrorKind::NotFound.into()))
    }

    fn try_write(&self, url: &str, record: &Record) -> Result<(), FileError> {
        let dir = self.writable_dir()?;
        let data = serde_json::to_vec(record)
            .map_err(|e| FileError::io("encode", &self.dir, std::io::Error::other(e)))?;
        // Bounded: the directory's writers are other validations, and one that never lets
        // go must not hold this one (nor, through it, every validation waiting for keys).
        let Some((_lock, _)) = dir.lock_within(LOCK_FILE, self.lock_wait)? else {
            let lock_path = dir.shown().join(LOCK_FILE);
            return Err(FileError::io("lock", lock_path, ErrorKind::TimedOut.into()));
        };
        dir.write(&Self::file_name(url), &data)
    }
}
