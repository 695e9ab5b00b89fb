//! Catalogue loading: CSV in, validated `Catalog` out. Owns the column
//! mapping (id, weighted text fields, display title), the content
//! fingerprint and every check on the file.

use crate::error::{Error, Result};
use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

/// Longest text field we index; longer values are truncated with a warning.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// A text field and its weight, e.g. `name:3`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    pub weight: f32,
}

/// Parses `name:3,manufacturer,description:0.5`.
pub fn parse_fields(spec: &str) -> Result<Vec<FieldSpec>> {
    let mut out: Vec<FieldSpec> = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(Error::input(format!(
                "--fields {spec:?}: empty field name; write e.g. `name:3,brand`"
            )));
        }
        let (name, weight) = match part.rsplit_once(':') {
            Some((n, w)) => {
                let weight: f32 = w.trim().parse().map_err(|_| {
                    Error::input(format!(
                        "--fields {spec:?}: weight {w:?} of field {n:?} is not a number; write e.g. `{n}:2`"
                    ))
                })?;
                (n.trim(), weight)
            }
            None => (part, 1.0),
        };
        if !(weight.is_finite() && weight > 0.0) {
            return Err(Error::input(format!(
                "--fields {spec:?}: weight of {name:?} must be a positive number, got {weight}"
            )));
        }
        if out.iter().any(|f| f.name == name) {
            return Err(Error::input(format!(
                "--fields {spec:?}: field {name:?} is listed twice"
            )));
        }
        out.push(FieldSpec {
            name: name.to_string(),
            weight,
        });
    }
    if out.len() > 16 {
        return Err(Error::input(format!(
            "--fields {spec:?}: at most 16 text fields are supported, got {}",
            out.len()
        )));
    }
    Ok(out)
}

/// How to read a catalogue.
#[derive(Debug, Clone, Default)]
pub struct CatalogOptions {
    /// Id column (default `id`).
    pub id_column: Option<String>,
    /// Text fields; `None` detects the title-like column.
    pub fields: Option<Vec<FieldSpec>>,
}

/// One column's cells, stored contiguously.
#[derive(Debug, Default, Clone)]
struct Column {
    text: String,
    ends: Vec<u64>,
}

impl Column {
    fn get(&self, row: usize) -> &str {
        if self.ends.is_empty() {
            return ""; // a column not kept
        }
        let start = if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize
        };
        let end = self.ends[row] as usize;
        &self.text[start..end]
    }
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
    }
    /// Removes the last cell.
    fn pop(&mut self) {
        self.ends.pop();
        let end = self.ends.last().map_or(0, |&e| e as usize);
        self.text.truncate(end);
    }
    /// Appends another column's cells.
    fn append(&mut self, other: &Column) {
        let base = self.text.len() as u64;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|&e| base + e));
    }
}

/// Bytes of rows per piece parsed in parallel.
const PIECE_BYTES: usize = 1 << 22;

/// What the header fixed: the columns and how they are used.
struct Header<'a> {
    file: &'a str,
    columns: Vec<String>,
    id_column: usize,
    id_name: String,
    fields: Vec<(usize, f32)>,
    /// Per column: whether its cells are kept.
    keep: Vec<bool>,
}

