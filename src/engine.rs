//! The engine: one owner of state (the dispatcher), a pure scheduler, and the session snapshot.
//!
//! ```text
//!  executors ──ExecMsg──▶ dispatcher (owns EngineState) ──Event──▶ reporters
//!                          │  scheduler::next_to_start (pure)
//!                          │  session_builder (pure) ──▶ verdict (pure, stilt-core)
//!                          └──watch<Session>──▶ status API
//! ```

pub mod container_health;
pub mod deploy_plan;
pub mod dispatcher;
pub mod engine_state;
pub mod hold_reason;
pub mod scheduler;
pub mod session_builder;

#[cfg(test)]
mod dispatcher_tests;
