//! One migration in words and badges: the guest, the move, the outcome, the duration and who
//! started it. Shared by the Migrations view and the dashboard's feed.

use leptos::prelude::*;
use plb_domain::migrations::{Initiator, MigrationOutcome, MigrationRecord};
use plb_domain::proxlb::cluster::GuestKind;
use plb_domain::units::format_duration;

/// The guest: its name and vmid as far as known (`web02 (101)`, `VM 101`, `web02`).
pub fn guest_label(record: &MigrationRecord) -> String {
    match (&record.guest, record.vmid) {
        (Some(name), Some(vmid)) => format!("{name} ({vmid})"),
        (Some(name), None) => name.clone(),
        (None, Some(vmid)) => format!("{} {vmid}", kind_label(record)),
        (None, None) => "unknown guest".to_owned(),
    }
}

/// `VM` or `CT`.
pub fn kind_label(record: &MigrationRecord) -> &'static str {
    match record.kind {
        GuestKind::Vm => "VM",
        GuestKind::Ct => "CT",
    }
}

/// The move, `pve1 → pve2` (a node not known is `?`).
pub fn move_label(record: &MigrationRecord) -> String {
    format!(
        "{} → {}",
        record.source.as_deref().unwrap_or("?"),
        record.target.as_deref().unwrap_or("?")
    )
}

/// The outcome's CSS modifier and label.
pub fn outcome_label(outcome: MigrationOutcome) -> (&'static str, &'static str) {
    match outcome {
        MigrationOutcome::Running => ("running", "Running"),
        MigrationOutcome::Succeeded => ("ok", "Succeeded"),
        MigrationOutcome::Failed => ("failed", "Failed"),
        MigrationOutcome::Unknown => ("unknown", "Unknown"),
    }
}

/// Who started it, for people.
pub fn initiator_label(record: &MigrationRecord) -> String {
    match record.initiator {
        Initiator::ProxLb => "ProxLB".to_owned(),
        Initiator::Ha => "HA manager".to_owned(),
        Initiator::Person => record
            .initiator_user
            .clone()
            .unwrap_or_else(|| "a person in Proxmox".to_owned()),
        Initiator::Unknown => "unknown".to_owned(),
    }
}

/// How long it took (`1m 5s`), or how long it runs so far at `now_ms`; `None` when not known.
pub fn duration_label(record: &MigrationRecord, now_ms: i64) -> Option<String> {
    let seconds = |ms: i64| u64::try_from(ms.max(0) / 1000).unwrap_or(0);
    match (record.duration_ms, record.outcome) {
        (Some(ms), _) => Some(format_duration(seconds(ms))),
        (None, MigrationOutcome::Running) => Some(format!(
            "{} so far",
            format_duration(seconds(now_ms - record.started_unix_ms))
        )),
        (None, _) => None,
    }
}

/// The outcome as a badge, with the reason of a failure as its title.
#[component]
pub fn OutcomeBadge(
    /// The outcome.
    outcome: MigrationOutcome,
    /// Why it failed, if it did.
    reason: Option<String>,
) -> impl IntoView {
    let (class, label) = outcome_label(outcome);
    view! {
        <span
            class=format!("plb-outcome plb-outcome--{class}")
            title=reason
            data-outcome=outcome.as_str()
        >
            {label}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> MigrationRecord {
        MigrationRecord {
            id: 1,
            guest: Some("web02".into()),
            vmid: Some(101),
            kind: GuestKind::Vm,
            source: Some("pve1".into()),
            target: Some("pve2".into()),
            started_unix_ms: 1_000_000,
            ended_unix_ms: None,
            duration_ms: None,
            outcome: MigrationOutcome::Running,
            reason: None,
            initiator: Initiator::ProxLb,
            initiator_user: Some("proxlb@pve!token".into()),
            upid: None,
            ha_upid: None,
        }
    }

    #[test]
    fn labels_say_what_is_known() {
        let mut r = record();
        assert_eq!(guest_label(&r), "web02 (101)");
        assert_eq!(move_label(&r), "pve1 → pve2");
        assert_eq!(initiator_label(&r), "ProxLB");
        assert_eq!(
            duration_label(&r, 1_065_000).as_deref(),
            Some("1m 5s so far")
        );
        r.guest = None;
        r.target = None;
        assert_eq!(guest_label(&r), "VM 101");
        assert_eq!(move_label(&r), "pve1 → ?");
        r.outcome = MigrationOutcome::Succeeded;
        r.duration_ms = Some(12_000);
        assert_eq!(duration_label(&r, 0).as_deref(), Some("12s"));
        r.duration_ms = None;
        r.outcome = MigrationOutcome::Unknown;
        assert_eq!(duration_label(&r, 0), None);
        r.initiator = Initiator::Person;
        r.initiator_user = Some("alice@pve".into());
        assert_eq!(initiator_label(&r), "alice@pve");
    }
}
