//! Keyword search over every catalogue column: owns the in-RAM tantivy index
//! behind the explorer's keyword mode, the mapping from column names to query
//! field names, and the translation of query mistakes into `Error::Input`.
//!
//! # Query language
//!
//! Queries use tantivy's query syntax: `brand:sony tv`, `name:"premier image"
//! dvd`, `sony OR panasonic`, `tv -remote`, `price:[100 TO 200]`. Words are
//! combined with AND (every word must match somewhere); a word without a
//! `field:` prefix is looked up in every column. Matching is on lower-cased
//! words (tantivy's default tokenizer: split on anything that is not a letter
//! or digit, drop tokens longer than 40 bytes).
//!
//! Parsing is lenient, because the explorer searches as the user types: a
//! half-typed query (`name:"premier image`, `brand:sony brand:`) runs as well
//! as it can instead of failing. Words are not prefixes: `name:"premier im`
//! runs, but finds nothing until the word is complete. Mistakes that leniency
//! cannot paper over (an unknown field, a query of only excluded words, a
//! regex) come back as [`Error::Input`] with a message that lists the field
//! names. An empty or blank query returns no hits (not an error).
//!
//! # Field names
//!
//! A column's query name is its catalogue name when that is already a plain
//! name: letters, digits and `_`, not starting with a digit. Other names are
//! sanitised: every run of other characters becomes one `_` (leading and
//! trailing runs are dropped), a leading digit gets a `_` in front, and a name
//! left empty becomes `column<N>` (N counted from 1). `Product Type` becomes
//! `Product_Type`, `Price ($)` becomes `Price`, `2nd name` becomes `_2nd_name`.
//! Names that are plain keep priority; a sanitised name that collides with
//! an earlier one gets `_2`, `_3`, ... appended. [`KeywordIndex::field_names`]
//! lists the mapping.
//!
//! In a query, a field name is looked up as written, then as the original
//! column name (spaces escaped with `\`, e.g. `Product\ Type:lamp`), then
//! ignoring case when that is unambiguous (`Brand:sony` finds column `brand`).
//!
//! The id column is indexed twice: under its own name as the whole value,
//! lower-cased (`id:B00-X1` matches exactly that product, whatever the case),
//! and tokenised like the other columns under `<id>_text` (`id_text:b00`).
//! Both are searched by words without a field.
//!
//! Hits are ordered by BM25 score, best first, ties by catalogue row, so the
//! same query on the same catalogue always gives the same list (documents are
//! spread over segments by the indexing threads in no fixed order, so the tie
//! break reads the row from a fast field rather than trusting doc ids).
//!
//! # Cost
//!
//! Measured on `prodsim generate` data (6 columns, 2 indexing threads): 100k
//! items build in about 1 s into about 10 MB of index; 1M items in about 10 s
//! into about 90 MB, with the process peaking about 300 MB above the
//! catalogue while building (writer buffers and merges; glibc keeps much of it
//! after the build). Queries take about 1 ms at 1M items. Build it in the
//! background.

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::jobs::Progress;
use std::collections::HashSet;
use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::{QueryParser, QueryParserError};
use tantivy::query_grammar::{self, UserInputAst, UserInputLeaf};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, Schema, TEXT, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument};

/// Stage name reported to [`Progress`] while building.
pub const STAGE: &str = "keyword index";

/// Internal fast field holding each document's catalogue row; not queryable.
const ROW_FIELD: &str = "_row";
/// Tokenizer of the exact-id field: the whole value, lower-cased.
const EXACT_TOKENIZER: &str = "prodsim_exact_lower";
/// Overall writer memory budget, split between the indexing threads.
const WRITER_MEMORY: usize = 64 << 20;
/// Most indexing threads.
const MAX_THREADS: usize = 2;
/// Rows between progress reports and cancellation checks.
const REPORT_EVERY: usize = 1024;

/// One search result: a catalogue row and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordHit {
    pub row: u32,
    pub score: f32,
}

/// One queryable field: the column it comes from and how to name it.
#[derive(Debug, Clone)]
struct QueryField {
    column: String,
    name: String,
    field: Field,
    /// The tokenised twin of the id column.
    words_of_id: bool,
}

/// A keyword index over all columns of a catalogue, held in RAM.
pub struct KeywordIndex {
    reader: IndexReader,
    parser: QueryParser,
    fields: Vec<QueryField>,
    num_docs: u64,
}

