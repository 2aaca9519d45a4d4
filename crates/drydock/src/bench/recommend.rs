//! `[resources]` from measurement: the brief's loop (watch real use, take the mean and the
//! peak, set requests and limits, watch for throttling and OOM kills, adjust), closed.

use serde::Serialize;

use super::{BenchReport, Mode};

/// `[resources]` values proposed from what was measured, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recommendation {
    pub from_mode: Mode,
    pub cpu_request_milli: u64,
    pub cpu_limit_milli: u64,
    pub memory_request: u64,
    pub memory_limit: u64,
    pub reasons: Vec<String>,
    /// Seconds measured at the fixed rate (over every round) and the requests answered 2xx
    /// there: what the values rest on.
    pub measured_seconds: f64,
    pub measured_requests: u64,
    /// Large changes (to half or less, or twice or more, of the current value), said plainly.
    pub warnings: Vec<String>,
    /// Set when `--write` was refused, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_written: Option<String>,
}

const MIB: u64 = 1 << 20;

/// `--write` lowers no limit or request from less than this many seconds measured at the
/// fixed rate (over every round), unless forced: a short run misses the peaks.
pub const MIN_WRITE_SECONDS: f64 = 10.0;
/// …nor from fewer requests answered at the fixed rate than this.
pub const MIN_WRITE_REQUESTS: u64 = 1000;

impl Recommendation {
    /// The values, each with the current one: (key, current, proposed, current and proposed
    /// as written in drydock.toml).
    fn changes(
        &self,
        current: &crate::project::Resources,
    ) -> Vec<(&'static str, u64, u64, String, String)> {
        let cpu = crate::quantity::format_cpu;
        let mib = |b: u64| format!("{}Mi", b / MIB);
        vec![
            (
                "cpu_request",
                current.cpu_request_milli,
                self.cpu_request_milli,
                cpu(current.cpu_request_milli),
                cpu(self.cpu_request_milli),
            ),
            (
                "cpu_limit",
                current.cpu_limit_milli,
                self.cpu_limit_milli,
                cpu(current.cpu_limit_milli),
                cpu(self.cpu_limit_milli),
            ),
            (
                "memory_request",
                current.memory_request,
                self.memory_request,
                mib(current.memory_request),
                mib(self.memory_request),
            ),
            (
                "memory_limit",
                current.memory_limit,
                self.memory_limit,
                mib(current.memory_limit),
                mib(self.memory_limit),
            ),
        ]
    }

    /// The values it would lower, as `key old → new`.
    pub fn lowers(&self, current: &crate::project::Resources) -> Vec<String> {
        self.changes(current)
            .into_iter()
            .filter(|(_, old, new, _, _)| new < old)
            .map(|(k, _, _, old, new)| format!("{k} {old} → {new}"))
            .collect()
    }

    /// May `--write` put these values into drydock.toml without `--force`? Not when it would
    /// lower a value from a run shorter than [`MIN_WRITE_SECONDS`] or with fewer requests than
    /// [`MIN_WRITE_REQUESTS`]: the reason, then.
    pub fn refuse_write(&self, current: &crate::project::Resources) -> Option<String> {
        let lowers = self.lowers(current);
        let short = self.measured_seconds < MIN_WRITE_SECONDS
            || self.measured_requests < MIN_WRITE_REQUESTS;
        (!lowers.is_empty() && short).then(|| {
            format!(
                "not written: it would lower {} from {:.1} s and {} requests measured at the fixed rate, under the minimum of {MIN_WRITE_SECONDS:.0} s and {MIN_WRITE_REQUESTS} requests that --write lowers limits from (a short run misses the peaks)\n  fix: measure longer (e.g. --duration 5s --rounds 3, or a higher --rate), or add --force to write them anyway",
                lowers.join(", "),
                self.measured_seconds,
                self.measured_requests
            )
        })
    }
}

/// The brief's loop, closed: requests near what the service used at the given rate, limits
/// above what it used at its peak, with margins (20 % over the mean, 50 % over the peak), in
/// round steps. Prefers a container's measurement (its cgroup counts everything).
pub fn recommend(r: &BenchReport, current: &crate::project::Resources) -> Option<Recommendation> {
    let m = r
        .modes
        .iter()
        .find(|m| m.mode != Mode::Process)
        .or_else(|| r.modes.first())?;
    let up = |v: f64, step: u64| ((v / step as f64).ceil() as u64).max(1) * step;
    let cpu_request = up(m.cpu_at_rate * 1000.0 * 1.2, 50).max(50);
    let cpu_limit = up(m.cpu_at_max * 1000.0 * 1.5, 100).max(cpu_request);
    let memory_request = up(m.memory_at_rate_bytes as f64 * 1.2, MIB).max(16 * MIB);
    let memory_limit = up(m.peak_memory_bytes as f64 * 1.5, MIB)
        .max(memory_request)
        .max(32 * MIB);
    let mut reasons = vec![
        format!("from {:?}: {:.3} cores at {} req/s, {:.3} at the maximum ({:.0} req/s); {} in use at {} req/s, {} at peak", m.mode, m.cpu_at_rate, r.rate, m.cpu_at_max, m.max.throughput, crate::ui::human_bytes(m.memory_at_rate_bytes), r.rate, crate::ui::human_bytes(m.peak_memory_bytes)),
        "requests: 20 % above the use at the fixed rate; limits: 50 % above the peak".into(),
        format!("the helper sets GOMEMLIMIT to 90 % of the memory limit ({}), so the Go heap stays below it", crate::ui::human_bytes(memory_limit * 9 / 10)),
    ];
    if let Some(t) = m.throttled_periods.filter(|t| *t > 0) {
        reasons.push(format!("the kernel throttled the service {t} times at the current CPU limit ({}m): the maximum run was capped by it", current.cpu_limit_milli));
    }
    if let Some(o) = m.oom_kills.filter(|o| *o > 0) {
        reasons.push(format!(
            "{o} OOM kills at the current memory limit ({}): raise it",
            crate::ui::human_bytes(current.memory_limit)
        ));
    }
    let mut rec = Recommendation {
        from_mode: m.mode,
        cpu_request_milli: cpu_request,
        cpu_limit_milli: cpu_limit,
        memory_request,
        memory_limit,
        reasons,
        measured_seconds: m.fixed_rate.seconds,
        measured_requests: m.fixed_rate.succeeded(),
        warnings: Vec::new(),
        not_written: None,
    };
    for (k, old, new, old_s, new_s) in rec.changes(current) {
        if old > 0 && new.saturating_mul(2) <= old {
            rec.warnings.push(format!("{k}: {old_s} → {new_s}, {:.1}× lower than now, from {:.1} s measured: make sure this run saw the service's real peak load before lowering it", old as f64 / new.max(1) as f64, rec.measured_seconds));
        } else if new > 0 && old.saturating_mul(2) <= new {
            rec.warnings.push(format!(
                "{k}: {old_s} → {new_s}, {:.1}× higher than now",
                new as f64 / old.max(1) as f64
            ));
        }
    }
    Some(rec)
}

