//! The report, shown: the brief's table (mode | avg latency | throughput | CPU | memory) with
//! drydock's extra columns, as markdown (which is also the text output), and a plot of the
//! latency percentiles and the maximum throughput per mode, as SVG or PNG.

use super::{BenchReport, ModeReport, Recovery, Spread};

fn human_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

fn mode_name(m: &ModeReport) -> String {
    match m.replicas {
        Some(n) => format!("{:?} ×{n}", m.mode).to_lowercase(),
        None => format!("{:?}", m.mode).to_lowercase(),
    }
}

fn recovery(r: &Option<Recovery>) -> String {
    let Some(r) = r else { return "-".into() };
    let mut failed = format!(
        "{} of {} requests failed, the slowest answered in {}",
        r.failed_requests,
        r.requests,
        human_ms(r.worst_latency_ms)
    );
    if r.unanswered > 0 {
        failed.push_str(&format!(", {} unanswered", r.unanswered));
    }
    match (r.serving_again_ms, r.replaced_ms) {
        (Some(_), Some(rep)) if r.failed_requests == 0 => {
            format!("served throughout, replaced in {}", human_ms(rep))
        }
        (Some(ms), Some(rep)) => {
            format!("{}, replaced in {} ({failed})", human_ms(ms), human_ms(rep))
        }
        (Some(ms), None) => format!("{} ({failed})", human_ms(ms)),
        (None, _) => format!("never ({failed})"),
    }
}

/// A figure's median, with its range over the rounds when there were several.
fn with_range(median: &str, s: &Spread, rounds: u32, fmt: impl Fn(f64) -> String) -> String {
    if rounds < 2 {
        median.to_string()
    } else {
        format!("{median} ({}–{})", fmt(s.min), fmt(s.max))
    }
}

