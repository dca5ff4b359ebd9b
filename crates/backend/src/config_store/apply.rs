//! How a saved configuration reaches ProxLB: a reload (SIGHUP) makes ProxLB re-read the file
//! after its current sleep, but it keeps the Proxmox API connection it opened at start
//! (`proxlb/main.py` at v2.3.0 builds `ProxmoxApi` once, before the loop; the SIGHUP handler
//! only sets a flag that re-reads the config), so a change under `proxmox_api` needs a restart.

use serde::{Deserialize, Serialize};

use super::load;

/// What to do with ProxLB after a save, as the user chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyChoice {
    /// Only write the file: ProxLB reads it when it next reloads or restarts.
    Save,
    /// Write, then reload ProxLB (applied after its current sleep).
    Reload,
    /// Write, then restart ProxLB (applied at once; a restart also runs balancing at once).
    Restart,
}

impl ApplyChoice {
    /// Parses the form and API word (`save`/`none`/empty, `reload`, `restart`).
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim() {
            "" | "save" | "none" => Some(Self::Save),
            "reload" => Some(Self::Reload),
            "restart" => Some(Self::Restart),
            _ => None,
        }
    }
}

/// Whether going from `before` to `after` changes the `proxmox_api` section, which ProxLB reads
/// only when it starts. Texts that do not load count as unchanged (a save rejects them anyway);
/// masked secrets compare equal to each other, so callers pass both texts masked or both raw.
pub fn restart_needed(before: &str, after: &str) -> bool {
    let section = |text: &str| {
        load::load(text)
            .ok()
            .flatten()
            .and_then(|root| root.get("proxmox_api").cloned())
    };
    match (section(before), section(after)) {
        (Some(a), Some(b)) => !a.same_value(&b),
        (None, None) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "proxmox_api:\n  hosts: ['10.0.0.1']\n  user: root@pam\nbalancing:\n  enable: true\n";

    #[test]
    fn a_balancing_change_needs_only_a_reload() {
        let after = BASE.replace("enable: true", "enable: false");
        assert!(!restart_needed(BASE, &after));
    }

    #[test]
    fn a_proxmox_api_change_needs_a_restart_even_when_lines_move() {
        let moved = format!("# a comment\n\n{BASE}");
        assert!(
            !restart_needed(BASE, &moved),
            "positions alone are no change"
        );
        let after = BASE.replace("10.0.0.1", "10.0.0.2");
        assert!(restart_needed(BASE, &after));
        let removed = "balancing:\n  enable: true\n";
        assert!(restart_needed(BASE, removed));
    }

    #[test]
    fn choices_parse_from_form_words() {
        assert_eq!(ApplyChoice::parse(""), Some(ApplyChoice::Save));
        assert_eq!(ApplyChoice::parse("reload"), Some(ApplyChoice::Reload));
        assert_eq!(ApplyChoice::parse(" restart "), Some(ApplyChoice::Restart));
        assert_eq!(ApplyChoice::parse("reboot"), None);
    }
}
