//! Search, filters, sorting and paging of the guest list, shared by the server (first page) and
//! the browser (every keystroke). The query lives in the URL, so a view can be shared.

use serde::{Deserialize, Serialize};

use crate::proxlb::{GuestKind, GuestStatus};
use crate::view::{GuestRow, TagKind};

/// Rows per page. 50, not 100: in the browser a keystroke's cost is mostly creating and removing
/// table rows (removing 100 rows alone took 3–4 ms in Chromium), and 50 keeps a keystroke at
/// 10,000 guests inside one frame (docs/benchmarks.md).
pub const PAGE_SIZE: usize = 50;

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
    /// Free text as typed: matches name, vmid or a tag (case-insensitive, surrounding spaces
    /// ignored).
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

/// The URL word of the `kind` filter for a guest type: `vm` or `ct` (ProxLB's own type names).
pub const fn kind_word(kind: GuestKind) -> &'static str {
    match kind {
        GuestKind::Vm => "vm",
        GuestKind::Ct => "ct",
    }
}

/// The URL word of the `status` filter: `running`, or `stopped` for every other state.
pub const fn status_word(running: bool) -> &'static str {
    if running {
        "running"
    } else {
        "stopped"
    }
}

fn parse_kind(word: &str) -> Option<GuestKind> {
    [GuestKind::Vm, GuestKind::Ct]
        .into_iter()
        .find(|kind| kind_word(*kind) == word)
}

fn parse_status(word: &str) -> Option<bool> {
    [true, false]
        .into_iter()
        .find(|running| status_word(*running) == word)
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
            query.set_param(key, value);
        }
        query
    }

    /// Sets the field behind one URL parameter from its URL value, as a form field changes it:
    /// an empty, unknown or malformed value resets that field to its default (no filter); an
    /// unknown key changes nothing.
    pub fn set_param(&mut self, key: &str, raw: &str) {
        let value = raw.trim();
        let given = (!value.is_empty()).then_some(value);
        match key {
            // Kept as typed, so a search box bound to it keeps its spaces; matching trims.
            "q" => self.search = raw.to_owned(),
            "node" => self.node = given.map(str::to_owned),
            "kind" => self.kind = given.and_then(parse_kind),
            "status" => self.running = given.and_then(parse_status),
            "tag" => self.tag = given.and_then(TagKind::parse),
            "sort" => self.sort = given.and_then(SortKey::parse).unwrap_or_default(),
            "dir" => self.descending = value == "desc",
            "page" => self.page = value.parse().unwrap_or(1).max(1),
            _ => {}
        }
    }

    /// The URL value of one parameter; empty when the field has its default.
    pub fn param(&self, key: &str) -> String {
        self.to_params()
            .into_iter()
            .find_map(|(k, value)| (k == key).then_some(value))
            .unwrap_or_default()
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
            params.push(("kind", kind_word(kind).to_owned()));
        }
        if let Some(running) = self.running {
            params.push(("status", status_word(running).to_owned()));
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

    /// Whether a guest passes the filters other than the search (node, type, status, tag kind).
    fn passes_filters(&self, guest: &GuestRow) -> bool {
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
        self.tag
            .is_none_or(|kind| guest.tags.iter().any(|t| t.kind == kind))
    }
}

/// Separates the fields of a guest's search text. Names and tags cannot contain it, and a search
/// containing it matches nothing, so a match never spans two fields.
const FIELD_SEPARATOR: char = '\u{1}';

/// What each guest is searched and name-sorted by, lowercased once per guest list.
///
/// Why: the browser filters on every keystroke, and lowercasing every name, vmid and tag of
/// 10,000 guests per keystroke cost tens of thousands of allocations each time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GuestIndex {
    /// Per guest, in list order: `name␁vmid␁tag␁tag…`, lowercased.
    search_text: Vec<String>,
    /// Per guest, in list order: the lowercased name.
    name_key: Vec<String>,
}

impl GuestIndex {
    /// Indexes `guests`; pass the same slice to [`query_indexed`].
    pub fn new(guests: &[GuestRow]) -> Self {
        let mut search_text = Vec::with_capacity(guests.len());
        let mut name_key = Vec::with_capacity(guests.len());
        for guest in guests {
            let name = guest.name.to_lowercase();
            let mut text = format!("{name}{FIELD_SEPARATOR}{}", guest.vmid);
            for tag in &guest.tags {
                text.push(FIELD_SEPARATOR);
                text.push_str(&tag.tag.to_lowercase());
            }
            search_text.push(text);
            name_key.push(name);
        }
        Self {
            search_text,
            name_key,
        }
    }

    /// Number of guests indexed.
    pub fn len(&self) -> usize {
        self.search_text.len()
    }

    /// Whether no guest is indexed.
    pub fn is_empty(&self) -> bool {
        self.search_text.is_empty()
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

/// Filters, sorts and pages `guests`, indexing them first. For repeated queries over one list
/// (every keystroke in the browser) build a [`GuestIndex`] once and use [`query_indexed`].
pub fn query_guests<'a>(guests: &'a [GuestRow], query: &GuestQuery) -> GuestPage<'a> {
    query_indexed(guests, &GuestIndex::new(guests), query)
}

