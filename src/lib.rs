//! oneonone: a daemon that turns a manager's calendar into a 1:1 practice.
//!
//! See `DESIGN.md` (shared) for the architecture; each module below owns one part of it.

pub mod agenda;
pub mod api;
pub(crate) mod app;
pub(crate) mod attendance;
pub mod cli;
pub mod clock;
pub(crate) mod commands;
pub mod config;
pub mod detect;
pub mod ics;
pub(crate) mod insights;
pub(crate) mod manage;
pub mod manual;
pub mod model;
pub(crate) mod notes;
pub(crate) mod progress;
pub mod provider;
pub mod secrets;
pub(crate) mod server;
pub mod services;
pub mod sim;
pub mod store;
pub mod sync;
pub(crate) mod telemetry;
pub(crate) mod term;
pub mod web;
pub mod when;
