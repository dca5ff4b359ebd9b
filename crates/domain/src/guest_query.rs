//! Search, filters, sorting and paging of the guest list, shared by the server (first page) and
//! the browser (every keystroke). The query lives in the URL, so a view can be shared.

use serde::{Deserialize, Serialize};

use crate::proxlb::{GuestKind, GuestStatus};
use crate::view::{GuestRow, TagKind};

/// Rows per page.
pub const PAGE_SIZE: usize = 100;

/// Sortable columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    /// VM/CT id.
    #[default]
    Vmid,
    /// Name.
    Name,
    /// Node.
    Node,
    /// Status.
    Status,
    /// CPU percent.
    Cpu,
    /// Memory used.
    Memory,
    /// Disk size.
    Disk,
}

impl SortKey {
    /// Every column, in table order.
    pub const ALL: [SortKey; 7] = [
        SortKey::Vmid,
        SortKey::Name,
        SortKey::Node,
        SortKey::Status,
        SortKey::Cpu,
        SortKey::Memory,
        SortKey::Disk,
    ];

    /// URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Vmid => "vmid",
            SortKey::Name => "name",
            SortKey::Node => "node",
            SortKey::Status => "status",
            SortKey::Cpu => "cpu",
            SortKey::Memory => "mem",
            SortKey::Disk => "disk",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == value)
    }
}

/// Everything the guests view can be asked for through its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestQuery {
    /// Free text: matches name, vmid or a tag (case-insensitive).
    pub search: String,
    /// Only guests on this node.
    pub node: Option<String>,
    /// Only VMs or only CTs.
    pub kind: Option<GuestKind>,
    /// Only running (`Some(true)`) or only not running (`Some(false)`).
    pub running: Option<bool>,
    /// Only guests with a tag of this ProxLB kind.
    pub tag: Option<TagKind>,
    /// Sort column.
    pub sort: SortKey,
    /// Sort descending.
    pub descending: bool,
    /// 1-based page.
    pub page: usize,
}

impl GuestQuery {
    /// Reads the query from URL parameters (`q`, `node`, `kind`, `status`, `tag`, `sort`, `dir`,
    /// `page`); unknown or malformed values are ignored, never an error.
    pub fn from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut query = GuestQuery {
            page: 1,
            ..GuestQuery::default()
        };
        for (key, value) in params {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "q" => query.search = value.to_owned(),
                "node" => query.node = Some(value.to_owned()),
                "kind" => {
                    query.kind = match value {
                        "vm" => Some(GuestKind::Vm),
                        "ct" => Some(GuestKind::Ct),
                        _ => None,
                    }
                }
                "status" => {
                    query.running = match value {
                        "running" => Some(true),
                        "stopped" => Some(false),
                        _ => None,
                    }
                }
                "tag" => query.tag = TagKind::parse(value),
                "sort" => query.sort = SortKey::parse(value).unwrap_or_default(),
                "dir" => query.descending = value == "desc",
                "page" => query.page = value.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        query
    }

    /// The URL parameters for this query, defaults left out (the inverse of [`Self::from_params`]).
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if !self.search.is_empty() {
            params.push(("q", self.search.clone()));
        }
        if let Some(node) = &self.node {
            params.push(("node", node.clone()));
        }
        if let Some(kind) = self.kind {
            params.push((
                "kind",
                if kind == GuestKind::Vm { "vm" } else { "ct" }.to_owned(),
            ));
        }
        if let Some(running) = self.running {
            params.push((
                "status",
                if running { "running" } else { "stopped" }.to_owned(),
            ));
        }
        if let Some(tag) = self.tag {
            params.push(("tag", tag.as_str().to_owned()));
        }
        if self.sort != SortKey::Vmid {
            params.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.descending {
            params.push(("dir", "desc".to_owned()));
        }
        if self.page > 1 {
            params.push(("page", self.page.to_string()));
        }
        params
    }

    /// Whether a guest passes the search and filters.
    pub fn matches(&self, guest: &GuestRow, search_lower: &str) -> bool {
        if self.node.as_deref().is_some_and(|node| node != guest.node) {
            return false;
        }
        if self.kind.is_some_and(|kind| kind != guest.kind) {
            return false;
        }
        if self
            .running
            .is_some_and(|running| running != (guest.status == GuestStatus::Running))
        {
            return false;
        }
        if self
            .tag
            .is_some_and(|kind| !guest.tags.iter().any(|t| t.kind == kind))
        {
            return false;
        }
        search_lower.is_empty()
            || guest.name.to_lowercase().contains(search_lower)
            || guest.vmid.to_string().contains(search_lower)
            || guest
                .tags
                .iter()
                .any(|t| t.tag.to_lowercase().contains(search_lower))
    }
}

/// One page of the filtered, sorted list.
#[derive(Clone, Debug, PartialEq)]
pub struct GuestPage<'a> {
    /// The rows of this page.
    pub rows: Vec<&'a GuestRow>,
    /// Guests matching the filters (all pages).
    pub matching: usize,
    /// The page shown (clamped to the last page).
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
}

