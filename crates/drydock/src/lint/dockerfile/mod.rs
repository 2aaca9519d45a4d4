//! Dockerfiles: parsing them exactly as BuildKit does.

pub mod expand;
pub mod parser;
pub mod shell;
pub mod stages;

pub use parser::{parse, Dockerfile, Instruction, ParseError};
