//! Every process group stilt started, so teardown can reap them all — including grandchildren
//! a command left in the background — and leave no orphan behind on any path.

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared set of process-group ids.
#[derive(Debug, Clone, Default)]
pub struct ProcessRegistry {
    inner: Arc<Mutex<Groups>>,
}

#[derive(Debug, Default)]
struct Groups {
    ids: BTreeSet<i32>,
    /// Teardown began: a group registered now is killed on the spot (it lost the race).
    closed: bool,
}

impl ProcessRegistry {
    /// Records a group (its leader's pid). After teardown began, kills it instead.
    pub fn add(&self, pgid: u32) {
        let Ok(id) = i32::try_from(pgid) else { return };
        let mut g = self.inner.lock().expect("registry lock");
        if g.closed {
            let _ = killpg(Pid::from_raw(id), Signal::SIGKILL);
        } else {
            g.ids.insert(id);
        }
    }

    /// Sends `signal` to one group; false if it no longer exists.
    pub fn signal(pgid: u32, signal: Signal) -> bool {
        let Ok(id) = i32::try_from(pgid) else { return false };
        !matches!(killpg(Pid::from_raw(id), signal), Err(Errno::ESRCH))
    }

    /// Terminates every group: SIGTERM, up to `grace` for them to go, then SIGKILL.
    pub async fn terminate_all(&self, grace: Duration) {
        let groups: Vec<i32> = {
            let mut g = self.inner.lock().expect("registry lock");
            g.closed = true;
            g.ids.iter().copied().collect()
        };
        let alive: Vec<i32> =
            groups.into_iter().filter(|&g| killpg(Pid::from_raw(g), Signal::SIGTERM).is_ok()).collect();
        let deadline = tokio::time::Instant::now() + grace;
        let mut remaining = alive;
        while !remaining.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            remaining.retain(|&g| group_alive(g));
        }
        for g in remaining {
            let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
        }
    }
}

/// Whether a process group has a member that is not a zombie. Zombies (exited, not yet reaped
/// by whoever inherited them) cannot be killed and must not make teardown wait. Uses `/proc`
/// where it exists, else signal 0.
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return killpg(Pid::from_raw(pgid), None).is_ok();
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let Some(member) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { return false };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{member}/stat")) else { return false };
        // Fields after the parenthesised command: state, ppid, pgrp, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return false };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
        pgrp == Some(pgid) && state != Some("Z")
    })
}
