//! Authentication and authorization the way PVE does it: privileges and built-in roles, ACL
//! evaluation (with pool inheritance and token privilege separation), signed tickets with a
//! lifetime, CSRF prevention tokens and API token secrets.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::scenario::{AclSpec, UserSpec};

/// Every privilege PVE 9 knows (`PVE::AccessControl`).
pub const ALL_PRIVILEGES: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

const AUDITOR: &[&str] = &[
    "Datastore.Audit",
    "Mapping.Audit",
    "Pool.Audit",
    "SDN.Audit",
    "Sys.Audit",
    "VM.Audit",
    "VM.GuestAgent.Audit",
];

const VM_USER: &[&str] = &[
    "VM.Audit",
    "VM.Backup",
    "VM.Config.CDROM",
    "VM.Config.Cloudinit",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.PowerMgmt",
    "Datastore.AllocateSpace",
    "Datastore.Audit",
];

/// Expands a list of privilege and role names into privileges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivError {
    /// Entry `index` is neither a privilege nor a known role.
    Unknown {
        /// Position in the list.
        index: usize,
        /// The name.
        name: String,
    },
}

/// Expands privilege names and built-in role names (`Administrator`, `PVEAdmin`, `PVEAuditor`,
/// `PVEVMAdmin`, `PVEVMUser`, `NoAccess`) into a set of privileges.
pub fn expand_privileges(names: &[String]) -> Result<BTreeSet<&'static str>, PrivError> {
    let mut out = BTreeSet::new();
    for (index, name) in names.iter().enumerate() {
        if let Some(p) = ALL_PRIVILEGES.iter().find(|p| **p == name) {
            out.insert(*p);
            continue;
        }
        match name.as_str() {
            "Administrator" => out.extend(ALL_PRIVILEGES.iter().copied()),
            "PVEAdmin" => {
                out.extend(ALL_PRIVILEGES.iter().copied().filter(|p| {
                    !matches!(*p, "Sys.Modify" | "Permissions.Modify" | "Realm.Allocate")
                }))
            }
            "PVEAuditor" => out.extend(AUDITOR.iter().copied()),
            "PVEVMAdmin" => out.extend(ALL_PRIVILEGES.iter().copied().filter(|p| {
                p.starts_with("VM.") || *p == "Datastore.AllocateSpace" || *p == "Datastore.Audit"
            })),
            "PVEVMUser" => out.extend(VM_USER.iter().copied()),
            "NoAccess" => {}
            _ => {
                return Err(PrivError::Unknown {
                    index,
                    name: name.clone(),
                })
            }
        }
    }
    Ok(out)
}

/// Every privilege.
pub fn every_privilege() -> BTreeSet<&'static str> {
    ALL_PRIVILEGES.iter().copied().collect()
}

/// One resolved ACL entry.
#[derive(Debug, Clone)]
pub struct Acl {
    /// Normalised path (`/`, `/vms/100`).
    pub path: String,
    /// Privileges granted.
    pub privs: BTreeSet<&'static str>,
    /// Applies below `path` too.
    pub propagate: bool,
}

fn normalise_path(p: &str) -> String {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

fn resolve_acls(acls: &[AclSpec]) -> Vec<Acl> {
    acls.iter()
        .map(|a| Acl {
            path: normalise_path(&a.path),
            privs: expand_privileges(&a.privs).unwrap_or_default(),
            propagate: a.propagate,
        })
        .collect()
}

/// Evaluates privileges on a path for one ACL list: the most specific path that has entries
/// wins (deeper ACLs replace inherited ones, as in PVE); entries at ancestors only count when they
/// propagate. For guests in a pool, `/pool/<pool>` is consulted between `/vms` and `/vms/<id>`.
pub fn privileges_at(acls: &[Acl], path: &str, pool: Option<&str>) -> BTreeSet<&'static str> {
    let path = normalise_path(path);
    let mut chain: Vec<String> = vec!["/".to_string()];
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for i in 1..=parts.len() {
        if i == parts.len() && parts.first() == Some(&"vms") {
            if let Some(pool) = pool {
                chain.push(format!("/pool/{pool}"));
            }
        }
        chain.push(format!("/{}", parts[..i].join("/")));
    }
    let mut result = BTreeSet::new();
    for level in &chain {
        let exact = *level == path;
        let entries: Vec<&Acl> = acls
            .iter()
            .filter(|a| a.path == *level && (exact || a.propagate))
            .collect();
        if !entries.is_empty() {
            result = entries
                .iter()
                .flat_map(|a| a.privs.iter().copied())
                .collect();
        }
    }
    result
}

