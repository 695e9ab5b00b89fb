//! prodsim: explore, train and evaluate product-similarity models.
pub mod catalog;
pub mod cli;
pub mod error;
pub mod eval;
pub mod jobs;
pub mod judgements;
pub mod model;
pub mod rank;
pub mod sample;
pub mod synth;
pub mod text;
