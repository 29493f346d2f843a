//! Is this series a 1:1, with whom, and why: a pure verdict a user can read back.
