//! Executors: they run things and report back to the dispatcher by message. They never touch
//! engine state.

pub mod exec_msg;
pub mod local_process;
pub mod probe;
pub mod process_registry;
