//! The ci exit decision, as a pure function of a session snapshot and the time.
//!
//! Implements Tilt's `processExitCondition` (`internal/controllers/core/session/status.go`):
//! cluster error → first failing target in name order (grace aware) → everything ready/done
//! (and every container settled) → readiness timeout → global timeout. Every deadline the run
//! has — the end of a grace period, a container's settling time, the readiness timeout, the
//! global timeout — is computed here from the snapshot, so the engine only asks "when should I
//! look again?" ([`Verdict::Running`]'s `recheck_at`) instead of polling or adjusting the answer.
//! Keeping it pure makes every rule a unit test.

use crate::duration::GoDuration;
use crate::exit_code::FailureClass;
use crate::manifest::CiSettings;
use crate::session::{GraceStatus, Readiness, Target, TargetState, TargetType};
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// The error for a Tiltfile that loaded but defines no resources.
pub const NO_RESOURCES: &str =
    "the Tiltfile defines no resources, so there is nothing to wait for (tilt ci would wait for its whole --timeout)";

/// How long a docker-compose container must have stayed ready before the run can succeed (see
/// [`Readiness::Settling`]).
pub const CONTAINER_STABLE: Duration = Duration::from_secs(1);

/// Where a Kubernetes runtime target that failed at `now`, deployed at `deployed_at`, stands in
/// the grace period (Tilt's `conv.go`): tolerated until `deployed_at + k8s_grace_period`,
/// exceeded from then on; [`GraceStatus::None`] without a (non-zero) grace period.
pub fn grace_status(ci: &CiSettings, deployed_at: DateTime<Utc>, now: DateTime<Utc>) -> GraceStatus {
    match grace_ends(ci, deployed_at) {
        None => GraceStatus::None,
        Some(end) if now < end => GraceStatus::Tolerated,
        Some(_) => GraceStatus::Exceeded,
    }
}

/// When the grace period of a target that started at `start` ends, if there is one.
fn grace_ends(ci: &CiSettings, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let grace = ci.k8s_grace_period.filter(|g| !g.to_std().is_zero())?;
    Some(start.checked_add_signed(to_delta(grace)).unwrap_or(DateTime::<Utc>::MAX_UTC))
}

/// What the verdict says about a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Keep going; look again at `recheck_at` at the latest (a deadline may pass then).
    Running {
        /// Earliest grace/readiness/global deadline, if any.
        recheck_at: Option<DateTime<Utc>>,
    },
    /// All workloads are healthy.
    Success,
    /// The run failed.
    Failure {
        /// `status.error`, as Tilt words it.
        error: String,
        /// Failure class.
        class: FailureClass,
        /// The target that failed, if one did.
        target: Option<String>,
    },
}

/// Something the run needs from its machine failed (the Docker daemon, the cluster
/// connection): not the user's fault, and no point waiting for the timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentFailure {
    /// What failed, e.g. `failed to connect to the Docker daemon at unix:///…: …`.
    pub error: String,
    /// The target that needed it.
    pub target: Option<String>,
}