/// Filters, sorts and pages `guests`.
pub fn query_guests<'a>(guests: &'a [GuestRow], query: &GuestQuery) -> GuestPage<'a> {
    let search = query.search.to_lowercase();
    let mut rows: Vec<&GuestRow> = guests
        .iter()
        .filter(|g| query.matches(g, &search))
        .collect();
    let status_rank = |g: &GuestRow| match g.status {
        GuestStatus::Running => 0,
        GuestStatus::Stopped => 1,
        GuestStatus::Other => 2,
    };
    rows.sort_by(|a, b| {
        let order = match query.sort {
            SortKey::Vmid => a.vmid.cmp(&b.vmid),
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Node => a.node.cmp(&b.node),
            SortKey::Status => status_rank(a).cmp(&status_rank(b)),
            SortKey::Cpu => a.cpu_percent.total_cmp(&b.cpu_percent),
            SortKey::Memory => a.mem_used.cmp(&b.mem_used),
            SortKey::Disk => a.disk_total.cmp(&b.disk_total),
        }
        .then(a.vmid.cmp(&b.vmid));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
    let matching = rows.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    GuestPage {
        rows,
        matching,
        page,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::view::TagBadge;

    fn guest(
        vmid: u32,
        name: &str,
        node: &str,
        kind: GuestKind,
        running: bool,
        tags: &[&str],
    ) -> GuestRow {
        GuestRow {
            vmid,
            name: name.into(),
            kind,
            status: if running {
                GuestStatus::Running
            } else {
                GuestStatus::Stopped
            },
            node: node.into(),
            cpus: 1,
            cpu_percent: f64::from(vmid % 7),
            mem_used: u64::from(vmid) * 1000,
            mem_total: 1 << 30,
            disk_used: 0,
            disk_total: 1 << 30,
            pool: None,
            ha_managed: false,
            lock: None,
            tags: tags
                .iter()
                .map(|t| TagBadge {
                    tag: (*t).into(),
                    kind: TagKind::of(t),
                })
                .collect(),
        }
    }

    fn guests() -> Vec<GuestRow> {
        vec![
            guest(
                100,
                "web01",
                "pve1",
                GuestKind::Vm,
                true,
                &["plb_affinity_web"],
            ),
            guest(101, "Web02", "pve2", GuestKind::Vm, false, &[]),
            guest(
                200,
                "dns01",
                "pve1",
                GuestKind::Ct,
                true,
                &["infra", "plb_pin_pve1"],
            ),
        ]
    }

    fn ids(page: &GuestPage<'_>) -> Vec<u32> {
        page.rows.iter().map(|g| g.vmid).collect()
    }

    #[test]
    fn search_matches_name_vmid_and_tags_case_insensitively() {
        let all = guests();
        let q = |text: &str| GuestQuery {
            search: text.into(),
            page: 1,
            ..GuestQuery::default()
        };
        assert_eq!(ids(&query_guests(&all, &q("web"))), vec![100, 101]);
        assert_eq!(ids(&query_guests(&all, &q("200"))), vec![200]);
        assert_eq!(ids(&query_guests(&all, &q("INFRA"))), vec![200]);
        assert_eq!(query_guests(&all, &q("nothing")).matching, 0);
    }

    #[test]
    fn filters_combine() {
        let all = guests();
        let query =
            GuestQuery::from_params([("node", "pve1"), ("kind", "vm"), ("status", "running")]);
        assert_eq!(ids(&query_guests(&all, &query)), vec![100]);
        let query = GuestQuery::from_params([("tag", "pin")]);
        assert_eq!(ids(&query_guests(&all, &query)), vec![200]);
        let query = GuestQuery::from_params([("status", "stopped")]);
        assert_eq!(ids(&query_guests(&all, &query)), vec![101]);
    }

    #[test]
    fn sorting_and_direction() {
        let all = guests();
        let by = |params: &[(&str, &str)]| {
            ids(&query_guests(
                &all,
                &GuestQuery::from_params(params.iter().copied()),
            ))
        };
        assert_eq!(by(&[("sort", "name")]), vec![200, 100, 101]);
        assert_eq!(by(&[("sort", "mem"), ("dir", "desc")]), vec![200, 101, 100]);
        assert_eq!(by(&[("sort", "node")]), vec![100, 200, 101]);
    }

    #[test]
    fn bad_params_are_ignored() {
        let query = GuestQuery::from_params([
            ("kind", "vmx"),
            ("page", "-3"),
            ("sort", "drop table"),
            ("x", "y"),
        ]);
        assert_eq!(
            query,
            GuestQuery {
                page: 1,
                ..GuestQuery::default()
            }
        );
    }

    #[test]
    fn pages_are_clamped() {
        let all: Vec<GuestRow> = (0..250)
            .map(|i| guest(1000 + i, "g", "pve1", GuestKind::Vm, true, &[]))
            .collect();
        let page = query_guests(&all, &GuestQuery::from_params([("page", "9")]));
        assert_eq!(
            (page.page, page.pages, page.rows.len(), page.matching),
            (3, 3, 50, 250)
        );
        assert_eq!(page.rows[0].vmid, 1200);
    }

    proptest! {
        #[test]
        fn params_round_trip(search in "[a-z0-9]{0,8}", node in proptest::option::of("pve[0-9]"), desc: bool, page in 1usize..50,
                             kind in proptest::option::of(prop_oneof![Just(GuestKind::Vm), Just(GuestKind::Ct)]),
                             running in proptest::option::of(any::<bool>()), sort in 0usize..7) {
            let query = GuestQuery { search, node, kind, running, tag: Some(TagKind::Ignore), sort: SortKey::ALL[sort], descending: desc, page };
            let params = query.to_params();
            let back = GuestQuery::from_params(params.iter().map(|(k, v)| (*k, v.as_str())));
            prop_assert_eq!(back, query);
        }
    }
}