/// The rows of one piece of the file, in file order.
struct Piece {
    cells: Vec<Column>,
    /// Line of each row.
    lines: Vec<u64>,
    /// Lines of rows left out because their text fields were empty.
    empty_rows: Vec<u64>,
    truncated: usize,
    /// The first error in the piece; the rows above are those before it.
    error: Option<Error>,
    /// Hash of each row's id, for the catalogue's id index.
    id_hashes: Vec<u64>,
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

fn read_record(
    file: &str,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
) -> Result<bool> {
    reader
        .read_byte_record(record)
        .map_err(|e| Error::input(format!("{file}: cannot parse CSV: {e}")))
}

/// Parses everything but the fingerprint: the header in order, then the
/// rows in pieces cut at record boundaries, in parallel, then the pieces
/// joined in file order, where ids are checked for duplicates. Errors are
/// the ones a row-by-row parse reports first.
fn parse_csv(
    file: &str,
    bytes: &[u8],
    opts: &CatalogOptions,
    piece_bytes: usize,
    all_columns: bool,
) -> Result<Catalog> {
    let mut reader = csv_reader(bytes);
    let mut record = csv::ByteRecord::new();
    if !read_record(file, &mut reader, &mut record)? {
        return Err(Error::input(format!("{file}: the file is empty")));
    }
    check_quotes(file, bytes, &record, &reader, true, 1)?;
    let mut columns = Vec::with_capacity(record.len());
    for (c, raw) in record.iter().enumerate() {
        let name = decode(file, 1, &format!("#{}", c + 1), raw)?;
        let name = name.trim_start_matches('\u{feff}').trim().to_string();
        if let Some(prev) = columns.iter().position(|p| p == &name) {
            return Err(Error::input(format!(
                "{file}: line 1: header names column {name:?} twice (columns {} and {}); rename one",
                prev + 1,
                c + 1
            )));
        }
        columns.push(name);
    }
    let col_list = columns
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let id_name = opts.id_column.clone().unwrap_or_else(|| "id".to_string());
    let id_column = columns.iter().position(|c| *c == id_name).ok_or_else(|| {
        Error::input(format!(
            "{file}: line 1: no id column {id_name:?}; the header has {col_list}. \
             Name the id column with --id-column, or add a header row if the file has none"
        ))
    })?;
    let title_guess = detect_title(&columns, id_column);
    let (fields, fields_detected) = match &opts.fields {
        Some(specs) => {
            let mut fields = Vec::new();
            for s in specs {
                let c = columns.iter().position(|c| *c == s.name).ok_or_else(|| {
                    Error::input(format!(
                        "{file}: line 1: no text field column {:?}; the header has {col_list}. Fix --fields",
                        s.name
                    ))
                })?;
                fields.push((c, s.weight));
            }
            (fields, false)
        }
        None => {
            let c = title_guess.ok_or_else(|| {
                Error::input(format!(
                    "{file}: cannot tell which column holds the product title (the header has {col_list}); \
                     name the text fields with --fields, e.g. --fields {}",
                    columns.iter().find(|c| **c != id_name).map(String::as_str).unwrap_or("title")
                ))
            })?;
            (vec![(c, 1.0)], true)
        }
    };
    let title_column = title_guess.unwrap_or(fields[0].0);

    let body = (reader.position().byte() as usize).min(bytes.len());
    let cuts = split_records(bytes, body, piece_bytes);
    // Line numbers: csv counts every '\n', quoted or not, so a piece's
    // first line is one past the '\n's before it.
    let newlines: Vec<u64> = cuts
        .par_windows(2)
        .map(|w| bytes[w[0]..w[1]].iter().filter(|&&b| b == b'\n').count() as u64)
        .collect();
    let mut first_line = 1 + bytes[..body].iter().filter(|&&b| b == b'\n').count() as u64;
    let mut starts = Vec::with_capacity(newlines.len());
    for n in &newlines {
        starts.push(first_line);
        first_line += n;
    }
    let keep = (0..columns.len())
        .map(|c| {
            all_columns
                || c == id_column
                || c == title_column
                || fields.iter().any(|&(f, _)| f == c)
        })
        .collect();
    let header = Header {
        file,
        columns,
        id_column,
        id_name,
        fields,
        keep,
    };
    let last = cuts.len() - 2;
    let mut pieces: Vec<Piece> = cuts
        .par_windows(2)
        .enumerate()
        .map(|(k, w)| parse_piece(&header, &bytes[w[0]..w[1]], starts[k], k == last))
        .collect();

    // Join the pieces in file order; ids are checked here so a duplicate
    // is reported where a row-by-row parse would report it.
    let Header {
        columns,
        id_column,
        id_name,
        fields,
        ..
    } = header;
    let ncols = columns.len();
    // Each piece's first row in the catalogue.
    let mut row_base = Vec::with_capacity(pieces.len() + 1);
    row_base.push(0usize);
    for p in &pieces {
        row_base.push(row_base[row_base.len() - 1] + p.lines.len());
    }
    let rows = row_base[pieces.len()];
    // The columns are concatenated while the ids are checked: both read the
    // pieces, neither waits for the other.
    let (cells, (index, stop)) = rayon::join(
        || {
            (0..ncols)
                .into_par_iter()
                .map(|c| {
                    let mut col = Column {
                        text: String::with_capacity(
                            pieces.iter().map(|p| p.cells[c].text.len()).sum(),
                        ),
                        ends: Vec::with_capacity(
                            if pieces.iter().all(|p| p.cells[c].ends.is_empty()) {
                                0
                            } else {
                                rows
                            },
                        ),
                    };
                    for (p, piece) in pieces.iter().enumerate() {
                        col.append(&piece.cells[c]);
                        // A row that failed part-way left cells in some columns.
                        col.ends.truncate(row_base[p + 1]);
                    }
                    col
                })
                .collect::<Vec<Column>>()
        },
        || index_ids(&pieces, &row_base, id_column),
    );
    // Ids are checked in file order, so a duplicate is reported where a
    // row-by-row parse would report it: before a later piece's error.
    let line_of = |r: usize| {
        let p = row_base.partition_point(|&b| b <= r) - 1;
        pieces[p].lines[r - row_base[p]]
    };
    match stop {
        Some(IdStop::Duplicate { row, first }) => {
            let id = cells[id_column].get(row);
            return Err(Error::input(format!(
                "{file}: line {}, column {id_name:?}: duplicate id {id:?} (first on line {}); ids must be unique",
                line_of(row),
                line_of(first)
            )));
        }
        Some(IdStop::PieceError { piece }) => {
            if let Some(e) = pieces[piece].error.take() {
                return Err(e);
            }
        }
        None => {}
    }
    let mut lines: Vec<u64> = Vec::with_capacity(rows);
    let mut empty_rows: Vec<u64> = Vec::new();
    let mut truncated = 0usize;
    for piece in &pieces {
        lines.extend_from_slice(&piece.lines);
        empty_rows.extend_from_slice(&piece.empty_rows);
        truncated += piece.truncated;
    }
    let field_names = fields
        .iter()
        .map(|&(c, _)| columns[c].as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if lines.is_empty() {
        return Err(Error::input(if empty_rows.is_empty() {
            format!("{file}: the catalogue has a header but no rows")
        } else {
            format!(
                "{file}: no product has any text in the fields ({field_names}): the catalogue is empty after \
                 leaving out {} rows with empty text; choose other --fields",
                empty_rows.len()
            )
        }));
    }
    let mut warnings = Vec::new();
    if !empty_rows.is_empty() {
        warnings.push(format!(
            "{file}: {} rows have no text in ({field_names}) and were left out (lines {})",
            empty_rows.len(),
            examples(&empty_rows)
        ));
    }
    if truncated > 0 {
        warnings.push(format!(
            "{file}: {truncated} values were longer than {} bytes and were truncated",
            MAX_FIELD_BYTES
        ));
    }
    Ok(Catalog {
        path: PathBuf::new(),
        columns,
        id_column,
        title_column,
        fields,
        fields_detected,
        fingerprint: String::new(),
        warnings,
        skipped_lines: empty_rows,
        cells,
        lines,
        index,
    })
}

/// Where [`index_ids`] stopped before the end.
enum IdStop {
    /// Row `row` repeats the id of row `first`.
    Duplicate { row: usize, first: usize },
    /// Piece `piece` ended with an error (its rows are indexed).
    PieceError { piece: usize },
}

/// Rows by id over the pieces in order (rows numbered from `row_base`),
/// using each piece's id hashes; stops at the first duplicate id, or at the
/// first piece with an error once its rows are in.
fn index_ids(
    pieces: &[Piece],
    row_base: &[usize],
    id_column: usize,
) -> (HashTable<u32>, Option<IdStop>) {
    let rows = row_base[pieces.len()];
    let mut index: HashTable<u32> = HashTable::with_capacity(rows);
    // The id of a row from the piece holding it (only on a hash match or
    // when the table grows).
    let id_of = |r: u32| {
        let r = r as usize;
        let p = row_base.partition_point(|&b| b <= r) - 1;
        pieces[p].cells[id_column].get(r - row_base[p])
    };
    for (p, piece) in pieces.iter().enumerate() {
        let ids = &piece.cells[id_column];
        for (local, &hash) in piece.id_hashes.iter().enumerate() {
            let row = row_base[p] + local;
            let id = ids.get(local);
            if let Some(&first) = index.find(hash, |&r| id_of(r) == id) {
                let first = first as usize;
                return (index, Some(IdStop::Duplicate { row, first }));
            }
            index.insert_unique(hash, row as u32, |&r| FxBuildHasher.hash_one(id_of(r)));
        }
        if piece.error.is_some() {
            return (index, Some(IdStop::PieceError { piece: p }));
        }
    }
    (index, None)
}

/// Files at least this big are read by several threads at once.
const PARALLEL_READ_BYTES: u64 = 8 << 20;

/// A whole file's bytes, as `std::fs::read` returns them. A big file is
/// read in parts at their offsets by every thread of the pool: most of the
/// time of reading a cached file goes to faulting in and filling the fresh
/// buffer, which then happens on every core (a 200 MB catalogue took 0.11 s
/// on one). If the file changes size meanwhile, it is read again in one go.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_file_with(path, PARALLEL_READ_BYTES)
}

fn read_file_with(path: &Path, parallel_from: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    if len < parallel_from || !meta.is_file() {
        return std::fs::read(path);
    }
    let Ok(size) = usize::try_from(len) else {
        return std::fs::read(path);
    };
    let mut bytes = vec![0u8; size];
    let part = size
        .div_ceil(rayon::current_num_threads().max(1) * 4)
        .max(1 << 20);
    let read = bytes
        .par_chunks_mut(part)
        .enumerate()
        .try_for_each(|(k, buf)| file.read_exact_at(buf, (k * part) as u64));
    let mut probe = [0u8; 1];
    match read {
        // Exactly `len` bytes: nothing was appended since the size was taken.
        Ok(()) if file.read_at(&mut probe, len)? == 0 => Ok(bytes),
        Ok(()) => std::fs::read(path),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => std::fs::read(path),
        Err(e) => Err(e),
    }
}

/// Cuts `bytes[from..]` into pieces of at least `piece_bytes` that start
/// at a record boundary: just after a line break outside quotes, under the
/// csv parser's own rules (a quote opens a field only at the field's
/// start; `""` inside is an escaped quote; `\r`, `\n` and `,` start a new
/// field). Returns the cut offsets, `from` first and `bytes.len()` last.
fn split_records(bytes: &[u8], from: usize, piece_bytes: usize) -> Vec<usize> {
    let mut cuts = vec![from];
    let piece_bytes = piece_bytes.max(1);
    let mut next = from.saturating_add(piece_bytes);
    // Outside quotes only a quote matters (a line break only once the next
    // cut is due), inside only the closing quote: jump from one to the next.
    let mut i = from;
    while next < bytes.len() && i < bytes.len() {
        let quote = find_byte(&bytes[i..], b'"').map_or(bytes.len(), |q| i + q);
        // A cut at the first line break at or after `next - 1`, before the quote.
        while next < bytes.len() {
            let look = i.max(next - 1);
            if look >= quote {
                break;
            }
            match find_byte(&bytes[look..quote], b'\n') {
                Some(p) => {
                    cuts.push(look + p + 1);
                    next = (look + p + 1).saturating_add(piece_bytes);
                }
                None => break,
            }
        }
        if quote >= bytes.len() {
            break;
        }
        // A quote opens a field only at the field's start; else it is text.
        let at_field_start = quote == from || matches!(bytes[quote - 1], b',' | b'\n' | b'\r');
        i = quote + 1;
        if at_field_start {
            // Inside quotes up to a quote not doubled.
            loop {
                match find_byte(&bytes[i..], b'"') {
                    None => i = bytes.len(),
                    Some(q) if bytes.get(i + q + 1) == Some(&b'"') => {
                        i += q + 2;
                        continue;
                    }
                    Some(q) => i += q + 1,
                }
                break;
            }
        }
    }
    if cuts.len() == 1 || cuts.last() != Some(&bytes.len()) {
        cuts.push(bytes.len());
    }
    cuts
}

/// Position of the first `needle` in `hay`, eight bytes at a time.
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * needle as u64;
    let mut i = 0;
    while i + 8 <= hay.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&hay[i..i + 8]);
        // A zero byte of `x` sets its high bit in `found`; the lowest set
        // bit is always a true zero (false ones only sit above one).
        let x = u64::from_le_bytes(word) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay[i..].iter().position(|&b| b == needle).map(|p| i + p)
}

