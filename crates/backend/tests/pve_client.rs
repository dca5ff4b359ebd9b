//! The Proxmox VE client against the in-process simulator over HTTPS: auth modes, TLS trust
//! modes (pins also with verification off), failover, typed errors, ticket expiry and renewal,
//! the back-off after refused credentials, and the body size limit.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use plb_backend::adapters::pve::{PveClient, PveConnectionConfig, PveHost, Secret, TlsTrust};
use plb_backend::ports::{Clock, PveApi};
use plb_backend::pve_wire::dto::{GuestKind, ResourceFilter, RrdCf, RrdTimeframe};
use plb_backend::pve_wire::{FailureKind, PveError};
use plb_backend::testing::ManualClock;
use plb_pve_sim::{Fault, FaultRule};

#[tokio::test]
async fn token_auth_with_the_ca_file_reads_the_whole_cluster() {
    let sim = start_sim().await;
    let client = client(&sim, root_token(), ca_file(&sim));
    assert!(!client.tls_verification_disabled());

    let version = client.version().await.unwrap();
    assert_eq!(version.version, "9.1.2");
    assert!(version.is_pve9_or_newer());

    let resources = client.cluster_resources(None).await.unwrap();
    let guests: Vec<_> = resources.iter().filter(|r| r.is_guest()).collect();
    assert_eq!(guests.len(), 13);
    let web01 = guests.iter().find(|g| g.vmid == Some(100)).unwrap();
    assert_eq!(web01.tag_list(), vec!["plb_affinity_web", "prod"]);
    assert_eq!(web01.pool.as_deref(), Some("prod"));
    assert_eq!(web01.node.as_deref(), Some("pve1"));
    let template = guests.iter().find(|g| g.vmid == Some(9000)).unwrap();
    assert!(template.template);
    assert_eq!(resources.iter().filter(|r| r.is_node()).count(), 3);
    let only_nodes = client
        .cluster_resources(Some(ResourceFilter::Node))
        .await
        .unwrap();
    assert!(only_nodes.iter().all(|r| r.is_node()));

    let status = client.cluster_status().await.unwrap();
    assert_eq!(plb_backend::pve_wire::dto::quorum(&status), Some(true));
    let nodes = client.nodes().await.unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        nodes[0].ssl_fingerprint.as_deref(),
        sim.fingerprint(),
        "the answering node advertises the served certificate"
    );
    let node = client.node_status("pve1").await.unwrap();
    assert_eq!(node.loadavg.len(), 3);
    assert!(node.cpuinfo.unwrap().mhz.unwrap() > 1000.0);
    assert!(node.memory.unwrap().available.is_some());
    let rrd = client
        .node_rrddata("pve1", RrdTimeframe::Hour, RrdCf::Average)
        .await
        .unwrap();
    assert!(!rrd.is_empty());
    assert!(rrd.iter().any(|p| p.pressurecpusome.is_some()));
    assert_eq!(client.node_version("pve2").await.unwrap().release, "9.1");

    let vms = client.node_guests("pve1", GuestKind::Qemu).await.unwrap();
    assert_eq!(vms.len(), 6);
    let cts = client.node_guests("pve1", GuestKind::Lxc).await.unwrap();
    assert_eq!(cts.len(), 1);
    assert!(cts[0].pressureiosome.is_some(), "LXC PSI strings decode");
    let config = client
        .guest_config("pve1", GuestKind::Qemu, 100)
        .await
        .unwrap();
    assert_eq!(config.tag_list(), vec!["plb_affinity_web", "prod"]);

    let pools = client.pools().await.unwrap();
    assert_eq!(pools.len(), 1);
    let prod = client.pool("prod").await.unwrap();
    assert_eq!(prod.poolid, "prod");
    let mut members: Vec<u32> = prod.members.iter().filter_map(|m| m.vmid).collect();
    members.sort_unstable();
    assert_eq!(members, vec![100, 110]);

    let rules = client.ha_rules().await.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].rule, "db-on-big-nodes");
    assert_eq!(rules[0].resource_list(), vec!["vm:102"]);
    let ha = client.ha_status_current().await.unwrap();
    assert!(ha.iter().any(|e| e.kind == "service"));
    let manager = client.ha_manager_status().await.unwrap();
    assert!(manager.manager_status.unwrap().master_node.is_some());
    let ha_resources = client.ha_resources().await.unwrap();
    assert_eq!(ha_resources.len(), 1);
    assert_eq!(ha_resources[0].sid, "vm:102");

    let options = client.cluster_options().await.unwrap();
    let crs = options.crs.unwrap();
    assert_eq!(crs.ha.as_deref(), Some("static"));
    assert_eq!(crs.ha_rebalance_on_start, Some(true));
    assert!(client.cluster_tasks().await.unwrap().is_empty());
    assert!(client.missing_privileges().await.unwrap().is_empty());

    // Token auth never logs in.
    assert_eq!(count(&sim, "POST /access/ticket"), 0);
}

