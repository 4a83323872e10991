//! Opening token, key, lock and temp files without following a link planted in their place
//! and without waiting on what sits there: the open itself refuses a link (`O_NOFOLLOW` on
//! Unix, `FILE_FLAG_OPEN_REPARSE_POINT` on Windows) and returns at once (`O_NONBLOCK` on
//! Unix: a FIFO planted where a file belongs would otherwise hold the open until someone
//! writes to it), then what was opened is checked, on the descriptor, to be the regular file
//! at that path before a byte is read.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;

#[cfg(unix)]
use super::flags::{NON_BLOCK, NO_FOLLOW};
use super::{FileError, Insecurity};

/// Opens the reparse point itself instead of what it points to.
#[cfg(windows)]
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
#[cfg(windows)]
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;

/// Options that never follow a link at the final path component, never wait in the open
/// itself, and create files 0600.
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking only matters to the open: on a regular file, which is all `open`
        // lets through, reads, writes and locks behave as without it.
        options.mode(0o600).custom_flags(NO_FOLLOW | NON_BLOCK);
    }
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(&mut options, FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

/// Opens the regular file at `path` with `options` (from [`options`]); `Ok(None)` when it
/// does not exist. A link is [`Insecurity::Link`], anything else not a regular file (a FIFO,
/// a device, a directory) is [`FileError::NotAFile`], judged on the opened descriptor;
/// `op` names the step in I/O errors. Never waits on what it opens (where the platform has
/// `O_NONBLOCK`, see `flags`).
pub(crate) fn file(
    path: &Path,
    options: &OpenOptions,
    op: &'static str,
) -> Result<Option<(File, Metadata)>, FileError> {
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        // The error for a refused link differs by OS (ELOOP, EMLINK, ...), and so does the
        // one for a directory (EISDIR, or "access denied" on Windows): look instead.
        Err(e) => {
            return Err(match fs::symlink_metadata(path) {
                Ok(meta) if is_link_meta(&meta) => FileError::insecure(path, Insecurity::Link),
                Ok(meta) if !meta.is_file() => FileError::not_a_file(path),
                _ => FileError::io(op, path, e),
            })
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| FileError::io("inspect", path, e))?;
    if is_link_meta(&meta) {
        return Err(FileError::insecure(path, Insecurity::Link));
    }
    if !meta.is_file() {
        return Err(FileError::not_a_file(path));
    }
    same_as_path(path, &meta)?;
    Ok(Some((file, meta)))
}

/// Whether a regular file is at `path`, without following a link: `false` when nothing is
/// there; a link is [`Insecurity::Link`] and anything else [`FileError::NotAFile`].
pub(crate) fn regular_file_at(path: &Path) -> Result<bool, FileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if is_link_meta(&meta) => Err(FileError::insecure(path, Insecurity::Link)),
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(_) => Err(FileError::not_a_file(path)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FileError::io("inspect", path, e)),
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
fn same_as_path(path: &Path, opened: &Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::MetadataExt;
    let here = match fs::symlink_metadata(path) {
        Ok(here) => here,
        // Removed after we opened it: what we hold is still the regular file we opened.
        Err(e) if e.kind() == ErrorKind::NotFound && NO_FOLLOW != 0 => return Ok(()),
        Err(e) => return Err(FileError::io("inspect", path, e)),
    };
    let swapped = here.dev() != opened.dev() || here.ino() != opened.ino();
    if here.file_type().is_symlink() || (NO_FOLLOW == 0 && swapped) {
        return Err(FileError::insecure(path, Insecurity::Link));
    }
    Ok(())
}

/// Windows: the reparse-point flag and attribute above already refuse links.
#[cfg(not(unix))]
fn same_as_path(_path: &Path, _opened: &Metadata) -> Result<(), FileError> {
    Ok(())
}
