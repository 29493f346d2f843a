//! The calendar providers: each turns a remote calendar into `model` types and writes one
//! description back, conditionally. The sync pass is the same for both.

pub mod caldav;
pub mod google;
pub mod netcheck;
