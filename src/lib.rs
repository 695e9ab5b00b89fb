//! prodsim: explore, train and evaluate product-similarity models.
pub mod synth;