/// Parses one piece of rows; `first_line` is the file's line number of the
/// piece's first byte, `at_eof` whether the piece ends the file.
fn parse_piece(h: &Header<'_>, data: &[u8], first_line: u64, at_eof: bool) -> Piece {
    let ncols = h.columns.len();
    let mut p = Piece {
        cells: vec![Column::default(); ncols],
        lines: Vec::new(),
        empty_rows: Vec::new(),
        truncated: 0,
        error: None,
        id_hashes: Vec::new(),
    };
    let mut reader = csv_reader(data);
    let mut record = csv::ByteRecord::new();
    let result = (|| -> Result<()> {
        while read_record(h.file, &mut reader, &mut record)? {
            let line = first_line + record_line(data, &record) - 1;
            check_quotes(h.file, data, &record, &reader, at_eof, line)?;
            if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
                continue; // a blank line
            }
            if record.len() != ncols {
                return Err(Error::input(format!(
                    "{}: line {line}: row has {} fields but the header has {ncols}; \
                     check for an unquoted comma or a missing field (quote values that contain commas)",
                    h.file,
                    record.len()
                )));
            }
            // Cells go straight into the columns; a row left out is popped.
            for (c, raw) in record.iter().enumerate() {
                let mut value = decode(h.file, line, &h.columns[c], raw)?;
                if value.len() > MAX_FIELD_BYTES {
                    let mut cut = MAX_FIELD_BYTES;
                    while !value.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    value = &value[..cut];
                    p.truncated += 1;
                }
                if c == h.id_column {
                    value = value.trim();
                }
                if h.keep[c] {
                    p.cells[c].push(value);
                }
            }
            let row = p.lines.len();
            if p.cells[h.id_column].get(row).is_empty() {
                return Err(Error::input(format!(
                    "{}: line {line}, column {:?}: empty id; every product needs a unique id",
                    h.file, h.id_name
                )));
            }
            if h.fields
                .iter()
                .all(|&(c, _)| p.cells[c].get(row).trim().is_empty())
            {
                p.empty_rows.push(line);
                for (col, _) in p.cells.iter_mut().zip(&h.keep).filter(|(_, k)| **k) {
                    col.pop();
                }
                continue;
            }
            p.lines.push(line);
        }
        Ok(())
    })();
    p.error = result.err();
    // A row that failed part-way may have left an id: hash the rows only.
    let ids = &p.cells[h.id_column];
    p.id_hashes = (0..p.lines.len())
        .map(|r| FxBuildHasher.hash_one(ids.get(r)))
        .collect();
    p
}

