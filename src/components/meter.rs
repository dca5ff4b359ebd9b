//! A horizontal usage bar with its number, coloured by level.

use leptos::prelude::*;

/// Level of a percentage: ok below 70 %, warn below 90 %, crit above.
pub fn level(percent: f64) -> &'static str {
    if percent >= 90.0 {
        "crit"
    } else if percent >= 70.0 {
        "warn"
    } else {
        "ok"
    }
}

/// A meter for `percent` (0–100), labelled for assistive technology.
#[component]
pub fn Meter(
    /// Value in percent.
    percent: f64,
    /// What is measured, e.g. `pve1 memory`.
    label: String,
    /// Extra text after the number, e.g. `12.0 GiB of 64.0 GiB`.
    #[prop(optional, into)]
    detail: Option<String>,
) -> impl IntoView {
    let clamped = percent.clamp(0.0, 100.0);
    let title = detail.clone().unwrap_or_default();
    view! {
        <div class="plb-meter" title=title>
            <div
                class=format!("plb-meter__track plb-meter__track--{}", level(percent))
                role="meter"
                aria-label=label
                // aria-valuemin/-max default to 0 and 100 for a meter: left out, they save 38
                // bytes per meter (three per node row, 64 rows on a large cluster's pages).
                aria-valuenow=format!("{clamped:.0}")
            >
                // Whole percent: a tenth is below a pixel of the bar, and 192 meters of a
                // 64-node table save 384 bytes.
                <div class="plb-meter__fill" style=format!("width: {clamped:.0}%")></div>
            </div>
            <span class="plb-meter__value">{format!("{percent:.1} %")}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::level;

    #[test]
    fn levels() {
        assert_eq!(level(10.0), "ok");
        assert_eq!(level(70.0), "warn");
        assert_eq!(level(95.5), "crit");
    }
}
