//! A small line chart of a node's CPU and memory over the last hour (inline SVG, no script).

use leptos::prelude::*;
use plb_domain::units::format_clock_utc;
use plb_domain::view::LoadPoint;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;

/// SVG `points` for one series: time on x, 0–100 % on y.
pub fn polyline(points: &[LoadPoint], value: fn(&LoadPoint) -> f64) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let span = (last.time_unix - first.time_unix).max(1) as f64;
    points
        .iter()
        .map(|point| {
            let x = (point.time_unix - first.time_unix) as f64 / span * WIDTH;
            let y = HEIGHT - value(point).clamp(0.0, 100.0) / 100.0 * HEIGHT;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn range(points: &[LoadPoint], value: fn(&LoadPoint) -> f64) -> (f64, f64) {
    points
        .iter()
        .map(value)
        .fold((f64::MAX, f64::MIN), |(low, high), v| {
            (low.min(v), high.max(v))
        })
}

/// CPU and memory of `node` over time, with a text summary for assistive technology.
#[component]
pub fn LoadChart(node: String, points: Vec<LoadPoint>) -> impl IntoView {
    if points.len() < 2 {
        return view! { <p class="plb-muted">"Proxmox has no load history for this node yet."</p> }
            .into_any();
    }
    let cpu = |p: &LoadPoint| p.cpu_percent;
    let mem = |p: &LoadPoint| p.mem_percent;
    let (cpu_low, cpu_high) = range(&points, cpu);
    let (mem_low, mem_high) = range(&points, mem);
    let from = points
        .first()
        .map(|p| p.time_unix.max(0) as u64)
        .unwrap_or_default();
    let to = points
        .last()
        .map(|p| p.time_unix.max(0) as u64)
        .unwrap_or_default();
    let summary = format!(
        "{node} from {} to {}: CPU {cpu_low:.0}–{cpu_high:.0} %, memory {mem_low:.0}–{mem_high:.0} %",
        format_clock_utc(from),
        format_clock_utc(to)
    );
    view! {
        <figure class="plb-chart">
            <svg
                class="plb-chart__svg"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=summary.clone()
            >
                <line class="plb-chart__grid" x1="0" y1="40" x2="600" y2="40" />
                <line class="plb-chart__grid" x1="0" y1="80" x2="600" y2="80" />
                <line class="plb-chart__grid" x1="0" y1="120" x2="600" y2="120" />
                <polyline class="plb-chart__line plb-chart__line--mem" points=polyline(&points, mem) />
                <polyline class="plb-chart__line plb-chart__line--cpu" points=polyline(&points, cpu) />
            </svg>
            <figcaption class="plb-chart__caption">
                <span class="plb-chart__key plb-chart__key--cpu">"CPU"</span>
                <span class="plb-chart__key plb-chart__key--mem">"Memory"</span>
                <span class="plb-muted">{summary}</span>
            </figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_width_and_invert_the_height() {
        let points = [
            LoadPoint {
                time_unix: 100,
                cpu_percent: 0.0,
                mem_percent: 50.0,
            },
            LoadPoint {
                time_unix: 160,
                cpu_percent: 100.0,
                mem_percent: 150.0,
            },
        ];
        assert_eq!(polyline(&points, |p| p.cpu_percent), "0.0,160.0 600.0,0.0");
        assert_eq!(polyline(&points, |p| p.mem_percent), "0.0,80.0 600.0,0.0");
        assert_eq!(polyline(&[], |p| p.cpu_percent), "");
    }
}
