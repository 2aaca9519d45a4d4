//! Kubernetes rules: one file each, over all objects of the files linted together.

pub mod ks001_missing_resources;
pub mod ks002_limits_below_requests;
pub mod ks003_missing_probes;
pub mod ks004_identical_probes;
pub mod ks006_writable_root;
pub mod ks007_ingress_without_tls;
pub mod ks008_literal_secret_env;
pub mod ks009_image_tag;
pub mod ks010_service_port;
pub mod ks011_hpa_without_requests;
pub mod ks012_no_pdb;
pub mod ks013_go_without_gomaxprocs;
