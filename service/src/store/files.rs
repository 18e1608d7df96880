//! The SQLite files are private to the service's user: in zero-config mode the database holds
//! the generated auth secret, and anyone who can read it can forge a token for any user.

use std::io;
use std::path::Path;

/// Whether an SQLite URL names an in-memory database, which has no file to prepare.
pub(crate) fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Creates the database's directory (0700) and the empty database file (0600) when they are
/// missing, before SQLite opens it. SQLite creates the `-wal` and `-shm` files with the main
/// file's permissions, so they are 0600 too. Existing files and directories are left as
/// they are.
pub(crate) fn prepare_sqlite_file(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    match create_private_file(path) {
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::{is_in_memory, prepare_sqlite_file};

    #[test]
    fn an_existing_file_is_kept_and_one_that_cannot_be_created_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("bai.db");
        std::fs::write(&existing, b"data").unwrap();
        prepare_sqlite_file(&existing).unwrap();
        assert_eq!(std::fs::read(&existing).unwrap(), b"data");
        // A name longer than any file system allows (ENAMETOOLONG, even for root).
        let impossible = dir.path().join("x".repeat(300));
        assert!(prepare_sqlite_file(&impossible).is_err());
    }

    #[test]
    fn both_spellings_of_an_in_memory_database_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://bai.db?mode=memory&cache=shared"));
        assert!(!is_in_memory("sqlite://data/bai.db"));
        assert!(!is_in_memory("sqlite://data/bai.db?mode=rwc"));
    }
}
