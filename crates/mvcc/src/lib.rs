//! Revisioned key-value store on a Backend trait (sled by default)