/// A user as the simulator keeps it.
#[derive(Debug, Clone)]
pub struct User {
    /// `user@realm`.
    pub userid: String,
    /// Password, if ticket login is allowed.
    pub password: Option<String>,
    /// Enabled.
    pub enable: bool,
    /// Resolved ACLs.
    pub acls: Vec<Acl>,
    /// Tokens by name.
    pub tokens: BTreeMap<String, Token>,
    /// Has a second factor: password logins stop at `NeedTFA`.
    pub tfa: bool,
}

/// An API token.
#[derive(Debug, Clone)]
pub struct Token {
    /// Secret.
    pub secret: String,
    /// Privilege separation.
    pub privsep: bool,
    /// Resolved token ACLs.
    pub acls: Vec<Acl>,
}

impl User {
    /// Builds the runtime user from its scenario spec.
    pub fn from_spec(spec: &UserSpec) -> Self {
        Self {
            userid: spec.userid.clone(),
            password: spec.password.clone(),
            enable: spec.enable,
            tfa: spec.tfa,
            acls: resolve_acls(&spec.acl),
            tokens: spec
                .tokens
                .iter()
                .map(|t| {
                    (
                        t.id.clone(),
                        Token {
                            secret: t.secret.clone(),
                            privsep: t.privsep,
                            acls: resolve_acls(&t.acl),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Whether this is the PVE superuser.
    pub fn is_root(&self) -> bool {
        self.userid == "root@pam"
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `user@realm`.
    pub userid: String,
    /// Token name when authenticated by API token.
    pub tokenid: Option<String>,
    /// Authenticated by ticket (so non-GET requests need the CSRF token).
    pub by_ticket: bool,
}

impl Caller {
    /// `user@realm` or `user@realm!token`, the form used in UPIDs.
    pub fn upid_user(&self) -> String {
        match &self.tokenid {
            Some(t) => format!("{}!{t}", self.userid),
            None => self.userid.clone(),
        }
    }
}

/// Effective privileges of `caller` on `path` (`pool` for guest paths).
pub fn caller_privileges(
    users: &BTreeMap<String, User>,
    caller: &Caller,
    path: &str,
    pool: Option<&str>,
) -> BTreeSet<&'static str> {
    let Some(user) = users.get(&caller.userid) else {
        return BTreeSet::new();
    };
    let user_privs = if user.is_root() {
        every_privilege()
    } else {
        privileges_at(&user.acls, path, pool)
    };
    match caller.tokenid.as_ref().and_then(|t| user.tokens.get(t)) {
        Some(token) if token.privsep => {
            let token_privs = privileges_at(&token.acls, path, pool);
            user_privs.intersection(&token_privs).copied().collect()
        }
        _ => user_privs,
    }
}

/// Whether the caller has every privilege on every path (`root@pam`, or a token of it without
/// privilege separation): the same answer [`caller_privileges`] gives, without building the
/// privilege sets (a fast path for lists of thousands of guests).
pub fn caller_is_unrestricted(users: &BTreeMap<String, User>, caller: &Caller) -> bool {
    users.get(&caller.userid).is_some_and(|user| {
        user.is_root()
            && !caller
                .tokenid
                .as_ref()
                .and_then(|t| user.tokens.get(t))
                .is_some_and(|t| t.privsep)
    })
}

/// Signs and verifies tickets and CSRF tokens with a per-instance secret. [`TicketSigner::rotate`]
/// replaces the secret (like a PVE `authkey` rotation without the grace period), which makes
/// every ticket and CSRF token issued so far invalid at once.
#[derive(Debug)]
pub struct TicketSigner {
    key: std::sync::RwLock<[u8; 32]>,
    lifetime: f64,
}

impl Clone for TicketSigner {
    fn clone(&self) -> Self {
        Self {
            key: std::sync::RwLock::new(self.key()),
            lifetime: self.lifetime,
        }
    }
}

impl TicketSigner {
    /// A signer with a key derived from `seed_material` and a ticket lifetime in seconds.
    pub fn new(seed_material: &[u8], lifetime: f64) -> Self {
        let mut h = Sha256::new();
        h.update(b"pve-sim ticket key");
        h.update(seed_material);
        Self {
            key: std::sync::RwLock::new(h.finalize().into()),
            lifetime,
        }
    }

    fn key(&self) -> [u8; 32] {
        *self.key.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the signing key: every ticket and CSRF token issued before is rejected from now
    /// on (clients must log in again with their password).
    pub fn rotate(&self) {
        let mut key = self.key.write().unwrap_or_else(|e| e.into_inner());
        let mut h = Sha256::new();
        h.update(b"pve-sim ticket key rotation");
        h.update(*key);
        *key = h.finalize().into();
    }

    fn sign(&self, data: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key());
        h.update(data.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    }

    /// Issues a ticket `PVE:<user>:<HEX time>::<signature>` for `userid` at time `now`.
    pub fn ticket(&self, userid: &str, now: f64) -> String {
        let data = format!("PVE:{userid}:{:08X}", now.max(0.0) as u64);
        let sig = self.sign(&data);
        format!("{data}::{sig}")
    }

    /// Verifies a ticket and returns its user when it is valid at time `now` (signature matches,
    /// not older than the lifetime, not more than 5 minutes in the future).
    pub fn verify_ticket(&self, ticket: &str, now: f64) -> Option<String> {
        let (data, sig) = ticket.split_once("::")?;
        let rest = data.strip_prefix("PVE:")?;
        let (userid, hex) = rest.rsplit_once(':')?;
        let issued = u64::from_str_radix(hex, 16).ok()? as f64;
        if self.sign(data) != sig {
            return None;
        }
        let age = now - issued;
        (age <= self.lifetime && age >= -300.0).then(|| userid.to_string())
    }

    /// Issues a CSRF prevention token `<HEX time>:<signature>` bound to `userid`.
    pub fn csrf_token(&self, userid: &str, now: f64) -> String {
        let ts = format!("{:08X}", now.max(0.0) as u64);
        let sig = self.sign(&format!("CSRF:{ts}:{userid}"));
        format!("{ts}:{sig}")
    }

    /// Verifies a CSRF prevention token for `userid` (same lifetime as tickets).
    pub fn verify_csrf(&self, token: &str, userid: &str, now: f64) -> bool {
        let Some((ts, sig)) = token.split_once(':') else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(ts, 16) else {
            return false;
        };
        let age = now - issued as f64;
        self.sign(&format!("CSRF:{ts}:{userid}")) == sig && age <= self.lifetime && age >= -300.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn acl(path: &str, privs: &[&str], propagate: bool) -> Acl {
        let names: Vec<String> = privs.iter().map(|s| s.to_string()).collect();
        Acl {
            path: path.to_string(),
            privs: expand_privileges(&names).unwrap(),
            propagate,
        }
    }

    #[test]
    fn roles_expand() {
        let p = expand_privileges(&["PVEAuditor".to_string()]).unwrap();
        assert!(p.contains("VM.Audit") && p.contains("Sys.Audit") && !p.contains("VM.Migrate"));
        let p = expand_privileges(&["PVEVMAdmin".to_string()]).unwrap();
        assert!(p.contains("VM.Migrate") && p.contains("VM.Audit") && !p.contains("Sys.Audit"));
        assert!(expand_privileges(&["Administrator".to_string()])
            .unwrap()
            .contains("VM.Audit"));
        assert_eq!(
            expand_privileges(&["VM.Audit".into(), "Nope".into()]),
            Err(PrivError::Unknown {
                index: 1,
                name: "Nope".into()
            })
        );
    }

    #[test]
    fn acl_inheritance() {
        let acls = vec![
            acl("/", &["PVEAuditor"], true),
            acl("/vms/100", &["NoAccess"], false),
            acl("/pool/prod", &["VM.Migrate", "VM.Audit"], true),
            acl("/nodes", &["Sys.Console"], false),
        ];
        assert!(privileges_at(&acls, "/vms/101", None).contains("VM.Audit"));
        assert!(privileges_at(&acls, "/vms/100", None).is_empty());
        let pooled = privileges_at(&acls, "/vms/102", Some("prod"));
        assert!(pooled.contains("VM.Migrate"));
        assert!(!pooled.contains("Sys.Audit"));
        // non-propagating entry only applies to the exact path
        assert!(privileges_at(&acls, "/nodes", None).contains("Sys.Console"));
        assert!(privileges_at(&acls, "/nodes/pve1", None).contains("Sys.Audit"));
        assert!(!privileges_at(&acls, "/nodes/pve1", None).contains("Sys.Console"));
    }

    #[test]
    fn token_privsep_intersects() {
        let spec = UserSpec::new("bob@pve", Some("pw"))
            .acl(AclSpec::new("/", ["PVEVMAdmin"]))
            .token(
                "sep",
                "s1",
                true,
                vec![AclSpec::new("/", ["VM.Audit", "Sys.Audit"])],
            )
            .token("full", "s2", false, vec![]);
        let user = User::from_spec(&spec);
        let users: BTreeMap<String, User> = [(user.userid.clone(), user)].into();
        let caller = |t: Option<&str>| Caller {
            userid: "bob@pve".into(),
            tokenid: t.map(str::to_string),
            by_ticket: false,
        };
        let sep = caller_privileges(&users, &caller(Some("sep")), "/vms/1", None);
        assert!(
            sep.contains("VM.Audit") && !sep.contains("VM.Migrate") && !sep.contains("Sys.Audit")
        );
        let full = caller_privileges(&users, &caller(Some("full")), "/vms/1", None);
        assert!(full.contains("VM.Migrate"));
        assert!(caller_privileges(&users, &caller(None), "/vms/1", None).contains("VM.Migrate"));
        assert!(!caller_is_unrestricted(&users, &caller(None)));
    }

    #[test]
    fn unrestricted_fast_path_agrees_with_privileges() {
        let spec = UserSpec::new("root@pam", Some("pw"))
            .token("sep", "s1", true, vec![AclSpec::new("/", ["VM.Audit"])])
            .token("full", "s2", false, vec![]);
        let user = User::from_spec(&spec);
        let users: BTreeMap<String, User> = [(user.userid.clone(), user)].into();
        for (token, expected) in [(None, true), (Some("full"), true), (Some("sep"), false)] {
            let caller = Caller {
                userid: "root@pam".into(),
                tokenid: token.map(str::to_string),
                by_ticket: false,
            };
            assert_eq!(
                caller_is_unrestricted(&users, &caller),
                expected,
                "{token:?}"
            );
            let all = caller_privileges(&users, &caller, "/vms/100", Some("p")).len()
                == ALL_PRIVILEGES.len();
            assert_eq!(all, expected, "{token:?}");
        }
    }

    #[test]
    fn tickets_expire_and_are_signed() {
        let s = TicketSigner::new(b"k", 7200.0);
        let t = s.ticket("root@pam", 1_000_000.0);
        assert!(t.starts_with("PVE:root@pam:000F4240::"));
        assert_eq!(
            s.verify_ticket(&t, 1_000_100.0).as_deref(),
            Some("root@pam")
        );
        assert_eq!(s.verify_ticket(&t, 1_007_201.0), None);
        let forged = t.replace("root@pam", "bob@pve");
        assert_eq!(s.verify_ticket(&forged, 1_000_100.0), None);
        let other = TicketSigner::new(b"other", 7200.0);
        assert_eq!(other.verify_ticket(&t, 1_000_100.0), None);
        let c = s.csrf_token("root@pam", 1_000_000.0);
        assert!(s.verify_csrf(&c, "root@pam", 1_000_010.0));
        assert!(!s.verify_csrf(&c, "bob@pve", 1_000_010.0));
        assert!(!s.verify_csrf("garbage", "root@pam", 1_000_010.0));
        // Rotation invalidates everything issued before, new tickets work.
        s.rotate();
        assert_eq!(s.verify_ticket(&t, 1_000_100.0), None);
        assert!(!s.verify_csrf(&c, "root@pam", 1_000_010.0));
        let t2 = s.ticket("root@pam", 1_000_000.0);
        assert_eq!(
            s.verify_ticket(&t2, 1_000_100.0).as_deref(),
            Some("root@pam")
        );
    }
}
