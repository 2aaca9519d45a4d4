//! Dockerfiles: parsing them exactly as BuildKit does.

pub mod parser;

pub use parser::{parse, Dockerfile, Instruction, ParseError};
