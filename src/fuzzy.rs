//! Fuzzy item picker engine: ranks product titles against a typed pattern fast
//! enough for 1M-title catalogues, off the UI thread (owned by the picker work).
//!
//! The explorer's picker must stay interactive at 1M titles (under 30 ms per
//! keystroke as the user perceives it). No matcher scores 1M titles that fast on
//! every keystroke on a 2-core machine, so latency comes from four things:
//!
//! - **One small interface** ([`Scorer`] / [`Prepared`]) so the matching crate can
//!   be swapped and benchmarked side by side ([`Engine`]).
//! - **Incremental narrowing**: a pattern that extends the previous one can only
//!   match a subset of its matches (all engines here are subsequence matchers), so
//!   [`FuzzyIndex::search`] rescans only the previous [`Candidates`].
//! - **Chunked parallel scans** on a small dedicated thread pool that check a
//!   cancel flag between chunks, so a newer keystroke aborts stale work.
//! - **Partial results**: the best-so-far top `limit` is reported after the first
//!   few chunks, so the UI shows something within milliseconds even when a full
//!   scan takes longer.
//!
//! [`FuzzyWorker`] wraps all of that in a background thread driven by generation
//! numbers; the TUI submits patterns and polls a channel of [`FuzzyEvent`]s.
//! Matched character positions are computed only for visible rows
//! ([`FuzzyIndex::highlight`]), never during the scan.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// Match quality; higher is better. Only comparable within one engine.
pub type Score = i64;

/// A fuzzy matching engine. Implementations must be subsequence matchers that
/// ignore at least ASCII case: if pattern `p` extends pattern `q` (see
/// [`extends_pattern`]), every title matching `p` must also match `q`.
/// [`FuzzyIndex::search`] relies on that to narrow incrementally.
pub trait Scorer: Send + Sync {
    /// Short engine name, for benchmarks and logs.
    fn name(&self) -> &'static str;
    /// Compiles `pattern` once per search; the result is shared by the scan
    /// threads. `pattern` is never empty (the index handles that case).
    fn prepare<'s>(&'s self, pattern: &str) -> Box<dyn Prepared + 's>;
}

/// A pattern compiled by a [`Scorer`].
pub trait Prepared: Send + Sync {
    /// Scores one haystack; `None` when it does not match. When `indices` is
    /// given, it is cleared and filled with the matched *char* (not byte)
    /// positions in ascending order: that costs extra work, so only visible
    /// rows ask for it.
    fn score(&self, haystack: &str, indices: Option<&mut Vec<usize>>) -> Option<Score>;

    /// Scores a batch of haystacks, calling `hit(position, score)` for each
    /// match in ascending position order. Batched because some engines pay
    /// per-call setup (scratch matrices, SIMD dispatch) that a batch amortises.
    fn score_batch(&self, haystacks: &[&str], hit: &mut dyn FnMut(usize, Score)) {
        for (position, haystack) in haystacks.iter().enumerate() {
            if let Some(score) = self.score(haystack, None) {
                hit(position, score);
            }
        }
    }
}

/// The engines this module ships; all are selectable so the benchmark can
/// compare them on the same catalogue.
///
/// Frizbee is the default. Measured by `cargo bench --bench fuzzy` on 1M
/// synthetic titles with 2 scan threads: SkimMatcherV2 needs 450-515 ms for a
/// full scan of a 1-3 char pattern and still ~500 ms for such a keystroke with
/// narrowing, about 17 times the 30 ms budget; frizbee's SIMD prefilter and
/// Smith-Waterman take 21-32 ms for the same scans (its own cost: raw frizbee
/// on 2 threads measures the same), at most ~31 ms per keystroke, and the
/// first partial ranking arrives after 0.5-2 ms. SkimMatcherV2's scores also
/// depend on what the thread scored before (see [`SkimScorer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// `frizbee` (MIT): SIMD Smith-Waterman, no typos allowed.
    #[default]
    Frizbee,
    /// `fuzzy-matcher`'s `SkimMatcherV2` (MIT), the engine first asked for.
    Skim,
}

impl Engine {
    /// Every engine, default first.
    pub const ALL: [Engine; 2] = [Engine::Frizbee, Engine::Skim];

    /// Short name, as printed by the benchmark.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Frizbee => "frizbee",
            Engine::Skim => "fuzzy-matcher",
        }
    }

    /// Parses [`Engine::name`] (also accepts "skim").
    pub fn from_name(name: &str) -> Option<Engine> {
        match name.trim().to_ascii_lowercase().as_str() {
            "frizbee" => Some(Engine::Frizbee),
            "fuzzy-matcher" | "skim" => Some(Engine::Skim),
            _ => None,
        }
    }

    /// A fresh scorer for this engine.
    pub fn scorer(self) -> Arc<dyn Scorer> {
        match self {
            Engine::Frizbee => Arc::new(FrizbeeScorer::default()),
            Engine::Skim => Arc::new(SkimScorer::default()),
        }
    }
}

/// [`Scorer`] on `frizbee`, case-insensitive, without typo tolerance.
pub struct FrizbeeScorer {
    config: frizbee::Config,
}

impl Default for FrizbeeScorer {
    fn default() -> Self {
        FrizbeeScorer {
            config: frizbee::Config::default()
                // Typos stay off (the crate's default, set here on purpose):
                // with typos a longer pattern is no longer a stricter filter,
                // and incremental narrowing would lose matches.
                .max_typos(Some(0))
                // Case-insensitive for the same reason as SkimScorer.
                .casing(frizbee::CaseMatching::Ignore)
                // The index ranks; the crate's sort would be wasted work.
                .sort(frizbee::SortStrategy::IndexAsc),
        }
    }
}

impl Scorer for FrizbeeScorer {
    fn name(&self) -> &'static str {
        Engine::Frizbee.name()
    }

    fn prepare<'s>(&'s self, pattern: &str) -> Box<dyn Prepared + 's> {
        // `&str` converts to a literal pattern: no query syntax, spaces included,
        // the same semantics as the other engine.
        let matcher = frizbee::Matcher::new(pattern, &self.config);
        Box::new(FrizbeePattern {
            single: Mutex::new(matcher.clone()),
            template: matcher,
        })
    }
}

struct FrizbeePattern {
    /// Cloned per batch: matching needs `&mut` scratch, and one clone per few
    /// thousand titles costs nothing next to scoring them.
    template: frizbee::Matcher,
    /// For one-off scoring (highlighting), reused rather than cloned per row.
    single: Mutex<frizbee::Matcher>,
}

impl Prepared for FrizbeePattern {
    fn score(&self, haystack: &str, indices: Option<&mut Vec<usize>>) -> Option<Score> {
        // A poisoned lock only means another row panicked mid-match; the
        // matcher's scratch is rewritten on every call, so keep using it.
        let mut matcher = self.single.lock().unwrap_or_else(|e| e.into_inner());
        match indices {
            None => matcher.match_one(haystack, 0).map(|m| Score::from(m.score)),
            Some(out) => {
                let m = matcher.match_one_indices(haystack, 0)?;
                byte_to_char_indices(haystack, &m.indices, out);
                Some(Score::from(m.score))
            }
        }
    }

