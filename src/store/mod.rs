//! The database: SQLite (embedded default, one daemon) or PostgreSQL (several daemons sharing
//! accounts), behind one typed API. Each operation that touches more than one row runs in an
//! explicit transaction. SQL is written once with `$N` placeholders, which both dialects accept;
//! only the schema differs, in `migrations/sqlite` and `migrations/postgres`.

mod accounts;
mod agenda;
mod continuation;
mod error;
mod events;
mod history;
mod integrity;
mod items;
mod notes;
mod pool;
mod runs;
mod web;

pub use accounts::Reconnect;
pub use accounts::{Account, AccountState, Calendar, NewAccount, Provider};
pub use agenda::{MeetingSummary, SeriesMemory};
pub use continuation::{Linked, Split};
pub use error::{Result, StoreError};
pub use events::{CachedEvent, payload_hash};
pub use history::{
    ItemRow, ItemSource, Mark, NewRevision, OccurrenceRow, OccurrenceState, Revision,
    SeriesOverride, SeriesRow, SeriesUpsert,
};
pub(crate) use notes::PrivateNoteRow;
pub use pool::Store;
pub use runs::{RunOutcome, RunStats, SyncRun};
pub(crate) use web::SeriesLink;
