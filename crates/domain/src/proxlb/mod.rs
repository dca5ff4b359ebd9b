//! ProxLB 2.3.0 semantics as pure functions: what ProxLB would read from a cluster, which rules it
//! derives, how it measures nodes and whether it would balance right now.
//!
//! Everything here mirrors ProxLB's own code (`proxlb/models/*.py`, `proxlb/utils/*.py` of the
//! 2.3.0 package), quirks included, so the dashboard can explain ProxLB instead of guessing.
//! Citations such as `proxlb/models/calculations.py:176` name lines of ProxLB 2.3.0 as published
//! on PyPI (`proxlb-2.3.0.tar.gz`). Its Git repository, <https://github.com/credativ/ProxLB>, has
//! tags up to v2.2.0: `calculations.py`, `features.py`, `groups.py`, `pools.py` and `ha_rules.py`
//! are the same there; `nodes.py`, `guests.py`, `tags.py` and `utils/helper.py` changed in 2.3.0.
//! "Now" is always a parameter ([`maintenance::LocalTime`]); nothing reads a clock.

// Every public item of this module tree is documented; keep it that way.
#![warn(missing_docs)]

pub mod ask;
pub mod best_node;
pub mod cluster;
pub mod config;
pub mod decision;
pub mod explanation;
pub mod maintenance;
pub mod plan;
pub mod rules;
pub mod tags;
pub mod trace;
pub mod usage;
pub mod validate;
pub mod what_if;
pub mod yaml11;

pub use cluster::{
    ClusterSnapshot, Guest, GuestKind, GuestStatus, HaRule, HaRuleKind, Node, NodeStatus, Pool,
    Pressure, PsiSet,
};
pub use config::{ApiHost, ProxLbConfig};
pub use decision::{evaluate, Decision, EvaluationInput, QuirkNote, Reason};
pub use maintenance::{LocalTime, Weekday};
pub use rules::{Conflict, RulesView};
pub use usage::{NodeUsage, Spread};
