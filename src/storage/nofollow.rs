//! Opening token, key, lock and temp files without following a link planted in their place:
//! the open itself refuses a link (`O_NOFOLLOW` on Unix, `FILE_FLAG_OPEN_REPARSE_POINT` on
//! Windows), then what was opened is checked to be the regular file at that path.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;

use super::trust::insecure;
use super::{Insecurity, StorageError};

// O_NOFOLLOW differs by OS and by CPU architecture; the values are those of the platform C
// headers. A wrong value would be some other flag, so only checked targets get one.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "m68k"
    )
))]
const NO_FOLLOW: i32 = 0o100000;
#[cfg(any(
    all(
        any(target_os = "linux", target_os = "android"),
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "riscv64",
            target_arch = "riscv32",
            target_arch = "s390x",
            target_arch = "loongarch64",
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "sparc64"
        )
    ),
    target_os = "solaris",
    target_os = "illumos"
))]
const NO_FOLLOW: i32 = 0o400000;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
const NO_FOLLOW: i32 = 0x100;
// Elsewhere the open may follow a link; `open` still refuses what it opened through one.
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))
))]
const NO_FOLLOW: i32 = 0;

/// Opens the reparse point itself instead of what it points to.
#[cfg(windows)]
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
#[cfg(windows)]
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;

/// Options that never follow a link at the final path component and create files 0600.
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(NO_FOLLOW);
    }
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(&mut options, FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

/// Opens the regular file at `path` with `options` (from [`options`]); `Ok(None)` when it
/// does not exist. A link is [`Insecurity::Link`], anything else not a regular file is
/// [`StorageError::NotAFile`]; `op` names the step in I/O errors.
pub(crate) fn open(
    path: &Path,
    options: &OpenOptions,
    op: &'static str,
) -> Result<Option<(File, Metadata)>, StorageError> {
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        // The error for a refused link differs by OS (ELOOP, EMLINK, ...), and so does the
        // one for a directory (EISDIR, or "access denied" on Windows): look instead.
        Err(e) => {
            return Err(match fs::symlink_metadata(path) {
                Ok(meta) if is_link_meta(&meta) => insecure(path, Insecurity::Link),
                Ok(meta) if !meta.is_file() => StorageError::NotAFile { path: path.into() },
                _ => StorageError::io(op, path, e),
            })
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| StorageError::io("inspect", path, e))?;
    if is_link_meta(&meta) {
        return Err(insecure(path, Insecurity::Link));
    }
    if !meta.is_file() {
        return Err(StorageError::NotAFile { path: path.into() });
    }
    same_as_path(path, &meta)?;
    Ok(Some((file, meta)))
}

/// Whether a regular file is at `path`, without following a link: `false` when nothing is
/// there; a link is [`Insecurity::Link`] and anything else [`StorageError::NotAFile`].
pub(crate) fn regular_file_at(path: &Path) -> Result<bool, StorageError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if is_link_meta(&meta) => Err(insecure(path, Insecurity::Link)),
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(_) => Err(StorageError::NotAFile { path: path.into() }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StorageError::io("inspect", path, e)),
    }
}

fn is_link_meta(meta: &Metadata) -> bool {
    #[cfg(windows)]
    if std::os::windows::fs::MetadataExt::file_attributes(meta) & FILE_ATTRIBUTE_REPARSE_POINT != 0
    {
        return true;
    }
    meta.file_type().is_symlink()
}

/// A link now at `path` is refused even where the open refused one too. Without O_NOFOLLOW
/// the open may have followed a link that was then swapped back, so there the opened file
/// must also be the one at `path`; with it, a different file only means a writer replaced
/// the file after we opened it (reads take no lock), which is fine.
#[cfg(unix)]
fn same_as_path(path: &Path, opened: &Metadata) -> Result<(), StorageError> {
    use std::os::unix::fs::MetadataExt;
    let here = match fs::symlink_metadata(path) {
        Ok(here) => here,
        // Removed after we opened it: what we hold is still the regular file we opened.
        Err(e) if e.kind() == ErrorKind::NotFound && NO_FOLLOW != 0 => return Ok(()),
        Err(e) => return Err(StorageError::io("inspect", path, e)),
    };
    let swapped = here.dev() != opened.dev() || here.ino() != opened.ino();
    if here.file_type().is_symlink() || (NO_FOLLOW == 0 && swapped) {
        return Err(insecure(path, Insecurity::Link));
    }
    Ok(())
}

/// Windows: the reparse-point flag and attribute above already refuse links.
#[cfg(not(unix))]
fn same_as_path(_path: &Path, _opened: &Metadata) -> Result<(), StorageError> {
    Ok(())
}