/// Decides whether a ci run is over. `targets` need not be sorted; `start_time` is the process
/// start; `environment` is a failure of the machine (Docker daemon, cluster) that ends the run
/// before anything else is looked at.
pub fn verdict(
    targets: &[Target],
    ci: &CiSettings,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
    environment: Option<&EnvironmentFailure>,
) -> Verdict {
    if let Some(e) = environment {
        return Verdict::Failure { error: e.error.clone(), class: FailureClass::Environment, target: e.target.clone() };
    }
    let mut sorted: Vec<&Target> = targets.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));

    let mut waiting = Vec::new();
    let mut not_ready = Vec::new();
    let mut retrying = Vec::new();
    // Ends of grace periods of tolerated failures: the failure is judged again then.
    let mut grace_ends_at = Vec::new();
    // When the last settling container will have stayed ready for CONTAINER_STABLE.
    let mut settled_at: Option<DateTime<Utc>> = None;
    for t in &sorted {
        match &t.state {
            Some(TargetState::Terminated { error, grace_status, start_time, .. }) if !error.is_empty() => {
                let (error, class) = match grace_status {
                    GraceStatus::Tolerated => {
                        retrying.push(t.name.clone());
                        grace_ends_at.extend(start_time.and_then(|s| grace_ends(ci, s)));
                        continue;
                    }
                    GraceStatus::Exceeded => (format!("exceeded grace period: {error}"), FailureClass::GraceExceeded),
                    GraceStatus::None => (error.clone(), FailureClass::of_target(&t.name)),
                };
                return Verdict::Failure { error, class, target: Some(t.name.clone()) };
            }
            Some(TargetState::Waiting { wait_reason }) => {
                waiting.push(format!("{} {wait_reason}", t.name));
            }
            Some(TargetState::Active { ready, last_ready_time, .. }) => match ready {
                Readiness::NotReady => not_ready.push(t.name.clone()),
                Readiness::Settling => {
                    if let Some(at) = last_ready_time.map(|r| r + to_delta_std(CONTAINER_STABLE)) {
                        settled_at = Some(settled_at.map_or(at, |s| s.max(at)));
                    }
                }
                Readiness::Ready => {}
            },
            // Done, disabled, or never started (no state): nothing to wait for.
            None | Some(TargetState::Disabled {} | TargetState::Terminated { .. }) => {}
        }
    }
    if waiting.is_empty() && not_ready.is_empty() && retrying.is_empty() && sorted.len() > 1 {
        return match settled_at.filter(|at| *at > now) {
            // Success waits until every container has been ready for a moment.
            Some(at) => Verdict::Running { recheck_at: Some(at) },
            None => Verdict::Success,
        };
    }
    // Deliberate difference from Tilt: a Tiltfile that loaded but defines no resources can
    // never satisfy "more than one target", so `tilt ci` waits out its whole timeout. Fail now.
    if let [only] = sorted.as_slice()
        && only.name == crate::TILTFILE_TARGET
        && matches!(&only.state, Some(TargetState::Terminated { error, .. }) if error.is_empty())
    {
        return Verdict::Failure { error: NO_RESOURCES.to_string(), class: FailureClass::TiltfileError, target: None };
    }

    let mut recheck_at: Option<DateTime<Utc>> = None;
    let mut consider = |at: DateTime<Utc>| {
        recheck_at = Some(recheck_at.map_or(at, |r| r.min(at)));
    };
    // A tolerated failure is judged again when its grace period ends.
    grace_ends_at.into_iter().filter(|at| *at > now).for_each(&mut consider);

    if let Some(rt) = ci.readiness_timeout.filter(|d| !d.is_disabled()) {
        let limit = to_delta(rt);
        for t in &sorted {
            if let Some(TargetState::Active { start_time, ready: Readiness::NotReady, last_ready_time }) = &t.state {
                if t.target_type == TargetType::Job {
                    continue;
                }
                let Some(reference) = last_ready_time.or(*start_time) else { continue };
                if now - reference > limit {
                    return Verdict::Failure {
                        error: format!("Readiness timeout after {rt}: target {} not ready", t.name),
                        class: FailureClass::ReadinessTimeout,
                        target: Some(t.name.clone()),
                    };
                }
                consider(reference + limit);
            }
        }
    }

    if let Some(timeout) = ci.timeout.filter(|d| !d.is_disabled()) {
        let limit = to_delta(timeout);
        if now - start_time > limit {
            let mut groups = Vec::new();
            if !waiting.is_empty() {
                groups.push(format!("{} resources waiting ({})", waiting.len(), waiting.join(",")));
            }
            if !not_ready.is_empty() {
                groups.push(format!("{} resources not ready ({})", not_ready.len(), not_ready.join(",")));
            }
            if !retrying.is_empty() {
                groups.push(format!("{} resources retrying ({})", retrying.len(), retrying.join(",")));
            }
            return Verdict::Failure {
                error: format!("Timeout after {timeout}: {}", groups.join(", ")),
                class: FailureClass::GlobalTimeout,
                target: None,
            };
        }
        consider(start_time + limit);
    }
    Verdict::Running { recheck_at }
}

