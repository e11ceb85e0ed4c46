//! The generator's modules (`build/`), compiled again here so their unit tests run with the
//! crate's: `cargo test --lib schema::generator`.

#![allow(dead_code)]

#[path = "../../build/emit.rs"]
mod emit;
#[path = "../../build/join.rs"]
mod join;
#[path = "../../build/locate.rs"]
mod locate;
#[path = "../../build/openapi_src.rs"]
mod openapi_src;
#[path = "../../build/pb_src.rs"]
mod pb_src;
#[path = "../../build/rules.rs"]
mod rules;
