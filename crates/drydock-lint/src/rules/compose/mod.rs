//! Compose rules, one file each.

pub mod cp001_published_app_port;
pub mod cp002_implicit_all_interfaces;
pub mod cp003_privileged;
pub mod cp004_root_user;
pub mod cp005_no_limits;
pub mod cp006_no_healthcheck;
pub mod cp007_literal_secret_env;
pub mod cp008_host_network;
pub mod cp009_unpinned_image;
