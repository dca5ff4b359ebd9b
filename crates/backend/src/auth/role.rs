//! Roles, and how a Proxmox user's privileges become one.

use crate::pve_wire::dto::Permissions;

/// What a signed-in user or token may do (shared with the browser).
pub use plb_domain::auth::Role;

/// The privilege that lets a Proxmox user view ProxLB Web (on `/`).
pub const VIEW_PRIVILEGE: &str = "Sys.Audit";
/// The privilege that lets a Proxmox user operate ProxLB Web (on `/`).
pub const OPERATE_PRIVILEGE: &str = "Sys.Modify";

/// The role of a Proxmox user, from their own `GET /access/permissions` answer and their groups:
///
/// - `Sys.Modify` on `/`, or membership in one of `admin_groups` → [`Role::Operator`];
/// - else `Sys.Audit` on `/` → [`Role::Viewer`];
/// - else `None`: no access.
///
/// Only the root path counts (whatever its propagate flag): ProxLB acts on the whole cluster, so
/// a privilege on one node or pool is not enough. Group names compare exactly, as in Proxmox.
pub fn role_for_proxmox_user(
    permissions: &Permissions,
    groups: &[String],
    admin_groups: &[String],
) -> Option<Role> {
    let in_admin_group = groups.iter().any(|g| admin_groups.contains(g));
    if in_admin_group || permissions.has_at_root(OPERATE_PRIVILEGE) {
        Some(Role::Operator)
    } else if permissions.has_at_root(VIEW_PRIVILEGE) {
        Some(Role::Viewer)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::*;

    fn perms(entries: &[(&str, &[&str])]) -> Permissions {
        Permissions(
            entries
                .iter()
                .map(|(path, privs)| {
                    let privs: BTreeMap<String, Value> =
                        privs.iter().map(|p| ((*p).to_owned(), json!(1))).collect();
                    ((*path).to_owned(), privs)
                })
                .collect(),
        )
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|g| (*g).to_owned()).collect()
    }

    #[test]
    fn sys_audit_on_root_views_and_sys_modify_operates() {
        let none = groups(&[]);
        assert_eq!(
            role_for_proxmox_user(&perms(&[("/", &["Sys.Audit", "VM.Audit"])]), &none, &none),
            Some(Role::Viewer)
        );
        assert_eq!(
            role_for_proxmox_user(&perms(&[("/", &["Sys.Audit", "Sys.Modify"])]), &none, &none),
            Some(Role::Operator)
        );
        assert_eq!(
            role_for_proxmox_user(&perms(&[("/", &["Sys.Modify"])]), &none, &none),
            Some(Role::Operator),
            "operating includes viewing"
        );
    }

    #[test]
    fn privileges_below_root_or_other_privileges_give_no_access() {
        let none = groups(&[]);
        assert_eq!(
            role_for_proxmox_user(
                &perms(&[("/nodes/pve1", &["Sys.Audit", "Sys.Modify"])]),
                &none,
                &none
            ),
            None
        );
        assert_eq!(
            role_for_proxmox_user(
                &perms(&[("/", &["VM.Audit", "Datastore.Audit"])]),
                &none,
                &none
            ),
            None
        );
        assert_eq!(
            role_for_proxmox_user(&Permissions::default(), &none, &none),
            None
        );
    }

    #[test]
    fn the_admin_group_operates_even_without_privileges() {
        let admin = groups(&["plb-admins"]);
        assert_eq!(
            role_for_proxmox_user(
                &Permissions::default(),
                &groups(&["ops", "plb-admins"]),
                &admin
            ),
            Some(Role::Operator)
        );
        assert_eq!(
            role_for_proxmox_user(
                &perms(&[("/", &["Sys.Audit"])]),
                &groups(&["PLB-ADMINS"]),
                &admin
            ),
            Some(Role::Viewer),
            "group names are exact"
        );
    }

    #[test]
    fn the_propagate_flag_does_not_matter_on_root() {
        let mut p = perms(&[("/", &["Sys.Audit"])]);
        if let Some(root) = p.0.get_mut("/") {
            root.insert("Sys.Audit".into(), json!(0));
        }
        assert_eq!(role_for_proxmox_user(&p, &[], &[]), Some(Role::Viewer));
    }

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Operator));
        assert!(Role::Viewer.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        for r in [Role::Viewer, Role::Operator] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.as_str()));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
