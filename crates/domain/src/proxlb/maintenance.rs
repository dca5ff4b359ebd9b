//! Maintenance and ignored nodes: from `maintenance_nodes`, from weekly schedule windows evaluated
//! at a given local time (`proxlb/utils/helper.py:155-231`), from PVE HA maintenance
//! (`proxlb/models/nodes.py:140-175`), and from `ignore_nodes` (`proxlb/models/nodes.py:178-200`).

use serde::{Deserialize, Serialize};

use super::cluster::Node;
use super::config::ProxmoxClusterConfig;

/// Day of the week, Monday first (Python's `weekday()` numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Weekday {
    /// Monday (0).
    Monday,
    /// Tuesday (1).
    Tuesday,
    /// Wednesday (2).
    Wednesday,
    /// Thursday (3).
    Thursday,
    /// Friday (4).
    Friday,
    /// Saturday (5).
    Saturday,
    /// Sunday (6).
    Sunday,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> u32 {
        match self {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        }
    }

    /// Parses a full English day name, any case (ProxLB lower-cases and looks it up).
    pub fn parse(name: &str) -> Option<Self> {
        let lower = name.to_lowercase();
        Self::ALL
            .into_iter()
            .find(|day| format!("{day:?}").to_lowercase() == lower)
    }
}

/// A local wall-clock time within the week: ProxLB compares schedules with naive local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime {
    /// Day of the week.
    pub weekday: Weekday,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
}

const MINUTES_PER_WEEK: i64 = 7 * 24 * 60;

impl LocalTime {
    /// Minutes since Monday 00:00.
    pub fn minute_of_week(self) -> i64 {
        i64::from(self.weekday.index()) * 24 * 60
            + i64::from(self.hour) * 60
            + i64::from(self.minute)
    }
}

/// A parsed weekly schedule start such as `Monday, 8:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleStart {
    /// Day of the week.
    pub weekday: Weekday,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
}

/// A schedule entry ProxLB ignores, with the warning it logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidSchedule {
    /// Node the entry belongs to.
    pub node: String,
    /// The entry as written.
    pub entry: String,
    /// ProxLB's WARNING text.
    pub message: String,
}

/// Parses Python `int()`-style text: surrounding whitespace, an optional sign, ASCII digits.
fn parse_python_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix('-'))
        .unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = digits.parse().ok()?;
    Some(if trimmed.starts_with('-') {
        -value
    } else {
        value
    })
}

/// Parses `"<Weekday>, <H>:<MM>"` like ProxLB's `parse_maintenance_schedule`.
pub fn parse_schedule(entry: &str) -> Option<ScheduleStart> {
    let (day, time) = entry.split_once(',')?;
    let weekday = Weekday::parse(day.trim())?;
    let (hour, minute) = time.trim().split_once(':')?;
    let hour = parse_python_int(hour)?;
    let minute = parse_python_int(minute)?;
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return None;
    }
    Some(ScheduleStart {
        weekday,
        hour: u8::try_from(hour).ok()?,
        minute: u8::try_from(minute).ok()?,
    })
}

/// ProxLB's warning for an unparsable schedule entry.
pub fn invalid_schedule_message(entry: &str) -> String {
    format!("Ignoring invalid maintenance schedule '{entry}'. Expected format: Monday, 8:00")
}

/// Whether `now` lies in `[start − pre_migration, start + duration)` of the previous, current or
/// next week's occurrence of `start` (ProxLB's `is_maintenance_schedule_active`).
pub fn schedule_window_active(
    start: ScheduleStart,
    duration_hours: u32,
    pre_migration_minutes: u32,
    now: LocalTime,
) -> bool {
    let start_minute = LocalTime {
        weekday: start.weekday,
        hour: start.hour,
        minute: start.minute,
    }
    .minute_of_week();
    let now_minute = now.minute_of_week();
    (-1..=1).any(|week: i64| {
        let occurrence = start_minute + week * MINUTES_PER_WEEK;
        let window_start = occurrence - i64::from(pre_migration_minutes);
        let window_end = occurrence + i64::from(duration_hours) * 60;
        window_start <= now_minute && now_minute < window_end
    })
}

