//! Personal access tokens: the secret's text format, its keyed digest, the
//! lifetime policy and the stored record.
//!
//! Everything here is pure: no storage, no clock, no audit. The service
//! combines these pieces.

pub(crate) mod digest;
pub(crate) mod format;
pub(crate) mod policy;
pub(crate) mod record;
mod sha256;
