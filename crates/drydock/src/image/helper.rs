//! drydock-helper, as compiled by build.rs and embedded in drydock: the image's init, its
//! GOMAXPROCS/GOMEMLIMIT setter and its health probe (see crates/drydock-helper).

use super::layer::{Content, Entry, LayerSpec};

pub const HELPER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/drydock-helper"));
pub const HELPER_PATH: &str = "/usr/local/bin/drydock-helper";

pub fn helper_layer(mtime: u64) -> LayerSpec {
    let mut l = LayerSpec::new("helper", mtime);
    l.push(Entry::file(
        HELPER_PATH,
        0o555,
        Content::Bytes(HELPER.to_vec()),
    ));
    l
}
