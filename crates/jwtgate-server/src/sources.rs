//! Where the secrets and the admin secret come from: a flag or variable holding the value, or a
//! `*-file` flag or `*_FILE` variable naming a file that holds it (docs/server.md "Secrets from
//! files"). Files are read at start-up and again at each reload.

use std::path::{Path, PathBuf};

use jwtgate_config::{JwtSecret, parse_jwt_secret, parse_jwt_secrets};

/// One setting's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The value itself, from a flag or variable.
    Value(String),
    /// A file holding the value; `named_by` is the flag or variable that named it.
    File { named_by: &'static str, path: PathBuf },
}

impl Source {
    /// The value: as given, or the file's content with surrounding whitespace trimmed. An empty
    /// file is an error rather than "not set", so a file caught half-written is never taken
    /// for a setting removed.
    pub(crate) fn read(&self) -> Result<String, String> {
        match self {
            Self::Value(value) => Ok(value.clone()),
            Self::File { named_by, path } => {
                let shown = path.display();
                let content = std::fs::read_to_string(path)
                    .map_err(|error| format!("cannot read {named_by} {shown}: {error}"))?;
                let value = content.trim();
                if value.is_empty() {
                    return Err(format!("{named_by} {shown} is empty"));
                }
                Ok(value.to_owned())
            }
        }
    }

    /// The file, for a file-backed setting.
    pub(crate) fn file(&self) -> Option<&Path> {
        match self {
            Self::Value(_) => None,
            Self::File { path, .. } => Some(path),
        }
    }
}

/// The secrets: the first of `--jwt-secrets`, `--jwt-secret`, `HASURA_GRAPHQL_JWT_SECRETS`,
/// `HASURA_GRAPHQL_JWT_SECRET` that is set, each beside its file form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretsInput {
    /// A JSON array of secrets.
    List(Source),
    /// One secret object.
    Single(Source),
    /// None set.
    Missing,
}

impl SecretsInput {
    /// The secrets, read and validated; the error names the field (`jwt_secret.<field>` or
    /// `jwt_secrets[i].<field>`), or the file that could not be read.
    pub(crate) fn load(&self) -> Result<Vec<JwtSecret>, String> {
        match self {
            Self::List(source) => {
                parse_jwt_secrets(&source.read()?).map_err(|error| error.to_string())
            }
            Self::Single(source) => parse_jwt_secret(&source.read()?)
                .map(|secret| vec![secret])
                .map_err(|error| error.to_string()),
            Self::Missing => Err("no JWT secret configured: set --jwt-secret, --jwt-secrets, \
                 HASURA_GRAPHQL_JWT_SECRET or HASURA_GRAPHQL_JWT_SECRETS (or a file form)"
                .to_owned()),
        }
    }

    /// The file the secrets are read from, if any.
    pub(crate) fn file(&self) -> Option<&Path> {
        match self {
            Self::List(source) | Self::Single(source) => source.file(),
            Self::Missing => None,
        }
    }

    /// Whether the secrets are a list (errors then name `jwt_secrets[i]`).
    pub(crate) fn is_list(&self) -> bool {
        matches!(self, Self::List(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_trimmed_and_an_empty_or_missing_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("jwtgate-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        let file = Source::File { named_by: "--admin-secret-file", path: path.clone() };
        std::fs::write(&path, "  s3cret\n").unwrap();
        assert_eq!(file.read().unwrap(), "s3cret");
        std::fs::write(&path, " \n").unwrap();
        assert_eq!(
            file.read().unwrap_err(),
            format!("--admin-secret-file {} is empty", path.display())
        );
        std::fs::remove_file(&path).unwrap();
        let error = file.read().unwrap_err();
        assert!(
            error.starts_with(&format!("cannot read --admin-secret-file {}: ", path.display())),
            "{error}"
        );
        assert_eq!(Source::Value(" kept as given ".to_owned()).read().unwrap(), " kept as given ");
        let _ = std::fs::remove_dir(dir);
    }
}
