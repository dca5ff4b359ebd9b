//! Keeps the demo alive: once real ProxLB has balanced the simulated cluster, its runs would
//! find nothing to do. After every ProxLB run that moved nothing, the simulated load "drifts":
//! a few guests are migrated onto the busiest node (real simulated migration tasks, visible in
//! the task list like moves a person started in Proxmox), so the next run has work again.
//! [`unbalance`] is the same move on demand (a demo-only "unbalance the cluster" action).

use std::sync::Arc;

use futures::StreamExt;
use plb_backend::ports::LogSource;
use plb_pve_sim::{GuestKind, SimHandle};
use tokio_util::sync::CancellationToken;

/// How many guests one drift moves.
pub const DRIFT_GUESTS: usize = 3;
/// The user the drift's migration tasks run as (shown as their initiator).
const DRIFT_USER: &str = "root@pam";
/// The line ProxLB logs at the start of each migration (`proxlb/models/balancing.py`, 2.3.0).
const MIGRATION_LINE: &str = "Balancing: Starting to migrate";
/// The line ProxLB logs when a run is over and it sleeps (`proxlb/utils/helper.py`, 2.3.0).
const RUN_END_LINE: &str = "Daemon mode active: Next run in:";

/// One guest the drift moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The guest's VMID.
    pub vmid: u32,
    /// The guest's name.
    pub name: String,
    /// Where it was.
    pub from: String,
    /// Where it goes.
    pub to: String,
    /// The migration task's UPID.
    pub upid: String,
}

/// Moves up to `count` guests from other nodes onto the node with the most memory in use
/// (online nodes only; templates and locked guests stay). Starts simulated migration tasks, so
/// the guests arrive after the simulator's migration time. Returns the moves started.
pub fn unbalance(sim: &SimHandle, count: usize) -> Vec<Moved> {
    let now = sim.now();
    sim.with_cluster(|cluster| {
        let online: Vec<String> = cluster
            .nodes
            .iter()
            .filter(|node| node.online)
            .map(|node| node.name.clone())
            .collect();
        let used = |node: &str| -> u64 {
            cluster
                .guests
                .values()
                .filter(|guest| guest.node() == node && guest.running())
                .map(|guest| guest.spec.mem.map_or(guest.spec.maxmem.0, |mem| mem.0))
                .sum()
        };
        let Some(target) = online.iter().max_by_key(|node| used(node)).cloned() else {
            return Vec::new();
        };
        let mut candidates: Vec<(u32, GuestKind, String, String, bool)> = cluster
            .guests
            .values()
            .filter(|guest| {
                guest.node() != target
                    && online.iter().any(|node| node == guest.node())
                    && !guest.spec.template
                    && guest.lock.is_none()
            })
            .map(|guest| {
                (
                    guest.spec.vmid,
                    guest.spec.kind,
                    guest.spec.name.clone(),
                    guest.node().to_owned(),
                    guest.running(),
                )
            })
            .collect();
        // Running guests first: they are what ProxLB balances.
        candidates.sort_by_key(|(vmid, _, _, _, running)| (!running, *vmid));
        let mut moved = Vec::new();
        for (vmid, kind, name, from, running) in candidates {
            if moved.len() == count {
                break;
            }
            let online_vm = kind == GuestKind::Vm && running;
            let restart_ct = kind == GuestKind::Ct && running;
            let started = cluster.migrate(
                now, &from, kind, vmid, &target, online_vm, restart_ct, DRIFT_USER,
            );
            if let Ok(upid) = started {
                moved.push(Moved {
                    vmid,
                    name,
                    from,
                    to: target.clone(),
                    upid: upid.to_string(),
                });
            }
        }
        moved
    })
}

