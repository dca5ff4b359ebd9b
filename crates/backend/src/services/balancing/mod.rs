//! The Balancing view's use cases: the settings (read from ProxLB's file, saved through the
//! one lossless write path of [`ConfigService`]), ProxLB's plan replayed on the latest cluster
//! snapshot, the what-if of a candidate configuration, the explanation of one guest, the best
//! node, and "run now" (a restart of the daemon, see [`run`]).
//!
//! Nothing here calls Proxmox: plans are computed on the poller's last snapshot, so a what-if
//! costs one replay of ProxLB's calculation and no request. Today's evaluation is kept per
//! snapshot, file and minute ([`baseline`]); answers are built from the domain's explanation
//! types ([`plb_domain::balancing::answer`]).

pub mod ask;
mod baseline;
mod run;
pub mod save;
mod turns;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use plb_domain::balancing::answer::{
    node_states, BalancingPlan, GuestAnswer, InputsAge, WhatIfAnswer,
};
use plb_domain::balancing::run_now;
use plb_domain::balancing::settings::BalancingSettings;
use plb_domain::balancing::wire::{Candidate, SettingsView};
use plb_domain::projection::BalancingProjection;
use plb_domain::proxlb::best_node::{best_node, BestNode, NewGuest, NoFit};
use plb_domain::proxlb::decision::{evaluate_full, EvaluationInput};
use plb_domain::proxlb::maintenance::maintenance_overview;
use plb_domain::proxlb::what_if::what_if_projected;
use plb_domain::proxlb::{ClusterSnapshot, ProxLbConfig};
use plb_domain::view::local_time;
use tokio_util::sync::CancellationToken;

use self::baseline::{Baseline, BaselineCache, Key};
use self::turns::OneAtATime;

use crate::adapters::config_file;
use crate::auth::AuthService;
use crate::config_store::ConfigService;
use crate::error::Service;
use crate::ports::config::{Digest, Writability};
use crate::ports::Clock;
use crate::services::cluster::ClusterService;
use crate::services::cluster_view::{meta, to_domain};
use crate::services::proxlb::Proxlb;
use crate::Error;

/// The balancing service. Cheap to clone.
#[derive(Clone)]
pub struct BalancingService {
    config: ConfigService,
    cluster: ClusterService,
    proxlb: Proxlb,
    auth: AuthService,
    clock: Arc<dyn Clock>,
    utc_offset_seconds: i64,
    baseline: BaselineCache,
    /// "Ask real ProxLB": one run at a time ([`ask`]).
    ask: ask::AskSlot,
    /// What-if replays, one at a time ([`turns`]).
    what_ifs: OneAtATime,
}

/// ProxLB's configuration as typed, with the digest of the bytes it was read from.
pub struct Typed {
    /// The configuration.
    pub config: ProxLbConfig,
    /// Digest of the file.
    pub digest: Digest,
}

impl BalancingService {
    /// The service over the application's config, cluster and ProxLB services.
    pub fn new(
        config: ConfigService,
        cluster: ClusterService,
        proxlb: Proxlb,
        auth: AuthService,
        clock: Arc<dyn Clock>,
        utc_offset_seconds: i64,
    ) -> Self {
        Self {
            config,
            cluster,
            proxlb,
            auth,
            clock,
            utc_offset_seconds,
            baseline: BaselineCache::default(),
            ask: ask::AskSlot::default(),
            what_ifs: OneAtATime::default(),
        }
    }

    /// Lets today's evaluation go whenever the poller publishes newer data, until `shutdown`:
    /// it is only ever reused for the data it was built from. Call inside a tokio runtime.
    pub fn spawn_baseline_release(&self, shutdown: CancellationToken) {
        let cluster = self.cluster.clone();
        tokio::spawn(baseline::release_when_polled(
            self.baseline.clone(),
            self.cluster.subscribe(),
            move || {
                cluster
                    .snapshot()
                    .and_then(|snapshot| snapshot.data.clone())
            },
            shutdown,
        ));
    }

    /// The file, parsed as ProxLB's typed configuration (blocking file IO off the workers).
    pub async fn typed(&self) -> Result<Typed, Error> {
        let store = Arc::clone(self.config.store());
        let read = tokio::task::spawn_blocking(move || store.read())
            .await
            .map_err(Error::internal)?
            .map_err(crate::config_store::ConfigError::from)?;
        let config =
            config_file::parse(std::path::Path::new("proxlb.yaml"), &read.text).map_err(|e| {
                Error::Invalid {
                    message: format!("ProxLB's configuration cannot be read: {e}"),
                }
            })?;
        Ok(Typed {
            config,
            digest: read.digest,
        })
    }

    fn now_ms(&self) -> i64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// The settings for the form, with the file's digest and whether a run may start now.
    pub async fn settings(&self) -> Result<SettingsView, Error> {
        let typed = self.typed().await?;
        let snapshot = self.cluster_snapshot();
        let pressure_reported = snapshot
            .as_ref()
            .is_some_and(|s| s.nodes.iter().any(|n| n.psi.is_some()));
        let nodes = snapshot.map_or_else(Vec::new, |s| {
            node_states(&maintenance_overview(
                &s.nodes,
                &typed.config.proxmox_cluster,
                self.local_now(),
            ))
        });
        let run_refusal = run_now::check(
            &typed.config,
            &self.proxlb.status(),
            &self.proxlb.logs.run_state(),
            self.now_ms(),
        )
        .err();
        Ok(SettingsView {
            settings: BalancingSettings::of(&typed.config),
            digest: typed.digest.0,
            read_only: match self.config.store().writability() {
                Writability::ReadOnly(why) => Some(why),
                Writability::Atomic | Writability::InPlace => None,
            },
            pressure_reported,
            run_refusal,
            nodes,
        })
    }