/// Writes a recommendation into drydock.toml's `[resources]`, keeping everything else (comments
/// included) as it is; the file is replaced whole (temp file and rename).
pub fn write_resources(path: &std::path::Path, rec: &Recommendation) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !doc.contains_key("resources") {
        doc["resources"] = toml_edit::table();
    }
    let t = doc["resources"]
        .as_table_mut()
        .ok_or_else(|| format!("{}: [resources] is not a table", path.display()))?;
    let mib = |b: u64| format!("{}Mi", b / MIB);
    for (k, v) in [
        (
            "cpu_request",
            crate::quantity::format_cpu(rec.cpu_request_milli),
        ),
        (
            "cpu_limit",
            crate::quantity::format_cpu(rec.cpu_limit_milli),
        ),
        ("memory_request", mib(rec.memory_request)),
        ("memory_limit", mib(rec.memory_limit)),
    ] {
        match t.get_mut(k).and_then(|i| i.as_value_mut()) {
            // Keep the key's decoration (its trailing comment) and change only the value.
            Some(old) => {
                let decor = old.decor().clone();
                *old = toml_edit::Value::from(v);
                *old.decor_mut() = decor;
            }
            None => {
                t.insert(k, toml_edit::value(v));
            }
        }
    }
    crate::fsutil::write_bytes_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seconds: f64, requests: u64) -> Recommendation {
        Recommendation {
            from_mode: Mode::Docker,
            cpu_request_milli: 100,
            cpu_limit_milli: 500,
            memory_request: 32 * MIB,
            memory_limit: 64 * MIB,
            reasons: vec![],
            measured_seconds: seconds,
            measured_requests: requests,
            warnings: vec![],
            not_written: None,
        }
    }

    #[test]
    fn lowering_from_a_short_run_is_refused_and_raising_is_not() {
        let current = crate::project::Resources {
            cpu_request_milli: 250,
            cpu_limit_milli: 1000,
            memory_request: 64 * MIB,
            memory_limit: 256 * MIB,
        };
        let why = rec(3.0, 600).refuse_write(&current).unwrap();
        assert!(why.contains("memory_limit 256Mi → 64Mi"), "{why}");
        assert!(
            why.contains("from 3.0 s and 600 requests") && why.contains("--force"),
            "{why}"
        );
        assert!(
            rec(12.0, 2400).refuse_write(&current).is_none(),
            "long enough"
        );
        assert!(
            rec(12.0, 500).refuse_write(&current).is_some(),
            "too few requests"
        );
        let low = crate::project::Resources {
            cpu_request_milli: 50,
            cpu_limit_milli: 100,
            memory_request: 16 * MIB,
            memory_limit: 32 * MIB,
        };
        assert!(rec(1.0, 10).refuse_write(&low).is_none(), "raising only");
    }

    #[test]
    fn writing_keeps_comments_and_other_keys() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("drydock.toml");
        std::fs::write(&p, "# top\nname = \"api\"\n\n[resources]  # limits\ncpu_request = \"250m\"  # the request\nmemory_limit = \"256Mi\"\n\n[health]\npath = \"/healthz\"\n").unwrap();
        let rec = Recommendation {
            from_mode: Mode::Docker,
            cpu_request_milli: 100,
            cpu_limit_milli: 1500,
            memory_request: 32 * MIB,
            memory_limit: 64 * MIB,
            reasons: vec![],
            measured_seconds: 12.0,
            measured_requests: 2400,
            warnings: vec![],
            not_written: None,
        };
        write_resources(&p, &rec).unwrap();
        let out = std::fs::read_to_string(&p).unwrap();
        assert!(out.starts_with("# top\nname = \"api\""), "{out}");
        assert!(
            out.contains("cpu_request = \"100m\"  # the request"),
            "{out}"
        );
        assert!(out.contains("memory_limit = \"64Mi\""), "{out}");
        assert!(
            out.contains("cpu_limit = \"1500m\"") || out.contains("cpu_limit = \"1.5\""),
            "{out}"
        );
        assert!(out.contains("[health]\npath = \"/healthz\""), "{out}");
        let cfg = crate::config::Config::parse(&out, &p).unwrap();
        assert_eq!(cfg.resources.memory_request, Some(32 << 20));
    }
}
