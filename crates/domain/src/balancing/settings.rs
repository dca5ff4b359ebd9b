//! The balancing settings the Balancing view edits, read from ProxLB's typed configuration, and
//! the keys a save writes: only those that differ from the file, so everything else in the file
//! keeps its bytes (the config store writes them losslessly).

use serde::{Deserialize, Serialize};

use crate::proxlb::config::{
    BalanceType, Mode, ProxLbConfig, PsiConfig, PsiThreshold, Resource, TimeFormat,
};

/// The settings of the form (keys of `balancing` and `service.schedule`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancingSettings {
    /// `balancing.enable`.
    pub enable: bool,
    /// `balancing.method`.
    pub method: Resource,
    /// `balancing.mode`.
    pub mode: Mode,
    /// `balancing.balanciness`.
    pub balanciness: i64,
    /// `balancing.memory_threshold`.
    pub memory_threshold: Option<i64>,
    /// `balancing.cpu_threshold`.
    pub cpu_threshold: Option<i64>,
    /// `balancing.disk_threshold`.
    pub disk_threshold: Option<i64>,
    /// `balancing.balance_types`.
    pub balance_types: Vec<BalanceType>,
    /// `balancing.balance_larger_guests_first`.
    pub balance_larger_guests_first: bool,
    /// `balancing.parallel`.
    pub parallel: bool,
    /// `balancing.parallel_jobs`.
    pub parallel_jobs: i64,
    /// `balancing.live`.
    pub live: bool,
    /// `balancing.with_local_disks`.
    pub with_local_disks: bool,
    /// `balancing.with_conntrack_state`.
    pub with_conntrack_state: bool,
    /// `service.schedule.interval`.
    pub schedule_interval: i64,
    /// `service.schedule.format`.
    pub schedule_format: TimeFormat,
    /// `balancing.psi.nodes.<method>` (psi mode).
    pub psi_nodes: Option<PsiThreshold>,
    /// `balancing.psi.guests.<method>` (psi mode).
    pub psi_guests: Option<PsiThreshold>,
}

/// A form field (for explanations and error positions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `enable`.
    Enable,
    /// `method`.
    Method,
    /// `mode`.
    Mode,
    /// `balanciness`.
    Balanciness,
    /// The three thresholds.
    Thresholds,
    /// `balance_types`.
    BalanceTypes,
    /// `balance_larger_guests_first`.
    LargerFirst,
    /// `parallel` and `parallel_jobs`.
    Parallel,
    /// `live`.
    Live,
    /// `with_local_disks`.
    LocalDisks,
    /// `with_conntrack_state`.
    Conntrack,
    /// `service.schedule`.
    Schedule,
    /// `balancing.psi`.
    Psi,
}

impl Field {
    /// One line on what the setting does in ProxLB 2.3.0.
    pub fn explain(self) -> &'static str {
        match self {
            Field::Enable => "Off: ProxLB still calculates every run but issues no migration.",
            Field::Method => "The resource ProxLB balances: memory, CPU or disk.",
            Field::Mode => "How it is measured: used now, assigned to running guests, or pressure (PSI, Proxmox VE 9).",
            Field::Balanciness => "Allowed gap in percentage points between the fullest and the emptiest node.",
            Field::Thresholds => "A node above this percentage triggers balancing even when the gap is small.",
            Field::BalanceTypes => "Guest types that may move; with none, ProxLB never migrates anything.",
            Field::LargerFirst => "Moves the largest guests (or affinity groups) first instead of the smallest.",
            Field::Parallel => "How many migrations run at the same time (off: one after another).",
            Field::Live => "VMs migrate while running (online); off: they are migrated offline.",
            Field::LocalDisks => "Allows migrating VMs with disks on local storage.",
            Field::Conntrack => "Keeps connection-tracking state on migration (Proxmox VE 9 only; ProxLB turns it off on older nodes).",
            Field::Schedule => "Time between runs, counted from the end of a run.",
            Field::Psi => "Pressure thresholds: a node or guest above any of them counts as hot.",
        }
    }
}

/// A value a save writes at one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum KeyValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list of strings (replaces the whole list).
    StrList(Vec<String>),
    /// The key is removed (ProxLB's default applies).
    Remove,
}

/// One key a save writes: `path` is sections then key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyChange {
    /// e.g. `["balancing", "balanciness"]`.
    pub path: Vec<String>,
    /// The new value.
    pub value: KeyValue,
}

/// A field with a value ProxLB would refuse or misread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// What is wrong, for people.
    pub message: String,
}

fn type_name(t: BalanceType) -> &'static str {
    match t {
        BalanceType::Vm => "vm",
        BalanceType::Ct => "ct",
    }
}

fn mode_str(mode: Mode) -> &'static str {
    crate::explain::mode_name(mode)
}

fn format_str(format: TimeFormat) -> &'static str {
    match format {
        TimeFormat::Hours => "hours",
        TimeFormat::Minutes => "minutes",
    }
}

