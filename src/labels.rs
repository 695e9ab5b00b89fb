//! Relevance labelling: a judgements file that never loses a label, plus
//! exports for evaluation and an importer for gold pairs.
//!
//! The file is the judgements CSV of [`crate::judgements`] (`prodsim eval`
//! reads it unchanged) with provenance columns after the core four:
//! `query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at`.
//! Columns of an older file are kept; provenance columns it lacks are added
//! once, when a [`LabelStore`] first opens it.
//!
//! Durability: [`LabelStore::set`] appends one whole row with a single
//! `write_all` and `sync_data`s the file before it returns, so a label the
//! screen shows is on disk. Undo, redo and compaction rewrite the file
//! atomically (temporary file, fsync, rename, fsync of the directory). A kill
//! can therefore leave at most one incomplete last row; opening the file
//! drops it with a warning and repairs the file. `labelled_at` is the last
//! column so that an incomplete row is always recognisable (its timestamp is
//! cut short).
//!
//! Locking: a store holds an exclusive lock on a sidecar file
//! `.NAME.lock` (the CSV itself is replaced by renames, so it cannot carry
//! the lock) for its lifetime. The operating system drops the lock when the
//! process dies, so a killed explorer never blocks the next one.

use crate::error::{Error, Result};
use crate::judgements::{Judgement, Judgements};
use crate::rank::Query;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The columns every judgements file has, in order.
pub const CORE_COLUMNS: [&str; 4] = ["query_kind", "query", "item_id", "grade"];

/// Provenance columns, in file order. `labelled_at` is last on purpose: a
/// row cut short by a crash then always has an incomplete timestamp.
pub const PROVENANCE_COLUMNS: [&str; 5] = ["analyst", "model", "rank", "score", "labelled_at"];

const P_ANALYST: usize = 0;
const P_MODEL: usize = 1;
const P_RANK: usize = 2;
const P_SCORE: usize = 3;
const P_LABELLED_AT: usize = 4;

/// Where a label came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    /// Who graded; empty means the analyst the store was opened with.
    pub analyst: String,
    /// Id of the model whose ranking was on screen.
    pub model: String,
    /// Rank of the item in that ranking (1-based).
    pub rank: Option<usize>,
    /// Score of the item in that ranking.
    pub score: Option<f64>,
}

/// The analyst name to record by default: `$USER`, `$USERNAME`, else "unknown".
pub fn default_analyst() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

// ---------------------------------------------------------------------------
// Timestamps (wall clock, UTC; SOURCE_DATE_EPOCH deliberately not honoured)

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: usize) -> i64 {
    const DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 1 && is_leap(year) {
        29
    } else {
        DAYS[month]
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn date_of_day(mut days: i64) -> (i64, usize, i64) {
    let mut year = 1970;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if days < 0 {
            year -= 1;
            days += if is_leap(year) { 366 } else { 365 };
        } else if days >= len {
            days -= len;
            year += 1;
        } else {
            break;
        }
    }
    let mut month = 0;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month + 1, days + 1)
}

fn format_time(secs: i64, millis: Option<i64>) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = date_of_day(days);
    let clock = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    match millis {
        Some(ms) => format!("{clock}.{ms:03}Z"),
        None => format!("{clock}Z"),
    }
}

/// RFC 3339 UTC time of a Unix timestamp: `2026-01-02T03:04:05Z`.
pub fn rfc3339(secs: i64) -> String {
    format_time(secs, None)
}

/// RFC 3339 UTC time with milliseconds: `2026-01-02T03:04:05.678Z`.
pub fn rfc3339_millis(millis: i64) -> String {
    format_time(millis.div_euclid(1000), Some(millis.rem_euclid(1000)))
}

/// The current wall-clock time as `rfc3339_millis` formats it.
pub fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    rfc3339_millis(ms)
}

/// True for a complete RFC 3339 date-time (`T` or space between date and
/// time, optional fraction, `Z` or a `+hh:mm` offset).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.len() == r.len() && d.iter().all(u8::is_ascii_digit))
    };
    let ok_prefix = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !ok_prefix {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6)
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// CSV helpers

/// One CSV record, `\n`-terminated, quoted where needed.
fn record_bytes<I, S>(fields: I) -> Result<Vec<u8>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(fields).map_err(|e| Error::Io {
        context: "cannot encode a CSV row".into(),
        source: e.into(),
    })?;
    w.into_inner().map_err(|e| Error::Io {
        context: "cannot encode a CSV row".into(),
        source: e.into_error(),
    })
}

fn header_bytes(extra_columns: &[String]) -> Result<Vec<u8>> {
    record_bytes(
        CORE_COLUMNS
            .iter()
            .map(|s| s.as_bytes())
            .chain(extra_columns.iter().map(|s| s.as_bytes())),
    )
}

fn row_bytes(row: &Judgement) -> Result<Vec<u8>> {
    let grade = row.grade.to_string();
    record_bytes(
        [
            row.query.kind(),
            row.query.value(),
            row.item_id.as_str(),
            grade.as_str(),
        ]
        .into_iter()
        .chain(row.extra.iter().map(String::as_str)),
    )
}

/// Writes a whole judgements file atomically.
fn write_file<'a>(
    path: &Path,
    extra_columns: &[String],
    rows: impl Iterator<Item = &'a Judgement>,
) -> Result<()> {
    let mut bytes = header_bytes(extra_columns)?;
    for row in rows {
        bytes.extend_from_slice(&row_bytes(row)?);
    }
    crate::model::format::write_atomic(path, &bytes)
}

/// The path with symlinks resolved (of its directory when it does not
/// exist yet), so that every name of one file shares one lock and renames
/// replace the file, not a link to it.
fn resolve(path: &Path) -> Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let name = path
                .file_name()
                .ok_or_else(|| Error::input(format!("{}: not a file name", path.display())))?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dir = std::fs::canonicalize(parent)
                .map_err(|e| Error::io(parent, "open the directory of the judgements file", e))?;
            Ok(dir.join(name))
        }
        Err(e) => Err(Error::io(path, "open the judgements file", e)),
    }
}

// ---------------------------------------------------------------------------
// Reading with crash repair

/// A last row that was dropped because it was incomplete or unreadable.
#[derive(Debug, Clone)]
struct Dropped {
    line: u64,
    bytes: Vec<u8>,
    reason: String,
}

/// A judgements file read leniently at its end.
#[derive(Debug)]
struct Parsed {
    judgements: Judgements,
    dropped: Option<Dropped>,
    /// The last row had no final newline but was complete and is kept.
    kept_unterminated: Option<u64>,
    /// The raw header line, terminator included.
    header_raw: Vec<u8>,
}

/// Parses a judgements file; an incomplete or unreadable *last* row (what a
/// crash during an append leaves) is set aside instead of failing. Any other
/// bad row is an error naming its line and column.
fn parse_tolerant(path: &Path, bytes: &[u8]) -> Result<Parsed> {
    let file = path.display();
    let mut starts: Vec<(usize, u64)> = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {
                if let Some(p) = rec.position() {
                    starts.push((usize::try_from(p.byte()).unwrap_or(0), p.line()));
                }
            }
            Ok(false) => break,
            Err(e) => return Err(Error::input(format!("{file}: cannot parse CSV: {e}"))),
        }
    }
    let header_raw = match starts.get(1) {
        Some(&(b, _)) => bytes[..b.min(bytes.len())].to_vec(),
        None => bytes.to_vec(),
    };
    let last_data = if starts.len() >= 2 {
        starts.last().copied()
    } else {
        None
    };
    let drop_last = |start: usize, line: u64, reason: String| -> Result<Parsed> {
        let judgements = Judgements::from_bytes(path, &bytes[..start])?;
        Ok(Parsed {
            judgements,
            dropped: Some(Dropped {
                line,
                bytes: bytes[start..].to_vec(),
                reason,
            }),
            kept_unterminated: None,
            header_raw: header_raw.clone(),
        })
    };
    let judgements = match Judgements::from_bytes(path, bytes) {
        Ok(j) => j,
        Err(e) => {
            let Some((start, line)) = last_data else {
                return Err(e);
            };
            // The error is the last row's when everything before it parses.
            if Judgements::from_bytes(path, &bytes[..start]).is_err() {
                return Err(e);
            }
            return drop_last(start, line, e.to_string());
        }
    };
    let mut kept_unterminated = None;
    if let Some((start, line)) = last_data {
        let tail = &bytes[start..];
        let quotes = tail.iter().filter(|&&b| b == b'"').count();
        let terminated = tail.ends_with(b"\n");
        if quotes % 2 == 1 {
            return drop_last(start, line, "it ends inside a quoted value".to_string());
        }
        if !terminated {
            // A store-written row always ends with a complete timestamp.
            let stamp_last = judgements
                .extra_columns
                .last()
                .is_some_and(|c| c == PROVENANCE_COLUMNS[P_LABELLED_AT]);
            let stamp = judgements
                .rows
                .last()
                .and_then(|r| r.extra.last())
                .map(String::as_str)
                .unwrap_or("");
            if stamp_last && !stamp.is_empty() && !is_timestamp(stamp) {
                return drop_last(
                    start,
                    line,
                    format!("it has no final newline and its labelled_at {stamp:?} is cut short"),
                );
            }
            kept_unterminated = Some(line);
        }
    }
    Ok(Parsed {
        judgements,
        dropped: None,
        kept_unterminated,
        header_raw,
    })
}

