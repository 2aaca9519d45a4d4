//! Whether an environment variable's value is a secret written into a file: the one judgement
//! behind the lint rules DF008 (Dockerfile `ENV`), KS008 (a Kubernetes container's `env`) and
//! CP007 (a Compose service's `environment`), and behind the build's refusal of a literal secret
//! in drydock.toml's `[image] env`.

/// What a literal environment value is, for the secret rules (DF008, KS008, CP007).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// A credential written into the file.
    Literal,
    /// A password inside a URL (`postgres://app:s3cr3t@db/app`).
    InUrl,
    /// A secret-named variable with an obvious placeholder (`changeme`, `xxx`, `000…`): worth
    /// a note, not an error.
    Placeholder,
}

/// Whether `name=value` puts a secret in the file: a secret-named variable with a literal
/// value, or any value that is a URL with a password in it (`postgres://app:s3cr3t@db/app`).
/// The one judgement DF008, KS008 and CP007 share. Not literals: references (`$VAR`, `${VAR}`,
/// `prefix-${VAR}`, `$(cat file)`, `vault:secret/x`, `arn:aws:secretsmanager:…`, `op://…`),
/// empty values, booleans, and values that name where the secret is rather than being it (see
/// [`names_a_file`]).
pub fn secret_literal(name: &str, value: &str) -> Option<Secret> {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if v.is_empty() || reference(v) {
        return None;
    }
    if let Some(password) = url_password(v) {
        return Some(if placeholder(password) {
            Secret::Placeholder
        } else {
            Secret::InUrl
        });
    }
    if !secretish(name)
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off"
        )
    {
        return None;
    }
    if names_a_file(name, v) {
        return None;
    }
    Some(if placeholder(v) {
        Secret::Placeholder
    } else {
        Secret::Literal
    })
}

