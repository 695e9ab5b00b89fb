//! Background work for the explorer: reading the catalogue, ranking (by
//! model A and by model B), fuzzy matching, the keyword index, retraining,
//! the A/B figures and saving run on their own threads and report back
//! through the event queue. Each request carries a generation; the app
//! drops results of any generation but the newest.

use super::Msg;
use super::action::{Action, LoadedCatalog, Side, Trained};
use super::app::{self, App, Effect};
use crate::catalog::Catalog;
use crate::index::KeywordIndex;
use crate::jobs::{CancelFlag, Progress};
use crate::model::{Model, ModelConfig};
use crate::rank::{Query, neighbours};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    side: Side,
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

/// A training's progress as the job last reported it; a ticker thread
/// re-sends it with the time elapsed so the gauge moves between reports.
struct TrainProgress {
    generation: u64,
    tx: Sender<Msg>,
    started: Instant,
    cancel: Arc<CancelFlag>,
    state: Mutex<(String, u64, u64)>,
    last_pct: AtomicU64,
}

impl TrainProgress {
    fn send(&self) {
        let (stage, done, total) = self
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|_| (String::new(), 0, 0));
        let _ = self.tx.send(Msg::Act(Action::TrainProgress {
            generation: self.generation,
            stage,
            done,
            total,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }));
    }
}

