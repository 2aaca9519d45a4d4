//! The rules, one file each, grouped by the kind of file they check.

pub mod compose;
pub mod dockerfile;
pub mod dockerignore;
pub mod helpers;
pub mod kubernetes;
pub mod pod_security;
pub mod yaml;