/// A loaded catalogue: every column kept for display, the id column, the
/// weighted text fields and a display title column.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub id_column: usize,
    pub title_column: usize,
    /// (column index, weight) of the text fields.
    pub fields: Vec<(usize, f32)>,
    /// True when the fields were detected rather than given.
    pub fields_detected: bool,
    /// SHA-256 of the file's bytes, hex.
    pub fingerprint: String,
    /// Warnings to show the user (counts, first examples).
    pub warnings: Vec<String>,
    /// Lines of rows left out because their text fields were empty.
    pub skipped_lines: Vec<u64>,
    cells: Vec<Column>,
    lines: Vec<u64>,
    /// Rows by id (hash of the id; the id itself is read from `cells`).
    index: HashTable<u32>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a byte string as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Names that mark a column as the product's title, in order of preference.
const TITLE_NAMES: &[&str] = &[
    "title",
    "name",
    "producttitle",
    "productname",
    "itemtitle",
    "itemname",
    "product",
    "item",
];

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Picks the title-like column: a known name, then any name containing
/// "title" or "name", else `None`.
fn detect_title(columns: &[String], id_column: usize) -> Option<usize> {
    let names: Vec<String> = columns.iter().map(|c| squash(c)).collect();
    for want in TITLE_NAMES {
        if let Some(i) = names.iter().position(|n| n == want)
            && i != id_column
        {
            return Some(i);
        }
    }
    names
        .iter()
        .enumerate()
        .find(|(i, n)| *i != id_column && (n.contains("title") || n.contains("name")))
        .map(|(i, _)| i)
}

