//! The binary's name for stilt-core's one cause walker ([`stilt_core::error_chain`]), so call
//! sites keep `crate::error_chain::error_chain`.

pub use stilt_core::error_chain::error_chain;
