//! Opening the embedded store's file: a private directory and file, then redb.
//!
//! The directory is created with mode 0700 when missing, the file with mode 0600 (and
//! an existing file is narrowed to 0600), before redb sees it. redb takes an exclusive
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
    let created = !path.exists();
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
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
    let db = redb::Builder::new()
        .create_file(file)
        .map_err(tables::db_error)?;
    if created {
        // Make the new file's directory entry durable too.
        if let Some(dir) = parent {
            File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io_error(dir))?;
        }
    }
    tables::init(&db)?;
    Ok(db)
}