    fn score_batch(&self, haystacks: &[&str], hit: &mut dyn FnMut(usize, Score)) {
        let mut matcher = self.template.clone();
        // IndexAsc: matches come back in input order, as the trait asks.
        for m in matcher.match_list(haystacks) {
            hit(m.index as usize, Score::from(m.score));
        }
    }
}

/// Frizbee reports matched *byte* offsets (one per byte of a multi-byte char,
/// in reverse order); the UI highlights chars. Writes ascending char indices.
fn byte_to_char_indices(text: &str, bytes: &[u32], out: &mut Vec<usize>) {
    out.clear();
    let mut bytes: Vec<usize> = bytes.iter().map(|&b| b as usize).collect();
    bytes.sort_unstable();
    bytes.dedup();
    if text.is_ascii() {
        out.extend(bytes.into_iter().filter(|&b| b < text.len()));
        return;
    }
    let mut next = bytes.into_iter().peekable();
    for (char_index, (start, ch)) in text.char_indices().enumerate() {
        let end = start + ch.len_utf8();
        let mut hit = false;
        while let Some(&b) = next.peek() {
            if b >= end {
                break;
            }
            hit |= b >= start;
            next.next();
        }
        if hit {
            out.push(char_index);
        }
        if next.peek().is_none() {
            break;
        }
    }
}

/// [`Scorer`] on `fuzzy_matcher::skim::SkimMatcherV2`, case-insensitive.
///
/// Kept for comparison, not as the default: besides being slow at 1M titles,
/// fuzzy-matcher 0.3.7 reuses a per-thread score matrix without clearing a
/// bonus field, so a title's score can differ by a few points depending on
/// what that thread scored before (about 1 in 50k random pairs; which titles
/// match is unaffected). Its `use_cache(false)` escape hatch panics on a
/// RefCell borrow instead.
pub struct SkimScorer {
    matcher: SkimMatcherV2,
}

impl Default for SkimScorer {
    fn default() -> Self {
        // Ignore case rather than the crate's default smart case: with smart
        // case, "SON" would not narrow to "sony" (it is no superset of it), and
        // shoppers do not type capitals on purpose.
        SkimScorer {
            matcher: SkimMatcherV2::default().ignore_case(),
        }
    }
}

impl Scorer for SkimScorer {
    fn name(&self) -> &'static str {
        Engine::Skim.name()
    }

    fn prepare<'s>(&'s self, pattern: &str) -> Box<dyn Prepared + 's> {
        Box::new(SkimPattern {
            matcher: &self.matcher,
            pattern: pattern.to_owned(),
        })
    }
}

struct SkimPattern<'s> {
    matcher: &'s SkimMatcherV2,
    pattern: String,
}

impl Prepared for SkimPattern<'_> {
    fn score(&self, haystack: &str, indices: Option<&mut Vec<usize>>) -> Option<Score> {
        match indices {
            // The score-only path skips the traceback matrix rows.
            None => self.matcher.fuzzy_match(haystack, &self.pattern),
            Some(out) => {
                // SkimMatcherV2 already reports char positions, ascending.
                let (score, positions) = self.matcher.fuzzy_indices(haystack, &self.pattern)?;
                out.clear();
                out.extend(positions);
                Some(score)
            }
        }
    }
}

/// One ranked match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Position of the title in the index (item order).
    pub item: usize,
    pub score: Score,
}

/// Best first: higher score, then lower item index (stable, predictable order).
fn rank(a: &Hit, b: &Hit) -> Ordering {
    b.score.cmp(&a.score).then(a.item.cmp(&b.item))
}

/// The best `limit` hits seen so far. A binary heap whose root is the worst
/// kept hit: once full, most later hits (at 1M titles, nearly all of them) are
/// rejected with a single comparison instead of being stored and selected.
struct TopK {
    limit: usize,
    heap: BinaryHeap<Worst>,
    /// Score of the worst kept hit once full (else `Score::MIN`): a cheaper
    /// first test than the heap's, for the common hopeless hit.
    floor: Score,
}

/// Orders hits worst-last by [`rank`], so the max-heap's root is the worst.
#[derive(PartialEq, Eq)]
struct Worst(Hit);

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        rank(&self.0, &other.0)
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl TopK {
    fn new(limit: usize) -> TopK {
        TopK {
            limit,
            heap: BinaryHeap::new(),
            floor: Score::MIN,
        }
    }

    #[inline]
    fn push(&mut self, hit: Hit) {
        if hit.score < self.floor {
            return;
        }
        if self.heap.len() < self.limit {
            self.heap.push(Worst(hit));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && rank(&hit, &worst.0) == Ordering::Less
        {
            // Dropping the PeekMut restores the heap order.
            *worst = Worst(hit);
        } else {
            return;
        }
        if self.heap.len() == self.limit
            && let Some(worst) = self.heap.peek()
        {
            self.floor = worst.0.score;
        }
    }

    /// [`TopK::push`] for hits arriving in ascending item order (one chunk):
    /// then a full top-k also rejects ties with its worst, which lose on item
    /// order. With 1-3 char patterns most titles tie, so this is the hot path.
    #[inline]
    fn push_ascending(&mut self, hit: Hit) {
        if self.heap.len() == self.limit && hit.score <= self.floor {
            return;
        }
        self.push(hit);
    }

    /// Best first.
    fn sorted(&self) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self.heap.iter().map(|w| w.0).collect();
        hits.sort_unstable_by(rank);
        hits
    }

    fn into_hits(self) -> Vec<Hit> {
        self.heap.into_iter().map(|w| w.0).collect()
    }
}

/// A (possibly partial) ranking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matches {
    /// Best matches so far, best first, at most `limit`.
    pub top: Vec<Hit>,
    /// Titles matched so far (the total once `scanned == to_scan`).
    pub matched: usize,
    /// Candidates scored so far.
    pub scanned: usize,
    /// Candidates this search scores (fewer than the catalogue when narrowing).
    pub to_scan: usize,
}

impl Matches {
    /// Whether every candidate has been scored.
    pub fn is_complete(&self) -> bool {
        self.scanned == self.to_scan
    }
}

/// The titles a finished search matched, kept to narrow the next search when
/// the pattern grows. Tied to the [`FuzzyIndex`] that produced it.
#[derive(Debug, Clone)]
pub struct Candidates {
    index_id: u64,
    pattern: String,
    /// Matched items in ascending order; `None` means every item (the empty
    /// pattern), which avoids materialising 1M indices for it.
    items: Option<Arc<Vec<u32>>>,
    len: usize,
}

impl Candidates {
    /// The pattern these are the matches of.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Number of candidate items.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A finished search: the ranking and the candidate set for the next narrowing.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub matches: Matches,
    pub candidates: Candidates,
}

