//! Opening the embedded store's file: a private directory and file, then redb.
//!
//! The directory is created with mode 0700 when missing, the file with mode 0600 (and
//! an existing file is narrowed to 0600), before redb sees it. A new store is built
//! under a staging name and linked into place whole, so a process killed while creating
//! it never leaves a half-written file behind the store's name. redb takes an exclusive
//! `flock` on the file, so one process at a time has the store open; the lock dies with
//! its process, so a killed holder never blocks the next one.

use super::tables;
use crate::error::{Result, StoreError};
use redb::Database;
use std::fs::{DirBuilder, File, OpenOptions};
use std::path::Path;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// redb's page cache. Its default (1 GiB) would keep every page of the domain records
/// read at start-up (about 2.5 KiB a domain with a certificate) for the life of the
/// process; reads beyond this come from the operating system's file cache.
const READ_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Opens (or creates) the store file at `path`, with its tables.
pub(crate) fn open_database(path: &Path) -> Result<Database> {
    let parent = path.parent().filter(|dir| !dir.as_os_str().is_empty());
    if let Some(dir) = parent.filter(|dir| !dir.exists()) {
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io_error(dir))?;
    }
    if !path.exists() {
        create_database(path, parent.unwrap_or(Path::new(".")))?;
    }
    let file = private_file(path, false)?;
    let db = redb::Builder::new()
        .set_cache_size(READ_CACHE_BYTES)
        .create_file(file)
        .map_err(tables::db_error)?;
    tables::init(&db)?;
    Ok(db)
}

/// Opens `path` read-write with mode 0600 (narrowing an existing file's mode), creating
/// it when missing; `truncate` empties it.
fn private_file(path: &Path, truncate: bool) -> Result<File> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(io_error(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(io_error(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io_error(path))?;
        }
    }
    Ok(file)
}

/// Makes a new, empty store at `path` so that the path only ever names a whole one: the
/// database is built under a name of this process's own (`FILE.creating.PID`), synced,
/// then linked to `path` (which fails, harmlessly, when another process made it first)
/// and the directory synced. A process killed while creating leaves only its staging
/// file, which the next creation removes.
fn create_database(path: &Path, dir: &Path) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_abandoned_staging(dir, &name);
    let staging = dir.join(format!("{name}.creating.{}", std::process::id()));
    {
        let db = redb::Builder::new()
            .create_file(private_file(&staging, true)?)
            .map_err(tables::db_error)?;
        tables::init(&db)?;
    }
    File::open(&staging)
        .and_then(|file| file.sync_all())
        .map_err(io_error(&staging))?;
    let linked = std::fs::hard_link(&staging, path);
    let _ = std::fs::remove_file(&staging);
    match linked {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(io_error(path)(err)),
    }
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(dir))
}

/// Removes `NAME.creating.PID` files in `dir` whose process is gone (a creation that
/// was killed); best effort.
fn remove_abandoned_staging(dir: &Path, name: &str) {
    let prefix = format!("{name}.creating.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
