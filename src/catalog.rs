//! Catalogue loading: CSV in, validated `Catalog` out. Owns the column
//! mapping (id, weighted text fields, display title), the content
//! fingerprint and every check on the file.

use crate::error::{Error, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
    index: FxHashMap<String, u32>,
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
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the catalogue", e))?;
        Self::from_bytes(path, &bytes, opts)
    }

    /// Parses catalogue bytes; `path` is used in messages only.
    pub fn from_bytes(path: &Path, bytes: &[u8], opts: &CatalogOptions) -> Result<Catalog> {
        let file = path.display().to_string();
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::input(format!(
                "{file}: the file is empty; a catalogue needs a header row (e.g. `id,title`) and one row per product"
            )));
        }
        let fingerprint = sha256_hex(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let read = |reader: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord| {
            reader
                .read_byte_record(record)
                .map_err(|e| Error::input(format!("{file}: cannot parse CSV: {e}")))
        };
        if !read(&mut reader, &mut record)? {
            return Err(Error::input(format!("{file}: the file is empty")));
        }
        check_quotes(&file, bytes, &record, &reader)?;
        let mut columns = Vec::with_capacity(record.len());
        for (c, raw) in record.iter().enumerate() {
            let name = decode(&file, 1, &format!("#{}", c + 1), raw)?;
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

        let ncols = columns.len();
        let mut cells = vec![Column::default(); ncols];
        let mut lines = Vec::new();
        let mut index: FxHashMap<String, u32> = FxHashMap::default();
        let mut empty_rows: Vec<u64> = Vec::new();
        let mut truncated = 0usize;
        let mut row_values: Vec<String> = Vec::with_capacity(ncols);
        while read(&mut reader, &mut record)? {
            let line = record.position().map_or(0, |p| p.line());
            check_quotes(&file, bytes, &record, &reader)?;
            if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
                continue; // a blank line
            }
            if record.len() != ncols {
                return Err(Error::input(format!(
                    "{file}: line {line}: row has {} fields but the header has {ncols}; \
                     check for an unquoted comma or a missing field (quote values that contain commas)",
                    record.len()
                )));
            }
            row_values.clear();
            for (c, raw) in record.iter().enumerate() {
                let mut value = decode(&file, line, &columns[c], raw)?;
                if value.len() > MAX_FIELD_BYTES {
                    let mut cut = MAX_FIELD_BYTES;
                    while !value.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    value.truncate(cut);
                    truncated += 1;
                }
                row_values.push(value);
            }
            let id = row_values[id_column].trim();
            if id.is_empty() {
                return Err(Error::input(format!(
                    "{file}: line {line}, column {id_name:?}: empty id; every product needs a unique id"
                )));
            }
            if fields.iter().all(|&(c, _)| row_values[c].trim().is_empty()) {
                empty_rows.push(line);
                continue;
            }
            let row = lines.len() as u32;
            if let Some(&first) = index.get(id) {
                return Err(Error::input(format!(
                    "{file}: line {line}, column {id_name:?}: duplicate id {id:?} (first on line {}); ids must be unique",
                    lines[first as usize]
                )));
            }
            index.insert(id.to_string(), row);
            for (c, v) in row_values.iter().enumerate() {
                cells[c].push(if c == id_column { v.trim() } else { v });
            }
            lines.push(line);
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
            path: path.to_path_buf(),
            columns,
            id_column,
            title_column,
            fields,
            fields_detected,
            fingerprint,
            warnings,
            skipped_lines: empty_rows,
            cells,
            lines,
            index,
        })
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
        self.index.get(id).map(|&r| r as usize)
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
fn decode(file: &str, line: u64, column: &str, raw: &[u8]) -> Result<String> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(s.to_string()),
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
    bytes: &[u8],
    record: &csv::ByteRecord,
    reader: &csv::Reader<&[u8]>,
) -> Result<()> {
    let end = reader.position().byte() as usize;
    if end < bytes.len() {
        return Ok(());
    }
    let Some(pos) = record.position() else {
        return Ok(());
    };
    if ends_inside_quotes(bytes.get(pos.byte() as usize..).unwrap_or(&[])) {
        return Err(Error::input(format!(
            "{file}: line {}: a quoted field opened in this record is never closed (unterminated quote); \
             close it with a `\"` or double any `\"` inside the value",
            pos.line()
        )));
    }
    Ok(())
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

    #[test]
    fn bom_and_crlf_are_accepted() {
        let c = load("\u{feff}id,title\r\n1,a\r\n", &CatalogOptions::default()).unwrap();
        assert_eq!(c.title(0), "a");
    }
}