    /// The domain's cluster model of the poller's last snapshot.
    fn cluster_snapshot(&self) -> Option<ClusterSnapshot> {
        let snapshot = self.cluster.snapshot()?;
        snapshot.data.as_deref().map(to_domain)
    }

    fn snapshot_or_error(&self) -> Result<ClusterSnapshot, Error> {
        self.cluster_snapshot().ok_or_else(|| Error::Unavailable {
            service: Service::Proxmox,
            detail: "no cluster snapshot yet".to_owned(),
        })
    }

    /// Today's evaluation of the poller's last data under the file as saved (kept until either
    /// changes, or the minute does), evaluated off the async workers.
    async fn baseline(&self) -> Result<(Arc<Baseline>, ProxLbConfig), Error> {
        let typed = self.typed().await?;
        let snapshot = self.cluster.snapshot();
        let Some((snapshot, data)) = snapshot.and_then(|s| s.data.clone().map(|d| (s, d))) else {
            return Err(Error::Unavailable {
                service: Service::Proxmox,
                detail: "no cluster snapshot yet".to_owned(),
            });
        };
        let now = self.local_now();
        let key = Key::new(&data, typed.digest.0, now);
        let cache = self.baseline.clone();
        let config = typed.config.clone();
        let inputs = meta(&snapshot).balancing_inputs;
        // Not held past the build: the cache keeps only a weak reference to the poll data.
        drop(snapshot);
        let baseline = tokio::task::spawn_blocking(move || {
            cache.get_or_build(key, || {
                let domain = to_domain(&data);
                drop(data);
                let evaluation = evaluate_full(EvaluationInput {
                    snapshot: &domain,
                    config: &config,
                    now,
                    dry_run: false,
                });
                Baseline {
                    snapshot: domain,
                    projection: evaluation.balancing_projection(),
                    evaluation,
                    inputs,
                    now,
                }
            })
        })
        .await
        .map_err(Error::internal)?;
        Ok((baseline, typed.config))
    }

    fn inputs(&self, baseline: &Baseline) -> Option<InputsAge> {
        let now = u64::try_from(self.now_ms() / 1000).unwrap_or(0);
        baseline.inputs.map(|i| InputsAge::at(i, now))
    }

    /// ProxLB's plan with the configuration as saved.
    pub async fn plan(&self) -> Result<BalancingPlan, Error> {
        self.plan_with(BalancingProjection::clone).await
    }

    /// One page of that plan, the moves from plan position `from` (the view's pages): only
    /// the page's moves are copied from the snapshot's projection.
    pub async fn plan_page(&self, from: usize) -> Result<BalancingPlan, Error> {
        self.plan_with(move |projection| projection.page(from))
            .await
    }

    async fn plan_with(
        &self,
        project: impl FnOnce(&BalancingProjection) -> BalancingProjection + Send + 'static,
    ) -> Result<BalancingPlan, Error> {
        let (baseline, _) = self.baseline().await?;
        let inputs = self.inputs(&baseline);
        tokio::task::spawn_blocking(move || {
            BalancingPlan::of(project(&baseline.projection), inputs)
        })
        .await
        .map_err(Error::internal)
    }

    /// Today's plan and the candidate's, with their difference. Nothing is written.
    pub async fn what_if(&self, candidate: &Candidate) -> Result<WhatIfAnswer, Error> {
        let (baseline, today) = self.baseline().await?;
        let config = candidate.apply_to(&today);
        let inputs = self.inputs(&baseline);
        self.what_ifs
            .run(move || {
                let what_if = what_if_projected(
                    &baseline.evaluation,
                    baseline.projection.clone(),
                    &baseline.snapshot,
                    &config,
                    baseline.now,
                );
                WhatIfAnswer::of(what_if, inputs)
            })
            .await
    }

    /// Why the guest `query` names (VMID or name) moves or stays.
    pub async fn explain(&self, query: &str) -> Result<GuestAnswer, Error> {
        let (baseline, _) = self.baseline().await?;
        baseline
            .evaluation
            .explain_guest(&baseline.snapshot, query)
            .map(GuestAnswer::of)
            .ok_or_else(|| Error::NotFound {
                what: format!("guest {:?}", query.trim()),
            })
    }

    /// The best node for a new guest of `request`'s size and rules, or (without a request) the
    /// node ProxLB would choose now, as `proxlb -d -b`. `Ok(Err(no_fit))` says why no node fits.
    pub async fn best_node_for(
        &self,
        request: Option<NewGuest>,
    ) -> Result<Result<BestNode, NoFit>, Error> {
        let typed = self.typed().await?;
        let snapshot = self.snapshot_or_error()?;
        let now = self.local_now();
        Ok(best_node(&snapshot, &typed.config, now, request.as_ref()))
    }

    fn local_now(&self) -> plb_domain::proxlb::LocalTime {
        let now = self
            .clock
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        local_time(now, self.utc_offset_seconds)
    }
}
