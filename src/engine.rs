//! The engine: a pure reducer over the engine state, a pure scheduler, the session snapshot,
//! and the dispatcher that runs the reducer's effects and owns every task.
//!
//! ```text
//!  executors ──ExecMsg──▶ dispatcher ──apply(msg, now)──▶ EngineState (reducer, pure)
//!                          │   ◀──────── Vec<Effect> ─────┘
//!                          │  runs effects: launch, probe, update job, watch, follow logs, log
//!                          │  scheduler::next_to_start (pure) → start_resource (reducer)
//!                          │  session_builder (pure) ──▶ verdict (pure, stilt-core)
//!                          ├──Event──▶ reporters
//!                          └──watch<Session>──▶ status API
//! ```

pub mod container_health;
pub mod deploy_plan;
pub mod dispatcher;
pub mod effect;
pub mod engine_state;
pub mod hold_reason;
pub mod reducer;
pub mod scheduler;
pub mod session_builder;

#[cfg(test)]
mod dispatcher_tests;
