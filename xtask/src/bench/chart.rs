//! `chart.png`: grouped bars of req/s per workload, ours next to the reference, one panel
//! per cluster size, on a logarithmic axis (single-client puts and serializable reads
//! differ by orders of magnitude).

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::report::Row;

const WIDTH: u32 = 1400;
const PANEL_HEIGHT: u32 = 480;
const OURS_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const REFERENCE_COLOR: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
/// Each workload occupies this many x units: gap, ours, reference, gap.
const GROUP: i32 = 4;

/// Draws one panel per distinct size of `rows` into a PNG at `path`.
pub fn draw(rows: &[Row], path: &Path) -> Result<()> {
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let panels = sizes.len().max(1);
    let height = PANEL_HEIGHT * u32::try_from(panels)?;
    let root = BitMapBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let areas = root.split_evenly((panels, 1));
    for (area, &size) in areas.iter().zip(&sizes) {
        let panel: Vec<&Row> = rows.iter().filter(|r| r.size == size).collect();
        draw_panel(area, size, &panel).map_err(|e| anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_panel(
    area: &Area<'_>,
    size: usize,
    rows: &[&Row],
) -> Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>> {
    let values = rows
        .iter()
        .flat_map(|r| [r.ours.map(|m| m.rps), r.reference.map(|m| m.rps)])
        .flatten();
    // Headroom above the tallest bar keeps the legend clear of it.
    let top = values.fold(10.0_f64, f64::max) * 4.0;
    let groups = i32::try_from(rows.len()).unwrap_or(i32::MAX).max(1);
    let members = if size == 1 { "member" } else { "members" };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("req/s, {size} {members} (log scale)"),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0..groups * GROUP, (1.0..top).log_scale())?;
    let names: Vec<String> = rows.iter().map(|r| r.workload.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(usize::try_from(groups * GROUP).unwrap_or(0))
        .x_label_formatter(&|x| {
            let (group, slot) = (x / GROUP, x % GROUP);
            match usize::try_from(group).ok().and_then(|g| names.get(g)) {
                Some(name) if slot == GROUP / 2 => name.clone(),
                _ => String::new(),
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("req/s")
        .label_style(("sans-serif", 14))
        .draw()?;
    let bars = |pick: fn(&Row) -> Option<f64>, slot: i32, color: RGBColor| {
        rows.iter()
            .enumerate()
            .filter_map(move |(i, r)| {
                let x = i32::try_from(i).ok()? * GROUP + slot;
                let value = pick(r)?.max(1.0);
                Some(Rectangle::new([(x, 1.0), (x + 1, value)], color.filled()))
            })
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(bars(|r| r.ours.map(|m| m.rps), 1, OURS_COLOR))?
        .label("ours")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], OURS_COLOR.filled()));
    chart
        .draw_series(bars(|r| r.reference.map(|m| m.rps), 2, REFERENCE_COLOR))?
        .label("reference etcd")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], REFERENCE_COLOR.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::report::Measure;
    use super::*;

    #[test]
    fn draws_a_png() {
        let m = |rps| Measure {
            rps,
            p99_ms: 1.0,
            rss_kib: None,
        };
        let rows: Vec<Row> = [1, 3]
            .into_iter()
            .flat_map(|size| {
                [
                    Row {
                        workload: "put-256".into(),
                        size,
                        ours: Some(m(20_000.0)),
                        reference: Some(m(9_000.0)),
                    },
                    Row {
                        workload: "put-1".into(),
                        size,
                        ours: Some(m(300.0)),
                        reference: None,
                    },
                ]
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        draw(&rows, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
