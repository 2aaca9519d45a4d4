//! Units as Kubernetes and people write them: resource quantities (CPU in cores or millicores,
//! `1`, `1.5`, `500m`; memory in bytes with binary or decimal suffixes, `256Mi`, `1Gi`, `500M`,
//! `134217728`), and byte sizes for reports.

/// CPU in millicores.
pub fn parse_cpu(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.strip_suffix('m') {
        Some(n) => (n, 1.0),
        None => (s, 1000.0),
    };
    let v: f64 = num.parse().map_err(|_| {
        format!(
            "{s:?} is not a CPU quantity (write cores like \"1.5\" or millicores like \"500m\")"
        )
    })?;
    let milli = v * mult;
    if !(milli >= 1.0 && milli.is_finite()) || milli.fract() != 0.0 && mult == 1.0 {
        return Err(format!("{s:?} is not a CPU quantity of at least 1m"));
    }
    Ok(milli.round() as u64)
}

/// Memory in bytes.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let bad =
        || format!("{s:?} is not a memory quantity (write e.g. \"256Mi\", \"1Gi\" or \"500M\")");
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let mult: f64 = match suffix {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        _ => return Err(bad()),
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    let bytes = v * mult;
    if !(bytes >= 1.0 && bytes.is_finite()) {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// Millicores as Docker's `--cpus` value.
pub fn cpus_flag(milli: u64) -> String {
    let s = format!("{:.3}", milli as f64 / 1000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Millicores as a Kubernetes quantity: whole cores plainly, else millicores.
pub fn format_cpu(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        format!("{}", milli / 1000)
    } else {
        format!("{milli}m")
    }
}

/// Bytes as a Kubernetes quantity, in the largest binary unit that divides them.
pub fn format_memory(bytes: u64) -> String {
    for (unit, size) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// Bytes for people: `812 B`, `3.1 MB` (decimal units, as registries and Docker report them).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(parse_cpu("1").unwrap(), 1000);
        assert_eq!(parse_cpu("1.5").unwrap(), 1500);
        assert_eq!(parse_cpu("250m").unwrap(), 250);
        assert!(parse_cpu("500x").is_err());
        assert!(parse_cpu("0").is_err());
        assert!(parse_cpu("1.5m").is_err());
        assert_eq!(cpus_flag(1500), "1.5");
        assert_eq!(cpus_flag(1000), "1");
        assert_eq!(cpus_flag(250), "0.25");
        assert_eq!(format_cpu(1000), "1");
        assert_eq!(format_cpu(250), "250m");
        assert_eq!(format_memory(256 << 20), "256Mi");
        assert_eq!(format_memory(1 << 30), "1Gi");
        assert_eq!(format_memory(1000), "1000");
    }

    #[test]
    fn memory() {
        assert_eq!(parse_memory("256Mi").unwrap(), 256 << 20);
        assert_eq!(parse_memory("1Gi").unwrap(), 1 << 30);
        assert_eq!(parse_memory("500M").unwrap(), 500_000_000);
        assert_eq!(parse_memory("1024").unwrap(), 1024);
        assert!(parse_memory("500x").is_err());
        assert!(parse_memory("Mi").is_err());
        assert!(parse_memory("0").is_err());
    }
}