/// A value that stands for a secret kept elsewhere: an interpolation (`$VAR`, `${VAR}`, also
/// inside text), a command substitution, or a secret manager's reference.
fn reference(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.contains("${")
        || v.contains("$(")
        || v.starts_with("{{")
        || [
            "vault:",
            "ref+",
            "op://",
            "sm://",
            "gcpsm://",
            "awssm:",
            "awssecrets:",
            "azurekeyvault:",
            "arn:aws:secretsmanager:",
            "arn:aws:ssm:",
            "projects/",
            "secretref:",
            "secret://",
            "k8s://",
            "file:",
            "env:",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// A value that names where a secret is (a file) rather than being it: a path (`/run/secrets/x`,
/// `./key.pem`, `~/.aws/credentials`, `C:\\keys\\x`), a file name with a file's extension
/// (`key.json`, `kafka.pass`, `tls.key`), and for `*_CREDENTIALS` names a credentials file's name
/// (`broker_keystore_creds`: Confluent's `KAFKA_SSL_*_CREDENTIALS` name a file in
/// /etc/kafka/secrets).
pub fn names_a_file(name: &str, v: &str) -> bool {
    if v.contains(char::is_whitespace) {
        return false;
    }
    if v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.get(1..3) == Some(":\\")
    {
        return true;
    }
    if let Some((stem, ext)) = v.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if !stem.is_empty()
            && [
                "json",
                "pem",
                "key",
                "crt",
                "cer",
                "der",
                "p12",
                "pfx",
                "jks",
                "keystore",
                "truststore",
                "pass",
                "password",
                "passwd",
                "txt",
                "creds",
                "cred",
                "secret",
                "token",
                "conf",
                "cfg",
                "ini",
                "yaml",
                "yml",
                "env",
                "gpg",
                "asc",
                "pub",
                "kdbx",
            ]
            .contains(&ext.as_str())
        {
            return true;
        }
    }
    let upper = name.to_ascii_uppercase();
    let lower = v.to_ascii_lowercase();
    upper.ends_with("CREDENTIALS")
        && (lower.ends_with("creds") || lower.ends_with("credentials"))
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// What a secret finding says about variable `name`: the literal, the URL or the placeholder.
pub fn secret_problem(name: &str, kind: Secret) -> String {
    match kind {
        Secret::InUrl => format!("{name} has a password in its URL"),
        Secret::Literal => format!("{name} has a literal value"),
        Secret::Placeholder => format!("{name} has a literal value (it looks like a placeholder)"),
    }
}

/// The words that name a secret, alone or after its purpose (`DB_PASSWORD`), and that may also
/// follow one (`DB_PASSWORD_SECRET`).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "PASSPHRASE",
    "CREDENTIALS",
];

/// Whether an environment variable's name says it holds a secret (`DB_PASSWORD`, `API_TOKEN`,
/// `AWS_SECRET_ACCESS_KEY`), as opposed to pointing at one (`DB_PASSWORD_FILE`, `TOKEN_URL`),
/// naming or identifying one (`SECRET_NAME`, `SECRET_ID`, `DB_USERNAME`), counting or limiting
/// (`MAX_TOTAL_TOKENS`, `PASSWORD_MIN_LENGTH`) or switching behaviour
/// (`MYSQL_ALLOW_EMPTY_PASSWORD`, `MYSQL_RANDOM_ROOT_PASSWORD`, `VNC_NO_PASSWORD`).
pub fn secretish(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // The words that make a name a secret's: the last one that does decides.
    let secret_at = words
        .iter()
        .rposition(|w| {
            SECRET_WORDS.contains(w) || matches!(*w, "AUTHTOKEN" | "SECRETKEY" | "PRIVATEKEY")
        })
        .or_else(|| {
            // Two-word ones: API_KEY, PRIVATE_KEY, ACCESS_KEY, SIGNING_KEY, ENCRYPTION_KEY.
            words
                .windows(2)
                .rposition(|w| {
                    w[1] == "KEY"
                        && matches!(
                            w[0],
                            "API"
                                | "PRIVATE"
                                | "ACCESS"
                                | "SIGNING"
                                | "ENCRYPTION"
                                | "MASTER"
                                | "LICENSE"
                        )
                })
                .map(|i| i + 1)
        });
    let Some(at) = secret_at else {
        return false;
    };
    // `PWD` alone is the shell's working directory.
    if words == ["PWD"] {
        return false;
    }
    // What follows the secret word says what the variable is about.
    let about = |w: &str| {
        matches!(
            w,
            "FILE"
                | "PATH"
                | "DIR"
                | "URL"
                | "URI"
                | "HOST"
                | "PORT"
                | "ENDPOINT"
                | "NAME"
                | "USER"
                | "USERNAME"
                | "ID"
                | "TYPE"
                | "HEADER"
                | "LENGTH"
                | "LEN"
                | "SIZE"
                | "MIN"
                | "MAX"
                | "COUNT"
                | "LIMIT"
                | "TTL"
                | "EXPIRY"
                | "EXPIRES"
                | "EXPIRATION"
                | "LIFETIME"
                | "TIMEOUT"
                | "ENABLED"
                | "DISABLED"
                | "REQUIRED"
                | "ALGORITHM"
                | "ALG"
                | "FORMAT"
                | "POLICY"
                | "ROTATION"
                | "REALM"
                | "ISSUER"
                | "AUDIENCE"
                | "SCOPE"
                | "SCOPES"
                | "PREFIX"
                | "REF"
                | "ARN"
                | "VERSION"
                | "MODE"
                | "METHOD"
                | "KIND"
                | "COMMAND"
                | "CMD"
                | "FIELD"
                | "PARAM"
                | "LOCATION"
                | "STORE"
                | "PROVIDER"
                | "SOURCE"
                | "HASH"
                | "SALT_ROUNDS"
                | "ROUNDS"
                | "STRENGTH"
        )
    };
    if words[at + 1..].iter().any(|w| about(w)) {
        return false;
    }
    // After the secret word, only words that still say "the value" (`SECRET_KEY_BASE`,
    // `TOKEN_B64`, `PASSWORD_2`): anything else makes the secret word a prefix or a qualifier
    // (`SECRET_LOCAL_HOSTNAME`, hemmelig's `SECRET_*` settings; `TOKEN_AUDIENCE`).
    let value_word = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit())
            || matches!(
                w,
                "KEY"
                    | "KEYS"
                    | "BASE"
                    | "VALUE"
                    | "STRING"
                    | "STR"
                    | "B64"
                    | "BASE64"
                    | "HEX"
                    | "RAW"
                    | "PLAIN"
                    | "PLAINTEXT"
                    | "TEXT"
                    | "ACCESS"
                    | "DEFAULT"
                    | "PROD"
                    | "PRODUCTION"
                    | "DEV"
                    | "STAGING"
                    | "TEST"
                    | "LOCAL"
                    | "OLD"
                    | "NEW"
                    | "CURRENT"
                    | "PRIMARY"
                    | "SECONDARY"
                    | "ROOT"
                    | "ADMIN"
            )
            || SECRET_WORDS.contains(&w)
    };
    if !words[at + 1..].iter().all(|w| value_word(w)) {
        return false;
    }
    // Counts, limits, flags and switches anywhere in the name.
    let not_a_value = |w: &str| {
        matches!(
            w,
            "MAX"
                | "MIN"
                | "TOTAL"
                | "COUNT"
                | "NUM"
                | "NUMBER"
                | "LIMIT"
                | "TOKENS"
                | "ALLOW"
                | "ALLOWED"
                | "NO"
                | "RANDOM"
                | "EMPTY"
                | "SKIP"
                | "DISABLE"
                | "ENABLE"
                | "USE"
                | "REQUIRE"
                | "GENERATE"
                | "RESET"
                | "CHANGE"
                | "EXPIRE"
                | "FORCE"
                | "ONETIME"
        )
    };
    !words.iter().any(|w| not_a_value(w))
}

