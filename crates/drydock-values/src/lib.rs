//! What the values people write mean, for the linter and the build alike: Kubernetes resource
//! quantities and byte sizes ([`units`]), and whether an environment variable's value is a
//! secret written into a file ([`secret`]).
//!
//! The crate sits below both `drydock-lint` and `drydock`, so that the build reads `cpu = "500m"`
//! in drydock.toml, and refuses a password in `[image] env`, by the same judgement the lint rules
//! apply to a manifest or a Dockerfile, without the build depending on the linter. It has no
//! dependencies.
//!
//! ```
//! use drydock_values::secret::{secret_literal, Secret};
//! use drydock_values::units::{cpus_flag, format_memory, parse_cpu, parse_memory};
//!
//! assert_eq!(parse_cpu("500m"), Ok(500));
//! assert_eq!(cpus_flag(parse_cpu("1.5").unwrap()), "1.5"); // Docker's --cpus
//! assert_eq!(format_memory(parse_memory("256Mi").unwrap()), "256Mi");
//! assert!(parse_memory("lots").is_err());
//!
//! assert_eq!(secret_literal("DB_PASSWORD", "hunter2"), Some(Secret::Literal));
//! assert_eq!(secret_literal("DB_PASSWORD", "${DB_PASSWORD}"), None); // a reference
//! assert_eq!(secret_literal("DB_PASSWORD_FILE", "/run/secrets/db"), None);
//! ```

pub mod secret;
pub mod units;