/// Whether `pattern` extends `previous`: same prefix, ignoring ASCII case only.
/// Only ASCII case is folded because that is what every engine folds at least;
/// folding more here (say "É" and "é") would narrow from a set that an engine
/// comparing those exactly never produced, and lose matches.
pub fn extends_pattern(pattern: &str, previous: &str) -> bool {
    pattern.len() >= previous.len()
        && pattern.is_char_boundary(previous.len())
        && pattern.as_bytes()[..previous.len()].eq_ignore_ascii_case(previous.as_bytes())
}

/// Items per task at the start of a scan, so the first partial report comes
/// after a few small chunks.
const CHUNK: usize = 4096;
/// Items per task after the first [`FIRST_PARTIAL`]: each task wakes the
/// merging thread, which on 2 cores takes a core from the scan for a moment,
/// so fewer, larger tasks scan faster. Still only ~1 ms of frizbee work, so a
/// stale search stops quickly (~10 ms with fuzzy-matcher).
const BIG_CHUNK: usize = 16_384;
/// Candidates scored before the first partial report (a few chunks: enough
/// that the first rows shown are not from a handful of titles).
const FIRST_PARTIAL: usize = 16_384;
/// Minimum time between two partial reports after the first.
const PARTIAL_EVERY: Duration = Duration::from_millis(25);
/// Scan threads by default: the target machine has 2 cores, and the UI thread
/// only polls, so two scan threads use the machine fully.
pub const DEFAULT_THREADS: usize = 2;

static NEXT_INDEX_ID: AtomicU64 = AtomicU64::new(1);

/// What a search scans: every item, or a previous search's matches.
#[derive(Clone, Copy)]
enum Source<'a> {
    All(usize),
    List(&'a [u32]),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::All(n) => *n,
            Source::List(items) => items.len(),
        }
    }
}

/// What one chunk produced: its matched items (ascending) and its best hits.
struct ChunkOut {
    scanned: usize,
    matched: Vec<u32>,
    best: Vec<Hit>,
}

/// Collects chunk results as they arrive (in any order) into the running
/// top-k, the in-order candidate list and the partial reports.
struct Merge {
    top: TopK,
    /// Matched items of every chunk before `next`, ascending.
    matched: Vec<u32>,
    /// Chunks that arrived ahead of `next`, waiting for their turn.
    pending: Vec<Option<Vec<u32>>>,
    next: usize,
    matched_count: usize,
    scanned: usize,
    to_scan: usize,
    last_partial: Option<Instant>,
    cancelled: bool,
}

impl Merge {
    fn new(limit: usize, to_scan: usize, chunks: usize) -> Merge {
        Merge {
            top: TopK::new(limit),
            // Reserved up front: growing a 1M-entry vector by doubling copies
            // it several times on the thread that merges.
            matched: Vec::with_capacity(to_scan),
            pending: (0..chunks).map(|_| None).collect(),
            next: 0,
            matched_count: 0,
            scanned: 0,
            to_scan,
            last_partial: None,
            cancelled: false,
        }
    }

    fn add(
        &mut self,
        chunk: usize,
        out: Option<ChunkOut>,
        cancel: &(dyn Fn() -> bool + Sync),
        partial: &mut dyn FnMut(&Matches),
    ) {
        let Some(out) = out.filter(|_| !self.cancelled) else {
            // Cancelled: the remaining chunks see it too and skip their work.
            self.cancelled = true;
            return;
        };
        self.scanned += out.scanned;
        self.matched_count += out.matched.len();
        for hit in out.best {
            self.top.push(hit);
        }
        if let Some(slot) = self.pending.get_mut(chunk) {
            *slot = Some(out.matched);
        }
        while let Some(Some(items)) = self.pending.get_mut(self.next).map(Option::take) {
            self.matched.extend_from_slice(&items);
            self.next += 1;
        }
        if cancel() {
            self.cancelled = true;
            return;
        }
        let due = match self.last_partial {
            None => self.scanned >= FIRST_PARTIAL,
            Some(at) => at.elapsed() >= PARTIAL_EVERY,
        };
        if due && self.scanned < self.to_scan {
            partial(&Matches {
                top: self.top.sorted(),
                matched: self.matched_count,
                scanned: self.scanned,
                to_scan: self.to_scan,
            });
            self.last_partial = Some(Instant::now());
        }
    }

    fn finish(self) -> (Matches, Vec<u32>) {
        let matches = Matches {
            top: self.top.sorted(),
            matched: self.matched.len(),
            scanned: self.scanned,
            to_scan: self.to_scan,
        };
        (matches, self.matched)
    }
}

/// The searchable titles plus the engine and scan threads.
pub struct FuzzyIndex {
    id: u64,
    titles: Arc<Vec<String>>,
    /// Titles searched: all of them, unless there are more than `u32::MAX`
    /// (candidate sets store `u32` to halve their memory at 1M items).
    len: usize,
    scorer: Arc<dyn Scorer>,
    /// `None` scans on the calling thread (one thread asked for, or the pool
    /// could not be built: slower, but still correct).
    pool: Option<rayon::ThreadPool>,
}

impl FuzzyIndex {
    /// Index over `titles` (in item order) with the default engine and
    /// [`DEFAULT_THREADS`] scan threads.
    pub fn new(titles: impl Into<Arc<Vec<String>>>) -> FuzzyIndex {
        FuzzyIndex::with_engine(titles, Engine::default())
    }

    /// Index with a chosen engine and [`DEFAULT_THREADS`] scan threads.
    pub fn with_engine(titles: impl Into<Arc<Vec<String>>>, engine: Engine) -> FuzzyIndex {
        FuzzyIndex::with_scorer(titles, engine.scorer(), DEFAULT_THREADS)
    }

