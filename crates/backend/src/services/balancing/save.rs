//! Saving the balancing settings: only the keys that change are written, as one lossless edit
//! through [`ConfigService::apply_changes`](crate::config_store::ConfigService::apply_changes)
//! (validated as ProxLB would, digest-checked, backed up), by an operator, audited.

use plb_domain::audit::AuditAction;
use plb_domain::balancing::settings::BalancingSettings;
use plb_domain::balancing::wire::SaveRefusal;
use plb_domain::proxlb::validate::{Context, Report};

use super::BalancingService;
use crate::auth::service::entry;
use crate::auth::{Identity, Role};
use crate::config_store::{ConfigError, Saved};
use crate::ports::config::Digest;
use crate::Error;

/// Why a save did not write.
#[derive(Debug)]
pub enum SaveError {
    /// Out-of-range values, or a stale digest (with theirs and yours).
    Refused(SaveRefusal),
    /// ProxLB would reject the resulting file (positions inside).
    Rejected(Report),
    /// Anything else (permissions, store failures).
    Other(Error),
}

impl From<Error> for SaveError {
    fn from(error: Error) -> Self {
        SaveError::Other(error)
    }
}

impl BalancingService {
    /// Saves `settings` for `who` (an operator) if the file still has digest `base`.
    pub async fn save(
        &self,
        who: &Identity,
        base: &str,
        settings: BalancingSettings,
        ctx: Context,
    ) -> Result<Saved, SaveError> {
        who.require(Role::Operator)?;
        let result = self.save_checked(base, settings, ctx).await;
        let outcome = match &result {
            Ok(_) => Ok(()),
            Err(SaveError::Refused(SaveRefusal::Invalid { .. })) => {
                Err("invalid: values out of range".to_owned())
            }
            Err(SaveError::Refused(SaveRefusal::Conflict { .. })) => {
                Err("conflict: changed on disk".to_owned())
            }
            Err(SaveError::Rejected(_)) => Err("rejected: ProxLB would not accept it".to_owned()),
            Err(SaveError::Other(e)) => Err(e.to_string()),
        };
        let mut record = entry(
            who,
            AuditAction::ConfigChanged,
            Some("balancing settings".to_owned()),
            outcome,
        );
        if let Ok((keys, saved)) = &result {
            record.details = Some(serde_json::json!({
                "keys": keys,
                "from_digest": base,
                "to_digest": saved.digest,
            }));
        }
        self.auth.audit(record).await;
        result.map(|(_, saved)| saved)
    }

    async fn save_checked(
        &self,
        base: &str,
        settings: BalancingSettings,
        ctx: Context,
    ) -> Result<(Vec<String>, Saved), SaveError> {
        let fields = settings.validate();
        if !fields.is_empty() {
            return Err(SaveError::Refused(SaveRefusal::Invalid { fields }));
        }
        let current = self.typed().await?;
        let theirs = BalancingSettings::of(&current.config);
        if current.digest.0 != base {
            return Err(SaveError::Refused(SaveRefusal::Conflict {
                theirs: Box::new(theirs),
                yours: Box::new(settings),
                digest: current.digest.0,
            }));
        }
        let changes = settings.changes_from(&theirs);
        let keys: Vec<String> = changes.iter().map(|c| c.path.join(".")).collect();
        let config = self.config.clone();
        let base = Digest(base.to_owned());
        let written =
            tokio::task::spawn_blocking(move || config.apply_changes(&base, &changes, &ctx))
                .await
                .map_err(Error::internal)?;
        match written {
            Ok(saved) => Ok((keys, saved)),
            Err(ConfigError::Rejected(report)) => Err(SaveError::Rejected(report)),
            Err(ConfigError::Conflict { .. }) => {
                // Changed between our read and the write: show the file as it is now.
                let now = self.typed().await?;
                Err(SaveError::Refused(SaveRefusal::Conflict {
                    theirs: Box::new(BalancingSettings::of(&now.config)),
                    yours: Box::new(settings),
                    digest: now.digest.0,
                }))
            }
            Err(other) => Err(SaveError::Other(other.into())),
        }
    }
}