impl Catalog {
    /// Reads and validates a catalogue CSV.
    pub fn load(path: &Path, opts: &CatalogOptions) -> Result<Catalog> {
        let bytes = read_file(path).map_err(|e| Error::io(path, "read the catalogue", e))?;
        Self::from_bytes(path, &bytes, opts)
    }

    /// [`Catalog::load`] keeping only the cells training reads: the id,
    /// the title and the text fields; other columns are checked just the
    /// same but their cells read as empty. Saves the memory of columns
    /// such as long descriptions.
    pub fn load_text_only(path: &Path, opts: &CatalogOptions) -> Result<Catalog> {
        let bytes = read_file(path).map_err(|e| Error::io(path, "read the catalogue", e))?;
        Self::parse(path, &bytes, opts, PIECE_BYTES, false)
    }

    /// Parses catalogue bytes; `path` is used in messages only.
    pub fn from_bytes(path: &Path, bytes: &[u8], opts: &CatalogOptions) -> Result<Catalog> {
        Self::parse(path, bytes, opts, PIECE_BYTES, true)
    }

    /// [`Catalog::from_bytes`] with the rows cut into pieces of about
    /// `piece_bytes` that are parsed in parallel (tests use tiny pieces);
    /// without `all_columns`, only the cells of the id, title and text
    /// fields are kept.
    fn parse(
        path: &Path,
        bytes: &[u8],
        opts: &CatalogOptions,
        piece_bytes: usize,
        all_columns: bool,
    ) -> Result<Catalog> {
        let file = path.display().to_string();
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::input(format!(
                "{file}: the file is empty; a catalogue needs a header row (e.g. `id,title`) and one row per product"
            )));
        }
        // The fingerprint reads every byte once more: on another core.
        let (fingerprint, catalog) = rayon::join(
            || sha256_hex(bytes),
            || parse_csv(&file, bytes, opts, piece_bytes, all_columns),
        );
        let mut catalog = catalog?;
        catalog.path = path.to_path_buf();
        catalog.fingerprint = fingerprint;
        Ok(catalog)
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when there are no products (never, for a loaded catalogue).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Any cell.
    pub fn cell(&self, row: usize, column: usize) -> &str {
        self.cells[column].get(row)
    }

    /// The product's id.
    pub fn id(&self, row: usize) -> &str {
        self.cell(row, self.id_column)
    }

    /// The product's display title.
    pub fn title(&self, row: usize) -> &str {
        self.cell(row, self.title_column)
    }

    /// Line in the file where the product's record starts.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// Row of an id.
    pub fn find(&self, id: &str) -> Option<usize> {
        let hash = FxBuildHasher.hash_one(id);
        self.index
            .find(hash, |&r| self.id(r as usize) == id)
            .map(|&r| r as usize)
    }

    /// The text fields as `FieldSpec`s.
    pub fn field_specs(&self) -> Vec<FieldSpec> {
        self.fields
            .iter()
            .map(|&(c, w)| FieldSpec {
                name: self.columns[c].clone(),
                weight: w,
            })
            .collect()
    }
}

fn examples(lines: &[u64]) -> String {
    let mut s = lines
        .iter()
        .take(5)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > 5 {
        s.push_str(", ...");
    }
    s
}

/// Decodes one cell as UTF-8 or explains which bytes are wrong.
fn decode<'a>(file: &str, line: u64, column: &str, raw: &'a [u8]) -> Result<&'a str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(s),
        Err(e) => Err(Error::input(format!(
            "{file}: line {line}, column {column:?}: invalid UTF-8 at byte {} of the value; \
             the file is probably Latin-1 or Windows-1252: convert it with \
             `iconv -f WINDOWS-1252 -t UTF-8 {file} > fixed.csv`",
            e.valid_up_to()
        ))),
    }
}

