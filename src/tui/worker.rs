//! Background work for the explorer: ranking, fuzzy matching, the keyword
//! index and retraining run on their own threads and report back through
//! the event queue. Each request carries a generation; the app drops
//! results of any generation but the newest.

use super::Msg;
use super::action::Action;
use super::app::{App, Effect};
use crate::catalog::Catalog;
use crate::index::KeywordIndex;
use crate::jobs::Progress;
use crate::model::{Model, train};
use crate::rank::{Query, neighbours};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A request slot that keeps only the newest request: a worker that falls
/// behind skips straight to what the user typed last.
struct Latest<T> {
    slot: Mutex<Option<T>>,
    wake: Mutex<Sender<()>>,
}

fn latest<T: Send + 'static>() -> (Arc<Latest<T>>, Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    (
        Arc::new(Latest {
            slot: Mutex::new(None),
            wake: Mutex::new(tx),
        }),
        rx,
    )
}

impl<T> Latest<T> {
    fn put(&self, value: T) {
        if let Ok(mut s) = self.slot.lock() {
            *s = Some(value);
        }
        if let Ok(w) = self.wake.lock() {
            let _ = w.send(());
        }
    }
    fn take(&self) -> Option<T> {
        self.slot.lock().ok().and_then(|mut s| s.take())
    }
}

struct RankRequest {
    generation: u64,
    query: Query,
    k: usize,
    model: Arc<Model>,
}

/// Reports job progress into the event queue, throttled to whole percents.
struct QueueProgress {
    job: &'static str,
    tx: Sender<Msg>,
    last: AtomicU64,
}

impl Progress for QueueProgress {
    fn update(&self, stage: &str, done: u64, total: u64) {
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        if self.last.swap(pct, Ordering::Relaxed) != pct || done == total {
            let _ = self.tx.send(Msg::Act(Action::JobProgress {
                job: self.job,
                stage: stage.to_string(),
                done,
                total,
            }));
        }
    }
}

/// The explorer's worker threads.
pub struct Workers {
    tx: Sender<Msg>,
    catalog: Arc<Catalog>,
    rank: Arc<Latest<RankRequest>>,
    fuzzy: crate::fuzzy::FuzzyWorker,
    keyword_index: Arc<Mutex<Option<Arc<KeywordIndex>>>>,
    keyword_building: bool,
    pending_model: Arc<Mutex<Option<Arc<Model>>>>,
    retraining: bool,
}

impl Workers {
    pub fn start(catalog: Arc<Catalog>, model: Arc<Model>, tx: Sender<Msg>) -> Workers {
        let (rank, wake) = latest::<RankRequest>();
        {
            let rank = rank.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                while wake.recv().is_ok() {
                    let Some(req) = rank.take() else { continue };
                    let started = Instant::now();
                    let result =
                        neighbours(&req.model, &req.query, req.k, true).map_err(|e| e.to_string());
                    let msg = Msg::Act(Action::RankingReady {
                        generation: req.generation,
                        result,
                        millis: started.elapsed().as_secs_f64() * 1e3,
                    });
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
            });
        }
        let titles: Vec<String> = (0..model.len() as u32)
            .map(|i| model.title(i).to_string())
            .collect();
        let fuzzy = {
            let tx = tx.clone();
            crate::fuzzy::FuzzyWorker::start(titles, move |ev| {
                let _ = tx.send(Msg::Act(Action::PickerReady {
                    generation: ev.generation,
                    items: ev.items,
                    total: ev.total,
                    done: ev.done,
                    millis: ev.millis,
                }));
            })
        };
        Workers {
            tx,
            catalog,
            rank,
            fuzzy,
            keyword_index: Arc::new(Mutex::new(None)),
            keyword_building: false,
            pending_model: Arc::new(Mutex::new(None)),
            retraining: false,
        }
    }

    /// Starts the work the app asked for.
    pub fn run_effects(&mut self, app: &mut App) {
        for effect in app.take_effects() {
            match effect {
                Effect::Rank {
                    generation,
                    query,
                    k,
                } => self.rank.put(RankRequest {
                    generation,
                    query,
                    k,
                    model: app.model.clone(),
                }),
                Effect::Fuzzy {
                    generation,
                    pattern,
                } => self.fuzzy.submit(pattern, generation),
                Effect::BuildKeywordIndex => self.build_keyword_index(),
                Effect::Keyword { generation, query } => self.keyword(generation, query),
                Effect::Retrain => self.retrain(app),
                Effect::Evaluate {
                    generation,
                    judgements,
                } => {
                    let model = app.model.clone();
                    let tx = self.tx.clone();
                    std::thread::spawn(move || {
                        let started = Instant::now();
                        let result = crate::eval::evaluate_with_pairs(&model, &judgements, 10)
                            .map(Box::new)
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Act(Action::EvaluationReady {
                            generation,
                            result,
                            millis: started.elapsed().as_secs_f64() * 1e3,
                        }));
                    });
                }
            }
        }
    }

    fn build_keyword_index(&mut self) {
        if self.keyword_building {
            return;
        }
        self.keyword_building = true;
        let catalog = self.catalog.clone();
        let slot = self.keyword_index.clone();
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let progress = QueueProgress {
                job: "keyword index",
                tx: tx.clone(),
                last: AtomicU64::new(u64::MAX),
            };
            let result = KeywordIndex::build(&catalog, &progress).map(|index| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(Arc::new(index));
                }
            });
            let _ = tx.send(Msg::Act(Action::KeywordIndexReady(
                result.map_err(|e| e.to_string()),
            )));
        });
    }

    fn keyword(&self, generation: u64, query: String) {
        let Some(index) = self.keyword_index.lock().ok().and_then(|s| s.clone()) else {
            return;
        };
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let result = index
                .search(&query, 200)
                .map(|hits| hits.into_iter().map(|h| (h.row, h.score)).collect())
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::Act(Action::KeywordReady {
                generation,
                result,
                millis: started.elapsed().as_secs_f64() * 1e3,
            }));
        });
    }

    fn retrain(&mut self, app: &App) {
        if self.retraining {
            return;
        }
        self.retraining = true;
        let catalog = self.catalog.clone();
        let config = app.model.config.clone();
        let tx = self.tx.clone();
        let pending = self.pending_model.clone();
        std::thread::spawn(move || {
            let progress = QueueProgress {
                job: "retrain",
                tx: tx.clone(),
                last: AtomicU64::new(u64::MAX),
            };
            let started = Instant::now();
            let result = train(&catalog, &config, &progress).map(|(model, _)| {
                let id = model.meta.model_id.clone();
                if let Ok(mut p) = pending.lock() {
                    *p = Some(Arc::new(model));
                }
                format!(
                    "retrained model {id} in {:.1} s (not saved; use prodsim train to keep it)",
                    started.elapsed().as_secs_f64()
                )
            });
            let _ = tx.send(Msg::Act(Action::RetrainDone(
                result.map_err(|e| e.to_string()),
            )));
        });
    }

    /// Installs a model finished by the retraining worker.
    pub fn install_pending_model(&mut self, app: &mut App) {
        let model = self.pending_model.lock().ok().and_then(|mut p| p.take());
        if let Some(model) = model {
            self.retraining = false;
            app.install_model(model);
        }
    }
}