fn shorten(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push_str("...");
    }
    format!("{out:?}")
}

fn dropped_warning(file: &Path, d: &Dropped, saved: Option<&Path>) -> String {
    let saved = match saved {
        Some(p) => format!("; its text was saved to {}", p.display()),
        None => String::new(),
    };
    format!(
        "{}: line {}: dropped an incomplete last row, probably from an interrupted write \
         ({}): {}{saved}",
        file.display(),
        d.line,
        d.reason,
        shorten(&d.bytes)
    )
}

/// Reads a labels (judgements) file without locking it, for export: an
/// incomplete last row (an append in progress, or a crash) is left out with
/// a warning; the file is not changed.
pub fn read_labels(path: &Path) -> Result<(Judgements, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the judgements", e))?;
    let parsed = parse_tolerant(path, &bytes)?;
    let mut warnings = Vec::new();
    if let Some(d) = &parsed.dropped {
        warnings.push(dropped_warning(path, d, None));
    }
    Ok((parsed.judgements, warnings))
}

// ---------------------------------------------------------------------------
// Locking

/// The sidecar lock file of a (resolved) judgements path: `.NAME.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "labels".into());
    path.with_file_name(format!(".{name}.lock"))
}

fn held_message(display: &Path, lock: &Path) -> Error {
    let info = std::fs::read_to_string(lock).unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
            .filter(|v| !v.is_empty())
    };
    let mut who = Vec::new();
    if let Some(pid) = field("pid ") {
        who.push(format!("pid {pid}"));
    }
    if let Some(a) = field("analyst ") {
        who.push(format!("analyst {a}"));
    }
    if let Some(s) = field("since ") {
        who.push(format!("since {s}"));
    }
    let who = if who.is_empty() {
        String::new()
    } else {
        format!(" ({})", who.join(", "))
    };
    Error::input(format!(
        "{}: another prodsim{who} is labelling this file; close it there first, \
         or label into another file (lock file {})",
        display.display(),
        lock.display()
    ))
}

/// Takes the exclusive lock of `real` (a resolved path), creating the lock
/// file, and records who holds it. `display` is the name used in messages.
fn acquire_lock(display: &Path, real: &Path, analyst: &str) -> Result<File> {
    let lock = lock_path(real);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|e| Error::io(&lock, "create the lock file", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(held_message(display, &lock)),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::Io {
                context: format!(
                    "{}: cannot lock {} (does this file system support file locks?)",
                    display.display(),
                    lock.display()
                ),
                source: e,
            });
        }
    }
    let info = format!(
        "pid {}\nanalyst {}\nsince {}\n",
        std::process::id(),
        analyst.replace(['\n', '\r'], " "),
        now_rfc3339()
    );
    // Who holds the lock is only for messages; failing to record it is harmless.
    let _ = file
        .set_len(0)
        .and_then(|()| (&file).write_all(info.as_bytes()));
    Ok(file)
}

/// Fails when a store (here or in another process) is labelling `path`.
/// Creates no lock file: a file nobody ever labelled has none.
pub fn ensure_not_labelled(path: &Path) -> Result<()> {
    let real = resolve(path)?;
    let lock = lock_path(&real);
    // Read-only is enough for flock(2), and works on another user's lock file.
    let Ok(file) = File::open(&lock) else {
        return Ok(());
    };
    match file.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => Err(held_message(path, &lock)),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// The store

/// One undoable change of one pair: its row before and after, and where the
/// pair sat in the file order.
#[derive(Debug, Clone)]
struct Change {
    query: Query,
    item_id: String,
    before: Option<Judgement>,
    after: Option<Judgement>,
    pos: usize,
}

/// Identity and size of the file the append handle writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(m: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        FileId { dev: 0, ino: 0 }
    }
}

/// A locked, crash-safe judgements file being labelled.
///
/// The state is one row per judged (query, item) pair, in order of first
/// labelling; the file may hold older rows for a pair too (a later row
/// replaces an earlier one, as `prodsim eval` reads it) until
/// [`LabelStore::compact`] or an undo rewrites it.
#[derive(Debug)]
pub struct LabelStore {
    /// As given, for messages.
    path: PathBuf,
    /// Symlinks resolved; all I/O goes here.
    real: PathBuf,
    /// Held for the store's lifetime; the OS releases it when we die.
    _lock: File,
    /// Append handle; `None` after a rewrite whose reopening failed.
    file: Option<File>,
    id: FileId,
    /// Bytes in the file as we wrote them.
    len: u64,
    /// Rows in the file (including replaced ones).
    rows_in_file: usize,
    analyst: String,
    /// Non-core columns in file order; provenance columns at the end.
    extra_columns: Vec<String>,
    /// Index of each provenance column in `extra_columns`.
    prov: [usize; 5],
    /// Current state: one row per pair, in order of first labelling.
    entries: Vec<Judgement>,
    /// query -> item id -> index in `entries`.
    index: HashMap<Query, HashMap<String, usize>>,
    undo: Vec<Change>,
    redo: Vec<Change>,
    warnings: Vec<String>,
}

fn normalise(query: &Query, item_id: &str) -> (Query, String) {
    let query = match query {
        Query::Text(t) => Query::Text(t.clone()),
        Query::Item(i) => Query::Item(i.trim().to_string()),
    };
    (query, item_id.trim().to_string())
}

fn finite(score: f64) -> Option<f64> {
    score.is_finite().then_some(score)
}