/// Why a node is in maintenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum MaintenanceSource {
    /// Listed in `proxmox_cluster.maintenance_nodes`.
    Config,
    /// A `maintenance_nodes_schedule` window is active.
    Schedule {
        /// The active entry, as written.
        entry: String,
    },
    /// The PVE HA stack reports `maintenance mode` for the node.
    HaMaintenance,
}

/// Maintenance and ignore state of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMaintenance {
    /// Node name.
    pub node: String,
    /// Listed in `ignore_nodes`: ProxLB drops the node and its guests entirely.
    pub ignored: bool,
    /// Every source putting the node into maintenance (empty: not in maintenance).
    pub sources: Vec<MaintenanceSource>,
}

impl NodeMaintenance {
    /// Whether ProxLB treats the node as in maintenance.
    pub fn in_maintenance(&self) -> bool {
        !self.sources.is_empty()
    }
}

/// Maintenance state of a whole cluster at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceOverview {
    /// One entry per cluster node, in node order.
    pub nodes: Vec<NodeMaintenance>,
    /// Every unparsable schedule entry. ProxLB warns only for the entries it reaches, i.e. not
    /// for entries after one that is already active for the same node.
    pub invalid_schedules: Vec<InvalidSchedule>,
    /// Names in `maintenance_nodes`, `ignore_nodes` or `schedules` that match no node (exact match).
    pub unknown_nodes: Vec<String>,
}

impl MaintenanceOverview {
    /// Entry for a node.
    pub fn node(&self, name: &str) -> Option<&NodeMaintenance> {
        self.nodes.iter().find(|n| n.node == name)
    }

    /// Whether a node is in maintenance.
    pub fn in_maintenance(&self, name: &str) -> bool {
        self.node(name).is_some_and(NodeMaintenance::in_maintenance)
    }

    /// Whether a node is ignored.
    pub fn is_ignored(&self, name: &str) -> bool {
        self.node(name).is_some_and(|n| n.ignored)
    }
}

/// The active schedule entry of a node at `now`, if any (the first active one, as ProxLB stops there).
pub fn active_schedule_entry(
    cluster: &ProxmoxClusterConfig,
    node: &str,
    now: LocalTime,
) -> Option<String> {
    let schedule = &cluster.maintenance_nodes_schedule;
    schedule.schedules.get(node)?.iter().find_map(|entry| {
        let start = parse_schedule(entry)?;
        schedule_window_active(start, schedule.duration, schedule.pre_migration, now)
            .then(|| entry.clone())
    })
}

/// Computes maintenance and ignore state of every node (matching names exactly, as ProxLB does).
pub fn maintenance_overview(
    nodes: &[Node],
    cluster: &ProxmoxClusterConfig,
    now: LocalTime,
) -> MaintenanceOverview {
    let entries = nodes
        .iter()
        .map(|node| {
            let mut sources = Vec::new();
            if cluster.maintenance_nodes.contains(&node.name) {
                sources.push(MaintenanceSource::Config);
            }
            if let Some(entry) = active_schedule_entry(cluster, &node.name, now) {
                sources.push(MaintenanceSource::Schedule { entry });
            }
            if node.ha_maintenance {
                sources.push(MaintenanceSource::HaMaintenance);
            }
            NodeMaintenance {
                node: node.name.clone(),
                ignored: cluster.ignore_nodes.contains(&node.name),
                sources,
            }
        })
        .collect();
    let invalid_schedules = cluster
        .maintenance_nodes_schedule
        .schedules
        .iter()
        .flat_map(|(node, list)| {
            list.iter()
                .filter(|entry| parse_schedule(entry).is_none())
                .map(|entry| InvalidSchedule {
                    node: node.clone(),
                    entry: entry.clone(),
                    message: invalid_schedule_message(entry),
                })
        })
        .collect();
    let known = |name: &String| nodes.iter().any(|n| &n.name == name);
    let mut unknown_nodes: Vec<String> = Vec::new();
    let configured = cluster
        .maintenance_nodes
        .iter()
        .chain(cluster.ignore_nodes.iter())
        .chain(cluster.maintenance_nodes_schedule.schedules.keys());
    for name in configured {
        if !known(name) && !unknown_nodes.contains(name) {
            unknown_nodes.push(name.clone());
        }
    }
    MaintenanceOverview {
        nodes: entries,
        invalid_schedules,
        unknown_nodes,
    }
}