/// The brief's table, with the extra columns, as markdown.
pub fn markdown(r: &BenchReport) -> String {
    let rounds = if r.rounds > 1 {
        format!(
            "; {} rounds per mode, the modes taking turns: medians, (min–max) over the rounds",
            r.rounds
        )
    } else {
        String::new()
    };
    let mut s = format!(
        "drydock bench {}: GET {}, {} req/s open loop and a closed loop with {} connections; {} cores{rounds}\n\n",
        r.project, r.path, r.rate, r.connections, r.cores
    );
    s.push_str("| mode | avg latency | p50 | p99 | p99.9 | throughput at max | CPU | peak memory | image | cold start | recovery after SIGKILL |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &r.modes {
        let f = &m.fixed_rate.latency_ms;
        let number = |v: f64| format!("{v:.0}");
        let ms = |v: f64| format!("{v:.2}");
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} cores | {} | {} | {} | {} |\n",
            mode_name(m),
            with_range(&human_ms(f.mean), &m.spread.latency_mean_ms, r.rounds, ms),
            human_ms(f.p50),
            human_ms(f.p99),
            human_ms(f.p999),
            with_range(
                &format!("{:.0} req/s", m.max.throughput),
                &m.spread.max_throughput,
                r.rounds,
                number
            ),
            m.service_cpu,
            crate::ui::human_bytes(m.peak_memory_bytes),
            m.image_size_bytes
                .map(crate::ui::human_bytes)
                .unwrap_or_else(|| "-".into()),
            human_ms(m.cold_start_ms),
            recovery(&m.recovery)
        ));
    }
    for m in &r.modes {
        let name = mode_name(m);
        let e = m.fixed_rate.errors.total() + m.max.errors.total();
        if e > 0 {
            s.push_str(&format!(
                "\n{name}: {e} errors under load (at the fixed rate: {}; at max: {})",
                or_none(&m.fixed_rate.errors.describe()),
                or_none(&m.max.errors.describe())
            ));
        }
        if let Some(r) = &m.recovery {
            s.push_str(&format!("\n{name}: recovery by {}", r.how));
        }
        if let Some(u) = &m.update {
            s.push_str(&format!(
                "\n{name}: rolling update to a new image under {} req/s: {} in {}, {} of {} requests failed, the slowest answered in {}",
                r.rate,
                u.state,
                human_ms(u.seconds * 1000.0),
                u.failed_requests,
                u.requests,
                human_ms(u.worst_latency_ms)
            ));
        }
        for n in &m.notes {
            s.push_str(&format!("\n{name}: {n}"));
        }
    }
    for n in &r.noise {
        s.push_str(&format!("\nnoise: {n}"));
    }
    s.push('\n');
    s
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG of the results: latency percentiles at the fixed rate, and maximum throughput, per
/// mode. Written by hand (rectangles and labels), so bench needs no plotting library.
pub fn svg(r: &BenchReport) -> String {
    let (w, h, pad) = (960.0, 380.0, 50.0);
    let panel = (w - 3.0 * pad) / 2.0;
    let plot_h = h - 2.0 * pad - 50.0;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.push_str(&format!("<text x=\"{pad}\" y=\"24\" font-size=\"14\">drydock bench {}: GET {} ({} req/s open loop; closed loop, {} connections)</text>\n", esc(&r.project), esc(&r.path), r.rate, r.connections));
    let series = [
        ("p50", "#4e79a7"),
        ("p90", "#76b7b2"),
        ("p99", "#f28e2b"),
        ("p99.9", "#e15759"),
    ];
    // Left: latency percentiles.
    let lat: Vec<[f64; 4]> = r
        .modes
        .iter()
        .map(|m| {
            let l = &m.fixed_rate.latency_ms;
            [l.p50, l.p90, l.p99, l.p999]
        })
        .collect();
    let max_lat = lat.iter().flatten().cloned().fold(0.001, f64::max);
    let group = panel / r.modes.len().max(1) as f64;
    let base_y = pad + 30.0 + plot_h;
    s.push_str(&format!(
        "<text x=\"{pad}\" y=\"{}\">latency at {} req/s (ms)</text>\n",
        pad + 10.0,
        r.rate
    ));
    for (j, (name, color)) in series.iter().enumerate() {
        let x = pad + 180.0 + j as f64 * 60.0;
        s.push_str(&format!("<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{name}</text>\n", pad + 1.0, x + 14.0, pad + 10.0));
    }
    let bar = (group - 16.0) / series.len() as f64;
    for (i, (m, l)) in r.modes.iter().zip(&lat).enumerate() {
        let x0 = pad + i as f64 * group;
        for (j, v) in l.iter().enumerate() {
            let bh = v / max_lat * plot_h;
            let x = x0 + 8.0 + j as f64 * bar;
            s.push_str(&format!("<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{v:.3} ms</title></rect>\n", base_y - bh, bar - 2.0, series[j].1));
            s.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"8\">{v:.2}</text>\n",
                base_y - bh - 3.0
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            x0 + 8.0,
            base_y + 16.0,
            esc(&mode_name(m))
        ));
    }
    // Right: throughput at maximum.
    let x_right = 2.0 * pad + panel;
    let max_tp = r.modes.iter().map(|m| m.max.throughput).fold(1.0, f64::max);
    s.push_str(&format!(
        "<text x=\"{x_right}\" y=\"{}\">throughput at maximum (req/s)</text>\n",
        pad + 10.0
    ));
    for (i, m) in r.modes.iter().enumerate() {
        let bh = m.max.throughput / max_tp * plot_h;
        let x = x_right + i as f64 * group + 8.0;
        s.push_str(&format!("<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#59a14f\"/>\n", base_y - bh, group - 16.0));
        s.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\">{:.0}</text>\n",
            base_y - bh - 3.0,
            m.max.throughput
        ));
        s.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>\n",
            base_y + 16.0,
            esc(&mode_name(m))
        ));
    }
    s.push_str("</svg>\n");
    s
}

/// Why the plot could not be drawn as a PNG.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("no fonts on this machine for the plot's labels: install one (Debian: fonts-dejavu-core), or write an .svg")]
    NoFonts,
    /// resvg did not take the SVG [`svg`] wrote.
    #[error(transparent)]
    Svg(#[from] resvg::usvg::Error),
    #[error("the plot has no size")]
    NoSize,
    #[error(transparent)]
    Encode(Box<dyn std::error::Error + Send + Sync>),
}

