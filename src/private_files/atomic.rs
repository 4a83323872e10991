//! Private files done safely: directories 0700 and files 0600 from creation (no chmod
//! window), and atomic replacement (temp file in the same directory, fsync, rename, fsync of
//! the directory). Writers hold the directory's lock (`lock`).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::{open, FileError};

/// Creates `dir` and any missing parents with mode 0700 (on Unix).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| FileError::io("create directory", dir, e))?;
    if !dir.is_dir() {
        return Err(FileError::not_a_file(dir));
    }
    Ok(())
}

/// Creates the one directory `at` with mode 0700 (on Unix) unless something is there
/// already; what is there is for the caller to judge.
#[cfg(feature = "encrypted-files")]
pub(super) fn create_dir(at: &Path) -> Result<(), FileError> {
    let mut builder = DirBuilder::new();
    // One level only: the parent was judged, nothing above it is made here.
    builder.recursive(false);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(at) {
        Err(e) if e.kind() != ErrorKind::AlreadyExists => {
            Err(FileError::io("create directory", at, e))
        }
        _ => Ok(()),
    }
}

/// Opens (creating) a file through [`open::file`], where "not found" means the directory
/// is gone.
fn create(path: &Path, options: &OpenOptions, op: &'static str) -> Result<File, FileError> {
    open::file(path, options, op)?
        .map(|(file, _)| file)
        .ok_or_else(|| FileError::io(op, path, ErrorKind::NotFound.into()))
}

/// Replaces `dir/file_name` with `data` atomically. Callers hold the directory's [`DirLock`](super::DirLock),
/// so one fixed temp name per file is enough, and a temp regular file left by a killed writer
/// is simply replaced. A link or directory at either name is refused, never replaced.
pub(super) fn write_atomic(dir: &Path, file_name: &str, data: &[u8]) -> Result<(), FileError> {
    let target = dir.join(file_name);
    let temp = dir.join(format!(".{file_name}.tmp"));
    open::regular_file_at(&target)?;
    if open::regular_file_at(&temp)? {
        match fs::remove_file(&temp) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(FileError::io("remove stale temp file", &temp, e)),
        }
    }
    let result = (|| {
        let mut file = create(
            &temp,
            open::options().write(true).create_new(true),
            "create",
        )?;
        file.write_all(data)
            .map_err(|e| FileError::io("write", &temp, e))?;
        file.sync_all()
            .map_err(|e| FileError::io("sync", &temp, e))?;
        drop(file);
        super::replace::replace(&temp, &target).map_err(|e| FileError::io("rename", &target, e))
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is removed by the next write anyway.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

/// Removes `dir/file_name`; a missing file is fine. Only the file backend removes files.
#[cfg(feature = "encrypted-files")]
pub(super) fn remove(dir: &Path, file_name: &str) -> Result<(), FileError> {
    let target = dir.join(file_name);
    match fs::remove_file(&target) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(_) if target.is_dir() => Err(FileError::not_a_file(target)),
        Err(e) => Err(FileError::io("remove", &target, e)),
    }
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), FileError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| FileError::io("sync directory", dir, e))?;
    // Windows cannot open a directory as a file; NTFS journals the rename itself.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_0600_and_dirs_0700_from_creation() {
        let tmp = std::env::temp_dir().join(format!("runbeam-atomic-{}", std::process::id()));
        let dir = tmp.join("a/b");
        create_private_dir(&dir).unwrap();
        write_atomic(&dir, "x.json", b"data").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.join("a")), 0o700);
        assert_eq!(mode(&dir.join("x.json")), 0o600);
        assert_eq!(fs::read(dir.join("x.json")).unwrap(), b"data");
        assert!(!dir.join(".x.json.tmp").exists());
        fs::remove_dir_all(&tmp).unwrap();
    }
}
