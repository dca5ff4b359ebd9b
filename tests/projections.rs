//! Pages ship what they show: at 64 nodes and 10,000 guests (the large demo scenario) each
//! page's HTML, hydration data included, carries its view's projection only, and stays within
//! its size budget (issue 12: every page ≤ 100 KB, `/guests` ≤ 150 KB).
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use plb_backend::{DemoScenario, Settings};
use plb_domain::guest_query::PAGE_SIZE;
use plb_domain::projection::MOVES_PAGE;
use plb_domain::units::plural;
use support::TestApp;

/// Budget of every page but `/guests`, bytes of uncompressed HTML.
const PAGE_BUDGET: usize = 100_000;
/// Budget of `/guests`: one page of rows plus the filters.
const GUESTS_BUDGET: usize = 150_000;

/// The large demo (64 nodes, about 10,000 guests), polling only when asked, after its first view.
async fn large_app() -> TestApp {
    let app = TestApp::start(Settings {
        demo: true,
        demo_scenario: DemoScenario::Large,
        poll_interval: Duration::from_secs(3600),
        ..Settings::default()
    })
    .await;
    let view = app
        .state
        .cluster
        .view(Duration::from_secs(120))
        .await
        .unwrap();
    assert!(view.guests.len() > 9_000, "{}", view.guests.len());
    app
}

/// A signed-in browser's `GET uri`: status and HTML.
async fn page(app: &TestApp, uri: &str) -> (StatusCode, String) {
    let (status, _, body) = app
        .send(app.browser(Method::GET, uri).body(Body::empty()).unwrap())
        .await;
    (status, body)
}

/// The words of `html`: runs of characters a guest name can have.
fn words(html: &str) -> HashSet<&str> {
    html.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .filter(|word| !word.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_at_ten_thousand_guests_ship_only_their_projection_within_budget() {
    let app = large_app().await;
    let view = app.state.cluster.view(Duration::ZERO).await.unwrap();
    let first_node = view.overview.nodes[0].name.clone();

    // The dashboard names no guest that is not in a planned move, except in a ProxLB quirk's
    // sentence (at most five names each, e.g. ignored guests the projection shifts).
    let (status, dashboard) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    let moving: HashSet<&str> = view
        .overview
        .decision
        .moves
        .iter()
        .map(|m| m.planned.guest.as_str())
        .collect();
    assert!(moving.len() < view.guests.len() / 10, "{}", moving.len());
    let notes: Vec<String> = view
        .overview
        .decision
        .notes
        .iter()
        .map(plb_domain::explain::describe_note)
        .collect();
    let noted: HashSet<&str> = notes.iter().flat_map(|n| words(n)).collect();
    assert!(noted.len() < 200, "{}", noted.len());
    let shown = words(&dashboard);
    let strays: Vec<&str> = view
        .guests
        .iter()
        .map(|g| g.name.as_str())
        .filter(|name| !moving.contains(name) && !noted.contains(name) && shown.contains(name))
        .take(5)
        .collect();
    assert!(
        strays.is_empty(),
        "the dashboard names guests that do not move: {strays:?}"
    );

    let mut sizes = Vec::new();
    for (uri, budget) in [
        ("/".to_owned(), PAGE_BUDGET),
        ("/nodes".to_owned(), PAGE_BUDGET),
        (format!("/nodes/{first_node}"), PAGE_BUDGET),
        ("/rules".to_owned(), PAGE_BUDGET),
        // The plan's first page of moves and a later one (moves_from), each move with why.
        ("/balancing".to_owned(), PAGE_BUDGET),
        ("/balancing?moves_from=25".to_owned(), PAGE_BUDGET),
        ("/config".to_owned(), PAGE_BUDGET),
        ("/service".to_owned(), PAGE_BUDGET),
        ("/logs".to_owned(), PAGE_BUDGET),
        ("/migrations".to_owned(), PAGE_BUDGET),
        ("/guests".to_owned(), GUESTS_BUDGET),
        ("/guests?q=web&sort=cpu&dir=desc".to_owned(), GUESTS_BUDGET),
    ] {
        let (status, html) = page(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        sizes.push((uri, html.len(), budget));
    }
    eprintln!("page sizes (uri, bytes, budget): {sizes:?}");
    let over: Vec<_> = sizes
        .iter()
        .filter(|(_, size, budget)| size > budget)
        .collect();
    assert!(
        over.is_empty(),
        "pages over budget (uri, bytes, budget): {over:?}; all: {sizes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guests_page_renders_the_servers_page_of_the_query() {
    let app = large_app().await;
    let view = app.state.cluster.view(Duration::ZERO).await.unwrap();
    let (status, html) = page(&app, "/guests?sort=vmid&dir=desc").await;
    assert_eq!(status, StatusCode::OK);
    let mut by_vmid: Vec<_> = view.guests.iter().collect();
    by_vmid.sort_by_key(|g| std::cmp::Reverse(g.vmid));
    let shown = words(&html);
    // The first page holds the highest ids, and not the lowest.
    assert!(
        shown.contains(by_vmid[0].name.as_str()),
        "{}",
        by_vmid[0].name
    );
    let lowest = by_vmid.last().unwrap();
    assert!(!shown.contains(lowest.name.as_str()), "{}", lowest.name);
    let summary = format!(
        "Showing 1–{PAGE_SIZE} of {}",
        plural(view.guests.len(), "guest", "guests")
    );
    assert!(html.contains(&summary), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balancing_plan_pages_its_moves_without_and_with_javascript() {
    let app = large_app().await;
    let plan = app.state.balancing.plan().await.unwrap();
    let guests: Vec<&str> = plan
        .projection
        .moves
        .iter()
        .map(|m| m.planned.planned.guest.as_str())
        .collect();
    assert!(guests.len() > 2 * MOVES_PAGE, "{}", guests.len());
    let listed = |html: &str, guest: &str| html.contains(&format!("data-guest=\"{guest}\""));

    // Without JavaScript: the first page, and a GET form for the next one.
    let (status, first) = page(&app, "/balancing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed(&first, guests[0]));
    assert!(!listed(&first, guests[MOVES_PAGE]));
    let next_field = format!("name=\"moves_from\" value=\"{MOVES_PAGE}\"");
    assert!(first.contains(&next_field), "no pager to {MOVES_PAGE}");
    // The form's target: that page, rendered by the server, numbered on.
    let (status, second) = page(&app, &format!("/balancing?moves_from={MOVES_PAGE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed(&second, guests[MOVES_PAGE]));
    assert!(!listed(&second, guests[0]));
    assert!(second.contains(&format!("start=\"{}\"", MOVES_PAGE + 1)));
    assert!(second.contains(&format!(
        "Moves {}–{} of {}",
        MOVES_PAGE + 1,
        2 * MOVES_PAGE,
        plan.projection.moves_total
    )));

    // With JavaScript the pager asks the server function for the page in place.
    let (status, _, body) = app
        .send(
            app.browser(Method::POST, "/sfn/balancing_moves")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("moves_from={MOVES_PAGE}")))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["moves_from"], MOVES_PAGE);
    assert_eq!(answer["moves"][0]["guest"], guests[MOVES_PAGE]);
    assert_eq!(answer["moves"].as_array().unwrap().len(), MOVES_PAGE);
}