    /// Index with any [`Scorer`] and `threads` scan threads (0 counts as 1).
    /// A dedicated pool keeps picker scans from queueing behind (or slowing)
    /// work on rayon's global pool, such as training.
    pub fn with_scorer(
        titles: impl Into<Arc<Vec<String>>>,
        scorer: Arc<dyn Scorer>,
        threads: usize,
    ) -> FuzzyIndex {
        let titles = titles.into();
        let len = titles.len().min(u32::MAX as usize);
        let pool = if threads > 1 {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("fuzzy-scan-{i}"))
                .build()
                .ok()
        } else {
            None
        };
        FuzzyIndex {
            id: NEXT_INDEX_ID.fetch_add(1, AtomicOrdering::Relaxed),
            titles,
            len,
            scorer,
            pool,
        }
    }

    /// Number of searchable titles.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Title of `item`, if it exists.
    pub fn title(&self, item: usize) -> Option<&str> {
        self.titles[..self.len].get(item).map(String::as_str)
    }

    /// The shared titles.
    pub fn titles(&self) -> &Arc<Vec<String>> {
        &self.titles
    }

    /// Name of the engine scoring this index.
    pub fn engine_name(&self) -> &'static str {
        self.scorer.name()
    }

    /// Whether `previous` can seed a search for `pattern` on this index.
    pub fn can_narrow(&self, previous: &Candidates, pattern: &str) -> bool {
        previous.index_id == self.id && extends_pattern(pattern, &previous.pattern)
    }

    /// Ranks the titles matching `pattern`: the best `limit` (best first, ties
    /// by item index), the match count, and the candidates for the next search.
    ///
    /// - An empty pattern matches everything: the first `limit` items in order.
    /// - When `previous` came from this index and `pattern` extends its pattern
    ///   ([`extends_pattern`]), only those candidates are scanned. Any other
    ///   `previous` is ignored (full scan), so passing a stale one is safe.
    /// - `cancel` is polled between chunks (from the scan threads too); once it
    ///   returns true the search stops and returns `None`.
    /// - `partial` gets the best-so-far ranking once 16k candidates are scored
    ///   and then at most every 25 ms, on the calling thread; never for the
    ///   final state (that is the return value), so small scans report none.
    ///   Scan threads deliver chunks as they finish while the calling thread
    ///   merges, so partials are not held back by the slowest chunk.
    pub fn search(
        &self,
        pattern: &str,
        limit: usize,
        previous: Option<&Candidates>,
        cancel: &(dyn Fn() -> bool + Sync),
        partial: &mut dyn FnMut(&Matches),
    ) -> Option<SearchResult> {
        if cancel() {
            return None;
        }
        if pattern.is_empty() {
            let top = (0..self.len.min(limit))
                .map(|item| Hit { item, score: 0 })
                .collect();
            return Some(SearchResult {
                matches: Matches {
                    top,
                    matched: self.len,
                    scanned: self.len,
                    to_scan: self.len,
                },
                candidates: Candidates {
                    index_id: self.id,
                    pattern: String::new(),
                    items: None,
                    len: self.len,
                },
            });
        }

        let narrowed = previous
            .filter(|p| self.can_narrow(p, pattern))
            .and_then(|p| p.items.clone());
        let source = match &narrowed {
            Some(items) => Source::List(items),
            None => Source::All(self.len),
        };
        let to_scan = source.len();
        let prepared = self.scorer.prepare(pattern);

        let head = FIRST_PARTIAL.min(to_scan);
        let chunks: Vec<Range<usize>> = (0..head)
            .step_by(CHUNK)
            .map(|start| start..(start + CHUNK).min(head))
            .chain(
                (head..to_scan)
                    .step_by(BIG_CHUNK)
                    .map(|start| start..(start + BIG_CHUNK).min(to_scan)),
            )
            .collect();
        let mut merge = Merge::new(limit, to_scan, chunks.len());
        let scan = |chunk: Range<usize>| {
            // Checked per chunk on the scan threads too, so a stale search
            // stops within one chunk even while the caller waits.
            (!cancel()).then(|| self.scan_chunk(&*prepared, source, chunk, limit))
        };
        match &self.pool {
            // Not from one of our own scan threads: it would wait on itself.
            Some(pool) if pool.current_thread_index().is_none() => {
                let (tx, rx) = mpsc::channel::<(usize, Option<ChunkOut>)>();
                pool.in_place_scope_fifo(|scope| {
                    // FIFO from this thread: chunks run roughly in order, so
                    // the first partial covers the first titles.
                    for (i, chunk) in chunks.iter().cloned().enumerate() {
                        let tx = tx.clone();
                        let scan = &scan;
                        scope.spawn_fifo(move |_| {
                            // The receiver outlives the scope; an error cannot happen.
                            let _ = tx.send((i, scan(chunk)));
                        });
                    }
                    drop(tx);
                    // Merge on this thread while the pool scans: no barrier
                    // leaves a scan thread idle, and partials go out on time.
                    for (i, out) in rx {
                        merge.add(i, out, cancel, partial);
                    }
                });
            }
            _ => {
                for (i, chunk) in chunks.iter().cloned().enumerate() {
                    merge.add(i, scan(chunk), cancel, partial);
                    if merge.cancelled {
                        break;
                    }
                }
            }
        }
        if merge.cancelled || cancel() {
            return None;
        }
        let (matches, mut matched) = merge.finish();
        // Candidate sets are kept for narrowing: do not hold the reservation.
        matched.shrink_to_fit();
        let count = matched.len();
        Some(SearchResult {
            matches,
            candidates: Candidates {
                index_id: self.id,
                pattern: pattern.to_owned(),
                items: Some(Arc::new(matched)),
                len: count,
            },
        })
    }

    fn scan_chunk(
        &self,
        prepared: &dyn Prepared,
        source: Source<'_>,
        chunk: Range<usize>,
        limit: usize,
    ) -> ChunkOut {
        // Positions in `source` -> item indices; ranges stay below `self.len`,
        // which fits in u32, so the casts are exact. A full scan reads the
        // titles in place rather than through an index list.
        let list: Option<&[u32]> = match source {
            Source::All(_) => None,
            Source::List(list) => Some(&list[chunk.clone()]),
        };
        let haystacks: Vec<&str> = match list {
            None => self.titles[chunk.clone()]
                .iter()
                .map(String::as_str)
                .collect(),
            Some(list) => list
                .iter()
                .map(|&item| self.titles[item as usize].as_str())
                .collect(),
        };
        let item_at = |position: usize| match list {
            None => (position < chunk.len()).then_some((chunk.start + position) as u32),
            Some(list) => list.get(position).copied(),
        };
        let mut matched: Vec<u32> = Vec::with_capacity(haystacks.len());
        let mut top = TopK::new(limit);
        let mut next = 0;
        prepared.score_batch(&haystacks, &mut |position, score| {
            // Positions must ascend (the trait's contract): that keeps
            // `matched` sorted and unique for narrowing and tie order. Others,
            // and positions out of range, are ignored rather than panicking.
            if position < next {
                return;
            }
            if let Some(item) = item_at(position) {
                next = position + 1;
                matched.push(item);
                top.push_ascending(Hit {
                    item: item as usize,
                    score,
                });
            }
        });
        ChunkOut {
            scanned: haystacks.len(),
            matched,
            best: top.into_hits(),
        }
    }

    /// Matched char indices of `pattern` in the title of `item` (ascending), for
    /// highlighting one visible row; empty if it does not match.
    pub fn highlight(&self, pattern: &str, item: usize) -> Vec<usize> {
        self.highlight_many(pattern, &[item])
            .pop()
            .unwrap_or_default()
    }

    /// [`FuzzyIndex::highlight`] for several rows, compiling the pattern once.
    pub fn highlight_many(&self, pattern: &str, items: &[usize]) -> Vec<Vec<usize>> {
        if pattern.is_empty() {
            return vec![Vec::new(); items.len()];
        }
        let prepared = self.scorer.prepare(pattern);
        items
            .iter()
            .map(|&item| {
                let mut indices = Vec::new();
                let matched = self
                    .title(item)
                    .and_then(|title| prepared.score(title, Some(&mut indices)));
                if matched.is_none() {
                    indices.clear();
                }
                indices.sort_unstable();
                indices.dedup();
                indices
            })
            .collect()
    }
}