impl std::fmt::Debug for KeywordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordIndex")
            .field("num_docs", &self.num_docs)
            .field("fields", &self.field_names())
            .finish()
    }
}

/// Is `name` usable as it is: letters, digits and `_`, not starting with a digit.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The sanitised query name of column `index` (0-based), before collisions.
fn sanitise(column: &str, index: usize) -> String {
    if is_plain_name(column) {
        return column.to_string();
    }
    let parts: Vec<&str> = column
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|p| !p.is_empty())
        .collect();
    let joined = parts.join("_");
    if joined.is_empty() {
        format!("column{}", index + 1)
    } else if joined.starts_with(|c: char| c.is_numeric()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// `base`, or `base_2`, `base_3`, ... whichever is not yet in `taken`; marks it taken.
fn claim(base: &str, taken: &mut HashSet<String>) -> String {
    if taken.insert(base.to_string()) {
        return base.to_string();
    }
    let mut n = 2usize;
    loop {
        let candidate = format!("{base}_{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Query names for the columns, plus the name of the tokenised id field.
fn assign_names(columns: &[String], id_column: usize) -> (Vec<String>, String) {
    let mut taken: HashSet<String> = HashSet::new();
    taken.insert(ROW_FIELD.to_string());
    let mut names: Vec<Option<String>> = vec![None; columns.len()];
    // Plain names first, so that a sanitised name never displaces one.
    for (c, column) in columns.iter().enumerate() {
        if is_plain_name(column) && column != ROW_FIELD {
            taken.insert(column.clone());
            names[c] = Some(column.clone());
        }
    }
    let names: Vec<String> = names
        .into_iter()
        .enumerate()
        .map(|(c, name)| name.unwrap_or_else(|| claim(&sanitise(&columns[c], c), &mut taken)))
        .collect();
    let id_text = claim(&format!("{}_text", names[id_column]), &mut taken);
    (names, id_text)
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Io {
        context: format!("keyword index: {what}"),
        source: std::io::Error::other(e.to_string()),
    }
}

impl KeywordIndex {
    /// Indexes every column of `catalog` in RAM. Reports `("keyword index",
    /// rows done, rows)` to `progress` and stops with [`Error::Cancelled`]
    /// when it says so.
    pub fn build(catalog: &Catalog, progress: &dyn Progress) -> Result<KeywordIndex> {
        let total = catalog.len() as u64;
        progress.update(STAGE, 0, total);
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let (names, id_text_name) = assign_names(&catalog.columns, catalog.id_column);

        let mut builder = Schema::builder();
        let exact_options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(EXACT_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic),
        );
        // (column index, field) of every field a document gets, in column order.
        let mut doc_fields: Vec<(usize, Field)> = Vec::new();
        let mut fields: Vec<QueryField> = Vec::new();
        for (c, column) in catalog.columns.iter().enumerate() {
            let options = if c == catalog.id_column {
                exact_options.clone()
            } else {
                TEXT
            };
            let field = builder.add_text_field(&names[c], options);
            doc_fields.push((c, field));
            fields.push(QueryField {
                column: column.clone(),
                name: names[c].clone(),
                field,
                words_of_id: false,
            });
            if c == catalog.id_column {
                let field = builder.add_text_field(&id_text_name, TEXT);
                doc_fields.push((c, field));
                fields.push(QueryField {
                    column: column.clone(),
                    name: id_text_name.clone(),
                    field,
                    words_of_id: true,
                });
            }
        }
        let row_field = builder.add_u64_field(ROW_FIELD, FAST);
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(
            EXACT_TOKENIZER,
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .build(),
        );

        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS);
        let options = IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .memory_budget_per_thread(WRITER_MEMORY / threads)
            .num_merge_threads(1)
            .build();
        let mut writer: IndexWriter = index
            .writer_with_options(options)
            .map_err(|e| internal("cannot start the index writer", e))?;
        // Merging while indexing costs ~15% of the build and halves the number
        // of segments at 1M items, which keeps as-you-type queries fast.
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        for row in 0..catalog.len() {
            if row % REPORT_EVERY == 0 && row > 0 {
                progress.update(STAGE, row as u64, total);
                if progress.cancelled() {
                    return Err(Error::Cancelled);
                }
            }
            let mut doc = TantivyDocument::new();
            for &(c, field) in &doc_fields {
                let cell = catalog.cell(row, c);
                if !cell.is_empty() {
                    doc.add_text(field, cell);
                }
            }
            doc.add_u64(row_field, row as u64);
            writer
                .add_document(doc)
                .map_err(|e| internal("cannot add a document", e))?;
        }
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        writer
            .commit()
            .map_err(|e| internal("cannot commit the index", e))?;
        writer
            .wait_merging_threads()
            .map_err(|e| internal("cannot finish merging the index", e))?;
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| internal("cannot open the index", e))?;

        let mut parser = QueryParser::for_index(&index, fields.iter().map(|f| f.field).collect());
        parser.set_conjunction_by_default();
        progress.update(STAGE, total, total);
        Ok(KeywordIndex {
            reader,
            parser,
            fields,
            num_docs: total,
        })
    }

    /// `(column, query name)` of every queryable field, in column order; the
    /// id column appears twice (exact name, then `<id>_text`).
    pub fn field_names(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|f| (f.column.clone(), f.name.clone()))
            .collect()
    }

    /// Number of indexed products.
    pub fn len(&self) -> usize {
        self.num_docs as usize
    }

    /// True when the catalogue had no products.
    pub fn is_empty(&self) -> bool {
        self.num_docs == 0
    }

    /// The field names for messages: `id, id_text (words of "id"), title,
    /// Product_Type ("Product Type")`.
    fn describe_fields(&self) -> String {
        self.fields
            .iter()
            .map(|f| {
                if f.words_of_id {
                    format!("{} (words of {:?})", f.name, f.column)
                } else if f.name == f.column {
                    f.name.clone()
                } else {
                    format!("{} ({:?})", f.name, f.column)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query name a field written in a query stands for.
    fn resolve(&self, written: &str) -> Option<&str> {
        let exact = self
            .fields
            .iter()
            .find(|f| f.name == written)
            .or_else(|| self.fields.iter().find(|f| f.column == written));
        if let Some(f) = exact {
            // The column name of the id column means the exact field, listed first.
            return Some(&f.name);
        }
        let folded: Vec<&QueryField> = self
            .fields
            .iter()
            .filter(|f| f.name.to_lowercase() == written.to_lowercase())
            .collect();
        if let [one] = folded.as_slice() {
            return Some(&one.name);
        }
        let folded: Vec<&QueryField> = self
            .fields
            .iter()
            .filter(|f| f.column.to_lowercase() == written.to_lowercase())
            .collect();
        match folded.first() {
            // A column matches at most twice (the id column); the first is its own name.
            Some(first) if folded.iter().all(|f| f.column == first.column) => Some(&first.name),
            _ => None,
        }
    }

    /// Rewrites the field names of `ast` to query names; collects the unknown
    /// ones and the parts we do not support.
    fn rewrite(&self, ast: &mut UserInputAst, unknown: &mut Vec<String>, bad: &mut Vec<String>) {
        match ast {
            UserInputAst::Clause(children) => {
                for (_, child) in children {
                    self.rewrite(child, unknown, bad);
                }
            }
            UserInputAst::Boost(child, _) => self.rewrite(child, unknown, bad),
            UserInputAst::Leaf(leaf) => {
                let field = match leaf.as_mut() {
                    UserInputLeaf::Literal(literal) => literal.field_name.as_mut(),
                    UserInputLeaf::All => None,
                    UserInputLeaf::Range { field, .. } => field.as_mut(),
                    UserInputLeaf::Set { field, .. } => field.as_mut(),
                    UserInputLeaf::Regex { field, .. } => field.as_mut(),
                    UserInputLeaf::Exists { field } => {
                        bad.push(format!(
                            "`{field}:*` (has any value) is not supported; search for a word, e.g. `{field}:sony`"
                        ));
                        None
                    }
                };
                if let Some(name) = field {
                    match self.resolve(name) {
                        Some(resolved) => *name = resolved.to_string(),
                        None => {
                            if !unknown.contains(name) {
                                unknown.push(name.clone());
                            }
                        }
                    }
                }
            }
        }
    }

    fn unknown_field_message(&self, query: &str, unknown: &[String]) -> String {
        let which = unknown
            .iter()
            .map(|u| format!("{u:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let noun = if unknown.len() == 1 {
            "unknown field"
        } else {
            "unknown fields"
        };
        let mut message = format!(
            "query {query:?}: {noun} {which}; the fields are: {}",
            self.describe_fields()
        );
        if unknown
            .iter()
            .any(|u| u.starts_with(|c: char| c.is_numeric()) || !is_plain_name(u))
        {
            message.push_str(
                ". A word followed by ':' is read as a field name: to search for text \
                 containing ':' put it in quotes, e.g. \"16:9\"",
            );
        }
        message
    }

    /// The best `limit` products for `query`, best first, ties by row. An
    /// empty or blank query returns no hits; a query that cannot be run is an
    /// [`Error::Input`] naming the fields.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<KeywordHit>> {
        if query.trim().is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Syntax errors are recovered from (the user may be mid-word); the
        // lenient parse keeps what it could read.
        let (mut ast, _syntax_errors) = query_grammar::parse_query_lenient(query);
        let mut unknown = Vec::new();
        let mut bad = Vec::new();
        self.rewrite(&mut ast, &mut unknown, &mut bad);
        if !unknown.is_empty() {
            return Err(Error::input(self.unknown_field_message(query, &unknown)));
        }
        if let Some(first) = bad.first() {
            return Err(Error::input(format!("query {query:?}: {first}")));
        }
        let (parsed, errors) = self.parser.build_query_from_user_input_ast_lenient(ast);
        for error in &errors {
            let what = match error {
                QueryParserError::SyntaxError(_) => continue,
                QueryParserError::AllButQueryForbidden => {
                    "only excluded words (-word); add a word to search for, e.g. `tv -remote`"
                        .to_string()
                }
                QueryParserError::UnsupportedQuery(what) => format!("not supported: {what}"),
                QueryParserError::FieldDoesNotExist(name) => {
                    return Err(Error::input(
                        self.unknown_field_message(query, std::slice::from_ref(name)),
                    ));
                }
                other => other.to_string(),
            };
            return Err(Error::input(format!(
                "query {query:?}: {what} (fields: {})",
                self.describe_fields()
            )));
        }
        let collector = TopDocs::with_limit(limit).order_by((
            SortBySimilarityScore,
            (
                SortByStaticFastValue::<u64>::for_field(ROW_FIELD),
                Order::Asc,
            ),
        ));
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&parsed, &collector)
            .map_err(|e| Error::input(format!("query {query:?} cannot be run: {e}")))?;
        let mut hits = Vec::with_capacity(top.len());
        for ((score, row), address) in top {
            let row = row.ok_or_else(|| {
                internal(
                    "a document has no row",
                    format!("segment {} doc {}", address.segment_ord, address.doc_id),
                )
            })?;
            hits.push(KeywordHit {
                row: row as u32,
                score,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogOptions;
    use crate::jobs::{CancelFlag, NoProgress};
    use std::path::Path;
    use std::sync::Mutex;

    const CSV: &str = "\
id,title,brand,price,Product Type
S-1,Sony Bravia 40 inch LED TV,Sony,499.00,television
S-2,Sony WH-1000XM4 wireless headphones,Sony,279.99,headphones
P-1,Panasonic KX-TS3282B corded phone,Panasonic,49.95,telephone
P-2,Panasonic Viera plasma TV,Panasonic,899.00,television
K-1,Premier Image DVD player,Premier Image,39.00,dvd player
K-2,Image stabilised premier camera,Canon,650.00,camera
X-9,Cable for Sony TV,Generic,5.00,accessory
";

    fn catalog(csv: &str) -> Catalog {
        Catalog::from_bytes(
            Path::new("t.csv"),
            csv.as_bytes(),
            &CatalogOptions::default(),
        )
        .expect("test catalogue parses")
    }

    fn index() -> KeywordIndex {
        KeywordIndex::build(&catalog(CSV), &NoProgress).expect("index builds")
    }

    fn ids(index: &KeywordIndex, cat: &Catalog, query: &str) -> Vec<String> {
        let hits = index.search(query, 100).expect("query runs");
        hits.iter()
            .map(|h| cat.id(h.row as usize).to_string())
            .collect()
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn field_query_finds_only_that_field() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        // "sony" also appears in X-9's title, but not in its brand.
        assert_eq!(sorted(ids(&index, &cat, "brand:sony")), ["S-1", "S-2"]);
        assert_eq!(sorted(ids(&index, &cat, "sony")), ["S-1", "S-2", "X-9"]);
        assert_eq!(ids(&index, &cat, "brand:sony tv"), ["S-1"]);
    }

    #[test]
    fn free_text_searches_every_column() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        // Only in the "Product Type" column.
        assert_eq!(sorted(ids(&index, &cat, "television")), ["P-2", "S-1"]);
        // Only in the price column.
        assert_eq!(ids(&index, &cat, "279"), ["S-2"]);
        // Words are lower-cased on both sides.
        assert_eq!(ids(&index, &cat, "PANASONIC phone"), ["P-1"]);
    }

    #[test]
    fn phrase_queries_respect_word_order() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        assert_eq!(
            sorted(ids(&index, &cat, "title:premier title:image")),
            ["K-1", "K-2"]
        );
        assert_eq!(ids(&index, &cat, "title:\"premier image\""), ["K-1"]);
        assert_eq!(ids(&index, &cat, "title:\"premier image\" dvd"), ["K-1"]);
        assert!(ids(&index, &cat, "title:\"image premier\"").is_empty());
    }

    #[test]
    fn id_field_matches_whole_ids_and_id_text_matches_words() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        assert_eq!(ids(&index, &cat, "id:S-1"), ["S-1"]);
        assert_eq!(ids(&index, &cat, "id:s-1"), ["S-1"]);
        assert!(ids(&index, &cat, "id:S").is_empty());
        assert_eq!(sorted(ids(&index, &cat, "id_text:s")), ["S-1", "S-2"]);
        // A whole id typed without a field finds the product.
        assert_eq!(ids(&index, &cat, "P-2")[0], "P-2");
    }

    #[test]
    fn unknown_field_is_an_input_error_naming_the_fields() {
        let index = index();
        let err = index.search("brnd:sony", 10).unwrap_err();
        let Error::Input(message) = &err else {
            panic!("expected an input error, got {err:?}");
        };
        assert!(message.contains("\"brnd\""), "{message}");
        for name in ["id", "title", "brand", "price", "Product_Type"] {
            assert!(message.contains(name), "{message} lacks {name}");
        }
        assert!(message.contains("\"Product Type\""), "{message}");
        // A colon inside a value gets a hint about quoting.
        let err = index.search("16:9 tv", 10).unwrap_err().to_string();
        assert!(err.contains("quotes"), "{err}");
        assert!(index.search("\"16:9\" tv", 10).is_ok());
        // The internal row field is not a query field.
        assert!(matches!(index.search("_row:1", 10), Err(Error::Input(_))));
    }

    #[test]
    fn column_with_a_space_is_queryable_under_its_sanitised_name() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        assert!(
            index
                .field_names()
                .contains(&("Product Type".to_string(), "Product_Type".to_string()))
        );
        let want = ["P-2", "S-1"];
        assert_eq!(sorted(ids(&index, &cat, "Product_Type:television")), want);
        // Case-insensitively, and by the column name with the space escaped.
        assert_eq!(sorted(ids(&index, &cat, "product_type:television")), want);
        assert_eq!(sorted(ids(&index, &cat, "Product\\ Type:television")), want);
        assert_eq!(ids(&index, &cat, "BRAND:canon"), ["K-2"]);
    }

    #[test]
    fn field_names_are_sanitised_and_unique() {
        let columns: Vec<String> = [
            "id",
            "Product Type",
            "Product_Type",
            "Price ($)",
            "2nd name",
            "!!",
            "_row",
            "id_text",
            "naïve",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (names, id_text) = assign_names(&columns, 0);
        assert_eq!(
            names,
            [
                "id",
                "Product_Type_2",
                "Product_Type",
                "Price",
                "_2nd_name",
                "column6",
                "_row_2",
                "id_text",
                "naïve"
            ]
        );
        assert_eq!(id_text, "id_text_2");
    }

    #[test]
    fn empty_query_returns_nothing() {
        let index = index();
        assert!(index.search("", 10).unwrap().is_empty());
        assert!(index.search("   ", 10).unwrap().is_empty());
        assert!(index.search("sony", 0).unwrap().is_empty());
    }

    #[test]
    fn half_typed_queries_do_not_fail() {
        let cat = catalog(CSV);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        for query in [
            "title:\"premier im",
            "brand:",
            "sony AND",
            "(sony",
            "brand:(sony",
            "\"",
            "-",
            "price:[1 TO",
        ] {
            let result = index.search(query, 10);
            assert!(result.is_ok(), "{query:?}: {result:?}");
        }
        // An unclosed phrase runs as if closed at the end. Words are not
        // prefixes: a half-typed last word matches nothing yet.
        assert_eq!(ids(&index, &cat, "title:\"premier image"), ["K-1"]);
        assert!(ids(&index, &cat, "title:\"premier im").is_empty());
        assert_eq!(
            sorted(ids(&index, &cat, "brand:sony brand:")),
            ["S-1", "S-2"]
        );
    }

    #[test]
    fn unsupported_queries_are_input_errors() {
        let index = index();
        for query in ["-sony", "brand:*", "brand:/so.*/"] {
            let result = index.search(query, 10);
            assert!(
                matches!(result, Err(Error::Input(_))),
                "{query:?}: {result:?}"
            );
        }
    }

    #[test]
    fn results_are_best_first_ties_by_row_and_deterministic() {
        let cat = catalog(CSV);
        let a = KeywordIndex::build(&cat, &NoProgress).unwrap();
        let b = KeywordIndex::build(&cat, &NoProgress).unwrap();
        for query in ["tv", "sony OR panasonic", "*", "television", "image"] {
            let hits = a.search(query, 100).unwrap();
            assert_eq!(hits, b.search(query, 100).unwrap(), "{query}");
            assert_eq!(hits, a.search(query, 100).unwrap(), "{query}");
            for pair in hits.windows(2) {
                assert!(
                    pair[0].score > pair[1].score
                        || pair[0].score == pair[1].score && pair[0].row < pair[1].row,
                    "{query}: {hits:?}"
                );
            }
        }
        // Every row matches `*` with the same score: catalogue order.
        let all: Vec<u32> = a.search("*", 100).unwrap().iter().map(|h| h.row).collect();
        assert_eq!(all, (0..cat.len() as u32).collect::<Vec<_>>());
        // A limit keeps the best.
        let top2 = a.search("*", 2).unwrap();
        assert_eq!(top2.iter().map(|h| h.row).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn ties_are_broken_by_row_across_many_segments() {
        // Enough identical rows for several indexing threads and a non-trivial
        // number of documents per segment.
        let mut csv = String::from("id,title\n");
        for i in 0..5000 {
            csv.push_str(&format!("item{i},same words here\n"));
        }
        let cat = catalog(&csv);
        let index = KeywordIndex::build(&cat, &NoProgress).unwrap();
        let hits = index.search("same", 50).unwrap();
        assert_eq!(
            hits.iter().map(|h| h.row).collect::<Vec<_>>(),
            (0..50).collect::<Vec<u32>>()
        );
    }

    struct Recorder {
        cancel: CancelFlag,
        cancel_after: u64,
        seen: Mutex<Vec<(String, u64, u64)>>,
    }

    impl Progress for Recorder {
        fn update(&self, stage: &str, done: u64, total: u64) {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push((stage.to_string(), done, total));
            }
            if done >= self.cancel_after {
                self.cancel.cancel();
            }
        }
        fn cancelled(&self) -> bool {
            self.cancel.is_cancelled()
        }
    }

    #[test]
    fn cancellation_returns_cancelled() {
        let cat = catalog(CSV);
        let cancelled = Recorder {
            cancel: CancelFlag::default(),
            cancel_after: 0,
            seen: Mutex::new(Vec::new()),
        };
        assert!(matches!(
            KeywordIndex::build(&cat, &cancelled),
            Err(Error::Cancelled)
        ));

        let mut csv = String::from("id,title\n");
        for i in 0..3000 {
            csv.push_str(&format!("item{i},words {i}\n"));
        }
        let big = catalog(&csv);
        let midway = Recorder {
            cancel: CancelFlag::default(),
            cancel_after: 1024,
            seen: Mutex::new(Vec::new()),
        };
        assert!(matches!(
            KeywordIndex::build(&big, &midway),
            Err(Error::Cancelled)
        ));
        let seen = midway.seen.lock().unwrap();
        assert_eq!(seen.last().map(|s| s.1), Some(1024));
    }

    #[test]
    fn progress_reports_the_stage_up_to_the_total() {
        let cat = catalog(CSV);
        let recorder = Recorder {
            cancel: CancelFlag::default(),
            cancel_after: u64::MAX,
            seen: Mutex::new(Vec::new()),
        };
        let index = KeywordIndex::build(&cat, &recorder).unwrap();
        assert_eq!(index.len(), cat.len());
        let seen = recorder.seen.lock().unwrap();
        assert!(
            seen.iter()
                .all(|(stage, _, total)| stage == STAGE && *total == 7)
        );
        assert_eq!(seen.last().map(|s| s.1), Some(7));
    }

    #[test]
    fn index_can_move_to_and_be_shared_with_other_threads() {
        fn check<T: Send + Sync>() {}
        check::<KeywordIndex>();
    }
}