fn key(path: &[&str], value: KeyValue) -> KeyChange {
    KeyChange {
        path: path.iter().map(|s| (*s).to_owned()).collect(),
        value,
    }
}

impl BalancingSettings {
    /// The settings as ProxLB reads them from `config` (its defaults where a key is absent).
    pub fn of(config: &ProxLbConfig) -> Self {
        let b = &config.balancing;
        let psi = |side: fn(&PsiConfig) -> &std::collections::BTreeMap<Resource, PsiThreshold>| {
            b.psi.as_ref().and_then(|p| side(p).get(&b.method).copied())
        };
        Self {
            enable: b.enable,
            method: b.method,
            mode: b.mode,
            balanciness: b.balanciness,
            memory_threshold: b.memory_threshold,
            cpu_threshold: b.cpu_threshold,
            disk_threshold: b.disk_threshold,
            balance_types: b.balance_types.clone(),
            balance_larger_guests_first: b.balance_larger_guests_first,
            parallel: b.parallel,
            parallel_jobs: b.parallel_jobs,
            live: b.live,
            with_local_disks: b.with_local_disks,
            with_conntrack_state: b.with_conntrack_state,
            schedule_interval: config.service.schedule.interval,
            schedule_format: config.service.schedule.format,
            psi_nodes: psi(|p| &p.nodes),
            psi_guests: psi(|p| &p.guests),
        }
    }

    /// `config` with these settings applied (the candidate of a what-if).
    pub fn apply_to(&self, config: &ProxLbConfig) -> ProxLbConfig {
        let mut out = config.clone();
        let b = &mut out.balancing;
        b.enable = self.enable;
        b.method = self.method;
        b.mode = self.mode;
        b.balanciness = self.balanciness;
        b.memory_threshold = self.memory_threshold;
        b.cpu_threshold = self.cpu_threshold;
        b.disk_threshold = self.disk_threshold;
        b.balance_types = self.balance_types.clone();
        b.balance_larger_guests_first = self.balance_larger_guests_first;
        b.parallel = self.parallel;
        b.parallel_jobs = self.parallel_jobs;
        b.live = self.live;
        b.with_local_disks = self.with_local_disks;
        b.with_conntrack_state = self.with_conntrack_state;
        if let (Some(nodes), Some(guests)) = (self.psi_nodes, self.psi_guests) {
            let psi = b.psi.get_or_insert_with(|| PsiConfig {
                guests: Default::default(),
                nodes: Default::default(),
            });
            psi.nodes.insert(self.method, nodes);
            psi.guests.insert(self.method, guests);
        }
        out.service.schedule.interval = self.schedule_interval;
        out.service.schedule.format = self.schedule_format;
        out
    }

