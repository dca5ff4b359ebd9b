//! Step 3: maintenance. Guests on a maintenance node are moved first, each to the most free node,
//! ignoring pins and anti-affinity (`proxlb/models/calculations.py:353-382`).

use super::Reason;
use crate::proxlb::rules::ProxlbView;

/// One reason per maintenance node with guests ProxLB would move (ignored guests never move).
pub(super) fn evacuation_reasons(view: &ProxlbView, reasons: &mut Vec<Reason>) {
    for node in view.nodes.iter().filter(|n| n.maintenance) {
        let guests: Vec<String> = view
            .guests
            .iter()
            .filter(|g| g.guest.node == node.node.name && !g.ignored())
            .map(|g| g.guest.name.clone())
            .collect();
        if !guests.is_empty() {
            reasons.push(Reason::MaintenanceEvacuation {
                node: node.node.name.clone(),
                guests,
            });
        }
    }
}