/// A ranking from [`FuzzyWorker`]: partial (`done == false`) or final.
/// Flat rather than a [`Matches`] so the TUI can forward it as a message as is.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyEvent {
    /// Generation passed to [`FuzzyWorker::submit`]; the UI should ignore
    /// events older than the last generation it submitted.
    pub generation: u64,
    pub pattern: String,
    /// Best matches so far as `(item, score)`, best first.
    pub items: Vec<(u32, Score)>,
    /// Titles matched so far (all matches once `done`).
    pub total: usize,
    /// Candidates scored so far, of `to_scan`.
    pub scanned: usize,
    pub to_scan: usize,
    pub done: bool,
    /// Time since this generation was submitted (queueing included: what the
    /// user waited).
    pub millis: f64,
}

impl FuzzyEvent {
    fn new(
        generation: u64,
        pattern: &str,
        matches: &Matches,
        done: bool,
        started: Instant,
    ) -> Self {
        FuzzyEvent {
            generation,
            pattern: pattern.to_owned(),
            // Items are below u32::MAX (see FuzzyIndex::len), so the cast is exact.
            items: matches
                .top
                .iter()
                .map(|h| (h.item as u32, h.score))
                .collect(),
            total: matches.matched,
            scanned: matches.scanned,
            to_scan: matches.to_scan,
            done,
            millis: started.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// Matched char indices of `pattern` in `text` with the default engine, for
/// highlighting a visible row that is not at hand as an item index (say, a
/// sanitised title). Empty if it does not match.
pub fn match_indices(pattern: &str, text: &str) -> Vec<usize> {
    static SCORER: OnceLock<Arc<dyn Scorer>> = OnceLock::new();
    if pattern.is_empty() {
        return Vec::new();
    }
    let scorer = SCORER.get_or_init(|| Engine::default().scorer());
    let mut indices = Vec::new();
    if scorer
        .prepare(pattern)
        .score(text, Some(&mut indices))
        .is_none()
    {
        indices.clear();
    }
    indices.sort_unstable();
    indices.dedup();
    indices
}

struct Job {
    pattern: String,
    generation: u64,
    submitted: Instant,
}

/// Where the worker delivers events; returns false once nobody listens.
type Sink = Box<dyn FnMut(FuzzyEvent) -> bool + Send>;

/// Longest chain of narrowing candidate sets the worker keeps. Each set is a
/// subset of the one before, so memory stays under this many times the first.
const MAX_CHAIN: usize = 32;

/// Best matches a worker reports when started with [`FuzzyWorker::start`].
pub const DEFAULT_LIMIT: usize = 200;

/// Runs searches on a background thread so the UI thread never blocks.
///
/// Submit each pattern with an increasing generation and read [`FuzzyEvent`]s:
/// poll [`FuzzyWorker::events`] with `try_recv` ([`FuzzyWorker::spawn`]), or get
/// them through a callback ([`FuzzyWorker::start`], [`FuzzyWorker::spawn_with`]).
/// A newer submission cancels the running search at its next chunk and
/// supersedes queued ones; only the latest generation gets a final (`done`)
/// event. The worker keeps the candidate sets of the patterns typed so far, so
/// both typing and backspacing narrow from the longest usable prefix.
pub struct FuzzyWorker {
    latest: Arc<AtomicU64>,
    jobs: Option<Sender<Job>>,
    events: Receiver<FuzzyEvent>,
    thread: Option<JoinHandle<()>>,
}

impl FuzzyWorker {
    /// Starts the worker thread; it reports the best `limit` matches on the
    /// [`FuzzyWorker::events`] channel.
    pub fn spawn(index: Arc<FuzzyIndex>, limit: usize) -> io::Result<FuzzyWorker> {
        let (event_tx, event_rx) = mpsc::channel::<FuzzyEvent>();
        let sink: Sink = Box::new(move |event| event_tx.send(event).is_ok());
        FuzzyWorker::spawn_sink(index, limit, sink, event_rx)
    }

    /// Starts the worker thread; it hands every event to `on_event` (on the
    /// worker thread, so keep it short: forward it to the UI's queue).
    /// [`FuzzyWorker::events`] stays empty.
    pub fn spawn_with(
        index: Arc<FuzzyIndex>,
        limit: usize,
        mut on_event: impl FnMut(FuzzyEvent) + Send + 'static,
    ) -> io::Result<FuzzyWorker> {
        let sink: Sink = Box::new(move |event| {
            on_event(event);
            true
        });
        FuzzyWorker::spawn_sink(index, limit, sink, mpsc::channel().1)
    }

    /// [`FuzzyWorker::spawn_with`] over `titles` with the default engine and
    /// [`DEFAULT_LIMIT`]. Never fails: if the OS refuses a thread, the worker
    /// is inert ([`FuzzyWorker::is_running`] is false) and the picker stays
    /// empty rather than taking the explorer down.
    pub fn start(
        titles: impl Into<Arc<Vec<String>>>,
        on_event: impl FnMut(FuzzyEvent) + Send + 'static,
    ) -> FuzzyWorker {
        let index = Arc::new(FuzzyIndex::new(titles));
        FuzzyWorker::spawn_with(index, DEFAULT_LIMIT, on_event).unwrap_or_else(|_| FuzzyWorker {
            latest: Arc::new(AtomicU64::new(0)),
            jobs: None,
            events: mpsc::channel().1,
            thread: None,
        })
    }

    fn spawn_sink(
        index: Arc<FuzzyIndex>,
        limit: usize,
        sink: Sink,
        events: Receiver<FuzzyEvent>,
    ) -> io::Result<FuzzyWorker> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let latest = Arc::new(AtomicU64::new(0));
        let thread = std::thread::Builder::new()
            .name("fuzzy-worker".into())
            .spawn({
                let latest = Arc::clone(&latest);
                move || worker_loop(&index, limit, &latest, &job_rx, sink)
            })?;
        Ok(FuzzyWorker {
            latest,
            jobs: Some(job_tx),
            events,
            thread: Some(thread),
        })
    }

    /// Queues `pattern` as `generation`, cancelling older work. Generations
    /// should increase; one lower than already submitted is stale on arrival.
    /// Never blocks; does nothing if the worker thread is gone.
    pub fn submit(&self, pattern: impl Into<String>, generation: u64) {
        self.latest.fetch_max(generation, AtomicOrdering::SeqCst);
        if let Some(jobs) = &self.jobs {
            // A send error means the thread has ended: see `is_running`.
            let _ = jobs.send(Job {
                pattern: pattern.into(),
                generation,
                submitted: Instant::now(),
            });
        }
    }

    /// Partial and final rankings for a worker made by [`FuzzyWorker::spawn`];
    /// poll with `try_recv` from the UI loop.
    pub fn events(&self) -> &Receiver<FuzzyEvent> {
        &self.events
    }

    /// Highest generation submitted so far.
    pub fn latest_generation(&self) -> u64 {
        self.latest.load(AtomicOrdering::SeqCst)
    }

    /// Whether the worker thread is alive to take submissions.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for FuzzyWorker {
    fn drop(&mut self) {
        // Cancel the running search (no generation equals u64::MAX in
        // practice), then close the job queue so the loop ends, and wait: the
        // wait is at most one chunk, and no thread outlives its owner.
        self.latest.store(u64::MAX, AtomicOrdering::SeqCst);
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            // A panicked worker has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

fn worker_loop(
    index: &FuzzyIndex,
    limit: usize,
    latest: &AtomicU64,
    jobs: &Receiver<Job>,
    mut sink: Sink,
) {
    // Candidate sets of finished searches, each pattern extending the previous.
    let mut chain: Vec<Candidates> = Vec::new();
    while let Ok(mut job) = jobs.recv() {
        // Only the newest queued job matters: older ones are stale already.
        while let Ok(newer) = jobs.try_recv() {
            if newer.generation >= job.generation {
                job = newer;
            }
        }
        let generation = job.generation;
        let cancel = || latest.load(AtomicOrdering::SeqCst) != generation;
        if cancel() {
            continue;
        }
        let started = job.submitted;
        while chain
            .last()
            .is_some_and(|c| !index.can_narrow(c, &job.pattern))
        {
            chain.pop();
        }
        let mut listening = true;
        let mut partial = |matches: &Matches| {
            let event = FuzzyEvent::new(generation, &job.pattern, matches, false, started);
            listening &= deliver(&mut sink, event);
        };
        // A panic in an engine must not end the worker (the picker would go
        // silent): report an empty final result instead, so the UI stops
        // waiting, and drop narrowing state that may be half-built.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            index.search(&job.pattern, limit, chain.last(), &cancel, &mut partial)
        }));
        let result = match outcome {
            Ok(Some(result)) => result,
            Ok(None) => continue,
            Err(_) => {
                chain.clear();
                let event =
                    FuzzyEvent::new(generation, &job.pattern, &Matches::default(), true, started);
                if cancel() || (listening && deliver(&mut sink, event)) {
                    continue;
                }
                break;
            }
        };
        // Keep the candidates even if the result went stale while finishing:
        // the next pattern may still narrow from them.
        if chain.len() == MAX_CHAIN {
            chain.remove(0);
        }
        chain.push(result.candidates);
        if cancel() {
            continue;
        }
        let event = FuzzyEvent::new(generation, &job.pattern, &result.matches, true, started);
        if !(listening && deliver(&mut sink, event)) {
            // Nobody reads the events any more; nothing left to do.
            break;
        }
    }
}

/// Hands `event` to the sink: false once nobody listens, or if the sink
/// panicked (a broken receiver is treated as a gone one).
fn deliver(sink: &mut Sink, event: FuzzyEvent) -> bool {
    panic::catch_unwind(AssertUnwindSafe(|| sink(event))).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Condvar;
    use std::sync::atomic::AtomicUsize;

    const NEVER: &(dyn Fn() -> bool + Sync) = &|| false;

    fn titles(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn full(index: &FuzzyIndex, pattern: &str, limit: usize) -> SearchResult {
        index
            .search(pattern, limit, None, NEVER, &mut |_| {})
            .expect("not cancelled")
    }

    /// A few hundred realistic titles from the synthetic generator plus
    /// non-ASCII ones, so narrowing is tested across case and char widths.
    fn catalogue(items: usize) -> Vec<String> {
        let mut csv = Vec::new();
        crate::synth::write_catalog(&crate::synth::SynthOptions { items, seed: 7 }, &mut csv)
            .expect("write to Vec");
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let mut out: Vec<String> = reader
            .records()
            .map(|r| r.expect("valid csv")[1].to_string())
            .collect();
        out.extend(titles(&[
            "Café Crème brûlée Set",
            "École ÉCLAIR Pâtisserie",
            "éclair SONY Ünïcode",
            "Straße Sony WH-1000XM4 Kopfhörer",
            "sony",
            "SONY",
            "s o n y",
        ]));
        out
    }

    #[test]
    fn exact_substring_beats_scattered_match() {
        for engine in Engine::ALL {
            let index = FuzzyIndex::with_engine(
                titles(&[
                    "Samsung Orange Night Yoga mat",
                    "Sony WH-1000XM4 Headphones",
                    "Panasonic phone",
                ]),
                engine,
            );
            let result = full(&index, "sony", 10);
            let m = &result.matches;
            assert_eq!(m.matched, 2, "{}", engine.name());
            assert_eq!(m.top[0].item, 1, "{}", engine.name());
            assert!(m.top[0].score > m.top[1].score, "{}", engine.name());
            assert!(m.is_complete());
        }
    }

    #[test]
    fn empty_pattern_lists_first_items_in_order() {
        for engine in Engine::ALL {
            let index = FuzzyIndex::with_engine(catalogue(50), engine);
            let result = full(&index, "", 5);
            let items: Vec<usize> = result.matches.top.iter().map(|h| h.item).collect();
            assert_eq!(items, vec![0, 1, 2, 3, 4]);
            assert_eq!(result.matches.matched, index.len());
            assert_eq!(result.candidates.len(), index.len());
            // The empty pattern's candidates narrow like a full scan.
            let narrowed = index
                .search("so", 20, Some(&result.candidates), NEVER, &mut |_| {})
                .expect("not cancelled");
            assert_same_ranking(engine, "so", &narrowed, &full(&index, "so", 20));
        }
    }

    /// Narrowed and full-scan results must match exactly. SkimMatcherV2 is
    /// exempt from the score check: fuzzy-matcher 0.3.7 reuses its per-thread
    /// score matrix without clearing a bonus field, so a title's score can
    /// shift by a few points depending on what that thread scored before (seen
    /// on about 1 in 50k random pairs; turning the cache off panics on a
    /// RefCell instead). Which titles match is still exact.
    fn assert_same_ranking(
        engine: Engine,
        pattern: &str,
        narrowed: &SearchResult,
        scratch: &SearchResult,
    ) {
        let name = engine.name();
        assert_eq!(
            narrowed.candidates.items, scratch.candidates.items,
            "{name} {pattern:?}"
        );
        assert_eq!(
            narrowed.matches.matched, scratch.matches.matched,
            "{name} {pattern:?}"
        );
        if engine != Engine::Skim {
            assert_eq!(
                narrowed.matches.top, scratch.matches.top,
                "{name} {pattern:?}"
            );
        }
    }

    #[test]
    fn ranking_matches_a_brute_force_sort() {
        // Scored one title at a time and fully sorted: an independent check of
        // the chunking, the per-chunk top-k and the merge.
        let list = catalogue(FIRST_PARTIAL + 3000);
        let index = FuzzyIndex::with_scorer(list.clone(), Engine::Frizbee.scorer(), 2);
        let scorer = Engine::Frizbee.scorer();
        for pattern in ["s", "so", "sony", "kingston 128", "é", "zzzz"] {
            let prepared = scorer.prepare(pattern);
            let mut expected: Vec<Hit> = list
                .iter()
                .enumerate()
                .filter_map(|(item, title)| {
                    prepared.score(title, None).map(|score| Hit { item, score })
                })
                .collect();
            expected.sort_by(rank);
            for limit in [0, 1, 7, 200, usize::MAX] {
                let result = full(&index, pattern, limit);
                assert_eq!(result.matches.matched, expected.len(), "{pattern:?}");
                let want = &expected[..expected.len().min(limit)];
                assert_eq!(result.matches.top, want, "{pattern:?} limit {limit}");
            }
        }
    }

    #[test]
    fn incremental_narrowing_matches_full_scan() {
        let queries = [
            "sony wh1000xm4",
            "SAMSUNG galaxy s21",
            "usb c cable 2m",
            "kingston sd 128",
            "Café crème",
            "ÉCLair",
            "straße",
            "xyzzy",
            "  a  ",
        ];
        for engine in Engine::ALL {
            let index = FuzzyIndex::with_scorer(catalogue(400), engine.scorer(), 2);
            for query in queries {
                let mut previous: Option<Candidates> = None;
                for (end, _) in query.char_indices().skip(1).chain([(query.len(), ' ')]) {
                    let pattern = &query[..end];
                    let narrowed = index
                        .search(pattern, 15, previous.as_ref(), NEVER, &mut |_| {})
                        .expect("not cancelled");
                    let scratch = full(&index, pattern, 15);
                    assert_same_ranking(engine, pattern, &narrowed, &scratch);
                    if previous.is_some() {
                        assert!(
                            narrowed.matches.to_scan <= previous.as_ref().map_or(0, |p| p.len())
                        );
                    }
                    previous = Some(narrowed.candidates);
                }
            }
        }
    }

    /// SplitMix64, so the random cases are the same on every run.
    fn next_random(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn random_text(state: &mut u64, alphabet: &[char], max_len: u64) -> String {
        let len = next_random(state) % (max_len + 1);
        (0..len)
            .map(|_| alphabet[(next_random(state) % alphabet.len() as u64) as usize])
            .collect()
    }

    /// The other case of `c` when that is a single char, else `c`.
    fn flip_case(c: char) -> char {
        let other: Vec<char> = if c.is_uppercase() {
            c.to_lowercase().collect()
        } else {
            c.to_uppercase().collect()
        };
        match other.as_slice() {
            [o] => *o,
            _ => c,
        }
    }

    #[test]
    fn narrowing_matches_full_scan_on_random_tricky_text() {
        // Case pairs, multi-byte chars, case-folding traps and spaces: the
        // cases where a wrong prefix rule or engine quirk would lose matches.
        let alphabet = [
            'a', 'b', 'A', 'B', 'é', 'É', 'ß', 'S', 's', ' ', '1', '-', 'İ', 'i',
        ];
        let mut state = 42;
        let list: Vec<String> = (0..300)
            .map(|_| random_text(&mut state, &alphabet, 14))
            .collect();
        for engine in Engine::ALL {
            let index = FuzzyIndex::with_scorer(list.clone(), engine.scorer(), 2);
            for _ in 0..60 {
                let mut previous = full(&index, "", 10).candidates;
                let mut pattern = String::new();
                for _ in 0..6 {
                    // Each keystroke adds a char, and sometimes the user's
                    // earlier chars change case (retyped, caps lock): then the
                    // prefix rule decides whether narrowing is allowed.
                    pattern = pattern
                        .chars()
                        .map(|c| match next_random(&mut state) % 4 {
                            0 => flip_case(c),
                            _ => c,
                        })
                        .collect();
                    pattern
                        .push(alphabet[(next_random(&mut state) % alphabet.len() as u64) as usize]);
                    let pattern = pattern.as_str();
                    let narrowed = index
                        .search(pattern, 10, Some(&previous), NEVER, &mut |_| {})
                        .expect("not cancelled");
                    let scratch = full(&index, pattern, 10);
                    assert_same_ranking(engine, pattern, &narrowed, &scratch);
                    previous = narrowed.candidates;
                }
            }
        }
    }

    #[test]
    fn narrowing_applies_only_to_extensions_from_the_same_index() {
        let index = FuzzyIndex::new(catalogue(100));
        let other = FuzzyIndex::new(catalogue(100));
        let so = full(&index, "SO", 10).candidates;
        assert!(index.can_narrow(&so, "sony"));
        assert!(!index.can_narrow(&so, "s"));
        assert!(!index.can_narrow(&so, "sa"));
        assert!(!other.can_narrow(&so, "sony"));
        assert!(extends_pattern("Éa", "É"));
        assert!(!extends_pattern("éa", "É"));
        // A non-extension falls back to a full scan with the right answer.
        let sa = index
            .search("sa", 10, Some(&so), NEVER, &mut |_| {})
            .expect("not cancelled");
        assert_eq!(sa.matches, full(&index, "sa", 10).matches);
        assert_eq!(sa.matches.to_scan, index.len());
    }

    #[test]
    fn partial_results_arrive_before_the_final_one() {
        let index = FuzzyIndex::new(catalogue(FIRST_PARTIAL * 3));
        let mut partials: Vec<Matches> = Vec::new();
        let result = index
            .search("s", 10, None, NEVER, &mut |m| partials.push(m.clone()))
            .expect("not cancelled");
        let first = partials.first().expect("a partial after the first batch");
        assert!(first.scanned >= FIRST_PARTIAL);
        assert!(!first.is_complete());
        assert!(first.top.len() <= 10);
        assert!(result.matches.is_complete());
        assert!(result.matches.matched >= first.matched);
    }

    #[test]
    fn cancel_returns_none() {
        let index = FuzzyIndex::new(catalogue(FIRST_PARTIAL * 3));
        assert!(index.search("s", 10, None, &|| true, &mut |_| {}).is_none());
        // Cancelled mid-scan: after a few chunk checks.
        let calls = AtomicUsize::new(0);
        let cancel = || calls.fetch_add(1, AtomicOrdering::SeqCst) > 3;
        assert!(index.search("s", 10, None, &cancel, &mut |_| {}).is_none());
        // The empty pattern honours cancel too.
        assert!(index.search("", 10, None, &|| true, &mut |_| {}).is_none());
    }

    #[test]
    fn highlight_gives_char_indices_for_non_ascii_titles() {
        for engine in Engine::ALL {
            let index = FuzzyIndex::with_engine(
                titles(&["Café Crème brûlée", "Straße Sony WH-1000XM4", "plain"]),
                engine,
            );
            for (pattern, item, expected) in [
                ("crème", 0, vec![5, 6, 7, 8, 9]),
                ("brû", 0, vec![11, 12, 13]),
                ("sony", 1, vec![7, 8, 9, 10]),
                ("wh1000", 1, vec![12, 13, 15, 16, 17, 18]),
            ] {
                assert_eq!(
                    index.highlight(pattern, item),
                    expected,
                    "{} {pattern}",
                    engine.name()
                );
            }
            assert!(index.highlight("zzz", 0).is_empty());
            assert!(index.highlight("", 0).is_empty());
            assert!(index.highlight("a", 99).is_empty());
            let rows = index.highlight_many("e", &[0, 2]);
            assert_eq!(rows.len(), 2);
            assert!(rows[1].is_empty());
        }
    }

    #[test]
    fn match_indices_uses_the_default_engine() {
        assert_eq!(match_indices("crè", "Café Crème"), vec![5, 6, 7]);
        assert_eq!(
            match_indices("crè", "Café Crème"),
            FuzzyIndex::new(titles(&["Café Crème"])).highlight("crè", 0)
        );
        assert!(match_indices("zz", "Café").is_empty());
        assert!(match_indices("", "Café").is_empty());
    }

    #[test]
    fn byte_offsets_become_char_indices() {
        let mut out = Vec::new();
        // "é" is bytes 1-2, "ß" bytes 4-5; offsets arrive reversed, per byte.
        byte_to_char_indices("aébßc", &[6, 5, 4, 2, 1, 0], &mut out);
        assert_eq!(out, vec![0, 1, 3, 4]);
        byte_to_char_indices("abc", &[2, 0, 9], &mut out);
        assert_eq!(out, vec![0, 2]);
    }

    #[test]
    fn started_worker_calls_back_with_partials_then_the_final_ranking() {
        let list = catalogue(FIRST_PARTIAL * 3);
        let expected = full(&FuzzyIndex::new(list.clone()), "so", DEFAULT_LIMIT);
        let (tx, rx) = mpsc::channel();
        let worker = FuzzyWorker::start(list, move |event| {
            let _ = tx.send(event);
        });
        assert!(worker.is_running());
        worker.submit(String::from("so"), 1);
        let mut partials = 0;
        let last = loop {
            let event = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
            assert_eq!(event.generation, 1);
            if event.done {
                break event;
            }
            partials += 1;
            assert!(event.scanned < event.to_scan);
        };
        assert!(partials >= 1);
        assert_eq!(last.items, event_items(&expected.matches));
        assert_eq!(last.total, expected.matches.matched);
        assert!(worker.events().try_recv().is_err());
    }

    /// A scorer that blocks while scoring pattern "slow" until released, so
    /// the worker test can hold a search in flight without sleeping.
    struct GateScorer {
        entered: Mutex<Option<Sender<()>>>,
        open: Mutex<bool>,
        opened: Condvar,
    }

    impl GateScorer {
        fn release(&self) {
            if let Ok(mut open) = self.open.lock() {
                *open = true;
            }
            self.opened.notify_all();
        }
    }

    struct GatePattern<'s> {
        gate: &'s GateScorer,
        pattern: String,
    }

    impl Scorer for GateScorer {
        fn name(&self) -> &'static str {
            "gate"
        }
        fn prepare<'s>(&'s self, pattern: &str) -> Box<dyn Prepared + 's> {
            Box::new(GatePattern {
                gate: self,
                pattern: pattern.to_owned(),
            })
        }
    }

    impl Prepared for GatePattern<'_> {
        fn score(&self, haystack: &str, _indices: Option<&mut Vec<usize>>) -> Option<Score> {
            if self.pattern == "slow" {
                if let Some(tx) = self.gate.entered.lock().ok().and_then(|mut g| g.take()) {
                    let _ = tx.send(());
                }
                let mut open = self.gate.open.lock().ok()?;
                while !*open {
                    // Bounded so a broken test fails instead of hanging.
                    let (guard, timeout) = self
                        .gate
                        .opened
                        .wait_timeout(open, Duration::from_secs(10))
                        .ok()?;
                    open = guard;
                    if timeout.timed_out() {
                        return None;
                    }
                }
            }
            haystack
                .contains(self.pattern.as_str())
                .then(|| -(haystack.len() as Score))
        }
    }

    fn event_items(matches: &Matches) -> Vec<(u32, Score)> {
        matches
            .top
            .iter()
            .map(|h| (h.item as u32, h.score))
            .collect()
    }

    #[test]
    fn worker_drops_stale_generations_and_delivers_the_latest() {
        let (entered_tx, entered_rx) = mpsc::channel();
        let gate = Arc::new(GateScorer {
            entered: Mutex::new(Some(entered_tx)),
            open: Mutex::new(false),
            opened: Condvar::new(),
        });
        let list: Vec<String> = (0..3 * FIRST_PARTIAL)
            .map(|i| format!("item {i} ab{}", i % 7))
            .collect();
        let index = Arc::new(FuzzyIndex::with_scorer(list, gate.clone(), 2));
        let worker = FuzzyWorker::spawn(Arc::clone(&index), 5).expect("spawn");
        let timeout = Duration::from_secs(10);

        worker.submit("slow", 1);
        entered_rx
            .recv_timeout(timeout)
            .expect("search 1 started scoring");
        worker.submit("ab", 2);
        worker.submit("ab3", 3);
        gate.release();

        let mut seen = Vec::new();
        let last = loop {
            let event = worker.events().recv_timeout(timeout).expect("an event");
            seen.push((event.generation, event.done));
            if event.done {
                break event;
            }
        };
        assert_eq!(last.generation, 3, "events: {seen:?}");
        assert_eq!(last.pattern, "ab3");
        assert!(seen.iter().all(|&(g, _)| g != 2), "events: {seen:?}");
        assert_eq!(last.items, event_items(&full(&index, "ab3", 5).matches));
        assert_eq!(worker.latest_generation(), 3);

        // Typing on narrows; backspace reuses the kept prefix sets.
        for (generation, pattern) in [(4, "ab"), (5, "ab3"), (6, "")] {
            worker.submit(pattern, generation);
            let event = loop {
                let event = worker.events().recv_timeout(timeout).expect("an event");
                if event.done {
                    break event;
                }
            };
            assert_eq!(event.generation, generation);
            assert_eq!(event.items, event_items(&full(&index, pattern, 5).matches));
        }
        drop(worker);
    }

    /// Panics on pattern "boom", else matches substrings.
    struct PanicScorer;

    impl Scorer for PanicScorer {
        fn name(&self) -> &'static str {
            "panic"
        }
        fn prepare<'s>(&'s self, pattern: &str) -> Box<dyn Prepared + 's> {
            Box::new(PanicPattern(pattern.to_owned()))
        }
    }

    struct PanicPattern(String);

    impl Prepared for PanicPattern {
        fn score(&self, haystack: &str, _indices: Option<&mut Vec<usize>>) -> Option<Score> {
            assert!(self.0 != "boom", "engine bug (expected by this test)");
            haystack.contains(self.0.as_str()).then_some(1)
        }
    }

    #[test]
    fn worker_survives_a_panicking_engine() {
        let index = Arc::new(FuzzyIndex::with_scorer(
            titles(&["boom box", "tv"]),
            Arc::new(PanicScorer),
            2,
        ));
        let worker = FuzzyWorker::spawn(index, 5).expect("spawn");
        let timeout = Duration::from_secs(10);
        worker.submit("boom", 1);
        let event = worker.events().recv_timeout(timeout).expect("an event");
        assert!(event.done && event.items.is_empty() && event.generation == 1);
        worker.submit("tv", 2);
        let event = worker.events().recv_timeout(timeout).expect("an event");
        assert_eq!((event.generation, event.done), (2, true));
        assert_eq!(event.items, vec![(1, 1)]);
        assert!(worker.is_running());
    }

    #[test]
    fn worker_survives_a_dropped_receiver_side() {
        let index = Arc::new(FuzzyIndex::new(catalogue(100)));
        let worker = FuzzyWorker::spawn(index, 5).expect("spawn");
        worker.submit("so", 1);
        // Dropping with work in flight must neither hang nor panic.
        drop(worker);
    }
}