    /// Values ProxLB would reject or that cannot be meant (empty on success).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut bad = |field, message: &str| {
            errors.push(FieldError {
                field,
                message: message.to_owned(),
            })
        };
        if !(0..=100).contains(&self.balanciness) {
            bad(
                Field::Balanciness,
                "balanciness is a percentage gap: 0 to 100",
            );
        }
        for t in [
            self.memory_threshold,
            self.cpu_threshold,
            self.disk_threshold,
        ]
        .into_iter()
        .flatten()
        {
            if !(1..=100).contains(&t) {
                bad(Field::Thresholds, "a threshold is a percentage: 1 to 100");
                break;
            }
        }
        if self.parallel_jobs < 1 {
            bad(Field::Parallel, "parallel jobs must be at least 1");
        }
        if self.schedule_interval < 1 {
            bad(Field::Schedule, "the interval must be at least 1");
        }
        if self.mode == Mode::Psi && (self.psi_nodes.is_none() || self.psi_guests.is_none()) {
            bad(
                Field::Psi,
                "PSI mode needs node and guest pressure thresholds; without them nothing is ever hot",
            );
        }
        for p in [self.psi_nodes, self.psi_guests].into_iter().flatten() {
            let values = [p.pressure_full, p.pressure_some, p.pressure_spikes];
            if values
                .iter()
                .any(|v| !v.is_finite() || *v < 0.0 || *v > 100.0)
            {
                bad(Field::Psi, "pressure thresholds are percentages: 0 to 100");
                break;
            }
        }
        errors
    }

    /// The keys to write so that a file read as `current` reads as `self`; keys whose value does
    /// not change are not written (their bytes stay).
    pub fn changes_from(&self, current: &Self) -> Vec<KeyChange> {
        let mut out = Vec::new();
        let mut bool_key = |path: &[&str], new: bool, old: bool| {
            if new != old {
                out.push(key(path, KeyValue::Bool(new)));
            }
        };
        bool_key(&["balancing", "enable"], self.enable, current.enable);
        bool_key(
            &["balancing", "balance_larger_guests_first"],
            self.balance_larger_guests_first,
            current.balance_larger_guests_first,
        );
        bool_key(&["balancing", "parallel"], self.parallel, current.parallel);
        bool_key(&["balancing", "live"], self.live, current.live);
        bool_key(
            &["balancing", "with_local_disks"],
            self.with_local_disks,
            current.with_local_disks,
        );
        bool_key(
            &["balancing", "with_conntrack_state"],
            self.with_conntrack_state,
            current.with_conntrack_state,
        );
        if self.method != current.method {
            out.push(key(
                &["balancing", "method"],
                KeyValue::Str(self.method.as_str().to_owned()),
            ));
        }
        if self.mode != current.mode {
            out.push(key(
                &["balancing", "mode"],
                KeyValue::Str(mode_str(self.mode).to_owned()),
            ));
        }
        let mut int_key = |path: &[&str], new: i64, old: i64| {
            if new != old {
                out.push(key(path, KeyValue::Int(new)));
            }
        };
        int_key(
            &["balancing", "balanciness"],
            self.balanciness,
            current.balanciness,
        );
        int_key(
            &["balancing", "parallel_jobs"],
            self.parallel_jobs,
            current.parallel_jobs,
        );
        int_key(
            &["service", "schedule", "interval"],
            self.schedule_interval,
            current.schedule_interval,
        );
        for (name, new, old) in [
            (
                "memory_threshold",
                self.memory_threshold,
                current.memory_threshold,
            ),
            ("cpu_threshold", self.cpu_threshold, current.cpu_threshold),
            (
                "disk_threshold",
                self.disk_threshold,
                current.disk_threshold,
            ),
        ] {
            if new != old {
                out.push(key(
                    &["balancing", name],
                    new.map_or(KeyValue::Remove, KeyValue::Int),
                ));
            }
        }
        if self.schedule_format != current.schedule_format {
            out.push(key(
                &["service", "schedule", "format"],
                KeyValue::Str(format_str(self.schedule_format).to_owned()),
            ));
        }
        if self.balance_types != current.balance_types {
            out.push(key(
                &["balancing", "balance_types"],
                KeyValue::StrList(
                    self.balance_types
                        .iter()
                        .map(|t| type_name(*t).to_owned())
                        .collect(),
                ),
            ));
        }
        // PSI thresholds of the balanced resource; only written when set (removing them is a
        // job for the editor: they may hold other resources' values too).
        for (side, new, old) in [
            ("nodes", self.psi_nodes, current.psi_nodes),
            ("guests", self.psi_guests, current.psi_guests),
        ] {
            let (Some(new), true) = (new, new != old || self.method != current.method) else {
                continue;
            };
            let method = self.method.as_str();
            for (name, value) in [
                ("pressure_full", new.pressure_full),
                ("pressure_some", new.pressure_some),
                ("pressure_spikes", new.pressure_spikes),
            ] {
                out.push(key(
                    &["balancing", "psi", side, method, name],
                    KeyValue::Float(value),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ProxLbConfig {
        ProxLbConfig::with_api(vec!["pve1".into()], "root@pam")
    }

    #[test]
    fn unchanged_settings_write_nothing() {
        let current = BalancingSettings::of(&config());
        assert!(current.changes_from(&current).is_empty());
    }

    #[test]
    fn each_change_writes_only_its_key() {
        let current = BalancingSettings::of(&config());
        let mut new = current.clone();
        new.balanciness = 7;
        new.cpu_threshold = Some(80);
        new.balance_types = vec![BalanceType::Vm];
        let changes = new.changes_from(&current);
        assert_eq!(
            changes,
            vec![
                key(&["balancing", "balanciness"], KeyValue::Int(7)),
                key(&["balancing", "cpu_threshold"], KeyValue::Int(80)),
                key(
                    &["balancing", "balance_types"],
                    KeyValue::StrList(vec!["vm".into()])
                ),
            ]
        );
    }

    #[test]
    fn a_cleared_threshold_removes_the_key() {
        let mut base = config();
        base.balancing.memory_threshold = Some(90);
        let current = BalancingSettings::of(&base);
        let mut new = current.clone();
        new.memory_threshold = None;
        assert_eq!(
            new.changes_from(&current),
            vec![key(&["balancing", "memory_threshold"], KeyValue::Remove)]
        );
    }

    #[test]
    fn applying_then_reading_gives_the_same_settings() {
        let mut s = BalancingSettings::of(&config());
        s.enable = true;
        s.method = Resource::Cpu;
        s.mode = Mode::Assigned;
        s.schedule_interval = 5;
        s.schedule_format = TimeFormat::Minutes;
        assert_eq!(BalancingSettings::of(&s.apply_to(&config())), s);
    }

    #[test]
    fn out_of_range_values_are_refused_by_field() {
        let mut s = BalancingSettings::of(&config());
        s.balanciness = 140;
        s.parallel_jobs = 0;
        s.mode = Mode::Psi;
        let fields: Vec<Field> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![Field::Balanciness, Field::Parallel, Field::Psi]
        );
    }
}