/// The plot as a PNG, at twice the SVG's size: the SVG above rasterised by resvg, its labels set
/// in a font of this machine (DejaVu Sans where there is one).
pub fn png(r: &BenchReport) -> Result<Vec<u8>, PlotError> {
    use resvg::{tiny_skia, usvg};
    let mut opt = usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    if opt.fontdb.is_empty() {
        return Err(PlotError::NoFonts);
    }
    let tree = usvg::Tree::from_str(&svg(r), &opt)?;
    let size = tree.size().to_int_size();
    let scale = 2.0;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width() * 2, size.height() * 2).ok_or(PlotError::NoSize)?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Encode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{load, Mode, Spreads, Update};

    fn outcome(throughput: f64, p50: f64) -> load::Outcome {
        load::Outcome {
            requests: 1000,
            unanswered: 0,
            errors: load::Errors::default(),
            throughput,
            latency_ms: load::Percentiles {
                mean: p50 * 1.1,
                p50,
                p90: p50 * 2.0,
                p99: p50 * 3.0,
                p999: p50 * 4.0,
                max: p50 * 5.0,
            },
            generator_cpu: 0.5,
            seconds: 1.0,
        }
    }

    fn mode(mode: Mode, replicas: Option<u32>, recovery: Recovery) -> ModeReport {
        ModeReport {
            mode,
            replicas,
            tls: replicas.is_some(),
            cold_start_ms: 1500.0,
            fixed_rate: outcome(100.0, 0.8),
            max: outcome(9000.0, 2.0),
            spread: Spreads {
                latency_mean_ms: Spread {
                    median: 0.88,
                    min: 0.8,
                    max: 1.0,
                },
                latency_p99_ms: Spread {
                    median: 2.4,
                    min: 2.0,
                    max: 3.0,
                },
                max_throughput: Spread {
                    median: 9000.0,
                    min: 8000.0,
                    max: 9500.0,
                },
                service_cpu: Spread {
                    median: 0.5,
                    min: 0.4,
                    max: 0.6,
                },
            },
            rounds: Vec::new(),
            service_cpu: 0.5,
            cpu_at_rate: 0.1,
            cpu_at_max: 0.9,
            memory_at_rate_bytes: 10 << 20,
            peak_memory_bytes: 12 << 20,
            throttled_periods: None,
            oom_kills: None,
            image_size_bytes: Some(3 << 20),
            recovery: Some(recovery),
            update: replicas.map(|_| Update {
                state: "completed".into(),
                seconds: 41.0,
                requests: 4100,
                failed_requests: 0,
                errors: load::Errors::default(),
                unanswered: 0,
                worst_latency_ms: 2000.0,
            }),
            notes: vec!["a note".into()],
        }
    }

    fn report() -> BenchReport {
        let rec = |serving: Option<f64>, replaced: Option<f64>, failed: u64| Recovery {
            serving_again_ms: serving,
            replaced_ms: replaced,
            requests: 300,
            failed_requests: failed,
            errors: load::Errors::default(),
            unanswered: 0,
            worst_latency_ms: 12.0,
            how: "a mechanism",
        };
        BenchReport {
            recommendation: None,
            project: "api".into(),
            path: "/healthz".into(),
            rate: 100,
            connections: 8,
            cores: 2,
            rounds: 1,
            noise: Vec::new(),
            modes: vec![
                mode(Mode::Process, None, rec(None, None, 290)),
                mode(Mode::Docker, None, rec(Some(1200.0), None, 20)),
                mode(Mode::Swarm, Some(2), rec(Some(3.0), Some(12_000.0), 0)),
            ],
        }
    }

    #[test]
    fn the_table_has_a_row_per_mode_and_says_how_each_recovered() {
        let md = markdown(&report());
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 4, "a header and three modes:\n{md}");
        assert!(rows[0].starts_with("| mode | avg latency |"), "{md}");
        assert!(
            rows[1].starts_with("| process | 0.88 ms |")
                && rows[1].contains("never (290 of 300 requests failed"),
            "{md}"
        );
        assert!(
            rows[2].contains("| 9000 req/s |") && rows[2].contains("| 1.20 s (20 of 300"),
            "{md}"
        );
        assert!(
            rows[3].starts_with("| swarm ×2 |")
                && rows[3].contains("served throughout, replaced in 12.00 s"),
            "{md}"
        );
        assert!(md.contains("swarm ×2: rolling update to a new image under 100 req/s: completed in 41.00 s, 0 of 4100 requests failed, the slowest answered in 2.00 s"), "{md}");
        assert!(
            md.contains("docker: recovery by a mechanism") && md.contains("docker: a note"),
            "{md}"
        );
    }

    #[test]
    fn several_rounds_show_each_figure_with_its_range_and_the_noise() {
        let mut r = report();
        r.rounds = 3;
        r.noise = crate::bench::noise(&r);
        let md = markdown(&r);
        assert!(
            md.contains("3 rounds per mode, the modes taking turns"),
            "{md}"
        );
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
        assert!(
            rows[2].starts_with("| docker | 0.88 ms (0.80–1.00) |")
                && rows[2].contains("| 9000 req/s (8000–9500) |"),
            "{md}"
        );
        // Every mode has the same ranges here: all within the noise.
        assert!(
            md.contains("noise: throughput at max: the differences between"),
            "{md}"
        );
        assert!(
            md.contains("are within the noise (their ranges over 3 rounds overlap)"),
            "{md}"
        );
    }

    #[test]
    fn the_plot_draws_every_mode_as_svg_and_png() {
        let r = report();
        let s = svg(&r);
        for label in ["process", "docker", "swarm ×2", "p99.9", "9000"] {
            assert!(s.contains(&format!(">{label}<")), "{label} in the SVG");
        }
        let png = png(&r).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // 1920 × 760 pixels: the SVG at twice its size.
        assert_eq!(&png[16..24], &[0, 0, 7, 128, 0, 0, 2, 248]);
    }
}