/// Follows ProxLB's output and, after each run that started no migration, calls
/// [`unbalance`]. Ends with `shutdown`.
pub fn spawn(sim: SimHandle, logs: Arc<dyn LogSource>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut migrated = false;
        loop {
            let mut lines = match logs.follow(None, 0).await {
                Ok(lines) => lines,
                Err(error) => {
                    tracing::warn!(%error, "demo drift cannot follow ProxLB's output");
                    return;
                }
            };
            loop {
                let item = tokio::select! {
                    () = shutdown.cancelled() => return,
                    item = lines.next() => item,
                };
                let Some(item) = item else { break };
                let Ok(line) = item else { continue };
                if line.line.text.contains(MIGRATION_LINE) {
                    migrated = true;
                } else if line.line.text.contains(RUN_END_LINE) {
                    if !migrated {
                        let moved = unbalance(&sim, DRIFT_GUESTS);
                        tracing::info!(
                            guests = ?moved.iter().map(|m| &m.name).collect::<Vec<_>>(),
                            "demo: the simulated load drifted; ProxLB's next run has work"
                        );
                    }
                    migrated = false;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use plb_backend::adapters::proxlb::process::{ProcessBackend, ProcessConfig};
    use plb_domain::logs::{LogStream, RawLine};
    use plb_pve_sim::{Scenario, SimConfig, Simulator};

    use super::*;

    async fn frozen_demo_sim() -> Simulator {
        plb_backend::tls::install_crypto_provider();
        let scenario = Scenario::from_yaml_str(include_str!(
            "../../crates/pve-sim/scenarios/demo-3node.yaml"
        ))
        .unwrap();
        let config = SimConfig {
            time_scale: 0.0,
            tls: false,
            ..SimConfig::default()
        };
        Simulator::start(scenario, config).await.unwrap()
    }

    fn drift_tasks(sim: &Simulator) -> usize {
        sim.handle().with_cluster(|cluster| {
            cluster
                .tasks
                .iter()
                .filter(|task| task.upid.user == DRIFT_USER)
                .count()
        })
    }

    #[tokio::test]
    async fn drifts_after_a_run_that_moved_nothing_only() {
        let sim = frozen_demo_sim().await;
        // The process backend's own log buffer, fed by hand instead of by a ProxLB child.
        let logs = ProcessBackend::new(ProcessConfig::new("python3", "/dev/null"));
        let shutdown = CancellationToken::new();
        let base = drift_tasks(&sim);
        spawn(sim.handle(), Arc::new(logs.clone()), shutdown.clone());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let say = |text: &str| {
            logs.buffer().push(RawLine {
                at_unix_ms: 0,
                stream: LogStream::Stdout,
                text: format!("2026-11-30 06:00:00,000 - ProxLB - INFO - {text}"),
            });
        };
        let settle = || tokio::time::sleep(Duration::from_millis(300));

        // A run with a migration: no drift.
        say("Balancing: Starting to migrate VM guest web01 from pve1 to pve2.");
        say("Daemon mode active: Next run in: 1 minutes.");
        settle().await;
        assert_eq!(drift_tasks(&sim), base);

        // A run that found nothing to do: the load drifts.
        say("Daemon mode active: Next run in: 1 minutes.");
        settle().await;
        assert_eq!(drift_tasks(&sim), base + DRIFT_GUESTS);
        shutdown.cancel();
    }

    #[tokio::test]
    async fn unbalance_moves_guests_onto_the_busiest_node() {
        let sim = frozen_demo_sim().await;
        let moved = unbalance(&sim.handle(), DRIFT_GUESTS);
        assert_eq!(moved.len(), DRIFT_GUESTS, "{moved:?}");
        // pve1 carries most of the demo's load.
        assert!(
            moved.iter().all(|m| m.to == "pve1" && m.from != "pve1"),
            "{moved:?}"
        );
        sim.advance(std::time::Duration::from_secs(600));
        for m in &moved {
            assert_eq!(sim.guest_node(m.vmid).as_deref(), Some("pve1"), "{m:?}");
        }
    }
}
