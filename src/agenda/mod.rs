//! Render the managed agenda block, parse it back (plain text and Google HTML), splice it into a description.