fn to_delta(d: GoDuration) -> TimeDelta {
    to_delta_std(d.to_std())
}

fn to_delta_std(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-08-08T19:20:00Z".parse().unwrap()
    }
    fn secs(n: i64) -> DateTime<Utc> {
        t0() + TimeDelta::seconds(n)
    }
    fn target(name: &str, tt: TargetType, state: Option<TargetState>) -> Target {
        Target { name: name.into(), target_type: tt, resources: vec![], state }
    }
    #[expect(clippy::unnecessary_wraps, reason = "mirrors Target::state")]
    fn done(start: i64, end: i64, error: &str) -> Option<TargetState> {
        Some(TargetState::Terminated {
            start_time: Some(secs(start)),
            finish_time: Some(secs(end)),
            error: error.into(),
            grace_status: GraceStatus::None,
        })
    }
    #[expect(clippy::unnecessary_wraps, reason = "mirrors Target::state")]
    fn active(start: i64, ready: bool) -> Option<TargetState> {
        Some(TargetState::Active {
            start_time: Some(secs(start)),
            ready: Readiness::from_bool(ready),
            last_ready_time: ready.then(|| secs(start)),
        })
    }
    fn ci(timeout: &str, readiness: &str) -> CiSettings {
        CiSettings {
            k8s_grace_period: None,
            timeout: Some(GoDuration::parse(timeout).unwrap()),
            readiness_timeout: Some(GoDuration::parse(readiness).unwrap()),
        }
    }
    fn tiltfile_ok() -> Target {
        target("tiltfile:update", TargetType::Job, done(0, 1, ""))
    }

    #[test]
    fn all_done_is_success() {
        let ts = vec![tiltfile_ok(), target("a:update", TargetType::Job, done(1, 2, ""))];
        assert_eq!(verdict(&ts, &ci("30m", "5m"), t0(), secs(3), None), Verdict::Success);
    }

    #[test]
    fn only_tiltfile_target_never_succeeds() {
        let ts = vec![target("tiltfile:update", TargetType::Job, active(0, false))];
        assert!(matches!(verdict(&ts, &ci("30m", "5m"), t0(), secs(3), None), Verdict::Running { .. }));
        // Loaded, but no resources: fail at once instead of waiting for the timeout.
        match verdict(&[tiltfile_ok()], &ci("30m", "5m"), t0(), secs(3), None) {
            Verdict::Failure { error, class, .. } => {
                assert_eq!(error, NO_RESOURCES);
                assert_eq!(class, FailureClass::TiltfileError);
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn disabled_targets_count_towards_more_than_one() {
        let ts = vec![tiltfile_ok(), target("a:update", TargetType::Job, Some(TargetState::Disabled {}))];
        assert_eq!(verdict(&ts, &ci("30m", "5m"), t0(), secs(3), None), Verdict::Success);
    }

    #[test]
    fn first_failure_in_name_order_wins() {
        let ts = vec![
            tiltfile_ok(),
            target("z:update", TargetType::Job, done(1, 2, "z broke")),
            target("b:serve", TargetType::Server, done(1, 3, "b broke")),
        ];
        match verdict(&ts, &ci("30m", "5m"), t0(), secs(4), None) {
            Verdict::Failure { error, class, target } => {
                assert_eq!(error, "b broke");
                assert_eq!(class, FailureClass::ServeExited);
                assert_eq!(target.as_deref(), Some("b:serve"));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn grace_tolerated_is_retrying_and_exceeded_fails() {
        let mut st = done(1, 2, "crash");
        if let Some(TargetState::Terminated { grace_status, .. }) = &mut st {
            *grace_status = GraceStatus::Tolerated;
        }
        let ts = vec![tiltfile_ok(), target("a:runtime", TargetType::Server, st.clone())];
        assert!(matches!(verdict(&ts, &ci("1m", "5m"), t0(), secs(3), None), Verdict::Running { .. }));
        match verdict(&ts, &ci("1m", "5m"), t0(), secs(61), None) {
            Verdict::Failure { error, class, .. } => {
                assert_eq!(error, "Timeout after 1m0s: 1 resources retrying (a:runtime)");
                assert_eq!(class, FailureClass::GlobalTimeout);
            }
            v => panic!("{v:?}"),
        }
        if let Some(TargetState::Terminated { grace_status, .. }) = &mut st {
            *grace_status = GraceStatus::Exceeded;
        }
        let ts = vec![tiltfile_ok(), target("a:runtime", TargetType::Server, st)];
        match verdict(&ts, &ci("1m", "5m"), t0(), secs(3), None) {
            Verdict::Failure { error, class, .. } => {
                assert_eq!(error, "exceeded grace period: crash");
                assert_eq!(class, FailureClass::GraceExceeded);
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn readiness_timeout_applies_to_servers_only() {
        let ts = vec![
            tiltfile_ok(),
            target("a:serve", TargetType::Server, active(10, false)),
            target("b:update", TargetType::Job, active(0, false)),
        ];
        match verdict(&ts, &ci("30m", "5s"), t0(), secs(14), None) {
            Verdict::Running { recheck_at } => assert_eq!(recheck_at, Some(secs(15))),
            v => panic!("{v:?}"),
        }
        match verdict(&ts, &ci("30m", "5s"), t0(), secs(16), None) {
            Verdict::Failure { error, class, target } => {
                assert_eq!(error, "Readiness timeout after 5s: target a:serve not ready");
                assert_eq!(class, FailureClass::ReadinessTimeout);
                assert_eq!(target.as_deref(), Some("a:serve"));
            }
            v => panic!("{v:?}"),
        }
        // Disabled readiness timeout: only the global one applies.
        assert!(matches!(verdict(&ts, &ci("30m", "0s"), t0(), secs(100), None), Verdict::Running { .. }));
    }

    #[test]
    fn global_timeout_summary_matches_tilt() {
        let ts = vec![
            tiltfile_ok(),
            target(
                "fe:runtime",
                TargetType::Server,
                Some(TargetState::Waiting { wait_reason: "waiting-for-pod".into() }),
            ),
            target(
                "fe:update",
                TargetType::Job,
                Some(TargetState::Waiting { wait_reason: "waiting-for-cluster".into() }),
            ),
        ];
        match verdict(&ts, &ci("1m", "5m"), t0(), secs(61), None) {
            Verdict::Failure { error, .. } => assert_eq!(
                error,
                "Timeout after 1m0s: 2 resources waiting (fe:runtime waiting-for-pod,fe:update waiting-for-cluster)"
            ),
            v => panic!("{v:?}"),
        }
        match verdict(&ts, &ci("1m", "5m"), t0(), secs(30), None) {
            Verdict::Running { recheck_at } => assert_eq!(recheck_at, Some(secs(60))),
            v => panic!("{v:?}"),
        }
        // A zero timeout disables it.
        assert!(matches!(verdict(&ts, &ci("0s", "5m"), t0(), secs(1000), None), Verdict::Running { recheck_at: None }));
    }

    #[test]
    fn environment_failure_comes_first() {
        let ts = vec![tiltfile_ok(), target("a:update", TargetType::Job, done(1, 2, "x"))];
        let env = EnvironmentFailure { error: "docker refused".into(), target: Some("b:update".into()) };
        match verdict(&ts, &ci("1m", "5m"), t0(), secs(1), Some(&env)) {
            Verdict::Failure { error, class, target } => {
                assert_eq!(error, "docker refused");
                assert_eq!(class, FailureClass::Environment);
                assert_eq!(target.as_deref(), Some("b:update"));
            }
            v => panic!("{v:?}"),
        }
    }

    fn with_grace(timeout: &str, grace: &str) -> CiSettings {
        CiSettings { k8s_grace_period: Some(GoDuration::parse(grace).unwrap()), ..ci(timeout, "5m") }
    }

    #[test]
    fn grace_status_is_tolerated_until_the_period_ends() {
        let grace = with_grace("30m", "10s");
        assert_eq!(grace_status(&grace, secs(5), secs(5)), GraceStatus::Tolerated);
        assert_eq!(grace_status(&grace, secs(5), secs(14)), GraceStatus::Tolerated);
        assert_eq!(grace_status(&grace, secs(5), secs(15)), GraceStatus::Exceeded);
        // No grace period, or a zero one: none applies.
        assert_eq!(grace_status(&ci("30m", "5m"), secs(5), secs(6)), GraceStatus::None);
        assert_eq!(grace_status(&with_grace("30m", "0s"), secs(5), secs(6)), GraceStatus::None);
    }

    #[test]
    fn a_tolerated_failure_is_rechecked_when_its_grace_period_ends() {
        let ci = with_grace("30m", "10s");
        let failing = |now| {
            let mut st = done(5, 6, "CrashLoopBackOff");
            if let Some(TargetState::Terminated { grace_status: g, .. }) = &mut st {
                *g = grace_status(&ci, secs(5), now);
            }
            vec![tiltfile_ok(), target("a:runtime", TargetType::Server, st)]
        };
        // Within the grace period: the earliest deadline is its end (before the global timeout).
        assert_eq!(
            verdict(&failing(secs(7)), &ci, t0(), secs(7), None),
            Verdict::Running { recheck_at: Some(secs(15)) }
        );
        // After it: the failure stands.
        match verdict(&failing(secs(15)), &ci, t0(), secs(15), None) {
            Verdict::Failure { error, class, target } => {
                assert_eq!(error, "exceeded grace period: CrashLoopBackOff");
                assert_eq!(class, FailureClass::GraceExceeded);
                assert_eq!(target.as_deref(), Some("a:runtime"));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn success_waits_until_every_container_has_settled() {
        let settling = |ready_at| {
            Some(TargetState::Active {
                start_time: Some(secs(1)),
                ready: Readiness::Settling,
                last_ready_time: Some(secs(ready_at)),
            })
        };
        let ts = vec![
            tiltfile_ok(),
            target("db:runtime", TargetType::Server, settling(2)),
            target("web:runtime", TargetType::Server, settling(3)),
        ];
        // Rechecked when the last one has been ready for CONTAINER_STABLE.
        assert_eq!(verdict(&ts, &ci("30m", "5m"), t0(), secs(3), None), Verdict::Running { recheck_at: Some(secs(4)) });
        assert_eq!(verdict(&ts, &ci("30m", "5m"), t0(), secs(4), None), Verdict::Success);
        // Settling counts as ready for the readiness timeout, long after it would have fired.
        let ts = vec![tiltfile_ok(), target("db:runtime", TargetType::Server, settling(400))];
        assert_eq!(
            verdict(&ts, &ci("30m", "5s"), t0(), secs(400), None),
            Verdict::Running { recheck_at: Some(secs(401)) }
        );
    }

    #[test]
    fn the_recheck_is_the_earliest_deadline() {
        // A server not ready since 10 s with a 5 s readiness timeout, and a tolerated failure
        // whose grace ends at 12 s: the readiness deadline (15 s) comes after the grace end.
        let ci = with_grace("1m", "7s");
        let mut failing = done(5, 6, "ErrImagePull");
        if let Some(TargetState::Terminated { grace_status: g, .. }) = &mut failing {
            *g = grace_status(&ci, secs(5), secs(11));
        }
        let ci = CiSettings { readiness_timeout: Some(GoDuration::parse("5s").unwrap()), ..ci };
        let ts = vec![
            tiltfile_ok(),
            target("a:runtime", TargetType::Server, failing),
            target("b:serve", TargetType::Server, active(10, false)),
        ];
        assert_eq!(verdict(&ts, &ci, t0(), secs(11), None), Verdict::Running { recheck_at: Some(secs(12)) });
        // Without the grace period it is the readiness deadline; without both, the global one.
        let ts = vec![tiltfile_ok(), target("b:serve", TargetType::Server, active(10, false))];
        assert_eq!(verdict(&ts, &ci, t0(), secs(11), None), Verdict::Running { recheck_at: Some(secs(15)) });
        let ts = vec![tiltfile_ok(), target("c:update", TargetType::Job, active(10, false))];
        assert_eq!(verdict(&ts, &ci, t0(), secs(11), None), Verdict::Running { recheck_at: Some(secs(60)) });
    }
}
