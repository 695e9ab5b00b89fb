//! Relevance judgements: the CSV format `query_kind,query,item_id,grade`
//! (extra columns kept), loaded with checks that name the line and column.

use crate::error::{Error, Result};
use crate::rank::Query;
use std::path::{Path, PathBuf};

/// One judged (query, item) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub query: Query,
    pub item_id: String,
    /// > 0 means relevant; the value is the graded gain.
    pub grade: i32,
    /// Line in the file, for messages.
    pub line: u64,
    /// Values of the extra columns, in `Judgements::extra_columns` order.
    pub extra: Vec<String>,
}

/// A judgements file.
#[derive(Debug, Clone, Default)]
pub struct Judgements {
    pub path: PathBuf,
    pub extra_columns: Vec<String>,
    pub rows: Vec<Judgement>,
}

/// The judged items of one query, in file order; a later row for the same
/// item replaces an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryJudgements {
    pub query: Query,
    pub items: Vec<(String, i32)>,
}

/// Column names of a header record: trimmed, without a UTF-8 byte-order mark.
pub(crate) fn header_names(header: &csv::ByteRecord) -> Vec<String> {
    header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect()
}

const REQUIRED: [&str; 4] = ["query_kind", "query", "item_id", "grade"];

impl Judgements {
    /// Reads and checks a judgements CSV.
    pub fn load(path: &Path) -> Result<Judgements> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the judgements", e))?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses judgements; `path` is for messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Judgements> {
        let file = path.display().to_string();
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::input(format!(
                "{file}: the judgements file is empty; it needs the header `query_kind,query,item_id,grade`"
            )));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut records = reader.byte_records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(Error::input(format!("{file}: cannot parse CSV: {e}"))),
            None => {
                return Err(Error::input(format!(
                    "{file}: the judgements file is empty"
                )));
            }
        };
        let names = header_names(&header);
        let mut pos = [0usize; 4];
        for (p, want) in pos.iter_mut().zip(REQUIRED) {
            *p = names.iter().position(|n| n == want).ok_or_else(|| {
                Error::input(format!(
                    "{file}: line 1: the header lacks column {want:?} (it has {}); \
                     judgements need the header `query_kind,query,item_id,grade`",
                    names.join(",")
                ))
            })?;
        }
        let extra_idx: Vec<usize> = (0..names.len()).filter(|i| !pos.contains(i)).collect();
        let extra_columns = extra_idx.iter().map(|&i| names[i].clone()).collect();
        let mut rows = Vec::new();
        for rec in records {
            let rec = rec.map_err(|e| Error::input(format!("{file}: cannot parse CSV: {e}")))?;
            let line = rec.position().map_or(0, |p| p.line());
            if rec.len() == 1 && rec.get(0).is_some_and(<[u8]>::is_empty) {
                continue;
            }
            if rec.len() != names.len() {
                return Err(Error::input(format!(
                    "{file}: line {line}: row has {} fields but the header has {}; quote values that contain commas",
                    rec.len(),
                    names.len()
                )));
            }
            let cell = |i: usize| -> Result<String> {
                let raw = rec.get(i).unwrap_or(&[]);
                std::str::from_utf8(raw).map(str::to_string).map_err(|_| {
                    Error::input(format!(
                        "{file}: line {line}, column {:?}: invalid UTF-8; convert the file, e.g. `iconv -f WINDOWS-1252 -t UTF-8`",
                        names[i]
                    ))
                })
            };
            let kind = cell(pos[0])?;
            let query = cell(pos[1])?;
            let item_id = cell(pos[2])?.trim().to_string();
            let grade_text = cell(pos[3])?;
            let grade: i32 = grade_text.trim().parse().map_err(|_| {
                Error::input(format!(
                    "{file}: line {line}, column \"grade\": {grade_text:?} is not an integer; \
                     use 0 for irrelevant and 1, 2, 3... for relevant"
                ))
            })?;
            let query = match kind.trim() {
                "text" => Query::Text(query),
                "item" => Query::Item(query.trim().to_string()),
                other => {
                    return Err(Error::input(format!(
                        "{file}: line {line}, column \"query_kind\": unknown kind {other:?}; use \"text\" or \"item\""
                    )));
                }
            };
            if query.value().trim().is_empty() {
                return Err(Error::input(format!(
                    "{file}: line {line}, column \"query\": empty query"
                )));
            }
            if item_id.is_empty() {
                return Err(Error::input(format!(
                    "{file}: line {line}, column \"item_id\": empty item id"
                )));
            }
            let extra = extra_idx.iter().map(|&i| cell(i)).collect::<Result<_>>()?;
            rows.push(Judgement {
                query,
                item_id,
                grade,
                line,
                extra,
            });
        }
        Ok(Judgements {
            path: path.to_path_buf(),
            extra_columns,
            rows,
        })
    }

    /// Groups rows by query, in order of first appearance.
    pub fn by_query(&self) -> Vec<QueryJudgements> {
        let mut index: std::collections::HashMap<&Query, usize> = std::collections::HashMap::new();
        let mut out: Vec<QueryJudgements> = Vec::new();
        for j in &self.rows {
            let q = *index.entry(&j.query).or_insert_with(|| {
                out.push(QueryJudgements {
                    query: j.query.clone(),
                    items: Vec::new(),
                });
                out.len() - 1
            });
            let items = &mut out[q].items;
            match items.iter_mut().find(|(id, _)| *id == j.item_id) {
                Some(slot) => slot.1 = j.grade,
                None => items.push((j.item_id.clone(), j.grade)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Judgements> {
        Judgements::from_bytes(Path::new("j.csv"), s.as_bytes())
    }

    #[test]
    fn loads_groups_and_keeps_extra_columns() {
        let j = parse(
            "query_kind,query,item_id,grade,analyst\ntext,sony tv,a,2,me\nitem,b,a,0,you\ntext,sony tv,c,1,me\ntext,sony tv,a,3,me\n",
        )
        .unwrap();
        assert_eq!(j.extra_columns, vec!["analyst"]);
        assert_eq!(j.rows[1].extra, vec!["you"]);
        let g = j.by_query();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].query, Query::Text("sony tv".into()));
        assert_eq!(g[0].items, vec![("a".into(), 3), ("c".into(), 1)]);
        assert_eq!(g[1].query, Query::Item("b".into()));
    }

    #[test]
    fn bad_rows_are_named() {
        let e = parse("query_kind,query,item_id,grade\ntext,x,a,high\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("\"grade\"") && e.contains("high"),
            "{e}"
        );
        let e = parse("query_kind,query,item_id,grade\nsku,x,a,1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("query_kind") && e.contains("sku"),
            "{e}"
        );
        let e = parse("query,item_id,grade\nx,a,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("query_kind"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = parse("query_kind,query,item_id,grade\ntext,x,a\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("3 fields"), "{e}");
    }
}
