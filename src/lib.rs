//! oneonone: a daemon that turns a manager's calendar into a 1:1 practice.
//!
//! See `DESIGN.md` (shared) for the architecture; each module below owns one part of it.

pub mod agenda;
pub mod api;
pub mod app;
pub mod attendance;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod detect;
pub mod ics;
pub mod insights;
pub mod manage;
pub mod manual;
pub mod model;
pub mod notes;
pub mod progress;
pub mod provider;
pub mod secrets;
pub mod server;
pub mod services;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod term;
pub mod web;
pub mod when;