impl Progress for TrainProgress {
    fn update(&self, stage: &str, done: u64, total: u64) {
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        let new_stage = match self.state.lock() {
            Ok(mut s) => {
                let new_stage = s.0 != stage;
                *s = (stage.to_string(), done, total);
                new_stage
            }
            Err(_) => false,
        };
        if self.last_pct.swap(pct, Ordering::Relaxed) != pct || new_stage {
            self.send();
        }
    }
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Starts a thread answering rank requests from one slot.
fn spawn_ranker(slot: Arc<Latest<RankRequest>>, wake: Receiver<()>, tx: Sender<Msg>) {
    std::thread::spawn(move || {
        while wake.recv().is_ok() {
            let Some(req) = slot.take() else { continue };
            let started = Instant::now();
            let result = neighbours(&req.model, &req.query, req.k, true).map_err(|e| e.to_string());
            let msg = Msg::Act(Action::RankingReady {
                side: req.side,
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

/// A piece of work for a [`serial`] worker.
type Job = Box<dyn FnOnce(&Sender<Msg>) + Send>;

/// A thread that runs one job at a time and, when it falls behind, only
/// the newest: the A/B figures take seconds on big judgement sets, and a
/// retraining or swap in the meantime makes the queued ones moot. Its
/// jobs' parallel loops get one thread of their own, so the figures never
/// take every core from ranking and retraining (measured on the sample
/// with two cores: a retraining during an A/B evaluation on the shared
/// pool took 1-2.5 s instead of 0.1 s).
fn serial(tx: Sender<Msg>) -> Arc<Latest<Job>> {
    let (slot, wake) = latest::<Job>();
    let jobs = slot.clone();
    std::thread::spawn(move || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
        while wake.recv().is_ok() {
            if let Some(job) = jobs.take() {
                match &pool {
                    Some(pool) => pool.install(|| job(&tx)),
                    None => job(&tx),
                }
            }
        }
    });
    slot
}

/// The fuzzy picker's worker once it is up, and the newest search asked
/// for before that.
#[derive(Default)]
struct FuzzySlot {
    worker: Option<crate::fuzzy::FuzzyWorker>,
    pending: Option<(String, u64)>,
}

/// Starts the fuzzy picker on a thread of its own: copying a million
/// titles out of the model takes longer than the first frame may (about
/// 0.15 s at 1M items). A search asked for meanwhile waits in the slot.
fn start_fuzzy(model: Arc<Model>, tx: Sender<Msg>) -> Arc<Mutex<FuzzySlot>> {
    let slot = Arc::new(Mutex::new(FuzzySlot::default()));
    let shared = slot.clone();
    std::thread::spawn(move || {
        let titles: Vec<String> = (0..model.len() as u32)
            .map(|i| model.title(i).to_string())
            .collect();
        let worker = crate::fuzzy::FuzzyWorker::start(titles, move |ev| {
            let _ = tx.send(Msg::Act(Action::PickerReady {
                generation: ev.generation,
                items: ev.items,
                total: ev.total,
                done: ev.done,
                millis: ev.millis,
            }));
        });
        if let Ok(mut s) = shared.lock() {
            if let Some((pattern, generation)) = s.pending.take() {
                worker.submit(pattern, generation);
            }
            s.worker = Some(worker);
        }
    });
    slot
}

/// Builds a model's search table ([`Model::prepare_searches`]) on a thread
/// of its own, with a one-thread pool, so it never takes both cores from
/// the first queries, the catalogue load and the fuzzy picker. Queries
/// use the table from the moment it is ready (at 1M items, default config:
/// text queries' p99 about 16 -> 12 ms, see benches/RESULTS.md).
fn prepare_in_background(model: Arc<Model>) {
    std::thread::spawn(move || model.prepare_searches_on_one_thread());
}

/// Starts [`prepare_in_background`] for `model` unless `prepared` holds it
/// (models dropped since are forgotten).
fn prepare_once(prepared: &mut Vec<std::sync::Weak<Model>>, model: &Arc<Model>) {
    prepared.retain(|m| m.strong_count() > 0);
    if prepared
        .iter()
        .any(|m| std::ptr::eq(m.as_ptr(), Arc::as_ptr(model)))
    {
        return;
    }
    prepared.push(Arc::downgrade(model));
    prepare_in_background(model.clone());
}

/// The explorer's worker threads.
pub struct Workers {
    tx: Sender<Msg>,
    /// One slot and thread per model, so A's and B's rankings of the same
    /// keystroke do not overwrite each other.
    rank_a: Arc<Latest<RankRequest>>,
    rank_b: Arc<Latest<RankRequest>>,
    fuzzy: Arc<Mutex<FuzzySlot>>,
    keyword_index: Arc<Mutex<Option<Arc<KeywordIndex>>>>,
    keyword_building: bool,
    /// Cancellation flags of the trainings still running, by generation.
    trainings: Arc<Mutex<HashMap<u64, Arc<CancelFlag>>>>,
    ab_overlap: Arc<Latest<Job>>,
    ab_eval: Arc<Latest<Job>>,
    /// The models whose search table is built or being built.
    prepared: Vec<std::sync::Weak<Model>>,
}

impl Workers {
    /// Starts the workers; `model` is the one whose titles the fuzzy
    /// picker searches (the app's `picker_model`). Nothing here is O(items)
    /// on the calling thread: the first frame is drawn right after.
    pub fn start(model: Arc<Model>, tx: Sender<Msg>) -> Workers {
        let (rank_a, wake_a) = latest::<RankRequest>();
        let (rank_b, wake_b) = latest::<RankRequest>();
        spawn_ranker(rank_a.clone(), wake_a, tx.clone());
        spawn_ranker(rank_b.clone(), wake_b, tx.clone());
        let mut prepared = Vec::new();
        prepare_once(&mut prepared, &model);
        let fuzzy = start_fuzzy(model, tx.clone());
        let (ab_overlap, ab_eval) = (serial(tx.clone()), serial(tx.clone()));
        Workers {
            prepared,
            tx,
            rank_a,
            rank_b,
            fuzzy,
            keyword_index: Arc::new(Mutex::new(None)),
            keyword_building: false,
            trainings: Arc::new(Mutex::new(HashMap::new())),
            ab_overlap,
            ab_eval,
        }
    }

    /// Starts the work the app asked for.
    pub fn run_effects(&mut self, app: &mut App) {
        for effect in app.take_effects() {
            match effect {
                Effect::Rank {
                    side,
                    generation,
                    query,
                    k,
                } => {
                    let (slot, model) = match side {
                        Side::A => (&self.rank_a, app.model.clone()),
                        Side::B => match &app.b {
                            Some(b) => (&self.rank_b, b.model.clone()),
                            None => continue,
                        },
                    };
                    // A retrained model A, or a model B, gets its table too.
                    prepare_once(&mut self.prepared, &model);
                    slot.put(RankRequest {
                        side,
                        generation,
                        query,
                        k,
                        model,
                    })
                }
                Effect::LoadCatalog { path, options } => {
                    let tx = self.tx.clone();
                    std::thread::spawn(move || {
                        let result = Catalog::load(&path, &options)
                            .map(|c| LoadedCatalog {
                                catalog: Arc::new(c),
                            })
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Act(Action::CatalogLoaded(result)));
                    });
                }
                Effect::Fuzzy {
                    generation,
                    pattern,
                } => {
                    if let Ok(mut s) = self.fuzzy.lock() {
                        match &s.worker {
                            Some(w) => w.submit(pattern, generation),
                            None => s.pending = Some((pattern, generation)),
                        }
                    }
                }
                // The app asks only once the catalogue is in.
                Effect::BuildKeywordIndex => {
                    if let Some(catalog) = app.catalog.ready() {
                        self.build_keyword_index(catalog.clone());
                    }
                }
                Effect::Keyword { generation, query } => self.keyword(generation, query),
                Effect::Train {
                    generation,
                    config,
                    target: _,
                    reread,
                } => match app.catalog.ready() {
                    Some(catalog) => self.train(catalog.clone(), generation, *config, reread),
                    // The app checks first; should it not, say why.
                    None => {
                        let why = app.catalog.unavailable().unwrap_or_default();
                        let _ = self.tx.send(Msg::Act(Action::TrainDone {
                            generation,
                            result: Err(why),
                        }));
                    }
                },
                Effect::CancelTrain { generation } => {
                    if let Ok(mut t) = self.trainings.lock()
                        && let Some(flag) = t.remove(&generation)
                    {
                        flag.cancel();
                    }
                }
                Effect::AbOverlap {
                    generation,
                    queries,
                    k,
                } => {
                    let Some(b) = &app.b else { continue };
                    let (a, b) = (app.model.clone(), b.model.clone());
                    self.ab_overlap.put(Box::new(move |tx: &Sender<Msg>| {
                        let result = app::mean_overlap_over(&a, &b, &queries, k);
                        let _ = tx.send(Msg::Act(Action::AbOverlapReady { generation, result }));
                    }));
                }
                Effect::AbEvaluate {
                    generation,
                    judgements,
                } => {
                    let Some(b) = &app.b else { continue };
                    let (a, b) = (app.model.clone(), b.model.clone());
                    self.ab_eval.put(Box::new(move |tx: &Sender<Msg>| {
                        let started = Instant::now();
                        let result = app::evaluate_ab(&a, &b, &judgements).map(Box::new);
                        let _ = tx.send(Msg::Act(Action::AbEvaluationReady {
                            generation,
                            result,
                            millis: started.elapsed().as_secs_f64() * 1e3,
                        }));
                    }));
                }
                Effect::SaveModel {
                    side,
                    model_id,
                    path,
                } => {
                    let model = match side {
                        Side::A => app.model.clone(),
                        Side::B => match &app.b {
                            Some(b) => b.model.clone(),
                            None => continue,
                        },
                    };
                    let tx = self.tx.clone();
                    std::thread::spawn(move || {
                        let result = crate::model::format::save(&model, &path)
                            .map(|bytes| (path, bytes))
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Act(Action::Saved {
                            side,
                            model_id,
                            result,
                        }));
                    });
                }
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

    fn build_keyword_index(&mut self, catalog: Arc<Catalog>) {
        if self.keyword_building {
            return;
        }
        self.keyword_building = true;
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

    /// Trains on a thread, reporting progress (and a tick every 100 ms so
    /// elapsed time and the estimate move), cancellable through its flag.
    fn train(&mut self, catalog: Arc<Catalog>, generation: u64, config: ModelConfig, reread: bool) {
        let cancel = Arc::new(CancelFlag::default());
        if let Ok(mut t) = self.trainings.lock() {
            t.insert(generation, cancel.clone());
        }
        let progress = Arc::new(TrainProgress {
            generation,
            tx: self.tx.clone(),
            started: Instant::now(),
            cancel,
            state: Mutex::new(("starting".into(), 0, 0)),
            last_pct: AtomicU64::new(u64::MAX),
        });
        let finished = Arc::new(AtomicBool::new(false));
        {
            let progress = progress.clone();
            let finished = finished.clone();
            std::thread::spawn(move || {
                while !finished.load(Ordering::Relaxed) && !progress.cancel.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(100));
                    if !finished.load(Ordering::Relaxed) {
                        progress.send();
                    }
                }
            });
        }
        let trainings = self.trainings.clone();
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let result = app::train_on(&catalog, &config, reread, &*progress)
                .map(|model| Trained {
                    model: Arc::new(model),
                    seconds: progress.started.elapsed().as_secs_f64(),
                })
                .map_err(|e| e.to_string());
            finished.store(true, Ordering::Relaxed);
            if let Ok(mut t) = trainings.lock() {
                t.remove(&generation);
            }
            let _ = tx.send(Msg::Act(Action::TrainDone { generation, result }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, CatalogOptions};
    use crate::model::{ModelConfig, train};

    fn sample_model() -> Arc<Model> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        let cat = Catalog::load(&dir.join("catalog.csv"), &CatalogOptions::default()).unwrap();
        let config = ModelConfig::default();
        Arc::new(train(&cat, &config, &crate::jobs::NoProgress).unwrap().0)
    }

    #[test]
    fn each_model_gets_its_search_table_built_once_in_the_background() {
        let a = sample_model();
        let b = sample_model();
        let mut prepared = Vec::new();
        prepare_once(&mut prepared, &a);
        prepare_once(&mut prepared, &a);
        prepare_once(&mut prepared, &b);
        assert_eq!(prepared.len(), 2, "one build per model");
        // The sample's default model has a table; it appears without any
        // search asking for it.
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        let wait = |done: &dyn Fn() -> bool| {
            while !done() && Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        };
        wait(&|| a.common().is_some());
        assert!(a.common().is_some(), "the table was not built within 60 s");
        // A model dropped (once its build let go of it too) is forgotten.
        let gone = Arc::downgrade(&b);
        drop(b);
        wait(&|| gone.strong_count() == 0);
        prepare_once(&mut prepared, &a);
        assert_eq!(prepared.len(), 1);
    }
}