/// A quoted field that never closes swallows the rest of the file into one
/// record, and the csv parser accepts that silently. So for the record that
/// ends at end of file, re-scan its bytes with RFC 4180's rules (a quote
/// opens a field only at the field's start; `""` inside is an escaped
/// quote) and report a field still open at the end.
fn check_quotes(
    file: &str,
    data: &[u8],
    record: &csv::ByteRecord,
    reader: &csv::Reader<&[u8]>,
    at_eof: bool,
    line: u64,
) -> Result<()> {
    let end = reader.position().byte() as usize;
    if !at_eof || end < data.len() {
        return Ok(());
    }
    let Some(pos) = record.position() else {
        return Ok(());
    };
    if ends_inside_quotes(data.get(pos.byte() as usize..).unwrap_or(&[])) {
        return Err(Error::input(format!(
            "{file}: line {line}: a quoted field opened in this record is never closed (unterminated quote); \
             close it with a `\"` or double any `\"` inside the value"
        )));
    }
    Ok(())
}

/// Line (in `data`) where a record's first byte is. The csv reader stamps a
/// record with where its read began, which can be line breaks it skips
/// first: the `\n` of a CRLF, blank lines.
fn record_line(data: &[u8], record: &csv::ByteRecord) -> u64 {
    let Some(pos) = record.position() else {
        return 1;
    };
    let skipped = data
        .get(pos.byte() as usize..)
        .unwrap_or(&[])
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .filter(|&&b| b == b'\n')
        .count();
    pos.line() + skipped as u64
}