impl LabelStore {
    /// Opens (creating with the header if missing) and locks the file. A
    /// file without the provenance columns is migrated once: rewritten
    /// atomically with them added (empty for old rows), nothing lost. An
    /// incomplete last row left by a crash is dropped with a warning (see
    /// [`LabelStore::warnings`]) and the file repaired.
    ///
    /// If another process (or another store in this one) holds the lock:
    /// `Err(Error::Input)` naming the file and the holder's pid.
    pub fn open(path: &Path, analyst: &str) -> Result<LabelStore> {
        let real = resolve(path)?;
        let analyst = match analyst.trim() {
            "" => default_analyst(),
            a => a.to_string(),
        };
        let lock = acquire_lock(path, &real, &analyst)?;
        let mut warnings = Vec::new();
        remove_stale_temporaries(&real);
        let bytes = match std::fs::read(&real) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(path, "read the judgements", e)),
        };
        let (judgements, rewrite) = if bytes.iter().all(u8::is_ascii_whitespace) {
            (
                Judgements {
                    path: path.to_path_buf(),
                    ..Default::default()
                },
                true,
            )
        } else {
            let parsed = parse_tolerant(path, &bytes)?;
            let mut rewrite = parsed.kept_unterminated.is_some();
            if let Some(line) = parsed.kept_unterminated {
                warnings.push(format!(
                    "{}: line {line}: the last row had no final newline; it is complete and was kept",
                    path.display()
                ));
            }
            if let Some(d) = &parsed.dropped {
                let saved = save_dropped(&real, &d.bytes);
                warnings.push(dropped_warning(path, d, saved.as_deref()));
                rewrite = true;
            }
            let canonical = canonical_columns(&parsed.judgements.extra_columns);
            if parsed.header_raw != header_bytes(&canonical)? {
                rewrite = true;
                let added: Vec<&str> = PROVENANCE_COLUMNS
                    .iter()
                    .copied()
                    .filter(|c| !parsed.judgements.extra_columns.iter().any(|e| e == c))
                    .collect();
                if !added.is_empty() {
                    warnings.push(format!(
                        "{}: added the provenance columns {} (empty for the {} earlier rows); \
                         every row was kept",
                        path.display(),
                        added.join(", "),
                        parsed.judgements.rows.len()
                    ));
                }
            }
            (parsed.judgements, rewrite)
        };
        let extra_columns = canonical_columns(&judgements.extra_columns);
        let rows = remap(&judgements, &extra_columns);
        if rewrite {
            // Repairs and migrations keep every row, replaced ones too.
            write_file(&real, &extra_columns, rows.iter())?;
        }
        let prov = PROVENANCE_COLUMNS.map(|c| {
            extra_columns
                .iter()
                .position(|e| e == c)
                .unwrap_or_default()
        });
        let mut store = LabelStore {
            path: path.to_path_buf(),
            real,
            _lock: lock,
            file: None,
            id: FileId { dev: 0, ino: 0 },
            len: 0,
            rows_in_file: rows.len(),
            analyst,
            extra_columns,
            prov,
            entries: Vec::new(),
            index: HashMap::new(),
            undo: Vec::new(),
            redo: Vec::new(),
            warnings,
        };
        for row in rows {
            store.apply_row(row);
        }
        store.reopen()?;
        Ok(store)
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening found and fixed: a dropped incomplete last row, added
    /// columns. Empty normally.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The analyst recorded when a label's provenance names none.
    pub fn analyst(&self) -> &str {
        &self.analyst
    }

    fn position(&self, query: &Query, item_id: &str) -> Option<usize> {
        let item_id = item_id.trim();
        let items = match query {
            Query::Item(i) if i.trim().len() != i.len() => {
                self.index.get(&Query::Item(i.trim().to_string()))?
            }
            q => self.index.get(q)?,
        };
        items.get(item_id).copied()
    }

    /// The current grade of a pair, if judged.
    pub fn grade(&self, query: &Query, item_id: &str) -> Option<i32> {
        self.position(query, item_id).map(|i| self.entries[i].grade)
    }

    /// The current row of a pair (grade and provenance columns), if judged.
    pub fn judgement(&self, query: &Query, item_id: &str) -> Option<&Judgement> {
        self.position(query, item_id).map(|i| &self.entries[i])
    }

    /// Grades a pair; re-grading replaces. Durable when it returns: one CSV
    /// row is appended with a single write and the file is `sync_data`ed.
    /// Setting the grade a pair already has changes nothing.
    pub fn set(
        &mut self,
        query: &Query,
        item_id: &str,
        grade: i32,
        prov: Provenance,
    ) -> Result<()> {
        let (query, item_id) = normalise(query, item_id);
        if query.value().trim().is_empty() {
            return Err(Error::input("cannot label an empty query"));
        }
        if item_id.is_empty() {
            return Err(Error::input("cannot label an empty item id"));
        }
        let pos = self.position(&query, &item_id);
        if pos.is_some_and(|i| self.entries[i].grade == grade) {
            return Ok(());
        }
        let mut extra = vec![String::new(); self.extra_columns.len()];
        extra[self.prov[P_ANALYST]] = if prov.analyst.trim().is_empty() {
            self.analyst.clone()
        } else {
            prov.analyst
        };
        extra[self.prov[P_MODEL]] = prov.model;
        extra[self.prov[P_RANK]] = prov.rank.map(|r| r.to_string()).unwrap_or_default();
        extra[self.prov[P_SCORE]] = prov
            .score
            .and_then(finite)
            .map(|s| format!("{s:.6}"))
            .unwrap_or_default();
        extra[self.prov[P_LABELLED_AT]] = now_rfc3339();
        let row = Judgement {
            query: query.clone(),
            item_id: item_id.clone(),
            grade,
            line: self.rows_in_file as u64 + 2,
            extra,
        };
        self.append(&row)?;
        let before = pos.map(|i| self.entries[i].clone());
        let at = pos.unwrap_or(self.entries.len());
        self.apply_row(row.clone());
        self.undo.push(Change {
            query,
            item_id,
            before,
            after: Some(row),
            pos: at,
        });
        self.redo.clear();
        Ok(())
    }

    /// Removes a pair's label (undoable). Rewrites the file atomically.
    /// Returns false when the pair was not judged.
    pub fn clear(&mut self, query: &Query, item_id: &str) -> Result<bool> {
        let (query, item_id) = normalise(query, item_id);
        let Some(pos) = self.position(&query, &item_id) else {
            return Ok(false);
        };
        let change = Change {
            query,
            item_id,
            before: Some(self.entries[pos].clone()),
            after: None,
            pos,
        };
        self.check_unchanged()?;
        self.put(&change.query, &change.item_id, None, pos);
        if let Err(e) = self.rewrite() {
            self.put(&change.query, &change.item_id, change.before.clone(), pos);
            return Err(e);
        }
        self.undo.push(change);
        self.redo.clear();
        Ok(true)
    }

    /// Undoes the last label change (a first label disappears, a re-grade
    /// gets its earlier grade back). Rewrites the file atomically. Returns
    /// the pair that changed, or `None` when there is nothing to undo.
    pub fn undo(&mut self) -> Result<Option<(Query, String)>> {
        self.step(true)
    }

    /// Redoes the last undone change. Returns the pair that changed.
    pub fn redo(&mut self) -> Result<Option<(Query, String)>> {
        self.step(false)
    }

    /// Changes that `undo` / `redo` can take back or repeat.
    pub fn history(&self) -> (usize, usize) {
        (self.undo.len(), self.redo.len())
    }

    fn step(&mut self, undo: bool) -> Result<Option<(Query, String)>> {
        let stack = if undo { &self.undo } else { &self.redo };
        let Some(change) = stack.last().cloned() else {
            return Ok(None);
        };
        self.check_unchanged()?;
        let (target, previous) = if undo {
            (change.before.clone(), change.after.clone())
        } else {
            (change.after.clone(), change.before.clone())
        };
        self.put(&change.query, &change.item_id, target, change.pos);
        if let Err(e) = self.rewrite() {
            self.put(&change.query, &change.item_id, previous, change.pos);
            return Err(e);
        }
        if undo {
            self.undo.pop();
            self.redo.push(change.clone());
        } else {
            self.redo.pop();
            self.undo.push(change.clone());
        }
        Ok(Some((change.query, change.item_id)))
    }

    /// Judged (query, item) pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is judged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Judged items of one query.
    pub fn judged_for(&self, query: &Query) -> usize {
        match query {
            Query::Item(i) if i.trim().len() != i.len() => self
                .index
                .get(&Query::Item(i.trim().to_string()))
                .map_or(0, HashMap::len),
            q => self.index.get(q).map_or(0, HashMap::len),
        }
    }

    /// Distinct queries with at least one judged item.
    pub fn queries(&self) -> usize {
        self.index.len()
    }

    /// The current state as judgements (one row per pair, in order of first
    /// labelling), for `eval::evaluate` or [`export`].
    pub fn to_judgements(&self) -> Judgements {
        Judgements {
            path: self.path.clone(),
            extra_columns: self.extra_columns.clone(),
            rows: self.entries.clone(),
        }
    }

    /// Rewrites the file with one row per judged pair (latest wins),
    /// atomically. Call on clean exit; a no-op when nothing was replaced.
    pub fn compact(&mut self) -> Result<()> {
        if self.rows_in_file == self.entries.len() {
            return Ok(());
        }
        self.check_unchanged()?;
        self.rewrite()
    }

    // -- internals ------------------------------------------------------

    /// Makes `row` the pair's current row (appending the pair if new).
    fn apply_row(&mut self, row: Judgement) {
        match self.position(&row.query, &row.item_id) {
            Some(i) => self.entries[i] = row,
            None => {
                let at = self.entries.len();
                self.index
                    .entry(row.query.clone())
                    .or_default()
                    .insert(row.item_id.clone(), at);
                self.entries.push(row);
            }
        }
    }

    /// Sets a pair to `target` (None = not judged), inserting a new pair at
    /// `pos` so that undo and redo restore the file order.
    fn put(&mut self, query: &Query, item_id: &str, target: Option<Judgement>, pos: usize) {
        match (self.position(query, item_id), target) {
            (Some(i), Some(row)) => self.entries[i] = row,
            (Some(i), None) => {
                self.entries.remove(i);
                if let Some(items) = self.index.get_mut(query) {
                    items.remove(item_id);
                    if items.is_empty() {
                        self.index.remove(query);
                    }
                }
                for items in self.index.values_mut() {
                    for v in items.values_mut() {
                        if *v > i {
                            *v -= 1;
                        }
                    }
                }
            }
            (None, Some(row)) => {
                let at = pos.min(self.entries.len());
                for items in self.index.values_mut() {
                    for v in items.values_mut() {
                        if *v >= at {
                            *v += 1;
                        }
                    }
                }
                self.index
                    .entry(row.query.clone())
                    .or_default()
                    .insert(row.item_id.clone(), at);
                self.entries.insert(at, row);
            }
            (None, None) => {}
        }
    }

    /// Opens the append handle on the file now at the path.
    fn reopen(&mut self) -> Result<()> {
        self.file = None;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.real)
            .map_err(|e| Error::io(&self.path, "open the judgements for appending", e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(&self.path, "stat the judgements", e))?;
        self.id = file_id(&meta);
        self.len = meta.len();
        self.file = Some(file);
        Ok(())
    }

    /// Fails when another program replaced, removed or changed the file
    /// since we last wrote it: appending then would lose labels silently.
    fn check_unchanged(&self) -> Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let changed = |what: &str| {
            Error::input(format!(
                "{}: the file was {what} by another program while it was being labelled; \
                 nothing more is written to it, so that neither side's labels are lost. \
                 Reopen it to continue",
                self.path.display()
            ))
        };
        let ours = file
            .metadata()
            .map_err(|e| Error::io(&self.path, "stat the judgements", e))?;
        match std::fs::metadata(&self.real) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(changed("removed")),
            Err(e) => return Err(Error::io(&self.path, "stat the judgements", e)),
            Ok(m) if file_id(&m) != self.id => return Err(changed("replaced")),
            Ok(_) => {}
        }
        if ours.len() != self.len {
            return Err(changed("changed"));
        }
        Ok(())
    }

    /// Appends one row durably; on failure the file is cut back so that no
    /// partial row stays behind.
    fn append(&mut self, row: &Judgement) -> Result<()> {
        if self.file.is_none() {
            self.reopen()?;
        }
        self.check_unchanged()?;
        let bytes = row_bytes(row)?;
        let len = self.len;
        let path = self.path.clone();
        let Some(file) = self.file.as_mut() else {
            return Err(Error::input(format!(
                "{}: the judgements file is not open",
                path.display()
            )));
        };
        let written = file.write_all(&bytes).and_then(|()| file.sync_data());
        if let Err(e) = written {
            if file.set_len(len).and_then(|()| file.sync_data()).is_err() {
                // Could not cut the partial row: the next open repairs it.
                self.file = None;
            }
            return Err(Error::io(&path, "append to the judgements", e));
        }
        self.len += bytes.len() as u64;
        self.rows_in_file += 1;
        Ok(())
    }

    /// Writes the current state atomically and reopens the append handle.
    fn rewrite(&mut self) -> Result<()> {
        write_file(&self.real, &self.extra_columns, self.entries.iter())?;
        self.rows_in_file = self.entries.len();
        // The file on disk is right; if reopening fails the next append retries.
        let _ = self.reopen();
        Ok(())
    }
}

