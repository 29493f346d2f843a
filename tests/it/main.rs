//! The one integration test binary: each module exercises one part of the product against real
//! processes and databases (see `helpers`).

mod agenda;
mod daemon;
mod helpers;
mod store;
