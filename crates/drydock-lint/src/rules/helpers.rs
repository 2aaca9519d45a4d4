//! Judgements the rules of several kinds share, so that a Dockerfile, a Compose file and a
//! Kubernetes manifest are held to the same standard.

/// Whether an environment variable's name says it holds a secret (`DB_PASSWORD`, `API_TOKEN`),
/// as opposed to pointing at one (`DB_PASSWORD_FILE`, `TOKEN_URL`).
pub fn secretish(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    // Names that point at a secret, or describe one, are not one.
    let about = [
        "_FILE",
        "_PATH",
        "_DIR",
        "_URL",
        "_URI",
        "_HOST",
        "_PORT",
        "_ENDPOINT",
        "_NAME",
        "_USER",
        "_TYPE",
        "_HEADER",
    ];
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIALS",
    ]
    .iter()
    .any(|k| n.contains(k))
        && !about.iter().any(|s| n.ends_with(s))
}

/// Whether a user (`root`, `0`, `0:0`, `root:staff`) is root.
pub fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or(user).trim();
    u == "root" || u == "0"
}
