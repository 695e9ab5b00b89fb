//! Typed errors of the core: every message names the file, row and column
//! involved and says what to do about it.

use std::path::{Path, PathBuf};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the library can fail with. `Input` errors are the user's to fix
/// (exit code 2); a failed quality gate exits 3; the rest are failures of the
/// machine or of prodsim (exit 1). See [`Error::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a file, an option or a value the user supplied.
    #[error("{0}")]
    Input(String),
    /// A model file that cannot be read: wrong version, truncated, corrupt.
    #[error("{path}: {message}")]
    Model { path: PathBuf, message: String },
    /// An I/O failure that is not the user's input being wrong.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The operation was cancelled through its cancellation flag.
    #[error("cancelled")]
    Cancelled,
    /// A champion/challenger gate was not met (`compare`, `promote
    /// --require-gain`): the command worked, the challenger is not good
    /// enough. Exit code 3, so CI can tell it from bad input.
    #[error("gate failed: {0}")]
    GateFailed(String),
}

impl Error {
    /// A bad-input error with a formatted message.
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    /// An I/O error on `path`; a missing file is the user's input being wrong.
    pub fn io(path: &Path, what: &str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Error::Input(format!(
                "{}: file not found ({what}); check the path",
                path.display()
            ));
        }
        if source.kind() == std::io::ErrorKind::IsADirectory {
            return Error::Input(format!(
                "{}: is a directory, expected a file ({what})",
                path.display()
            ));
        }
        Error::Io {
            context: format!("{}: cannot {what}", path.display()),
            source,
        }
    }

    /// A model-file error.
    pub fn model(path: &Path, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// True when the error is the user's to fix (bad file, option or value).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::Input(_) | Error::Model { .. })
    }

    /// The process exit code for this error: 2 for the user's input, 3 for
    /// a failed gate, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::GateFailed(_) => 3,
            e if e.is_user_error() => 2,
            _ => 1,
        }
    }
}
