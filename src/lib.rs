//! stilt