/// One `maintenance_nodes_schedule` entry of a node, as the Nodes view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleWindow {
    /// The entry as written (`"Monday, 8:00"`).
    pub entry: String,
    /// The parsed start; `None`: ProxLB ignores the entry (it logs a warning).
    pub start: Option<ScheduleStart>,
    /// Window length in hours after the start (`duration`).
    pub duration_hours: u32,
    /// Minutes before the start at which ProxLB begins draining (`pre-migration`).
    pub pre_migration_minutes: u32,
    /// The window (pre-migration included) is open at `now`.
    pub active: bool,
    /// Minutes from `now` until the window next opens (its pre-migration start); while it is
    /// open, minutes until it closes.
    pub minutes_to_change: Option<i64>,
}

/// The schedule entries of `node` with their state at `now` (ProxLB's local time).
pub fn schedule_windows(
    cluster: &ProxmoxClusterConfig,
    node: &str,
    now: LocalTime,
) -> Vec<ScheduleWindow> {
    let schedule = &cluster.maintenance_nodes_schedule;
    let now_minute = now.minute_of_week();
    schedule
        .schedules
        .get(node)
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    let start = parse_schedule(entry);
                    let (active, minutes_to_change) = match start {
                        Some(start) => {
                            let occurrence = LocalTime {
                                weekday: start.weekday,
                                hour: start.hour,
                                minute: start.minute,
                            }
                            .minute_of_week();
                            let opens = |week: i64| {
                                occurrence + week * MINUTES_PER_WEEK
                                    - i64::from(schedule.pre_migration)
                            };
                            let closes = |week: i64| {
                                occurrence
                                    + week * MINUTES_PER_WEEK
                                    + i64::from(schedule.duration) * 60
                            };
                            match (-1..=1)
                                .find(|w| opens(*w) <= now_minute && now_minute < closes(*w))
                            {
                                Some(week) => (true, Some(closes(week) - now_minute)),
                                None => {
                                    let next = (-1..=2).map(opens).find(|o| *o > now_minute);
                                    (false, next.map(|o| o - now_minute))
                                }
                            }
                        }
                        None => (false, None),
                    };
                    ScheduleWindow {
                        entry: entry.clone(),
                        start,
                        duration_hours: schedule.duration,
                        pre_migration_minutes: schedule.pre_migration,
                        active,
                        minutes_to_change,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn schedule_windows_tell_when_they_open_and_close() {
        let mut cluster = ProxmoxClusterConfig::default();
        cluster.maintenance_nodes_schedule.duration = 2;
        cluster.maintenance_nodes_schedule.pre_migration = 30;
        cluster.maintenance_nodes_schedule.schedules.insert(
            "pve1".into(),
            vec!["Monday, 8:00".into(), "Fooday, 1:00".into()],
        );
        let at = |weekday, hour, minute| LocalTime {
            weekday,
            hour,
            minute,
        };
        // Sunday 23:00: opens Monday 7:30, in 8 h 30 min.
        let windows = schedule_windows(&cluster, "pve1", at(Weekday::Sunday, 23, 0));
        assert_eq!(windows.len(), 2);
        assert!(!windows[0].active);
        assert_eq!(windows[0].minutes_to_change, Some(8 * 60 + 30));
        assert_eq!(windows[1].start, None, "ProxLB ignores it");
        // Monday 7:45 (pre-migration): open, closes at 10:00.
        let open = &schedule_windows(&cluster, "pve1", at(Weekday::Monday, 7, 45))[0];
        assert!(open.active);
        assert_eq!(open.minutes_to_change, Some(2 * 60 + 15));
        // Monday 10:00: closed again; next week.
        let after = &schedule_windows(&cluster, "pve1", at(Weekday::Monday, 10, 0))[0];
        assert!(!after.active);
        assert_eq!(after.minutes_to_change, Some(7 * 24 * 60 - 150));
        assert!(schedule_windows(&cluster, "pve2", at(Weekday::Monday, 8, 0)).is_empty());
    }

    use super::*;
    use crate::proxlb::cluster::NodeStatus;
    use proptest::prelude::*;

    fn at(weekday: Weekday, hour: u8, minute: u8) -> LocalTime {
        LocalTime {
            weekday,
            hour,
            minute,
        }
    }

    fn node(name: &str, ha: bool) -> Node {
        Node {
            name: name.into(),
            status: NodeStatus::Online,
            cpu_usage: 0.0,
            cpu_cores: 1,
            mem_used: 0,
            mem_total: 1,
            disk_used: 0,
            disk_total: 1,
            pve_version: "9.0.0".into(),
            ha_maintenance: ha,
            psi: None,
        }
    }

    #[test]
    fn parses_schedules_like_proxlb() {
        let monday_8 = ScheduleStart {
            weekday: Weekday::Monday,
            hour: 8,
            minute: 0,
        };
        assert_eq!(parse_schedule("Monday, 8:00"), Some(monday_8));
        assert_eq!(parse_schedule("  monday ,08:00 "), Some(monday_8));
        assert_eq!(parse_schedule("MONDAY, 8:0"), Some(monday_8));
        assert_eq!(parse_schedule("Monday 8:00"), None);
        assert_eq!(parse_schedule("Mon, 8:00"), None);
        assert_eq!(parse_schedule("Monday, 8"), None);
        assert_eq!(parse_schedule("Monday, 24:00"), None);
        assert_eq!(parse_schedule("Monday, 8:60"), None);
        assert_eq!(parse_schedule("Monday, 8:00:00"), None);
        assert_eq!(parse_schedule("Monday, x:00"), None);
    }

    #[test]
    fn window_spans_pre_migration_and_duration() {
        let start = parse_schedule("Monday, 8:00").unwrap();
        // duration 3 h, pre-migration 10 min: [07:50, 11:00)
        assert!(!schedule_window_active(
            start,
            3,
            10,
            at(Weekday::Monday, 7, 49)
        ));
        assert!(schedule_window_active(
            start,
            3,
            10,
            at(Weekday::Monday, 7, 50)
        ));
        assert!(schedule_window_active(
            start,
            3,
            10,
            at(Weekday::Monday, 10, 59)
        ));
        assert!(!schedule_window_active(
            start,
            3,
            10,
            at(Weekday::Monday, 11, 0)
        ));
        assert!(!schedule_window_active(
            start,
            3,
            10,
            at(Weekday::Tuesday, 8, 0)
        ));
        // Zero duration and zero pre-migration: the window is empty.
        assert!(!schedule_window_active(
            start,
            0,
            0,
            at(Weekday::Monday, 8, 0)
        ));
    }

    #[test]
    fn windows_wrap_around_the_week() {
        // Sunday 23:00 for 3 h reaches into Monday; Monday 00:05 with 30 min pre-migration starts on Sunday.
        let sunday = parse_schedule("Sunday, 23:00").unwrap();
        assert!(schedule_window_active(
            sunday,
            3,
            0,
            at(Weekday::Monday, 1, 59)
        ));
        assert!(!schedule_window_active(
            sunday,
            3,
            0,
            at(Weekday::Monday, 2, 0)
        ));
        let monday = parse_schedule("Monday, 0:05").unwrap();
        assert!(schedule_window_active(
            monday,
            1,
            30,
            at(Weekday::Sunday, 23, 40)
        ));
        assert!(!schedule_window_active(
            monday,
            1,
            30,
            at(Weekday::Sunday, 23, 34)
        ));
    }

    #[test]
    fn overview_lists_every_source_and_bad_entries() {
        let mut cluster = ProxmoxClusterConfig {
            maintenance_nodes: vec!["pve1".into(), "ghost".into()],
            ignore_nodes: vec!["pve3".into()],
            ..ProxmoxClusterConfig::default()
        };
        cluster.maintenance_nodes_schedule.duration = 2;
        cluster
            .maintenance_nodes_schedule
            .schedules
            .insert("pve1".into(), vec!["Friday, 12:00".into()]);
        cluster.maintenance_nodes_schedule.schedules.insert(
            "pve2".into(),
            vec!["Fri 12:00".into(), "Friday, 13:00".into()],
        );
        let nodes = [node("pve1", true), node("pve2", false), node("pve3", false)];
        let overview = maintenance_overview(&nodes, &cluster, at(Weekday::Friday, 13, 30));
        assert_eq!(
            overview.node("pve1").unwrap().sources,
            vec![
                MaintenanceSource::Config,
                MaintenanceSource::Schedule {
                    entry: "Friday, 12:00".into()
                },
                MaintenanceSource::HaMaintenance
            ]
        );
        assert_eq!(
            overview.node("pve2").unwrap().sources,
            vec![MaintenanceSource::Schedule {
                entry: "Friday, 13:00".into()
            }]
        );
        assert!(overview.is_ignored("pve3"));
        assert!(!overview.in_maintenance("pve3"));
        assert_eq!(overview.unknown_nodes, vec!["ghost".to_string()]);
        assert_eq!(overview.invalid_schedules.len(), 1);
        assert_eq!(
            overview.invalid_schedules[0].message,
            "Ignoring invalid maintenance schedule 'Fri 12:00'. Expected format: Monday, 8:00"
        );
        // Outside the windows only config and HA remain.
        let later = maintenance_overview(&nodes, &cluster, at(Weekday::Saturday, 0, 0));
        assert!(!later.in_maintenance("pve2"));
        assert_eq!(later.node("pve1").unwrap().sources.len(), 2);
    }

    fn weekday() -> impl Strategy<Value = Weekday> {
        (0usize..7).prop_map(|i| Weekday::ALL[i])
    }

    proptest! {
        // Each case walks a whole week minute by minute; fewer cases keep the suite quick.
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn window_length_matches_configuration(day in weekday(), hour in 0u8..24, minute in 0u8..60,
                                               duration in 0u32..100, pre in 0u32..600) {
            // Counting active minutes over one week equals the window length (capped at a week).
            let start = ScheduleStart { weekday: day, hour, minute };
            let mut active = 0i64;
            for d in Weekday::ALL {
                for h in 0..24u8 {
                    for m in 0..60u8 {
                        if schedule_window_active(start, duration, pre, at(d, h, m)) {
                            active += 1;
                        }
                    }
                }
            }
            let expected = (i64::from(duration) * 60 + i64::from(pre)).min(MINUTES_PER_WEEK);
            prop_assert_eq!(active, expected);
        }

        #[test]
        fn well_formed_entries_always_parse(day in weekday(), hour in 0u8..24, minute in 0u8..60) {
            let text = format!("{day:?}, {hour}:{minute:02}");
            prop_assert_eq!(parse_schedule(&text), Some(ScheduleStart { weekday: day, hour, minute }));
        }
    }
}