/// True when `record` (bytes up to end of file) ends inside a quoted field.
fn ends_inside_quotes(record: &[u8]) -> bool {
    let mut at_field_start = true;
    let mut quoted = false;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if quoted {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' && at_field_start {
            quoted = true;
        } else {
            at_field_start = b == b',' || b == b'\n' || b == b'\r';
            i += 1;
            continue;
        }
        at_field_start = false;
        i += 1;
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, opts: &CatalogOptions) -> Result<Catalog> {
        Catalog::from_bytes(Path::new("cat.csv"), text.as_bytes(), opts)
    }

    fn err(text: &str) -> String {
        load(text, &CatalogOptions::default())
            .expect_err("should fail")
            .to_string()
    }

    #[test]
    fn loads_and_detects_title() {
        let c = load(
            "id,price,Product Name\nhttp://x/1,3,Sony TV\nb2,4,\"Kodak, ink\"\n",
            &CatalogOptions::default(),
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.id(0), "http://x/1");
        assert_eq!(c.title(1), "Kodak, ink");
        assert!(c.fields_detected);
        assert_eq!(c.fields, vec![(2, 1.0)]);
        assert_eq!(c.find("b2"), Some(1));
        assert_eq!(c.cell(1, 1), "4");
        assert_eq!(c.line(1), 3);
    }

    #[test]
    fn parses_field_specs() {
        let f = parse_fields("name:3, manufacturer,description:0.5").unwrap();
        assert_eq!(f[0].weight, 3.0);
        assert_eq!(f[1].name, "manufacturer");
        assert_eq!(f[2].weight, 0.5);
        assert!(parse_fields("name:x").is_err());
        assert!(parse_fields("name:-1").is_err());
        assert!(parse_fields("name,name").is_err());
        assert!(parse_fields("name,").is_err());
    }

    #[test]
    fn bad_inputs_name_the_line_and_column() {
        assert!(err("").contains("empty"));
        assert!(err("id,title\n").contains("no rows"));
        assert!(err("sku,title\n1,a\n").contains("no id column \"id\""));
        assert!(err("1,sony tv\n2,kodak\n").contains("add a header row"));
        let e = err("id,title\n1,a\n1,b\n");
        assert!(
            e.contains("line 3") && e.contains("duplicate id \"1\"") && e.contains("line 2"),
            "{e}"
        );
        let e = err("id,title\n1,a\n ,b\n");
        assert!(e.contains("line 3") && e.contains("empty id"), "{e}");
        let e = err("id,title\n1,a\n2,b,c\n");
        assert!(e.contains("line 3") && e.contains("3 fields"), "{e}");
        let e = err("id,title\n1,a\n2,\"b\n3,c\n");
        assert!(
            e.contains("line 3") && e.contains("unterminated quote"),
            "{e}"
        );
        let e = load_bytes(b"id,title\n1,caf\xe9\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("\"title\"") && e.contains("iconv"),
            "{e}"
        );
        let e = err("id,title\n1,\n2, \n");
        assert!(e.contains("empty after"), "{e}");
        let e = err("id,code\n1,a\n");
        assert!(e.contains("--fields"), "{e}");
    }

    fn load_bytes(b: &[u8]) -> Result<Catalog> {
        Catalog::from_bytes(Path::new("cat.csv"), b, &CatalogOptions::default())
    }

    #[test]
    fn missing_field_column() {
        let opts = CatalogOptions {
            id_column: None,
            fields: Some(parse_fields("title,brand").unwrap()),
        };
        let e = load("id,title\n1,a\n", &opts).err().unwrap().to_string();
        assert!(e.contains("\"brand\"") && e.contains("--fields"), "{e}");
    }

    #[test]
    fn warns_on_empty_text_rows_and_long_fields() {
        let long = "x".repeat(MAX_FIELD_BYTES + 10);
        let c = load(
            &format!("id,title\n1,a\n2,\n3,{long}\n"),
            &CatalogOptions::default(),
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.title(1).len(), MAX_FIELD_BYTES);
        assert_eq!(c.warnings.len(), 2);
        assert!(
            c.warnings[0].contains("1 rows") && c.warnings[0].contains("lines 3"),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[1].contains("truncated"));
    }

    #[test]
    fn fingerprint_is_content_hash() {
        let a = load("id,title\n1,a\n", &CatalogOptions::default()).unwrap();
        let b = load("id,title\n1,b\n", &CatalogOptions::default()).unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
    }

    #[test]
    fn quote_scanner_follows_rfc4180() {
        assert!(ends_inside_quotes(b"p2,\"Kodak ink\np3,x\n"));
        assert!(ends_inside_quotes(b"p2,\"a\"\"b\n"));
        assert!(!ends_inside_quotes(b"p2,\"a\"\"b\"\n"));
        assert!(!ends_inside_quotes(b"p9,Monitor 24\" wide\n"));
        assert!(!ends_inside_quotes(b"p9,\"Monitor, 24in\",12\" wide"));
    }

    #[test]
    fn a_literal_quote_in_the_last_row_is_not_an_error() {
        let c = load(
            "id,title\n1,a\n2,Monitor 24\" wide\n",
            &CatalogOptions::default(),
        )
        .unwrap();
        assert_eq!(c.title(1), "Monitor 24\" wide");
    }

    /// Parses `text` whole and in pieces of many sizes; every way must give
    /// the same catalogue, or the same error.
    fn same_in_pieces(text: &[u8], opts: &CatalogOptions) -> std::result::Result<Catalog, String> {
        let path = Path::new("cat.csv");
        let whole = Catalog::parse(path, text, opts, usize::MAX, true).map_err(|e| e.to_string());
        for piece in [1, 2, 3, 5, 8, 13, 21, 64] {
            let split = Catalog::parse(path, text, opts, piece, true).map_err(|e| e.to_string());
            match (&whole, &split) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.len(), b.len(), "piece {piece}");
                    assert_eq!(a.columns, b.columns);
                    for r in 0..a.len() {
                        for c in 0..a.columns.len() {
                            assert_eq!(a.cell(r, c), b.cell(r, c), "piece {piece} row {r}");
                        }
                        assert_eq!(a.line(r), b.line(r), "piece {piece} row {r}");
                        assert_eq!(b.find(a.id(r)), Some(r), "piece {piece} row {r}");
                    }
                    assert_eq!(a.warnings, b.warnings, "piece {piece}");
                    assert_eq!(a.skipped_lines, b.skipped_lines, "piece {piece}");
                    assert_eq!(a.fingerprint, b.fingerprint);
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "piece {piece}"),
                _ => panic!(
                    "piece {piece}: whole {:?} vs split {:?}",
                    whole.is_ok(),
                    split.is_ok()
                ),
            }
        }
        whole
    }

    #[test]
    fn files_read_in_parallel_parts_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 4095, 1 << 20, (3 << 20) + 7] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            // Every file in parts (parts are at least 1 MB), and the default.
            assert_eq!(read_file_with(&path, 0).unwrap(), bytes, "{len}");
            assert_eq!(read_file(&path).unwrap(), bytes, "{len}");
        }
        let missing = read_file(&dir.path().join("none")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn records_split_only_outside_quotes() {
        let text = b"h\n1,\"a\nb\"\n2,x \"y\nz\n3,\"p\"\"\nq\"\n";
        let cuts = split_records(text, 2, 1);
        assert_eq!(cuts.first(), Some(&2));
        assert_eq!(cuts.last(), Some(&text.len()));
        // After "1,\"a\nb\"\n", after "2,x \"y\n" (a literal quote), after
        // "z\n", at the end; never inside "a\nb" or "p\"\"\nq".
        assert_eq!(cuts, vec![2, 10, 17, 19, text.len()]);
        assert_eq!(split_records(text, 2, 1000), vec![2, text.len()]);
        assert_eq!(split_records(b"h\n", 2, 1), vec![2, 2]);
    }

    #[test]
    fn find_byte_finds_the_first() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for needle in [0u8, 1, 7, 34, 128, 250, 255] {
            for start in [0, 1, 5, 8, 9, 100] {
                let want = hay[start..].iter().position(|&b| b == needle);
                assert_eq!(find_byte(&hay[start..], needle), want, "{needle} {start}");
            }
        }
        assert_eq!(find_byte(b"", b'"'), None);
        assert_eq!(find_byte(b"\x80\x22", b'"'), Some(1));
        assert_eq!(
            find_byte(b"\x01\x01\x01\x01\x01\x01\x01\x01\x00\"", b'"'),
            Some(9)
        );
    }

    #[test]
    fn pieces_parse_like_the_whole_file() {
        let opts = CatalogOptions {
            id_column: None,
            fields: Some(parse_fields("title,brand").unwrap()),
        };
        // Quoted line breaks across every possible cut, CRLF, a BOM, blank
        // lines, escaped and literal quotes, a row without text.
        let text = "\u{feff}id,title,brand\r\n\
                    1,\"Sony\nTV\",sony\r\n\
                    2,\"Kodak, \"\"ink\"\"\r\n10B\",kodak\r\n\
                    \r\n\
                    3,Monitor 24\" wide,\r\n\
                    4,,\r\n\
                    5,\"multi\n\nline\n\",\"b\nr\"\n\
                    6,last,x";
        let c = same_in_pieces(text.as_bytes(), &opts).unwrap();
        assert_eq!(c.len(), 5);
        assert_eq!(c.title(1), "Kodak, \"ink\"\r\n10B");
        assert_eq!(c.title(2), "Monitor 24\" wide");
        assert_eq!(c.line(2), 7);
        assert_eq!(c.line(3), 9);
        assert_eq!(c.line(4), 14);
        assert_eq!(c.skipped_lines, vec![8]);
        // The synthetic catalogue (quoted commas) in pieces of every size.
        let mut csv = Vec::new();
        crate::synth::write_catalog(&crate::synth::SynthOptions { items: 60, seed: 3 }, &mut csv)
            .unwrap();
        for piece in [1, 100, 1000] {
            let a = Catalog::parse(Path::new("s.csv"), &csv, &opts, piece, true).unwrap();
            let b = Catalog::parse(Path::new("s.csv"), &csv, &opts, usize::MAX, false).unwrap();
            assert_eq!(a.len(), 60);
            for r in 0..60 {
                assert_eq!(a.title(r), b.title(r));
                assert_eq!(a.id(r), b.id(r));
                assert_eq!(a.cell(r, 2), b.cell(r, 2));
                assert_eq!(a.line(r), b.line(r));
                // `b` kept only the id, title and text fields.
                assert_eq!(b.cell(r, 4), "");
            }
            assert!((0..60).any(|r| !a.cell(r, 4).is_empty()));
        }
    }

    #[test]
    fn errors_in_pieces_name_the_right_line() {
        let opts = CatalogOptions::default();
        let rows = "1,\"a\nb\"\n2,c\n3,\"d\n\ne\"\n4,f\n";
        let cases: Vec<(String, &str)> = vec![
            // A duplicate of a row in an earlier piece (or the same one).
            (format!("id,title\n{rows}5,g\n2,h\n"), "line 10"),
            (format!("id,title\n{rows}5,g\n2,h\n"), "first on line 4"),
            // A duplicate before an error is reported first.
            (
                format!("id,title\n{rows}4,g\n5,h,x\n"),
                "line 9, column \"id\": duplicate id \"4\" (first on line 8)",
            ),
            // The first error wins over a later one and over duplicates after it.
            (format!("id,title\n{rows}5,g,x\n1,dup\n6\n"), "line 9"),
            (format!("id,title\n{rows}5,\"g\n\n"), "line 9"),
            (format!("id,title\n{rows} ,g\n"), "line 9"),
        ];
        for (text, line) in cases {
            let e = same_in_pieces(text.as_bytes(), &opts).unwrap_err();
            assert!(e.contains(line), "{e}");
        }
        let mut bad = b"id,title\n1,\"a\nb\"\n2,ok\n3,caf".to_vec();
        bad.extend_from_slice(b"\xe9\n");
        let e = same_in_pieces(&bad, &opts).unwrap_err();
        assert!(e.contains("line 5") && e.contains("iconv"), "{e}");
        // A column not kept is still checked.
        let e = Catalog::parse(
            Path::new("cat.csv"),
            b"id,title,desc\n1,a,ok\n2,b,caf\xe9\n",
            &opts,
            1,
            false,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("line 3") && e.contains("\"desc\""), "{e}");
    }

    #[test]
    fn crlf_and_blank_lines_do_not_shift_line_numbers() {
        // The csv reader dates a record from the line break it skips first.
        let e = err("id,title\r\n1,a\r\n2,b\r\n1,c\r\n");
        assert!(e.contains("line 4") && e.contains("first on line 2"), "{e}");
        let e = err("id,title\n1,a\n\n\n2,b,c\n");
        assert!(e.contains("line 5"), "{e}");
        let c = load("id,title\r\n1,a\r\n\r\n2,b\r\n", &CatalogOptions::default()).unwrap();
        assert_eq!((c.line(0), c.line(1)), (2, 4));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let c = load("\u{feff}id,title\r\n1,a\r\n", &CatalogOptions::default()).unwrap();
        assert_eq!(c.title(0), "a");
    }
}
