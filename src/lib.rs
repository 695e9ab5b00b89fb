//! prodsim: explore, train and evaluate product-similarity models.
//!
//! A catalogue ([`catalog::Catalog`]) is turned into weighted tokens by a
//! preprocessing pipeline ([`text::Analyzer`]), trained into a TF-IDF or
//! BM25 model ([`model::train`]) that is saved and opened through a
//! documented file layout ([`model::format`]), queried for exact top-k
//! neighbours with per-token explanations ([`rank::neighbours`]) and
//! evaluated against relevance judgements ([`eval::evaluate`]). Two models
//! are compared and gated as champion and challenger ([`compare::compare`])
//! and kept in a models directory with aliases ([`registry`]). The command
//! line ([`cli`]) is a thin layer over these functions.
//!
//! ```
//! use prodsim::catalog::{Catalog, CatalogOptions};
//! use prodsim::model::{ModelConfig, train};
//! use prodsim::jobs::NoProgress;
//! use prodsim::rank::{Query, neighbours};
//!
//! let csv = "id,title\n1,Panasonic KX-TS3282B phone\n2,Sony WH-1000XM4 headphones\n";
//! let catalog = Catalog::from_bytes("shop.csv".as_ref(), csv.as_bytes(), &CatalogOptions::default())?;
//! let (model, _report) = train(&catalog, &ModelConfig::default(), &NoProgress)?;
//! let ranking = neighbours(&model, &Query::Text("kxts3282b".into()), 1, true)?;
//! let best = &ranking.results[0];
//! assert_eq!(best.item_id, "1");
//! let sum: f64 = best.breakdown.as_ref().unwrap().iter().map(|t| t.contribution).sum();
//! assert!((sum - best.score).abs() < 1e-6);
//! # Ok::<(), prodsim::error::Error>(())
//! ```
pub mod ab;
pub mod batch;
pub mod catalog;
pub mod cli;
pub mod compare;
pub mod error;
pub mod eval;
pub mod fuzzy;
pub mod index;
pub mod jobs;
pub mod judgements;
pub mod labels;
pub mod model;
pub mod rank;
pub mod registry;
pub mod sample;
mod scan;
pub mod synth;
pub mod text;
pub mod tui;
