//! Seeded generator of large synthetic product catalogues (owned by the generator work).