/// `extra` columns as a store writes them: the file's own extra columns in
/// order, then every provenance column at the end.
fn canonical_columns(file_extras: &[String]) -> Vec<String> {
    let mut out: Vec<String> = file_extras
        .iter()
        .filter(|c| !PROVENANCE_COLUMNS.contains(&c.as_str()))
        .cloned()
        .collect();
    out.extend(PROVENANCE_COLUMNS.iter().map(|c| c.to_string()));
    out
}

/// The rows of `j` with their extra values in `columns` order (missing ones empty).
fn remap(j: &Judgements, columns: &[String]) -> Vec<Judgement> {
    let from: Vec<Option<usize>> = columns
        .iter()
        .map(|c| j.extra_columns.iter().position(|e| e == c))
        .collect();
    j.rows
        .iter()
        .map(|r| Judgement {
            extra: from
                .iter()
                .map(|f| f.and_then(|i| r.extra.get(i).cloned()).unwrap_or_default())
                .collect(),
            ..r.clone()
        })
        .collect()
}

/// Keeps the text of a dropped row in `NAME.dropped`; returns that path.
fn save_dropped(real: &Path, bytes: &[u8]) -> Option<PathBuf> {
    let name = real.file_name()?.to_string_lossy().into_owned();
    let path = real.with_file_name(format!("{name}.dropped"));
    let mut data = bytes.to_vec();
    if !data.ends_with(b"\n") {
        data.push(b'\n');
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    f.write_all(&data).and_then(|()| f.sync_data()).ok()?;
    Some(path)
}

/// Removes temporary files of atomic writes of this file that a killed
/// process left (`.NAME.PID.tmp` or `.NAME.PID.SERIAL.tmp`, PID not ours). Only called with the lock held.
fn remove_stale_temporaries(real: &Path) {
    let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let own = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let n = file_name.to_string_lossy();
        let Some(middle) = n.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else {
            continue;
        };
        // `PID` or `PID.SERIAL` (see `write_atomic_with`).
        let pid = middle.split('.').next().unwrap_or("");
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if middle.split('.').count() <= 2 && middle.split('.').all(digits) && pid != own {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

// ---------------------------------------------------------------------------
// Export

/// One row per judged (query, item) pair, the latest row winning, grouped
/// by query: queries in order of first appearance, each query's items in
/// order of first appearance (what `Judgements::by_query` sees).
pub fn compacted(j: &Judgements) -> Judgements {
    let mut queries: HashMap<&Query, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Judgement>, HashMap<&str, usize>)> = Vec::new();
    for r in &j.rows {
        let g = *queries.entry(&r.query).or_insert_with(|| {
            groups.push((Vec::new(), HashMap::new()));
            groups.len() - 1
        });
        let (rows, items) = &mut groups[g];
        match items.get(r.item_id.as_str()) {
            Some(&i) => rows[i] = r.clone(),
            None => {
                items.insert(r.item_id.as_str(), rows.len());
                rows.push(r.clone());
            }
        }
    }
    Judgements {
        path: j.path.clone(),
        extra_columns: j.extra_columns.clone(),
        rows: groups.into_iter().flat_map(|(rows, _)| rows).collect(),
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Compacted judgements CSV with every column (`prodsim eval` reads it).
    Csv,
    /// One JSON object per judged pair, provenance included.
    Jsonl,
    /// TREC qrels: `qid 0 item_id grade`.
    Qrels,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub format: ExportFormat,
    /// Judged pairs written.
    pub pairs: usize,
    /// Distinct queries.
    pub queries: usize,
    /// Pairs with grade > 0.
    pub relevant: usize,
    pub out: PathBuf,
    pub topics: Option<PathBuf>,
    pub warnings: Vec<String>,
}

fn json_field(out: &mut String, key: &str, value: serde_json::Value) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push_str(&serde_json::Value::String(key.to_string()).to_string());
    out.push(':');
    out.push_str(&value.to_string());
}

fn jsonl_bytes(j: &Judgements) -> Result<Vec<u8>> {
    use serde_json::Value;
    let file = j.path.display();
    let col = |name: &str| j.extra_columns.iter().position(|c| c == name);
    let prov: Vec<Option<usize>> = PROVENANCE_COLUMNS.iter().map(|c| col(c)).collect();
    let mut out = Vec::new();
    for r in &j.rows {
        let get = |p: usize| {
            prov[p]
                .and_then(|i| r.extra.get(i))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let mut s = String::from("{");
        json_field(&mut s, "query_kind", Value::from(r.query.kind()));
        json_field(&mut s, "query", Value::from(r.query.value()));
        json_field(&mut s, "item_id", Value::from(r.item_id.as_str()));
        json_field(&mut s, "grade", Value::from(r.grade));
        for (p, name) in PROVENANCE_COLUMNS.iter().enumerate() {
            let value = match (p, get(p)) {
                (_, None) => Value::Null,
                (P_RANK, Some(v)) => Value::from(v.parse::<u64>().map_err(|_| {
                    Error::input(format!(
                        "{file}: line {}, column \"rank\": {v:?} is not a whole number",
                        r.line
                    ))
                })?),
                (P_SCORE, Some(v)) => {
                    let x: f64 = v.parse().map_err(|_| {
                        Error::input(format!(
                            "{file}: line {}, column \"score\": {v:?} is not a number",
                            r.line
                        ))
                    })?;
                    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                }
                (_, Some(v)) => Value::from(v),
            };
            json_field(&mut s, name, value);
        }
        for (i, c) in j.extra_columns.iter().enumerate() {
            if !PROVENANCE_COLUMNS.contains(&c.as_str()) {
                let v = r.extra.get(i).cloned().unwrap_or_default();
                json_field(&mut s, c, Value::from(v));
            }
        }
        s.push_str("}\n");
        out.extend_from_slice(s.as_bytes());
    }
    Ok(out)
}

/// Query ids for qrels: 1..N in order of first appearance.
fn qids(j: &Judgements) -> Vec<(usize, &Query)> {
    let mut seen: HashMap<&Query, usize> = HashMap::new();
    let mut out = Vec::new();
    for r in &j.rows {
        if !seen.contains_key(&r.query) {
            seen.insert(&r.query, seen.len() + 1);
            out.push((seen.len(), &r.query));
        }
    }
    out
}

fn qrels_bytes(j: &Judgements) -> Result<Vec<u8>> {
    let file = j.path.display();
    let ids: HashMap<&Query, usize> = qids(j).into_iter().map(|(n, q)| (q, n)).collect();
    let mut out = Vec::new();
    for r in &j.rows {
        if r.item_id.chars().any(char::is_whitespace) {
            return Err(Error::input(format!(
                "{file}: line {}, column \"item_id\": {:?} contains whitespace, which TREC qrels \
                 cannot represent; export as csv or jsonl instead",
                r.line, r.item_id
            )));
        }
        let qid = ids.get(&r.query).copied().unwrap_or_default();
        out.extend_from_slice(format!("{qid} 0 {} {}\n", r.item_id, r.grade).as_bytes());
    }
    Ok(out)
}

fn topics_bytes(j: &Judgements) -> Result<Vec<u8>> {
    let mut out = record_bytes(["qid", "query_kind", "query"])?;
    for (qid, q) in qids(j) {
        out.extend_from_slice(&record_bytes([&qid.to_string(), q.kind(), q.value()])?);
    }
    Ok(out)
}

fn csv_bytes(j: &Judgements) -> Result<Vec<u8>> {
    let mut out = header_bytes(&j.extra_columns)?;
    for r in &j.rows {
        out.extend_from_slice(&row_bytes(r)?);
    }
    Ok(out)
}

/// Writes judgements for evaluation, compacted first (one row per pair,
/// latest wins): `csv` with every column, `jsonl` with typed provenance, or
/// `qrels` (qids 1..N in order of first appearance; `topics`, if given,
/// receives the mapping `qid,query_kind,query`). Every file is written
/// atomically. The explorer passes `store.to_judgements()`.
pub fn export(
    judgements: &Judgements,
    format: ExportFormat,
    out: &Path,
    topics: Option<&Path>,
) -> Result<ExportSummary> {
    if topics.is_some() && format != ExportFormat::Qrels {
        return Err(Error::input(
            "--topics is the qid mapping of a qrels export; use it with --format qrels",
        ));
    }
    let out_real = resolve(out)?;
    let source_real = resolve(&judgements.path).ok();
    if source_real.as_ref() == Some(&out_real) {
        return Err(Error::input(format!(
            "{}: the output is the judgements file itself; write the export to another file",
            out.display()
        )));
    }
    if let Some(t) = topics {
        let t_real = resolve(t)?;
        if t_real == out_real || source_real.as_ref() == Some(&t_real) {
            return Err(Error::input(format!(
                "{}: the topics file must differ from the output and the judgements file",
                t.display()
            )));
        }
        ensure_not_labelled(t)?;
    }
    ensure_not_labelled(out)?;
    let j = compacted(judgements);
    let bytes = match format {
        ExportFormat::Csv => csv_bytes(&j)?,
        ExportFormat::Jsonl => jsonl_bytes(&j)?,
        ExportFormat::Qrels => qrels_bytes(&j)?,
    };
    let mut warnings = Vec::new();
    if let Some(t) = topics {
        crate::model::format::write_atomic(t, &topics_bytes(&j)?)?;
    } else if format == ExportFormat::Qrels {
        warnings.push(format!(
            "{}: qrels written without --topics: the qids 1..N cannot be mapped back to \
             queries; add --topics FILE to keep the mapping",
            out.display()
        ));
    }
    crate::model::format::write_atomic(out, &bytes)?;
    let queries = qids(&j).len();
    Ok(ExportSummary {
        format,
        pairs: j.rows.len(),
        queries,
        relevant: j.rows.iter().filter(|r| r.grade > 0).count(),
        out: out.to_path_buf(),
        topics: topics.map(Path::to_path_buf),
        warnings,
    })
}

/// The explorer's export key: writes `NAME.qrels`, `NAME.topics.csv` and
/// `NAME.jsonl` next to the labels file `NAME.csv` (atomically) and returns
/// a one-line status naming them.
pub fn export_beside(store: &LabelStore) -> Result<String> {
    let j = store.to_judgements();
    let base = store.path().with_extension("");
    let with = |suffix: &str| {
        let mut name = base.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        base.with_file_name(name)
    };
    let (qrels, topics, jsonl) = (with(".qrels"), with(".topics.csv"), with(".jsonl"));
    let s = export(&j, ExportFormat::Qrels, &qrels, Some(&topics))?;
    export(&j, ExportFormat::Jsonl, &jsonl, None)?;
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Ok(format!(
        "exported {} judged pairs ({} queries) -> {}, {}, {}",
        s.pairs,
        s.queries,
        name(&qrels),
        name(&topics),
        name(&jsonl)
    ))
}

// ---------------------------------------------------------------------------
// Import

/// How to turn a CSV of gold pairs into judgements.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// CSV with a header and two id columns.
    pub pairs: PathBuf,
    /// Column of the left (query) id.
    pub left: String,
    /// Column of the right (judged item) id.
    pub right: String,
    pub out: PathBuf,
    /// With `left_text`: the query is this catalogue's text of the left id.
    pub left_catalog: Option<PathBuf>,
    /// Id column of the left catalogue.
    pub left_id: String,
    pub left_text: Option<String>,
    pub grade: i32,
    pub analyst: String,
    /// Replace an existing `out`.
    pub force: bool,
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    /// Pair rows read.
    pub pairs: usize,
    /// Judgements written (distinct (query, item) pairs).
    pub judgements: usize,
    pub queries: usize,
    /// Repeated pairs written once.
    pub duplicates: usize,
    /// Pairs left out because the left item's text is empty.
    pub empty_text: usize,
    pub warnings: Vec<String>,
}

/// Left id -> (row index in the left catalogue, text).
type LeftTexts = HashMap<String, (usize, String)>;

/// A CSV read whole, with its header; cells checked lazily.
struct Table {
    file: String,
    headers: Vec<String>,
    rows: Vec<csv::ByteRecord>,
}

impl Table {
    fn read(path: &Path, what: &str) -> Result<Table> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, what, e))?;
        let file = path.display().to_string();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::input(format!(
                "{file}: the file is empty; it needs a header row"
            )));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[..]);
        let mut records = reader.byte_records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(Error::input(format!("{file}: cannot parse CSV: {e}"))),
            None => return Err(Error::input(format!("{file}: the file is empty"))),
        };
        let headers = crate::judgements::header_names(&header);
        let mut rows = Vec::new();
        for rec in records {
            let rec = rec.map_err(|e| Error::input(format!("{file}: cannot parse CSV: {e}")))?;
            if rec.len() == 1 && rec.get(0).is_some_and(<[u8]>::is_empty) {
                continue;
            }
            if rec.len() != headers.len() {
                return Err(Error::input(format!(
                    "{file}: line {}: row has {} fields but the header has {}; \
                     quote values that contain commas",
                    line_of(&rec),
                    rec.len(),
                    headers.len()
                )));
            }
            rows.push(rec);
        }
        Ok(Table {
            file,
            headers,
            rows,
        })
    }

    fn column(&self, name: &str, option: &str) -> Result<usize> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| {
            Error::input(format!(
                "{}: line 1: no column {name:?} (the header has {}); choose one with {option}",
                self.file,
                self.headers.join(",")
            ))
        })
    }

    fn cell<'r>(&self, rec: &'r csv::ByteRecord, col: usize) -> Result<&'r str> {
        std::str::from_utf8(rec.get(col).unwrap_or(&[])).map_err(|_| {
            Error::input(format!(
                "{}: line {}, column {:?}: invalid UTF-8; convert the file, e.g. \
                 `iconv -f WINDOWS-1252 -t UTF-8`",
                self.file,
                line_of(rec),
                self.headers[col]
            ))
        })
    }

    /// A trimmed id; empty is an error.
    fn id<'r>(&self, rec: &'r csv::ByteRecord, col: usize) -> Result<&'r str> {
        let v = self.cell(rec, col)?.trim();
        if v.is_empty() {
            return Err(Error::input(format!(
                "{}: line {}, column {:?}: empty id",
                self.file,
                line_of(rec),
                self.headers[col]
            )));
        }
        Ok(v)
    }
}

