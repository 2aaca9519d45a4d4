//! `drydock lint`'s building blocks. So far: a Dockerfile parser that behaves like BuildKit's.
//! The rule engine, the catalog and the outputs come next (issue 5).

pub mod dockerfile;