/// The password of a URL with credentials in it (`scheme://user:password@host`).
pub fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    // `${USER:-app}:${PASS:-app}`: a reference with a default, not a literal.
    if userinfo.contains('$') {
        return None;
    }
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// An obvious placeholder: `changeme`, `xxx`, `000000`, `<password>`, `your-token-here`…
pub fn placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    let same = |c: char| v.len() >= 3 && v.chars().all(|x| x == c);
    same('x')
        || same('0')
        || same('*')
        || same('.')
        || same('-')
        || (v.starts_with('<') && v.ends_with('>'))
        || [
            "changeme",
            "change_me",
            "change-me",
            "changeit",
            "replaceme",
            "replace_me",
            "replace-me",
            "your",
            "placeholder",
            "example",
            "dummy",
            "todo",
            "fixme",
            "redacted",
            "notasecret",
            "not-a-secret",
            "fake",
        ]
        .iter()
        .any(|p| v.contains(p))
        || matches!(
            v.as_str(),
            "password" | "secret" | "token" | "pass" | "test" | "none" | "null" | "default"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for yes in [
            "DB_PASSWORD",
            "API_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "STRIPE_API_KEY",
            "DB_PASS",
            "GITHUB_TOKEN",
            "JWT_SECRET",
            "client_secret",
        ] {
            assert!(secretish(yes), "{yes}");
        }
        for no in [
            "MAX_TOTAL_TOKENS",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "VNC_NO_PASSWORD",
            "DB_PASSWORD_FILE",
            "SECRET_ID",
            "SECRET_NAME",
            "TOKEN_URL",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_REALM",
            "PWD",
            "LOG_LEVEL",
            "TOKEN_TTL",
        ] {
            assert!(!secretish(no), "{no}");
        }
    }

    #[test]
    fn secret_values() {
        assert_eq!(
            secret_literal("DB_PASSWORD", "hunter2"),
            Some(Secret::Literal)
        );
        assert_eq!(
            secret_literal("DB_PASSWORD", "changeme"),
            Some(Secret::Placeholder)
        );
        assert_eq!(
            secret_literal("DB_PASSWORD", "000000"),
            Some(Secret::Placeholder)
        );
        assert_eq!(secret_literal("DB_PASSWORD", "${DB_PASSWORD}"), None);
        assert_eq!(secret_literal("DB_PASSWORD", ""), None);
        assert_eq!(
            secret_literal("DATABASE_URL", "postgres://u:p4ss@db/x"),
            Some(Secret::InUrl)
        );
        assert_eq!(secret_literal("DATABASE_URL", "postgres://u@db/x"), None);
        assert_eq!(
            secret_literal("DATABASE_URL", "postgres://u:$PW@db/x"),
            None
        );
        assert_eq!(
            secret_literal("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/key.json"),
            None
        );
        assert_eq!(secret_literal("USE_TOKEN", "true"), None);
    }

    #[test]
    fn values_that_name_where_the_secret_is() {
        for (name, value) in [
            ("KAFKA_SSL_KEYSTORE_CREDENTIALS", "kafka.pass"),
            ("KAFKA_SSL_KEY_CREDENTIALS", "broker_sslkey_creds"),
            (
                "KAFKA_SSL_TRUSTSTORE_CREDENTIALS",
                "/etc/kafka/secrets/x_creds",
            ),
            ("GOOGLE_APPLICATION_CREDENTIALS", "key.json"),
            ("TLS_PRIVATE_KEY", "tls.key"),
            ("DB_PASSWORD", "~/.pgpass"),
            ("DB_PASSWORD", "vault:secret/data/db#password"),
            ("API_TOKEN", "arn:aws:secretsmanager:eu-west-1:1:secret:x"),
            ("API_TOKEN", "op://vault/item/token"),
            ("AUTH_HEADER_TOKEN", "Bearer ${TOKEN}"),
            (
                "DATABASE_URL",
                "postgresql://${PG_USER:-app}:${PG_PASS:-app}@db/app",
            ),
        ] {
            assert_eq!(secret_literal(name, value), None, "{name}={value}");
        }
        // Still literals: a password that happens to contain a dot, a URL password.
        assert_eq!(
            secret_literal("DB_PASSWORD", "s3cr3t.v2x"),
            Some(Secret::Literal)
        );
        assert_eq!(
            secret_literal("KAFKA_SSL_KEY_CREDENTIALS", "hunter2"),
            Some(Secret::Literal)
        );
    }

    #[test]
    fn a_secret_word_as_a_prefix_is_not_a_secret() {
        assert!(!secretish("SECRET_LOCAL_HOSTNAME"));
        assert!(!secretish("SECRET_FORCED_LANGUAGE"));
        assert!(secretish("SECRET_JWT_SECRET"));
        assert!(secretish("SECRET_KEY_BASE"));
        assert!(secretish("DB_PASSWORD_2"));
        assert!(secretish("KAFKA_SSL_KEYSTORE_CREDENTIALS"));
    }
}