fn line_of(rec: &csv::ByteRecord) -> u64 {
    rec.position().map_or(0, csv::Position::line)
}

/// Turns gold pairs into a judgements file (atomic; provenance columns with
/// `labelled_at` = now, the analyst, model/rank/score empty). The query is
/// the left id as an `item` query, or with a left catalogue the left item's
/// text as a `text` query; the judged item is the right id. Identical pairs
/// are written once.
pub fn import_pairs(o: &ImportOptions) -> Result<ImportSummary> {
    let pairs = Table::read(&o.pairs, "read the pairs")?;
    let lc = pairs.column(&o.left, "--left")?;
    let rc = pairs.column(&o.right, "--right")?;
    let texts: Option<(Table, LeftTexts)> = match &o.left_catalog {
        None => None,
        Some(path) => {
            let text_col = o.left_text.as_deref().ok_or_else(|| {
                Error::input(
                    "--left-catalog needs --left-text COL (the column that becomes the query)",
                )
            })?;
            let cat = Table::read(path, "read the left catalogue")?;
            let ic = cat.column(&o.left_id, "--left-id")?;
            let tc = cat.column(text_col, "--left-text")?;
            let mut map: HashMap<String, (usize, String)> = HashMap::new();
            for (n, rec) in cat.rows.iter().enumerate() {
                let id = cat.id(rec, ic)?;
                let text = cat.cell(rec, tc)?;
                if let Some((first, earlier)) = map.get(id)
                    && earlier != text
                {
                    return Err(Error::input(format!(
                        "{}: line {}, column {:?}: id {id:?} repeats line {} with another {:?}; \
                         ids must be unique",
                        cat.file,
                        line_of(rec),
                        cat.headers[ic],
                        line_of(&cat.rows[*first]),
                        cat.headers[tc]
                    )));
                }
                map.entry(id.to_string())
                    .or_insert_with(|| (n, text.to_string()));
            }
            Some((cat, map))
        }
    };
    let mut rows: Vec<Judgement> = Vec::new();
    let mut seen: std::collections::HashSet<(Query, String)> = std::collections::HashSet::new();
    let mut duplicates = 0;
    let mut empty_lines: Vec<u64> = Vec::new();
    let analyst = match o.analyst.trim() {
        "" => default_analyst(),
        a => a.to_string(),
    };
    let now = now_rfc3339();
    for rec in &pairs.rows {
        let left = pairs.id(rec, lc)?;
        let right = pairs.id(rec, rc)?;
        let query = match &texts {
            None => Query::Item(left.to_string()),
            Some((cat, map)) => {
                let Some((_, text)) = map.get(left) else {
                    return Err(Error::input(format!(
                        "{}: line {}, column {:?}: id {left:?} is not in {} (column {:?})",
                        pairs.file,
                        line_of(rec),
                        pairs.headers[lc],
                        cat.file,
                        o.left_id
                    )));
                };
                if text.trim().is_empty() {
                    empty_lines.push(line_of(rec));
                    continue;
                }
                Query::Text(text.clone())
            }
        };
        if !seen.insert((query.clone(), right.to_string())) {
            duplicates += 1;
            continue;
        }
        rows.push(Judgement {
            query,
            item_id: right.to_string(),
            grade: o.grade,
            line: line_of(rec),
            extra: vec![
                analyst.clone(),
                String::new(),
                String::new(),
                String::new(),
                now.clone(),
            ],
        });
    }
    let mut warnings = Vec::new();
    if !empty_lines.is_empty() {
        let shown: Vec<String> = empty_lines.iter().take(10).map(u64::to_string).collect();
        warnings.push(format!(
            "{}: {} pairs left out because their left item has an empty {:?} (lines {}{})",
            pairs.file,
            empty_lines.len(),
            o.left_text.as_deref().unwrap_or_default(),
            shown.join(", "),
            if empty_lines.len() > 10 { ", ..." } else { "" }
        ));
    }
    let real = resolve(&o.out)?;
    let _lock = acquire_lock(&o.out, &real, &analyst)?;
    if !o.force
        && let Ok(m) = std::fs::metadata(&real)
        && m.len() > 0
    {
        return Err(Error::input(format!(
            "{}: the file exists ({} bytes); pass --force to replace it, or choose another --out",
            o.out.display(),
            m.len()
        )));
    }
    let columns: Vec<String> = PROVENANCE_COLUMNS.iter().map(|c| c.to_string()).collect();
    write_file(&real, &columns, rows.iter())?;
    let queries = rows
        .iter()
        .map(|r| &r.query)
        .collect::<std::collections::HashSet<_>>()
        .len();
    Ok(ImportSummary {
        pairs: pairs.rows.len(),
        judgements: rows.len(),
        queries,
        duplicates,
        empty_text: empty_lines.len(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(q: &str) -> Query {
        Query::Text(q.into())
    }

    fn prov(rank: usize) -> Provenance {
        Provenance {
            analyst: "ana".into(),
            model: "m1".into(),
            rank: Some(rank),
            score: Some(0.5),
        }
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert!(is_timestamp(&now_rfc3339()));
        assert!(is_timestamp("2026-01-02T03:04:05+01:00"));
        assert!(is_timestamp("2026-01-02 03:04:05Z"));
        for cut in [
            "2026-01-02T03:04:05.12",
            "2026-01-02T03:04:05.",
            "2026-01-02T03:04",
            "",
        ] {
            assert!(!is_timestamp(cut), "{cut}");
        }
    }

    #[test]
    fn open_creates_with_header_and_set_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("labels.csv");
        let mut s = LabelStore::open(&p, "ana").unwrap();
        assert!(s.is_empty() && s.warnings().is_empty());
        assert_eq!(
            read(&p),
            "query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at\n"
        );
        s.set(&text("sony tv"), "p1", 2, prov(1)).unwrap();
        s.set(&Query::Item("p9".into()), "p1", 0, Provenance::default())
            .unwrap();
        assert_eq!(s.grade(&text("sony tv"), "p1"), Some(2));
        assert_eq!(s.grade(&text("sony tv"), "p2"), None);
        assert_eq!((s.len(), s.queries()), (2, 2));
        // Visible in the file at once (another reader sees it).
        let on_disk = read(&p);
        let lines: Vec<&str> = on_disk.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with("text,sony tv,p1,2,ana,m1,1,0.500000,20"),
            "{}",
            lines[1]
        );
        // Default analyst of the store, empty provenance.
        assert!(
            lines[2].starts_with("item,p9,p1,0,ana,,,,20"),
            "{}",
            lines[2]
        );
        let j = Judgements::load(&p).unwrap();
        assert_eq!(j.rows.len(), 2);
    }

    #[test]
    fn regrade_replaces_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        {
            let mut s = LabelStore::open(&p, "ana").unwrap();
            s.set(&text("q"), "a", 1, prov(1)).unwrap();
            s.set(&text("q"), "b", 0, prov(2)).unwrap();
            s.set(&text("q"), "a", 3, prov(1)).unwrap();
            // Same grade again: nothing appended.
            s.set(&text("q"), "a", 3, prov(1)).unwrap();
            assert_eq!(s.grade(&text("q"), "a"), Some(3));
            assert_eq!((s.len(), s.judged_for(&text("q"))), (2, 2));
            assert_eq!(read(&p).lines().count(), 4);
        }
        let mut s = LabelStore::open(&p, "ben").unwrap();
        assert_eq!(s.grade(&text("q"), "a"), Some(3));
        assert_eq!(s.grade(&text("q"), "b"), Some(0));
        assert_eq!(s.len(), 2);
        // The first appearance order is kept; eval reads the same grades.
        let j = s.to_judgements();
        assert_eq!(j.rows[0].item_id, "a");
        let by = Judgements::load(&p).unwrap().by_query();
        assert_eq!(
            by[0].items,
            vec![("a".to_string(), 3), ("b".to_string(), 0)]
        );
        s.compact().unwrap();
        assert_eq!(read(&p).lines().count(), 3);
        assert_eq!(Judgements::load(&p).unwrap().by_query(), by);
    }

    #[test]
    fn undo_and_redo() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let mut s = LabelStore::open(&p, "ana").unwrap();
        assert_eq!(s.undo().unwrap(), None);
        s.set(&text("q"), "a", 1, prov(1)).unwrap();
        s.set(&text("q"), "b", 2, prov(2)).unwrap();
        s.set(&text("q"), "a", 3, prov(1)).unwrap();
        // Undo the re-grade: the earlier grade comes back.
        assert_eq!(s.undo().unwrap(), Some((text("q"), "a".into())));
        assert_eq!(s.grade(&text("q"), "a"), Some(1));
        // Undo a first label: the pair disappears, from the file too.
        assert_eq!(s.undo().unwrap(), Some((text("q"), "b".into())));
        assert_eq!(s.grade(&text("q"), "b"), None);
        assert_eq!(s.len(), 1);
        let j = Judgements::load(&p).unwrap();
        assert_eq!(j.rows.len(), 1);
        assert_eq!((j.rows[0].item_id.as_str(), j.rows[0].grade), ("a", 1));
        assert_eq!(s.undo().unwrap(), Some((text("q"), "a".into())));
        assert!(s.is_empty() && s.queries() == 0);
        assert_eq!(s.undo().unwrap(), None);
        // Redo all three, in order.
        assert_eq!(s.redo().unwrap(), Some((text("q"), "a".into())));
        assert_eq!(s.redo().unwrap(), Some((text("q"), "b".into())));
        assert_eq!(s.redo().unwrap(), Some((text("q"), "a".into())));
        assert_eq!(s.redo().unwrap(), None);
        assert_eq!(s.grade(&text("q"), "a"), Some(3));
        let order: Vec<String> = s
            .to_judgements()
            .rows
            .into_iter()
            .map(|r| r.item_id)
            .collect();
        assert_eq!(order, vec!["a", "b"]);
        // Appends after a rewrite go to the new file; a new label clears redo.
        s.undo().unwrap();
        s.set(&text("r"), "c", 1, prov(1)).unwrap();
        assert_eq!(s.redo().unwrap(), None);
        drop(s);
        let s = LabelStore::open(&p, "ana").unwrap();
        assert_eq!(s.grade(&text("q"), "a"), Some(1));
        assert_eq!(s.grade(&text("r"), "c"), Some(1));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn clear_is_undoable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let mut s = LabelStore::open(&p, "ana").unwrap();
        s.set(&text("q"), "a", 1, prov(1)).unwrap();
        s.set(&text("q"), "b", 1, prov(1)).unwrap();
        assert!(s.clear(&text("q"), "a").unwrap());
        assert!(!s.clear(&text("q"), "a").unwrap());
        assert_eq!(s.grade(&text("q"), "a"), None);
        assert_eq!(Judgements::load(&p).unwrap().rows.len(), 1);
        s.undo().unwrap();
        let order: Vec<String> = s
            .to_judgements()
            .rows
            .into_iter()
            .map(|r| r.item_id)
            .collect();
        assert_eq!(order, vec!["a", "b"]);
    }

    #[test]
    fn migration_keeps_every_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.csv");
        let old =
            "query_kind,query,item_id,grade,annotator\ntext,q,a,1,x\ntext,q,a,2,y\nitem,p1,b,0,z\n";
        std::fs::write(&p, old).unwrap();
        let mut s = LabelStore::open(&p, "ana").unwrap();
        assert_eq!(s.warnings().len(), 1, "{:?}", s.warnings());
        assert!(s.warnings()[0].contains("analyst, model, rank, score, labelled_at"));
        assert_eq!(s.grade(&text("q"), "a"), Some(2));
        assert_eq!(
            read(&p),
            "query_kind,query,item_id,grade,annotator,analyst,model,rank,score,labelled_at\n\
             text,q,a,1,x,,,,,\ntext,q,a,2,y,,,,,\nitem,p1,b,0,z,,,,,\n"
        );
        s.set(&text("q"), "c", 1, prov(4)).unwrap();
        drop(s);
        // Migrated once: the second open changes nothing.
        let before = read(&p);
        let s = LabelStore::open(&p, "ana").unwrap();
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        assert_eq!(read(&p), before);
        assert!(
            before.contains("\ntext,q,c,1,,ana,m1,4,0.500000,20"),
            "{before}"
        );
    }

    #[test]
    fn a_second_store_is_refused_while_the_first_lives() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let s = LabelStore::open(&p, "ana").unwrap();
        // flock(2) locks belong to the open file description, so a second
        // open in the same process conflicts (verified on Linux).
        let e = LabelStore::open(&p, "ben").unwrap_err();
        assert!(matches!(e, Error::Input(_)));
        let msg = e.to_string();
        assert!(
            msg.contains("l.csv")
                && msg.contains("another prodsim")
                && msg.contains(&format!("pid {}", std::process::id()))
                && msg.contains("analyst ana"),
            "{msg}"
        );
        // A path through a symlink is the same file.
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&p, &link).unwrap();
            assert!(LabelStore::open(&link, "ben").is_err());
        }
        assert!(ensure_not_labelled(&p).is_err());
        drop(s);
        let _s = LabelStore::open(&p, "ben").unwrap();
    }

    #[test]
    fn torn_last_rows_are_dropped_and_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let header = "query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at\n";
        let good = "text,q,a,1,ana,m,1,0.5,2026-01-02T03:04:05.678Z\n";
        let cases = [
            // cut inside the timestamp
            "text,q,b,2,ana,m,2,0.4,2026-01-02T03:0",
            // cut before the grade
            "text,q,b",
            // cut inside a quoted query
            "text,\"sony, tv",
            // quoted value with a newline, cut after it
            "text,\"two\nlines",
            // a ragged last line with its newline
            "text,q,b,x,ana,m,2,0.4,2026-01-02T03:04:05Z\n",
            // zeros a power loss can leave
            "\0\0\0\0",
        ];
        for torn in cases {
            std::fs::write(&p, format!("{header}{good}{torn}")).unwrap();
            let mut s = LabelStore::open(&p, "ana").unwrap();
            assert_eq!(s.warnings().len(), 1, "{torn:?}: {:?}", s.warnings());
            assert!(
                s.warnings()[0].contains("line 3") && s.warnings()[0].contains("dropped"),
                "{:?}",
                s.warnings()
            );
            assert_eq!(s.len(), 1);
            assert_eq!(read(&p), format!("{header}{good}"), "{torn:?}");
            s.set(&text("q"), "c", 1, prov(3)).unwrap();
            drop(s);
            assert_eq!(Judgements::load(&p).unwrap().rows.len(), 2);
            let saved = dir.path().join("l.csv.dropped");
            assert!(
                read(&saved).contains(torn.trim_end_matches('\n')),
                "{torn:?}"
            );
            std::fs::remove_file(saved).unwrap();
        }
        // A complete last row without its newline is kept.
        std::fs::write(&p, format!("{header}{}", good.trim_end())).unwrap();
        let s = LabelStore::open(&p, "ana").unwrap();
        assert_eq!(s.len(), 1);
        assert!(s.warnings()[0].contains("kept"), "{:?}", s.warnings());
        assert_eq!(read(&p), format!("{header}{good}"));
        drop(s);
        // Export reads a torn file without changing it.
        std::fs::write(&p, format!("{header}{good}text,q,b")).unwrap();
        let (j, w) = read_labels(&p).unwrap();
        assert_eq!((j.rows.len(), w.len()), (1, 1));
        assert!(read(&p).ends_with("text,q,b"));
    }

    #[test]
    fn temporaries_of_a_killed_rewrite_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let stale = dir.path().join(".l.csv.4194303.7.tmp");
        let legacy = dir.path().join(".l.csv.4194302.tmp");
        let other = dir.path().join(".m.csv.4194303.tmp");
        std::fs::write(&stale, "half a rewrite").unwrap();
        std::fs::write(&legacy, "half a rewrite").unwrap();
        std::fs::write(&other, "not ours").unwrap();
        let _s = LabelStore::open(&p, "ana").unwrap();
        assert!(!stale.exists() && !legacy.exists());
        assert!(other.exists() && lock_path(&p).exists());
    }

    #[test]
    fn bad_rows_before_the_last_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(
            &p,
            "query_kind,query,item_id,grade\ntext,q,a,high\ntext,q,b,1\n",
        )
        .unwrap();
        let e = LabelStore::open(&p, "ana").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("\"grade\""), "{e}");
        // Untouched.
        assert!(read(&p).contains("high"));
        std::fs::write(&p, "id,title\n1,x\n").unwrap();
        let e = LabelStore::open(&p, "ana").unwrap_err().to_string();
        assert!(e.contains("query_kind"), "{e}");
        // An empty file gets the header.
        std::fs::write(&p, "").unwrap();
        let s = LabelStore::open(&p, "ana").unwrap();
        assert!(s.is_empty());
        assert!(read(&p).starts_with("query_kind,"));
    }

    #[test]
    fn a_file_replaced_underneath_is_not_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let mut s = LabelStore::open(&p, "ana").unwrap();
        s.set(&text("q"), "a", 1, prov(1)).unwrap();
        std::fs::write(
            dir.path().join("other.csv"),
            "query_kind,query,item_id,grade\n",
        )
        .unwrap();
        std::fs::rename(dir.path().join("other.csv"), &p).unwrap();
        let e = s.set(&text("q"), "b", 1, prov(2)).unwrap_err().to_string();
        assert!(e.contains("replaced"), "{e}");
        assert_eq!(s.grade(&text("q"), "b"), None);
    }

    #[test]
    fn queries_and_ids_are_normalised_like_eval_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        let mut s = LabelStore::open(&p, "ana").unwrap();
        s.set(&Query::Item(" p1 ".into()), " a ", 1, prov(1))
            .unwrap();
        s.set(
            &text("with, comma \"quoted\"\nand a newline"),
            "b",
            2,
            prov(1),
        )
        .unwrap();
        assert!(s.set(&text("  "), "b", 1, prov(1)).is_err());
        assert!(s.set(&text("q"), " ", 1, prov(1)).is_err());
        assert_eq!(s.grade(&Query::Item("p1".into()), "a"), Some(1));
        assert_eq!(s.judged_for(&Query::Item(" p1".into())), 1);
        drop(s);
        let s = LabelStore::open(&p, "ana").unwrap();
        assert_eq!(s.grade(&Query::Item("p1".into()), "a"), Some(1));
        assert_eq!(
            s.grade(&text("with, comma \"quoted\"\nand a newline"), "b"),
            Some(2)
        );
    }

    fn sample(dir: &Path) -> Judgements {
        let p = dir.join("j.csv");
        std::fs::write(
            &p,
            "query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at\n\
             text,sony tv,a,1,ana,m,3,0.25,2026-01-01T00:00:00Z\n\
             item,p7,b,2,,,,,\n\
             text,sony tv,c,0,ana,m,,,\n\
             text,sony tv,a,2,ben,m,1,0.5,2026-01-02T00:00:00Z\n",
        )
        .unwrap();
        Judgements::load(&p).unwrap()
    }

    #[test]
    fn export_formats() {
        let dir = tempfile::tempdir().unwrap();
        let j = sample(dir.path());
        let out = dir.path().join("out.qrels");
        let topics = dir.path().join("topics.csv");
        let s = export(&j, ExportFormat::Qrels, &out, Some(&topics)).unwrap();
        assert_eq!((s.pairs, s.queries, s.relevant), (3, 2, 2));
        assert!(s.warnings.is_empty());
        assert_eq!(read(&out), "1 0 a 2\n1 0 c 0\n2 0 b 2\n");
        assert_eq!(
            read(&topics),
            "qid,query_kind,query\n1,text,sony tv\n2,item,p7\n"
        );
        let s = export(&j, ExportFormat::Qrels, &out, None).unwrap();
        assert!(s.warnings[0].contains("--topics"));

        let out = dir.path().join("out.jsonl");
        export(&j, ExportFormat::Jsonl, &out, None).unwrap();
        let lines: Vec<serde_json::Value> = read(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            serde_json::json!({"query_kind": "text", "query": "sony tv", "item_id": "a",
                "grade": 2, "analyst": "ben", "model": "m", "rank": 1, "score": 0.5,
                "labelled_at": "2026-01-02T00:00:00Z"})
        );
        // Grouped by query: (sony tv, c) before (p7, b).
        assert_eq!(lines[1]["item_id"], "c");
        assert_eq!(lines[1]["rank"], serde_json::Value::Null);
        assert_eq!(lines[2]["analyst"], serde_json::Value::Null);
        assert_eq!(lines[2]["query_kind"], "item");

        let out = dir.path().join("out.csv");
        export(&j, ExportFormat::Csv, &out, None).unwrap();
        let back = Judgements::load(&out).unwrap();
        assert_eq!(back.by_query(), j.by_query());
        assert_eq!(back.rows.len(), 3);
        assert_eq!(back.extra_columns, j.extra_columns);

        // Refusals.
        let e = export(&j, ExportFormat::Csv, &j.path, None).unwrap_err();
        assert!(e.to_string().contains("judgements file itself"), "{e}");
        let e = export(&j, ExportFormat::Csv, &out, Some(&topics)).unwrap_err();
        assert!(e.to_string().contains("--format qrels"), "{e}");
        let bad = Judgements::from_bytes(
            Path::new("b.csv"),
            b"query_kind,query,item_id,grade,rank\ntext,q,a b,1,\ntext,q,c,1,x\n",
        )
        .unwrap();
        let e = export(&bad, ExportFormat::Qrels, &out, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("whitespace"), "{e}");
        let e = export(&bad, ExportFormat::Jsonl, &out, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("\"rank\""), "{e}");
    }

    #[test]
    fn export_refuses_a_file_being_labelled() {
        let dir = tempfile::tempdir().unwrap();
        let j = sample(dir.path());
        let target = dir.path().join("labels.csv");
        let _s = LabelStore::open(&target, "ana").unwrap();
        let e = export(&j, ExportFormat::Csv, &target, None).unwrap_err();
        assert!(e.to_string().contains("is labelling"), "{e}");
    }

    #[test]
    fn import_with_and_without_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("pairs.csv"), "l,r\nx1,g1\nx2,g2\nx1,g1\nx3,g1\n").unwrap();
        std::fs::write(
            d.join("left.csv"),
            "id,title\nx1,sony tv\nx2,\"canon, printer\"\nx3,sony tv\n",
        )
        .unwrap();
        let mut o = ImportOptions {
            pairs: d.join("pairs.csv"),
            left: "l".into(),
            right: "r".into(),
            out: d.join("out.csv"),
            left_catalog: None,
            left_id: "id".into(),
            left_text: None,
            grade: 1,
            analyst: "ana".into(),
            force: false,
        };
        let s = import_pairs(&o).unwrap();
        assert_eq!(
            (s.pairs, s.judgements, s.queries, s.duplicates),
            (4, 3, 3, 1)
        );
        let j = Judgements::load(&o.out).unwrap();
        assert_eq!(j.rows[0].query, Query::Item("x1".into()));
        assert_eq!(
            j.extra_columns,
            PROVENANCE_COLUMNS.map(String::from).to_vec()
        );
        assert_eq!(j.rows[0].extra[0], "ana");
        assert!(is_timestamp(&j.rows[0].extra[4]));
        // Exists: refused without --force.
        let e = import_pairs(&o).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        o.force = true;
        o.left_catalog = Some(d.join("left.csv"));
        o.left_text = Some("title".into());
        let s = import_pairs(&o).unwrap();
        // x1 and x3 share a title: (sony tv, g1) is one judgement.
        assert_eq!((s.judgements, s.queries, s.duplicates), (2, 2, 2));
        let j = Judgements::load(&o.out).unwrap();
        assert_eq!(j.rows[1].query, text("canon, printer"));
        // A store opens an imported file without migrating it.
        let st = LabelStore::open(&o.out, "ana").unwrap();
        assert!(st.warnings().is_empty());
        assert_eq!(st.len(), 2);
        // Being labelled: refused.
        let e = import_pairs(&o).unwrap_err().to_string();
        assert!(e.contains("is labelling"), "{e}");
        drop(st);
        // Errors name file, line and column.
        std::fs::write(d.join("pairs.csv"), "l,r\nx1,g1\nx9,g2\n").unwrap();
        let e = import_pairs(&o).unwrap_err().to_string();
        assert!(
            e.contains("pairs.csv: line 3, column \"l\"") && e.contains("x9"),
            "{e}"
        );
        std::fs::write(d.join("pairs.csv"), "l,r\nx1,\n").unwrap();
        let e = import_pairs(&o).unwrap_err().to_string();
        assert!(e.contains("line 2, column \"r\": empty id"), "{e}");
        o.right = "nope".into();
        let e = import_pairs(&o).unwrap_err().to_string();
        assert!(
            e.contains("no column \"nope\"") && e.contains("--right"),
            "{e}"
        );
    }
}