#[tokio::test]
async fn password_auth_with_a_pinned_fingerprint_logs_in_once() {
    let sim = start_sim().await;
    let client = client(&sim, password("root@pam", ROOT_PASSWORD), pinned(&sim));
    for _ in 0..3 {
        assert_eq!(client.version().await.unwrap().release, "9.1");
    }
    let resources = client.cluster_resources(None).await.unwrap();
    assert!(resources.iter().any(|r| r.vmid == Some(102)));
    assert_eq!(count(&sim, "POST /access/ticket"), 1);
    assert!(!client.uses_token());
}

#[tokio::test]
async fn verification_off_accepts_the_self_signed_certificate_and_says_so() {
    let sim = start_sim().await;
    let client = client(&sim, root_token(), TlsTrust::Insecure);
    assert!(client.tls_verification_disabled());
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    let client = common::client(
        &sim,
        password("root@pam", ROOT_PASSWORD),
        TlsTrust::Insecure,
    );
    assert_eq!(client.nodes().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_untrusted_or_mismatching_certificate_is_a_tls_error() {
    let sim = start_sim().await;
    // The system store does not know the simulator's self-signed certificate.
    let config = PveConnectionConfig::new(vec![host(&sim)], root_token());
    match PveClient::new(&config) {
        Ok(client) => {
            let err = client.version().await.unwrap_err();
            assert_eq!(err.kind(), FailureKind::Tls, "{err}");
            assert_eq!(err.host(), Some(host(&sim).to_string().as_str()));
        }
        // A machine without any system trust store cannot even build the verifier.
        Err(err) => assert_eq!(err.kind(), FailureKind::Config, "{err}"),
    }

    let wrong = TlsTrust::Pinned(vec![
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
            .parse()
            .unwrap(),
    ]);
    let client = client(&sim, root_token(), wrong);
    let err = client.version().await.unwrap_err();
    match &err {
        PveError::Tls { host: h, reason } => {
            assert_eq!(h, &host(&sim).to_string());
            // The reason shows the fingerprint seen, so the user can decide to pin it.
            assert!(reason.contains(sim.fingerprint().unwrap()), "{reason}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert_eq!(count(&sim, "GET /version"), 0, "no request got through");
}

#[tokio::test]
async fn failover_skips_a_closed_port_and_remembers_the_working_host() {
    let sim = start_sim().await;
    let dead = PveHost::new("127.0.0.1", closed_port());
    let config = PveConnectionConfig::new(vec![dead.clone(), host(&sim)], root_token())
        .with_tls(pinned(&sim))
        .with_timeout(Duration::from_secs(5));
    let client = PveClient::new(&config).unwrap();
    assert_eq!(client.active_host(), &dead);
    assert_eq!(client.version().await.unwrap().version, "9.1.2");
    assert_eq!(client.active_host(), &host(&sim));
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    assert_eq!(client.active_host(), &host(&sim));

    // Ticket login fails over too.
    let config = PveConnectionConfig::new(
        vec![dead.clone(), host(&sim)],
        password("root@pam", ROOT_PASSWORD),
    )
    .with_tls(pinned(&sim));
    let client = PveClient::new(&config).unwrap();
    assert_eq!(client.nodes().await.unwrap().len(), 3);

    // Nothing reachable: the error names a host.
    let other_dead = PveHost::new("127.0.0.1", closed_port());
    let config = PveConnectionConfig::new(vec![dead, other_dead.clone()], root_token())
        .with_tls(TlsTrust::Insecure);
    let client = PveClient::new(&config).unwrap();
    let err = client.version().await.unwrap_err();
    assert_eq!(
        err,
        PveError::Unreachable {
            host: other_dead.to_string()
        }
    );
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_without_echoing_them() {
    let sim = start_sim().await;
    let bad_token = plb_backend::adapters::pve::PveCredentials::Token {
        user: "root@pam".into(),
        token_id: ROOT_TOKEN_ID.into(),
        secret: Secret::new("wrong-secret-0000"),
    };
    let client = client(&sim, bad_token, pinned(&sim));
    let err = client.version().await.unwrap_err();
    assert_eq!(err, PveError::Unauthorized);
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));

    let client = common::client(&sim, password("root@pam", "wrong-password-1"), pinned(&sim));
    let err = client.cluster_resources(None).await.unwrap_err();
    assert_eq!(err, PveError::Unauthorized);
    assert!(!format!("{err} {err:?} {client:?}").contains("wrong-password"));
    assert!(count(&sim, "POST /access/ticket") >= 1);
    assert_eq!(count(&sim, "GET /cluster/resources"), 0);
}

#[tokio::test]
async fn an_expired_ticket_is_replaced_silently() {
    let sim = start_sim().await;
    let client = client(&sim, password("root@pam", ROOT_PASSWORD), pinned(&sim));
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    assert_eq!(count(&sim, "POST /access/ticket"), 1);
    // Tickets live 2 h of simulated time; our own renewal age (1 h real time) is not reached.
    sim.advance(Duration::from_secs(3 * 3600));
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
    // The rejected request was retried once: two GET /nodes for the two calls plus the retry.
    assert_eq!(count(&sim, "GET /nodes"), 3);
}

#[tokio::test]
async fn an_old_ticket_is_renewed_with_the_ticket_as_password() {
    let sim = start_sim().await;
    let config = PveConnectionConfig::new(vec![host(&sim)], password("root@pam", ROOT_PASSWORD))
        .with_tls(pinned(&sim))
        .with_ticket_renew_after(Duration::from_millis(200));
    let client = PveClient::new(&config).unwrap();
    assert_eq!(client.version().await.unwrap().release, "9.1");
    // From now on the password no longer works: only a renewal with the ticket can succeed.
    sim.with_cluster(|c| {
        c.users.get_mut("root@pam").unwrap().password = Some("changed-elsewhere".into());
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client.version().await.unwrap().release, "9.1");
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
    // Within the renewal age: no further login.
    assert_eq!(client.version().await.unwrap().release, "9.1");
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
}

#[tokio::test]
async fn missing_privileges_are_reported_and_lists_silently_filtered() {
    let sim = start_sim().await;
    let auditor = client(&sim, password("auditor@pve", "auditor-demo"), pinned(&sim));
    assert_eq!(
        auditor.missing_privileges().await.unwrap(),
        vec!["VM.Migrate"]
    );
    let balancer = common::client(
        &sim,
        plb_backend::adapters::pve::PveCredentials::Token {
            user: "proxlb@pve".into(),
            token_id: "proxlb@pve!balancer".into(),
            secret: Secret::new("0d7b2f64-3c1e-4a9b-8f25-6e4d9c0a1b37"),
        },
        ca_file(&sim),
    );
    assert!(balancer.missing_privileges().await.unwrap().is_empty());

    let nobody = common::client(&sim, password("nobody@pve", "nobody-pw"), pinned(&sim));
    let mut missing = nobody.missing_privileges().await.unwrap();
    missing.sort();
    assert_eq!(
        missing,
        vec!["Datastore.Audit", "Sys.Audit", "VM.Audit", "VM.Migrate"]
    );
    // PVE filters instead of failing: no guest is visible, no error either.
    let resources = nobody.cluster_resources(None).await.unwrap();
    assert!(resources.iter().all(|r| !r.is_guest()));
    let err = nobody.cluster_status().await.unwrap_err();
    assert_eq!(
        err,
        PveError::Forbidden {
            path: "/cluster/status".into(),
            privilege: Some("Sys.Audit".into())
        }
    );
}

#[tokio::test]
async fn injected_faults_and_offline_nodes_map_to_typed_errors() {
    let sim = start_sim().await;
    let client = client(&sim, root_token(), pinned(&sim));
    sim.inject_fault(Fault::error("GET /cluster/resources", 500, "boom").times(1));
    let err = client.cluster_resources(None).await.unwrap_err();
    assert_eq!(
        err,
        PveError::Server {
            status: 500,
            path: "/cluster/resources".into(),
            message: "boom".into()
        }
    );
    assert!(client.cluster_resources(None).await.is_ok());

    assert!(sim.set_node_online("pve3", false));
    let err = client.node_status("pve3").await.unwrap_err();
    assert!(err.is_node_unreachable(), "{err:?}");
    let nodes = client.nodes().await.unwrap();
    let pve3 = nodes.iter().find(|n| n.node == "pve3").unwrap();
    assert_eq!(pve3.status.as_deref(), Some("offline"));

    let err = client.node_status("nope").await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::Server);
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_a_timeout_and_a_reset_is_unreachable() {
    let sim = start_sim().await;
    let config = PveConnectionConfig::new(vec![host(&sim)], root_token())
        .with_tls(pinned(&sim))
        .with_timeout(Duration::from_millis(300));
    let client = PveClient::new(&config).unwrap();
    sim.inject_fault(FaultRule::latency("GET /version", Duration::from_secs(2)).times(1));
    let err = client.version().await.unwrap_err();
    assert_eq!(
        err,
        PveError::Timeout {
            host: host(&sim).to_string()
        }
    );
    assert!(client.version().await.is_ok());

    // A dropped connection on the only host: unreachable, then fine again.
    sim.inject_fault(FaultRule::connection_reset("GET /nodes").times(1));
    let err = client.nodes().await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::Unreachable, "{err:?}");
    assert_eq!(client.nodes().await.unwrap().len(), 3);
}

#[tokio::test]
async fn tickets_expired_by_the_cluster_are_replaced_silently() {
    let sim = start_sim().await;
    let client = client(&sim, password("root@pam", ROOT_PASSWORD), pinned(&sim));
    assert!(client.cluster_status().await.is_ok());
    sim.expire_tickets();
    assert!(client.cluster_status().await.is_ok());
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
    // API tokens are unaffected and never log in.
    let token_client = common::client(&sim, root_token(), pinned(&sim));
    sim.expire_tickets();
    assert!(token_client.cluster_status().await.is_ok());
    assert_eq!(count(&sim, "POST /access/ticket"), 2);
}

/// A client whose back-off runs on `clock`.
fn client_with_clock(
    sim: &plb_pve_sim::Simulator,
    credentials: plb_backend::adapters::pve::PveCredentials,
    clock: &Arc<ManualClock>,
) -> PveClient {
    client(sim, credentials, pinned(sim)).with_clock(Arc::clone(clock) as Arc<dyn Clock>)
}

/// Eight different calls at once, as one poll cycle makes them.
async fn eight_calls(client: &PveClient) -> Vec<Result<(), PveError>> {
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        client.cluster_resources(None),
        client.cluster_status(),
        client.cluster_options(),
        client.cluster_tasks(),
        client.ha_status_current(),
        client.pools(),
        client.permissions(),
        client.nodes(),
    );
    vec![
        a.map(drop),
        b.map(drop),
        c.map(drop),
        d.map(drop),
        e.map(drop),
        f.map(drop),
        g.map(drop),
        h.map(drop),
    ]
}

#[tokio::test]
async fn a_refused_login_waits_for_its_backoff_and_a_success_resets_it() {
    let sim = start_sim().await;
    let clock = ManualClock::new();
    let client = client_with_clock(&sim, password("root@pam", ROOT_PASSWORD), &clock);
    let logins = || count(&sim, "POST /access/ticket");
    let refuse_once = || {
        sim.inject_fault(
            Fault::error("POST /access/ticket", 401, "authentication failure").times(1),
        )
    };

    refuse_once();
    assert_eq!(client.nodes().await.unwrap_err(), PveError::Unauthorized);
    assert_eq!(logins(), 1);
    // Eight calls at once inside the back-off: the cached refusal, no login.
    let results = eight_calls(&client).await;
    assert!(
        results.iter().all(|r| r == &Err(PveError::Unauthorized)),
        "{results:?}"
    );
    clock.advance(Duration::from_secs(9));
    assert_eq!(client.nodes().await.unwrap_err(), PveError::Unauthorized);
    assert_eq!(logins(), 1);
    // After 10 s one login goes out, and it succeeds this time.
    clock.advance(Duration::from_secs(1));
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    assert_eq!(logins(), 2);

    // The success reset the back-off: the next refusal waits 10 s again, not 20 s.
    sim.expire_tickets();
    refuse_once();
    assert_eq!(client.nodes().await.unwrap_err(), PveError::Unauthorized);
    assert_eq!(logins(), 3);
    clock.advance(Duration::from_secs(9));
    assert!(client.nodes().await.is_err());
    assert_eq!(logins(), 3);
    clock.advance(Duration::from_secs(1));
    assert_eq!(client.nodes().await.unwrap().len(), 3);
    assert_eq!(logins(), 4);
}

#[tokio::test]
async fn a_wrong_token_is_tried_once_per_backoff_step() {
    let sim = start_sim().await;
    let clock = ManualClock::new();
    let wrong = plb_backend::adapters::pve::PveCredentials::Token {
        user: "root@pam".into(),
        token_id: ROOT_TOKEN_ID.into(),
        secret: Secret::new("wrong-secret-0000"),
    };
    let client = client_with_clock(&sim, wrong, &clock);
    let requests = || sim.request_counts().values().sum::<u64>();

    // Eight calls at once: one of them tries the token, the others take its answer.
    let results = eight_calls(&client).await;
    assert!(
        results.iter().all(|r| r == &Err(PveError::Unauthorized)),
        "{results:?}"
    );
    assert_eq!(requests(), 1, "{:?}", sim.request_counts());
    for step in [10, 20, 40] {
        clock.advance(Duration::from_secs(step - 1));
        eight_calls(&client).await;
        assert_eq!(requests(), 1 + u64::from(step > 10) + u64::from(step > 20));
        clock.advance(Duration::from_secs(1));
        eight_calls(&client).await;
        eight_calls(&client).await;
        assert_eq!(
            requests(),
            2 + u64::from(step > 10) + u64::from(step > 20),
            "one try at the {step} s step"
        );
    }

    // A working token is tried once, then used by all calls at once.
    let good = client_with_clock(&sim, root_token(), &clock);
    sim.reset_request_counts();
    assert!(eight_calls(&good).await.iter().all(Result::is_ok));
    assert!(eight_calls(&good).await.iter().all(Result::is_ok));
    assert_eq!(requests(), 16);
}

/// A listener that takes connections into its backlog but never answers.
fn blackhole() -> (std::net::TcpListener, PveHost) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, PveHost::new("127.0.0.1", port))
}

/// Calls that waited for a login that timed out take its timeout as their answer instead of
/// each trying again: eight calls against a host that never answers end within one timeout.
/// Virtual time (paused clock): the bound is logical.
#[tokio::test(start_paused = true)]
async fn calls_waiting_for_a_login_that_timed_out_share_its_failure() {
    plb_backend::tls::install_crypto_provider();
    let timeout = Duration::from_secs(5);
    let (_listener, host) = blackhole();
    for credentials in [password("root@pam", ROOT_PASSWORD), root_token()] {
        let config = PveConnectionConfig::new(vec![host.clone()], credentials)
            .with_tls(TlsTrust::Insecure)
            .with_timeout(timeout);
        let client = PveClient::new(&config).unwrap();
        let started = tokio::time::Instant::now();
        let results = eight_calls(&client).await;
        let elapsed = started.elapsed();
        let expected = Err(PveError::Timeout {
            host: host.to_string(),
        });
        assert!(results.iter().all(|r| r == &expected), "{results:?}");
        assert!(elapsed < 2 * timeout, "{elapsed:?} for eight calls");
    }
}

#[tokio::test]
async fn pins_are_enforced_even_with_verification_off() {
    use plb_backend::adapters::config_file::{self, PveOverrides};

    let sim = start_sim().await;
    let yaml = format!(
        "proxmox_api:\n  hosts: ['127.0.0.1:{}']\n  user: root@pam\n  token_id: {ROOT_TOKEN_ID}\n  token_secret: {ROOT_TOKEN_SECRET}\n  ssl_verification: false\n",
        sim.addr().port()
    );
    let path = std::path::Path::new("/etc/proxlb/proxlb.yaml");
    let config = config_file::parse(path, &yaml).unwrap();
    let with_pins = |fingerprint: &str| {
        let overrides = PveOverrides {
            fingerprints: vec![fingerprint.parse().unwrap()],
            ..PveOverrides::default()
        };
        let connection = config_file::connection(path, &config, &overrides).unwrap();
        PveClient::new(&connection).unwrap()
    };

    // The right pin: verified (no "verification off" warning in the UI).
    let right = with_pins(sim.fingerprint().unwrap());
    assert!(!right.tls_verification_disabled());
    assert_eq!(right.nodes().await.unwrap().len(), 3);
    // A wrong pin is enforced, not dropped because ssl_verification is false.
    let wrong = with_pins(&"AB".repeat(32));
    let err = wrong.nodes().await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::Tls, "{err:?}");
    assert!(err.to_string().contains("pinned fingerprint"), "{err}");
    // Without pins, verification off still accepts the self-signed certificate.
    let connection = config_file::connection(path, &config, &PveOverrides::default()).unwrap();
    let off = PveClient::new(&connection).unwrap();
    assert!(off.tls_verification_disabled());
    assert_eq!(off.nodes().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_answer_over_the_body_limit_is_an_error_naming_the_limit() {
    let sim = start_sim().await;
    assert_eq!(
        PveConnectionConfig::new(vec![host(&sim)], root_token()).max_body_bytes,
        64 * 1024 * 1024,
        "documented default"
    );
    let config = PveConnectionConfig::new(vec![host(&sim)], root_token())
        .with_tls(pinned(&sim))
        .with_max_body_bytes(4 * 1024);
    let client = PveClient::new(&config).unwrap();
    let err = client.cluster_resources(None).await.unwrap_err();
    assert_eq!(
        err,
        PveError::TooLarge {
            path: "/cluster/resources".into(),
            limit: 4 * 1024
        }
    );
    assert!(err.to_string().contains("4 KiB"), "{err}");
    // Small answers still pass, and the host was not given up on.
    assert_eq!(client.version().await.unwrap().version, "9.1.2");
    assert_eq!(
        count(&sim, "GET /cluster/resources"),
        1,
        "no failover retry"
    );
}
