//! "Run now": one real ProxLB run, started without racing the daemon.
//!
//! ProxLB has no trigger and no lock (ProxLB 2.3.0: a one-off `daemon: false` run beside a
//! sleeping daemon could issue conflicting migrations). A fresh process runs at once, so the
//! daemon is restarted (or started when it is stopped) through the [`ServiceManager`]
//! port, as the Service view's restart does: one action at a time, audited there as a service
//! action and here as a balancing run. Refused, with the reason, when
//! [`run_now::check`](plb_domain::balancing::run_now::check) says the run would not happen or
//! would cut another one short.
//!
//! [`ServiceManager`]: crate::ports::ServiceManager

use plb_domain::audit::AuditAction;
use plb_domain::balancing::run_now::{self, RunStart};
use plb_domain::balancing::wire::RunStarted;
use plb_domain::service::ServiceAction;

use super::BalancingService;
use crate::auth::service::entry;
use crate::auth::{Identity, Role};
use crate::Error;

impl BalancingService {
    /// Starts one ProxLB run for `who` (an operator), or says why not.
    pub async fn run_now(&self, who: &Identity) -> Result<RunStarted, Error> {
        who.require(Role::Operator)?;
        let result = self.start_run(who).await;
        let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        let mut record = entry(
            who,
            AuditAction::BalancingRun,
            Some("run now".to_owned()),
            outcome,
        );
        if let Ok(started) = &result {
            record.details = Some(serde_json::json!({
                "how": started.how,
                "planned_moves": started.plan.projection.moves_total,
            }));
        }
        self.auth.audit(record).await;
        result
    }

    async fn start_run(&self, who: &Identity) -> Result<RunStarted, Error> {
        let typed = self.typed().await?;
        // Ask the backend now: the published status may be up to a poll old.
        let status = self.proxlb.refresh().await;
        let how = run_now::check(
            &typed.config,
            &status,
            &self.proxlb.logs.run_state(),
            self.now_ms(),
        )
        .map_err(|refusal| Error::Conflict {
            message: refusal.message(),
            current: None,
        })?;
        let plan = self.plan().await?;
        let action = match how {
            RunStart::Restart => ServiceAction::Restart,
            RunStart::Start => ServiceAction::Start,
        };
        self.proxlb.act(who, action).await?;
        Ok(RunStarted { how, plan })
    }
}
