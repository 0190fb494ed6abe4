//! Executors: they run things and report back to the dispatcher by message. They never touch
//! engine state.

pub mod cluster_handle;
pub mod container_watch;
pub mod dockerfile_refs;
pub mod exec_msg;
pub mod image_build;
pub mod k8s_deploy;
pub mod local_process;
pub mod probe;
pub mod process_registry;
pub mod resource_update;