/// Filters, sorts and pages `guests` with their `index` (built from the same slice; a stale or
/// foreign index is treated as matching nothing rather than panicking).
pub fn query_indexed<'a>(
    guests: &'a [GuestRow],
    index: &GuestIndex,
    query: &GuestQuery,
) -> GuestPage<'a> {
    let search = query.search.trim().to_lowercase();
    let searchable = !search.contains(FIELD_SEPARATOR);
    let mut rows: Vec<usize> = if index.len() == guests.len() && searchable {
        (0..guests.len())
            .filter(|&i| query.passes_filters(&guests[i]))
            .filter(|&i| search.is_empty() || index.search_text[i].contains(&search))
            .collect()
    } else {
        Vec::new()
    };
    let status_rank = |g: &GuestRow| match g.status {
        GuestStatus::Running => 0,
        GuestStatus::Stopped => 1,
        GuestStatus::Other => 2,
    };
    rows.sort_by(|&i, &j| {
        let (a, b) = (&guests[i], &guests[j]);
        let order = match query.sort {
            SortKey::Vmid => a.vmid.cmp(&b.vmid),
            SortKey::Name => index.name_key[i].cmp(&index.name_key[j]),
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
        .map(|i| &guests[i])
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
    fn a_form_field_sets_and_clears_its_parameter() {
        let mut query =
            GuestQuery::from_params([("kind", "ct"), ("status", "running"), ("tag", "pin")]);
        assert_eq!(
            (
                query.param("kind"),
                query.param("status"),
                query.param("tag")
            ),
            ("ct".to_owned(), "running".to_owned(), "pin".to_owned())
        );
        query.set_param("kind", "");
        query.set_param("status", "stopped");
        query.set_param("node", " pve2 ");
        assert_eq!(query.kind, None);
        assert_eq!(query.running, Some(false));
        assert_eq!(query.node.as_deref(), Some("pve2"));
        assert_eq!(query.param("kind"), "");
        assert_eq!(query.param("status"), status_word(false));
        query.set_param("tag", "nonsense");
        assert_eq!(query.tag, None);
        query.set_param("unknown", "x");
        assert_eq!(query.param("unknown"), "");
    }

    #[test]
    fn url_words_round_trip() {
        for kind in [GuestKind::Vm, GuestKind::Ct] {
            assert_eq!(parse_kind(kind_word(kind)), Some(kind));
        }
        for running in [true, false] {
            assert_eq!(parse_status(status_word(running)), Some(running));
        }
        assert_eq!(parse_kind("VM"), None);
    }

    #[test]
    fn a_search_keeps_its_spaces_but_matches_trimmed() {
        let all = guests();
        let query = GuestQuery::from_params([("q", "web ")]);
        assert_eq!(query.search, "web ");
        assert_eq!(ids(&query_guests(&all, &query)), vec![100, 101]);
    }

    #[test]
    fn pages_are_clamped() {
        let all: Vec<GuestRow> = (0..250)
            .map(|i| guest(1000 + i, "g", "pve1", GuestKind::Vm, true, &[]))
            .collect();
        let page = query_guests(&all, &GuestQuery::from_params([("page", "9")]));
        assert_eq!(
            (page.page, page.pages, page.rows.len(), page.matching),
            (5, 5, 50, 250)
        );
        assert_eq!(page.rows[0].vmid, 1200);
        let page = query_guests(&all[..230], &GuestQuery::from_params([("page", "5")]));
        assert_eq!((page.page, page.pages, page.rows.len()), (5, 5, 30));
    }

    /// The plain definition of a search match, field by field: the oracle for the index.
    fn matches_naively(query: &GuestQuery, guest: &GuestRow) -> bool {
        let search = query.search.trim().to_lowercase();
        query.passes_filters(guest)
            && (search.is_empty()
                || guest.name.to_lowercase().contains(&search)
                || guest.vmid.to_string().contains(&search)
                || guest
                    .tags
                    .iter()
                    .any(|t| t.tag.to_lowercase().contains(&search)))
    }

    #[test]
    fn a_search_never_matches_across_fields() {
        let all = guests();
        // "web01" + vmid 100 would read "web01100" if the fields were simply joined.
        let query = GuestQuery {
            search: "01100".into(),
            ..GuestQuery::default()
        };
        assert_eq!(query_guests(&all, &query).matching, 0);
        let query = GuestQuery {
            search: format!("web01{FIELD_SEPARATOR}100"),
            ..GuestQuery::default()
        };
        assert_eq!(query_guests(&all, &query).matching, 0);
    }

    #[test]
    fn a_foreign_index_matches_nothing() {
        let all = guests();
        let page = query_indexed(&all, &GuestIndex::default(), &GuestQuery::default());
        assert_eq!((page.matching, page.pages), (0, 1));
    }

    proptest! {
        #[test]
        fn the_index_finds_exactly_what_a_field_by_field_search_finds(
            names in proptest::collection::vec("[a-zA-Z0-9ΣςσİK-]{0,6}", 1..30),
            search in "[a-zA-Z0-9ΣσİK-]{0,3}",
            sort in 0usize..7,
        ) {
            let all: Vec<GuestRow> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let tag = format!("plb_pin_{name}");
                    guest(100 + i as u32, name, "pve1", GuestKind::Vm, i % 2 == 0, &[tag.as_str()])
                })
                .collect();
            let query = GuestQuery { search, sort: SortKey::ALL[sort], page: 1, ..GuestQuery::default() };
            let found = query_guests(&all, &query);
            let expected = all.iter().filter(|g| matches_naively(&query, g)).count();
            prop_assert_eq!(found.matching, expected);
            prop_assert!(found.rows.iter().all(|g| matches_naively(&query, g)));
        }

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
