//! prodsim: explore, train and evaluate product-similarity models.
pub mod catalog;
pub mod error;
pub mod jobs;
pub mod model;
pub mod synth;
pub mod text;
