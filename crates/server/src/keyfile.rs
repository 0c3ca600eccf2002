//! Key files (the master key, signing keys): made whole or not at all, durably, readable by their
//! owner only; read only while no one else may read them.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a key file cannot be used.
#[derive(Debug)]
pub enum KeyFileError {
    /// It cannot be read (not there, no permission, …).
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Its group or others may read or change it.
    Exposed { path: PathBuf, mode: u32 },
}

impl KeyFileError {
    /// Whether the file is simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Exposed { path, mode } => write!(
                f,
                "{path}: the key file may be read or changed by others than its owner (mode \
                 {mode:04o}); a key file must be readable by its owner only: run `chmod 600 {path}` \
                 (and consider whether the key has already been copied)",
                path = path.display(),
            ),
        }
    }
}

impl std::error::Error for KeyFileError {}

/// Reads a secret key file, refusing one its group or others may read or change (on Unix).
pub fn read_private(path: &Path) -> Result<String, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(io)?;
    Ok(text)
}

/// Who may read a new key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A secret key: its owner only (0600).
    Owner,
    /// A public key: anyone (0644).
    Everyone,
}

/// Creates `path` holding `text`, never replacing a file already there:
/// `Ok(false)` when one is (another process made it first; read that one). The text is written to
/// a new file beside it (mode 0600 for a secret), flushed to the disk, then given its name in one
/// step (a hard link: a rename would replace a key another process just made), and the directory
/// is flushed too — so that a crash leaves the key whole or absent, never a truncated key that a
/// database was already encrypted under.
pub fn create(path: &Path, text: &str, access: Access) -> std::io::Result<bool> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique to this call: the process, and a count within it.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = dir.join(format!(".{name}.{}.{call}.new", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(match access {
            Access::Owner => 0o600,
            Access::Everyone => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(&temporary)?;
    let written = (|| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    drop(file);
    let linked = written.map(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match linked? {
        Ok(()) => {
            sync_directory(&dir)?;
            Ok(true)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error),
    }
}

/// Creates a directory for key files (and its parents), readable by its owner only when new.
pub fn create_directory(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Flushes a directory's entries (a new name in it) to the disk.
fn sync_directory(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("fengcun-keyfile-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_new_key_file_is_whole_owner_only_and_never_replaces_one() {
        let dir = scratch("create");
        let path = dir.join("master.key");
        assert!(create(&path, "first\n", Access::Owner).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{mode:o}");
        }
        assert!(!create(&path, "second\n", Access::Owner).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        assert_eq!(read_private(&path).unwrap(), "first\n");
        // Nothing but the key is left in the directory.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["master.key"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused_naming_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("exposed");
        let path = dir.join("signing.pem");
        std::fs::write(&path, "secret").unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = read_private(&path).unwrap_err();
            let said = error.to_string();
            assert!(matches!(error, KeyFileError::Exposed { .. }), "{said}");
            assert!(
                said.contains(&format!("chmod 600 {}", path.display())),
                "{mode:o}: {said}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(read_private(&path).unwrap(), "secret");
        assert!(
            read_private(&dir.join("absent"))
                .unwrap_err()
                .is_not_found()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
