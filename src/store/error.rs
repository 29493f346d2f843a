//! The store's error type and the checked text columns: `StoreError`, `Result`, and the
//! `text_enum!`/`parse_enum` pair every table module uses for its string-backed enums.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the SQLite database {path}: {source}")]
    OpenSqlite { path: String, source: sqlx::Error },
    #[error("cannot connect to PostgreSQL at {location}: {source}")]
    ConnectPostgres {
        location: String,
        source: sqlx::Error,
    },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("the database holds an unexpected value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Parses a stored enum value, reporting the column when the database holds something unexpected.
pub(crate) fn parse_enum<T: FromStr>(column: &'static str, value: &str) -> Result<T> {
    value.parse().map_err(|_| StoreError::Corrupt {
        column,
        value: value.to_string(),
    })
}

/// Declares a string-backed enum with `as_str` and `FromStr` for a checked column.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!("unknown {}: {other}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;
