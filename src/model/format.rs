//! The model file: a documented little-endian layout of aligned sections
//! that is memory-mapped on open ([`load`]) or read by copying ([`from_bytes`]).
//!
//! ```text
//! offset 0   magic      8 bytes  "PRODSIM\0"
//!        8   version    u32      FORMAT_VERSION
//!       12   count      u32      number of sections (<= 64)
//!       16   table_crc  u32      CRC-32 of the section table
//!       20   reserved   u32      0
//!       24   table      count x 32 bytes:
//!                       tag [u8; 8] (ASCII, zero padded), offset u64,
//!                       length u64, crc32 u32, reserved u32
//!            sections   each at an 8-byte aligned offset, zero padding
//! ```
//! Sections: `config` and `meta` (JSON); `vocab.o`/`vocab.s`, `ids.o`/
//! `ids.s`, `title.o`/`title.s` (u64 offsets + UTF-8 bytes); `idf`,
//! `termmax` (f32 per term); `termbase` (f32 per term) and `iscale` (f32 per
//! item), whose product bounds an item's weight for pruning (optional:
//! older files lack them); `bands` (u32: per df band its smallest df and
//! the bits of its largest item norm, then the bits of the largest norm
//! over all bands, and 0) and `ibands` (u64 per item: its norm in each band and in
//! all, one byte each, see [`Model`]), which bound a score by
//! Cauchy-Schwarz (optional too); `idorder` (u32 per item); `fwd.o` (u64 per
//! item + 1), `fwd.t` (u32), `fwd.w` (f32), `fwd.f` (u16); `inv.o` (u64 per
//! term + 1), `inv.i` (u32), `inv.w` (f32). Every length and index is
//! checked against the file before use, so a damaged file is an error,
//! never a panic or a huge allocation.

use super::{Arr, BANDS, FORMAT_VERSION, Model, ModelConfig, ModelMeta, StrTable};
use crate::error::{Error, Result};
use crate::text::Analyzer;
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 8] = b"PRODSIM\0";
const HEADER: usize = 24;
const ENTRY: usize = 32;
const MAX_SECTIONS: usize = 64;

fn tag(name: &str) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..name.len()].copy_from_slice(name.as_bytes());
    t
}

/// A section's bytes as stored: little-endian arrays viewed in place (no
/// copy on little-endian machines, which is every machine prodsim targets).
fn raw<T: bytemuck::Pod>(v: &[T]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Borrowed(bytemuck::cast_slice(v))
}

#[cfg(not(target_endian = "little"))]
compile_error!("prodsim's model format is little-endian; big-endian hosts are not supported");

/// A named section's bytes, borrowed from the model where possible.
type Section<'a> = (&'static str, std::borrow::Cow<'a, [u8]>);

/// Section names in file order; [`sections`] and [`ModelFileWriter`] both
/// follow it, so a model written either way has the same bytes.
pub(crate) const SECTION_ORDER: [&str; 22] = [
    "config", "meta", "vocab.o", "vocab.s", "idf", "termmax", "termbase", "iscale", "bands",
    "ibands", "ids.o", "ids.s", "title.o", "title.s", "idorder", "fwd.o", "fwd.t", "fwd.w",
    "fwd.f", "inv.o", "inv.i", "inv.w",
];

/// The sections of a model, in file order.
fn sections(model: &Model) -> Result<Vec<Section<'_>>> {
    use std::borrow::Cow;
    Ok(vec![
        ("config", Cow::Owned(json(&model.config)?)),
        ("meta", Cow::Owned(json(&model.meta)?)),
        ("vocab.o", raw(&model.vocab.offsets)),
        ("vocab.s", raw(&model.vocab.bytes)),
        ("idf", raw(&model.idf)),
        ("termmax", raw(&model.term_max)),
        ("termbase", raw(&model.term_base)),
        ("iscale", raw(&model.item_scale)),
        ("bands", raw(&model.bands)),
        ("ibands", raw(&model.item_bands)),
        ("ids.o", raw(&model.ids.offsets)),
        ("ids.s", raw(&model.ids.bytes)),
        ("title.o", raw(&model.titles.offsets)),
        ("title.s", raw(&model.titles.bytes)),
        ("idorder", raw(&model.id_order)),
        ("fwd.o", raw(&model.fwd_offsets)),
        ("fwd.t", raw(&model.fwd_terms)),
        ("fwd.w", raw(&model.fwd_weights)),
        ("fwd.f", raw(&model.fwd_fields)),
        ("inv.o", raw(&model.inv_offsets)),
        ("inv.i", raw(&model.inv_items)),
        ("inv.w", raw(&model.inv_weights)),
    ])
}

/// Where each section starts (8-byte aligned, after the header and the
/// table) and where the file ends, for sections of the given lengths.
fn layout(lens: &[u64]) -> (Vec<u64>, u64) {
    let mut offset = (HEADER + lens.len() * ENTRY) as u64;
    let mut placed = Vec::with_capacity(lens.len());
    for &len in lens {
        offset = offset.div_ceil(8) * 8;
        placed.push(offset);
        offset += len;
    }
    (placed, offset)
}

/// The header and section table: everything before the first section.
fn head_and_table(names: &[&str], lens: &[u64], placed: &[u64], crcs: &[u32]) -> Vec<u8> {
    let mut table = Vec::with_capacity(names.len() * ENTRY);
    for (((name, len), at), crc) in names.iter().zip(lens).zip(placed).zip(crcs) {
        table.extend_from_slice(&tag(name));
        table.extend_from_slice(&at.to_le_bytes());
        table.extend_from_slice(&len.to_le_bytes());
        table.extend_from_slice(&crc.to_le_bytes());
        table.extend_from_slice(&0u32.to_le_bytes());
    }
    let mut head = Vec::with_capacity(HEADER + table.len());
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&(names.len() as u32).to_le_bytes());
    head.extend_from_slice(&crc32fast::hash(&table).to_le_bytes());
    head.extend_from_slice(&0u32.to_le_bytes());
    head.extend_from_slice(&table);
    head
}

/// Streams a model in the file layout. Deterministic: the same model gives
/// the same bytes. Returns the number of bytes written.
pub fn write_model(model: &Model, w: &mut dyn Write) -> Result<u64> {
    let sections = sections(model)?;
    debug_assert!(sections.iter().map(|s| s.0).eq(SECTION_ORDER));
    let io = |e: std::io::Error| Error::Io {
        context: "cannot write the model".into(),
        source: e,
    };
    let names: Vec<&str> = sections.iter().map(|s| s.0).collect();
    let lens: Vec<u64> = sections.iter().map(|s| s.1.len() as u64).collect();
    let crcs: Vec<u32> = sections.iter().map(|s| crc32fast::hash(&s.1)).collect();
    let (placed, _) = layout(&lens);
    let head = head_and_table(&names, &lens, &placed, &crcs);
    w.write_all(&head).map_err(io)?;
    let mut pos = head.len() as u64;
    for ((_, data), at) in sections.iter().zip(placed) {
        let pad = (at - pos) as usize;
        w.write_all(&[0u8; 8][..pad]).map_err(io)?;
        w.write_all(data).map_err(io)?;
        pos = at + data.len() as u64;
    }
    Ok(pos)
}

/// Writes a model file section by section without the model ever being in
/// memory as a whole: every section's length is fixed up front, so each
/// section (or each piece of one) can be written at its final offset, in
/// any order and from several threads; the checksums of a section's pieces
/// are combined, and the header and table go in last. The bytes are those
/// [`write_model`] writes for the same model. Like [`write_atomic_with`] it
/// fills a temporary file beside the destination, fsyncs it and renames it
/// into place in [`ModelFileWriter::finish`]; dropped unfinished (an error,
/// a cancelled training), it removes the temporary file.
pub(crate) struct ModelFileWriter {
    path: std::path::PathBuf,
    dir: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: std::fs::File,
    lens: Vec<u64>,
    placed: Vec<u64>,
    end: u64,
    /// Per section: (offset in the section, length, checksum) of each piece.
    pieces: std::sync::Mutex<Vec<Vec<(u64, u64, crc32fast::Hasher)>>>,
    finished: bool,
    /// The same file opened for direct I/O, for the page-aligned middle of
    /// pieces of at least `direct_min` bytes; `None` where the system or
    /// the file system refuses it.
    direct: Option<std::fs::File>,
    direct_min: usize,
    /// Set when a direct write failed: later pieces go through the page
    /// cache only.
    direct_failed: std::sync::atomic::AtomicBool,
}

/// Pieces at least this big are written with direct I/O (see
/// [`ModelFileWriter::write`]).
const DIRECT_MIN: usize = 1 << 20;
/// Alignment of direct I/O offsets, lengths and buffers.
const DIRECT_ALIGN: usize = 4096;
/// Per thread: the aligned buffer direct writes are copied through.
const BOUNCE_BYTES: usize = 2 << 20;

impl ModelFileWriter {
    /// Creates the temporary file for sections of these lengths, given in
    /// [`SECTION_ORDER`].
    pub(crate) fn create(path: &Path, lens: &[u64; SECTION_ORDER.len()]) -> Result<Self> {
        let (dir, tmp) = temp_beside(path);
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(path, "write the file", e))?;
        let (placed, end) = layout(lens);
        // Full length up front (a hole until written), so direct writes do
        // not extend the file.
        file.set_len(end)
            .map_err(|e| Error::io(path, "write the file", e))?;
        let direct = open_direct(&tmp);
        Ok(ModelFileWriter {
            path: path.to_path_buf(),
            dir,
            tmp,
            file,
            lens: lens.to_vec(),
            placed,
            end,
            pieces: std::sync::Mutex::new(vec![Vec::new(); SECTION_ORDER.len()]),
            finished: false,
            direct,
            direct_min: DIRECT_MIN,
            direct_failed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Writes `bytes` at file offset `at`: a big piece's page-aligned
    /// middle with direct I/O, the rest through the page cache. Filling
    /// fresh page cache ran at 0.65-0.9 GB/s on the benchmark machine (the
    /// kernel allocates and copies every page), direct writes at 1.7 GB/s
    /// with no copy by the kernel; at 1M items the writer thread was busy
    /// for 3.8 of the index stage's 4.3 s.
    fn put(&self, bytes: &[u8], at: u64) -> std::io::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(direct) = &self.direct
            && bytes.len() >= self.direct_min
            && !self.direct_failed.load(Relaxed)
        {
            let align = DIRECT_ALIGN as u64;
            let (a, b) = (
                at.div_ceil(align) * align,
                (at + bytes.len() as u64) / align * align,
            );
            if b > a {
                let (head, rest) = bytes.split_at((a - at) as usize);
                let (middle, tail) = rest.split_at((b - a) as usize);
                if write_direct(direct, middle, a).is_ok() {
                    write_all_at(&self.file, head, at)?;
                    return write_all_at(&self.file, tail, b);
                }
                // Some file systems take the flag at open but not the
                // write: the page cache from here on (it rewrites whatever
                // part of the middle did get written).
                self.direct_failed.store(true, Relaxed);
            }
        }
        write_all_at(&self.file, bytes, at)?;
        start_writeback(&self.file, at, bytes.len() as u64);
        Ok(())
    }

    fn fail(&self, e: std::io::Error) -> Error {
        Error::io(&self.path, "write the file", e)
    }

    /// Writes `bytes` at offset `at` of section `name`. Pieces of a section
    /// must not overlap and must cover it by the time of `finish`.
    pub(crate) fn write(&self, name: &str, at: u64, bytes: &[u8]) -> Result<()> {
        let s = SECTION_ORDER
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| self.fail(std::io::Error::other(format!("no section {name:?}"))))?;
        let len = bytes.len() as u64;
        if at + len > self.lens[s] {
            return Err(self.fail(std::io::Error::other(format!(
                "section {name:?}: bytes {at}..{} past its length {}",
                at + len,
                self.lens[s]
            ))));
        }
        self.put(bytes, self.placed[s] + at)
            .map_err(|e| self.fail(e))?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(bytes);
        self.pieces
            .lock()
            .map_err(|_| self.fail(std::io::Error::other("a writer thread panicked")))?[s]
            .push((at, len, crc));
        Ok(())
    }

    /// Checks that every section was written whole, writes the header and
    /// table, fsyncs and renames the file into place. Returns the file size.
    pub(crate) fn finish(mut self) -> Result<u64> {
        let pieces = std::mem::take(
            &mut *self
                .pieces
                .lock()
                .map_err(|_| self.fail(std::io::Error::other("a writer thread panicked")))?,
        );
        let mut crcs = Vec::with_capacity(pieces.len());
        for (s, mut parts) in pieces.into_iter().enumerate() {
            parts.sort_unstable_by_key(|p| p.0);
            let mut crc = crc32fast::Hasher::new();
            let mut covered = 0u64;
            for (at, len, part) in &parts {
                if *at != covered {
                    return Err(self.fail(std::io::Error::other(format!(
                        "section {:?}: bytes {covered}..{at} were not written",
                        SECTION_ORDER[s]
                    ))));
                }
                crc.combine(part);
                covered += len;
            }
            if covered != self.lens[s] {
                return Err(self.fail(std::io::Error::other(format!(
                    "section {:?}: {covered} of {} bytes written",
                    SECTION_ORDER[s], self.lens[s]
                ))));
            }
            crcs.push(crc.finalize());
        }
        let head = head_and_table(&SECTION_ORDER, &self.lens, &self.placed, &crcs);
        let result = (|| -> std::io::Result<()> {
            write_all_at(&self.file, &head, 0)?;
            // Zero padding between sections is a hole; the file must still
            // end where the last section does.
            self.file.set_len(self.end)?;
            self.file.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)?;
            if let Ok(d) = std::fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        result.map_err(|e| self.fail(e))?;
        self.finished = true;
        Ok(self.end)
    }
}

impl Drop for ModelFileWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(unix)]
fn write_all_at(file: &std::fs::File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

/// The file at `path` opened again for direct I/O (Linux), or `None`.
fn open_direct(path: &Path) -> Option<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// A zeroed heap buffer aligned for direct I/O.
struct Bounce {
    ptr: std::ptr::NonNull<u8>,
}

/// BOUNCE_BYTES at DIRECT_ALIGN, checked when compiling.
const BOUNCE_LAYOUT: std::alloc::Layout =
    match std::alloc::Layout::from_size_align(BOUNCE_BYTES, DIRECT_ALIGN) {
        Ok(layout) => layout,
        Err(_) => panic!("the bounce buffer's size and alignment"),
    };

impl Bounce {
    fn new() -> Option<Bounce> {
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(BOUNCE_LAYOUT) };
        std::ptr::NonNull::new(ptr).map(|ptr| Bounce { ptr })
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` holds BOUNCE_BYTES initialised (zeroed, then
        // written) bytes that only this value reaches.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), BOUNCE_BYTES) }
    }
}

impl Drop for Bounce {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with the same layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), BOUNCE_LAYOUT) }
    }
}

thread_local! {
    static BOUNCE: std::cell::RefCell<Option<Bounce>> = const { std::cell::RefCell::new(None) };
}

/// Writes `bytes` (a multiple of [`DIRECT_ALIGN`] long) at the aligned
/// offset `at` of a file opened for direct I/O, through this thread's
/// aligned buffer.
fn write_direct(file: &std::fs::File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    BOUNCE.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| std::io::Error::other("bounce buffer in use"))?;
        if slot.is_none() {
            *slot = Bounce::new();
        }
        let bounce = slot
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no memory for an aligned buffer"))?
            .bytes();
        let mut done = 0;
        while done < bytes.len() {
            let n = (bytes.len() - done).min(BOUNCE_BYTES);
            bounce[..n].copy_from_slice(&bytes[done..done + n]);
            write_all_at(file, &bounce[..n], at + done as u64)?;
            done += n;
        }
        Ok(())
    })
}

/// Asks the kernel to start writing `len` bytes at `at` to the disk now,
/// without waiting: training writes the model in pieces while it computes
/// the next ones, so the fsync in [`ModelFileWriter::finish`] finds most
/// pages written (it waited 0.1 s at 100k items, words, 0.3 s at 1M). A
/// hint: errors are ignored, and the fsync still decides. Elsewhere a no-op.
fn start_writeback(file: &std::fs::File, at: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        unsafe extern "C" {
            fn sync_file_range(
                fd: std::ffi::c_int,
                offset: i64,
                nbytes: i64,
                flags: u32,
            ) -> std::ffi::c_int;
        }
        /// SYNC_FILE_RANGE_WRITE: start write-out of dirty pages in the range.
        const WRITE: u32 = 2;
        if let (Ok(at), Ok(len)) = (i64::try_from(at), i64::try_from(len))
            && len > 0
        {
            // SAFETY: the descriptor is open for as long as `file` lives,
            // and the call only reads its arguments.
            unsafe {
                sync_file_range(file.as_raw_fd(), at, len, WRITE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, at, len);
}

#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut bytes: &[u8], mut at: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, bytes, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
        at += n as u64;
    }
    Ok(())
}

/// The model file's bytes in memory (tests, small models).
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_model(model, &mut out)?;
    Ok(out)
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::input(format!("cannot encode the model: {e}")))
}

/// Writes a model atomically: a temporary file in the same directory,
/// fsync, then rename, so a crash never leaves a half-written model.
pub fn save(model: &Model, path: &Path) -> Result<u64> {
    let mut written = 0;
    let mut failure = None;
    write_atomic_with(path, &mut |w| match write_model(model, w) {
        Ok(n) => {
            written = n;
            Ok(())
        }
        Err(Error::Io { source, .. }) => Err(source),
        Err(e) => {
            failure = Some(e);
            Err(std::io::Error::other("model encoding failed"))
        }
    })
    .map_err(|e| failure.take().unwrap_or(e))?;
    Ok(written)
}

/// Atomic file write (temp + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, &mut |w| w.write_all(bytes))
}

/// Streams into a temporary file beside `path`, fsyncs it and renames it
/// into place; on any failure the temporary file is removed and `path` is
/// untouched, so a reader never sees a partial file under the final name.
pub fn write_atomic_with(
    path: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let (dir, tmp) = temp_beside(path);
    let result = (|| -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, "write the file", e)
    })
}

/// The directory of `path` and a temporary file name in it.
fn temp_beside(path: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    // Process id + a per-process counter: two threads writing the same
    // path never share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{serial}.tmp", std::process::id()));
    (dir, tmp)
}

/// Sections whose checksum and index checks are skipped by [`load`]: the
/// big per-non-zero arrays (and titles), which a cheap open must not read.
/// [`load_verified`] and [`verify`] check them too.
const LAZY_SECTIONS: [&str; 6] = ["fwd.t", "fwd.w", "fwd.f", "inv.i", "inv.w", "title.s"];

/// Opens a model file by memory-mapping it: the header, section table,
/// configuration, vocabulary, ids and offset tables are checked, the big
/// arrays are used in place without being read, so a model with millions
/// of items opens in well under a second. Every access to the unchecked
/// arrays is bounds-checked, so a damaged file can give wrong numbers but
/// never a crash; [`verify`] (or [`load_verified`]) checks everything.
pub fn load(path: &Path) -> Result<Model> {
    open(path, false)
}

/// [`load`] plus every checksum and index check (reads the whole file):
/// for batch jobs and evaluations, where a damaged file must not go
/// unnoticed.
pub fn load_verified(path: &Path) -> Result<Model> {
    open(path, true)
}

/// Checks every section's checksum and every stored index of a model file.
pub fn verify(path: &Path) -> Result<()> {
    open(path, true).map(|_| ())
}

fn open(path: &Path, full: bool) -> Result<Model> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open the model", e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "read the model", e))?
        .len();
    if len < HEADER as u64 {
        return from_bytes(path, &[]);
    }
    // SAFETY: the map is read-only and prodsim never modifies a model file
    // in place (it writes a temporary file and renames it over the old
    // one), so the mapped bytes do not change while the model is open.
    // Another program truncating the file under us is outside that
    // contract, as for any reader of a memory-mapped file.
    let map =
        unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "map the model", e))?;
    let map = std::sync::Arc::new(map);
    parse(path, &map, Some(&map), full)
}

struct Reader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    map: Option<&'a std::sync::Arc<memmap2::Mmap>>,
    full: bool,
    table: Vec<([u8; 8], usize, usize, u32)>,
}

impl<'a> Reader<'a> {
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::model(self.path, msg)
    }

    fn entry(&self, name: &str) -> Result<(usize, usize, u32)> {
        let t = tag(name);
        self.table
            .iter()
            .find(|e| e.0 == t)
            .map(|&(_, off, len, crc)| (off, len, crc))
            .ok_or_else(|| self.err(format!("corrupt model file: section {name:?} is missing")))
    }

    fn checked(&self, name: &str) -> bool {
        self.full || !LAZY_SECTIONS.contains(&name)
    }

    fn section(&self, name: &str) -> Result<&'a [u8]> {
        let (off, len, crc) = self.entry(name)?;
        let data = &self.bytes[off..off + len];
        if self.checked(name) && crc32fast::hash(data) != crc {
            return Err(self.err(format!(
                "corrupt model file: section {name:?} fails its checksum; retrain or restore the file"
            )));
        }
        Ok(data)
    }

    fn array<T: bytemuck::Pod>(&self, name: &str) -> Result<Arr<T>> {
        let data = self.section(name)?;
        let size = std::mem::size_of::<T>();
        if data.len() % size != 0 {
            return Err(self.err(format!(
                "corrupt model file: section {name:?} has {} bytes, not a multiple of {size}",
                data.len()
            )));
        }
        match self.map {
            Some(map) => {
                let (off, len, _) = self.entry(name)?;
                Arr::mapped(map, off, off + len).ok_or_else(|| {
                    self.err(format!(
                        "corrupt model file: section {name:?} is not aligned for its values"
                    ))
                })
            }
            // Copies into an aligned vector; the file is little-endian like the host.
            None => Ok(Arr::Owned(bytemuck::pod_collect_to_vec(data))),
        }
    }

    fn strings(&self, name: &str, expect: usize) -> Result<StrTable> {
        let offsets: Arr<u64> = self.array(&format!("{name}.o"))?;
        let bytes: Arr<u8> = self.array(&format!("{name}.s"))?;
        if offsets.len() != expect + 1 {
            return Err(self.err(format!(
                "corrupt model file: {name} table has {} entries, expected {expect}",
                offsets.len().saturating_sub(1)
            )));
        }
        check_offsets(self, name, &offsets, bytes.len())?;
        if self.checked(&format!("{name}.s")) && std::str::from_utf8(&bytes).is_err() {
            // Offsets may still split a character; `StrTable::get` guards that.
            return Err(self.err(format!(
                "corrupt model file: {name} table holds invalid UTF-8"
            )));
        }
        Ok(StrTable { offsets, bytes })
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        serde_json::from_slice(self.section(name)?)
            .map_err(|e| self.err(format!("corrupt model file: section {name:?}: {e}")))
    }
}

fn check_offsets(r: &Reader<'_>, name: &str, offsets: &[u64], total: usize) -> Result<()> {
    if offsets.first() != Some(&0)
        || offsets.last().map(|&l| l as usize) != Some(total)
        || offsets.windows(2).any(|w| w[0] > w[1])
    {
        return Err(r.err(format!(
            "corrupt model file: offsets of {name} are not increasing from 0 to {total}"
        )));
    }
    Ok(())
}

/// Parses and fully validates model bytes (copied into owned arrays);
/// `path` is for messages.
pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Model> {
    parse(path, bytes, None, true)
}

fn parse(
    path: &Path,
    bytes: &[u8],
    map: Option<&std::sync::Arc<memmap2::Mmap>>,
    full: bool,
) -> Result<Model> {
    let bad = |m: String| Error::model(path, m);
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(bad(
            "not a prodsim model file (wrong magic bytes); train one with `prodsim train`".into(),
        ));
    }
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[o..o + 8]);
        u64::from_le_bytes(a)
    };
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "model file format version {version}, but this prodsim reads version {FORMAT_VERSION}; \
             retrain the model with this prodsim (`prodsim train`)"
        )));
    }
    let count = u32_at(12) as usize;
    if count > MAX_SECTIONS || HEADER + count * ENTRY > bytes.len() {
        return Err(bad(format!(
            "truncated or corrupt model file: section table ({count} sections) does not fit in {} bytes",
            bytes.len()
        )));
    }
    let table_bytes = &bytes[HEADER..HEADER + count * ENTRY];
    if crc32fast::hash(table_bytes) != u32_at(16) {
        return Err(bad(
            "corrupt model file: the section table fails its checksum".into(),
        ));
    }
    let mut table = Vec::with_capacity(count);
    for i in 0..count {
        let o = HEADER + i * ENTRY;
        let mut t = [0u8; 8];
        t.copy_from_slice(&bytes[o..o + 8]);
        let off = u64_at(o + 8);
        let len = u64_at(o + 16);
        let end = off.checked_add(len);
        if end.is_none_or(|e| e > bytes.len() as u64) {
            return Err(bad(format!(
                "truncated model file: a section ends at byte {}, the file has {} bytes; retrain or copy it again",
                end.unwrap_or(u64::MAX),
                bytes.len()
            )));
        }
        table.push((t, off as usize, len as usize, u32_at(o + 24)));
    }
    let r = Reader {
        path,
        bytes,
        map,
        full,
        table,
    };
    let config: ModelConfig = r.json("config")?;
    let meta: ModelMeta = r.json("meta")?;
    let n = meta.items as usize;
    let nterms = meta.terms as usize;
    let nnz = meta.nonzeros as usize;
    let vocab = r.strings("vocab", nterms)?;
    let ids = r.strings("ids", n)?;
    let titles = r.strings("title", n)?;
    let idf = r.array::<f32>("idf")?;
    let term_max = r.array::<f32>("termmax")?;
    let (term_base, item_scale) = if r.entry("termbase").is_ok() {
        (r.array::<f32>("termbase")?, r.array::<f32>("iscale")?)
    } else {
        (Arr::default(), Arr::default())
    };
    let (bands, item_bands) = if r.entry("bands").is_ok() {
        (r.array::<u32>("bands")?, r.array::<u64>("ibands")?)
    } else {
        (Arr::default(), Arr::default())
    };
    let id_order = r.array::<u32>("idorder")?;
    let fwd_offsets = r.array::<u64>("fwd.o")?;
    let fwd_terms = r.array::<u32>("fwd.t")?;
    let fwd_weights = r.array::<f32>("fwd.w")?;
    let fwd_fields = r.array::<u16>("fwd.f")?;
    let inv_offsets = r.array::<u64>("inv.o")?;
    let inv_items = r.array::<u32>("inv.i")?;
    let inv_weights = r.array::<f32>("inv.w")?;
    let sizes_ok = idf.len() == nterms
        && term_max.len() == nterms
        && (item_scale.is_empty() || (term_base.len() == nterms && item_scale.len() == n))
        && (item_bands.is_empty() || (bands.len() == 2 * BANDS + 2 && item_bands.len() == n))
        && id_order.len() == n
        && fwd_offsets.len() == n + 1
        && fwd_terms.len() == nnz
        && fwd_weights.len() == nnz
        && fwd_fields.len() == nnz
        && inv_offsets.len() == nterms + 1
        && inv_items.len() == nnz
        && inv_weights.len() == nnz;
    if !sizes_ok {
        return Err(bad(
            "corrupt model file: section sizes disagree with the item, term and non-zero counts"
                .into(),
        ));
    }
    check_offsets(&r, "fwd", &fwd_offsets, nnz)?;
    check_offsets(&r, "inv", &inv_offsets, nnz)?;
    if id_order.iter().any(|&i| i as usize >= n)
        || (full
            && (fwd_terms.iter().any(|&t| t as usize >= nterms)
                || inv_items.iter().any(|&i| i as usize >= n)))
    {
        return Err(bad(
            "corrupt model file: an index points past the end of its table".into(),
        ));
    }
    for i in 1..vocab.len() {
        if vocab.get(i - 1) >= vocab.get(i) {
            return Err(bad("corrupt model file: vocabulary is not sorted".into()));
        }
    }
    if full {
        for w in id_order.windows(2) {
            if ids.get(w[0] as usize) >= ids.get(w[1] as usize) {
                return Err(bad("corrupt model file: id order is not sorted".into()));
            }
        }
    }
    let analyzer = Analyzer::new(&config.preprocess)
        .map_err(|e| bad(format!("model holds an invalid preprocessing config: {e}")))?;
    Ok(Model {
        config,
        meta,
        analyzer,
        vocab,
        idf,
        term_max,
        term_base,
        item_scale,
        bands,
        item_bands,
        whole_codes: Default::default(),
        common: Default::default(),
        ids,
        titles,
        id_order,
        fwd_offsets,
        fwd_terms,
        fwd_weights,
        fwd_fields,
        inv_offsets,
        inv_items,
        inv_weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, CatalogOptions};
    use crate::jobs::NoProgress;
    use crate::model::train;

    fn bytes() -> Vec<u8> {
        let cat = Catalog::from_bytes(
            Path::new("t.csv"),
            b"id,title\n1,sony tv\n2,kodak ink 10B\n",
            &CatalogOptions::default(),
        )
        .unwrap();
        let (m, _) = train(&cat, &ModelConfig::default(), &NoProgress).unwrap();
        to_bytes(&m).unwrap()
    }

    fn err(b: &[u8]) -> String {
        match from_bytes(Path::new("m.psm"), b) {
            Ok(_) => panic!("loaded a damaged model"),
            Err(e) => {
                assert!(e.is_user_error());
                e.to_string()
            }
        }
    }

    #[test]
    fn a_file_written_in_pieces_checks_every_section_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.psm");
        let mut lens = [0u64; SECTION_ORDER.len()];
        lens[0] = 10;
        let inv_w = SECTION_ORDER.len() - 1;
        lens[inv_w] = 3;
        // Pieces in any order give the checksum of the whole section.
        let w = ModelFileWriter::create(&path, &lens).unwrap();
        w.write("inv.w", 1, b"bc").unwrap();
        w.write("config", 4, b"456789").unwrap();
        w.write("inv.w", 0, b"a").unwrap();
        w.write("config", 0, b"0123").unwrap();
        assert!(w.write("config", 8, b"xyz").is_err(), "past the section");
        let size = w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, size);
        let entry = |s: usize| HEADER + s * ENTRY;
        let crc_of = |s: usize| {
            let e = entry(s);
            u32::from_le_bytes(bytes[e + 24..e + 28].try_into().unwrap())
        };
        assert_eq!(crc_of(0), crc32fast::hash(b"0123456789"));
        assert_eq!(crc_of(inv_w), crc32fast::hash(b"abc"));
        assert_eq!(&bytes[bytes.len() - 3..], b"abc");
        // A section left short is an error, and no file appears.
        std::fs::remove_file(&path).unwrap();
        let w = ModelFileWriter::create(&path, &lens).unwrap();
        w.write("config", 0, b"0123").unwrap();
        w.write("inv.w", 0, b"abc").unwrap();
        let e = w.finish().unwrap_err().to_string();
        assert!(e.contains("config"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn big_pieces_written_directly_land_where_they_belong() {
        let dir = tempfile::tempdir().unwrap();
        let mut lens = [0u64; SECTION_ORDER.len()];
        lens[0] = 5;
        lens[14] = 50_003;
        lens[18] = 70_001;
        let data = |s: usize| -> Vec<u8> {
            (0..lens[s] as usize)
                .map(|i| (i * 31 + s * 7 + i / 4096) as u8)
                .collect()
        };
        // Uneven pieces, two threads; then the same with a direct file that
        // refuses writes, which must fall back to the page cache.
        for refuse in [false, true] {
            let path = dir.path().join(format!("m{refuse}.psm"));
            let mut w = ModelFileWriter::create(&path, &lens).unwrap();
            w.direct_min = 1;
            if refuse {
                w.direct = Some(std::fs::File::open(&w.tmp).unwrap());
            }
            w.write("config", 0, &data(0)).unwrap();
            std::thread::scope(|scope| {
                for s in [14usize, 18] {
                    let (w, d) = (&w, data(s));
                    scope.spawn(move || {
                        let cuts = [0, 1, 4_096, 4_097, 14_000, 33_333, d.len()];
                        for c in cuts.windows(2) {
                            w.write(SECTION_ORDER[s], c[0] as u64, &d[c[0]..c[1]])
                                .unwrap();
                        }
                    });
                }
            });
            let placed = w.placed.clone();
            assert_eq!(
                w.direct_failed.load(std::sync::atomic::Ordering::Relaxed),
                refuse && w.direct.is_some()
            );
            w.finish().unwrap();
            let bytes = std::fs::read(&path).unwrap();
            for s in [0usize, 14, 18] {
                let at = placed[s] as usize;
                assert!(
                    bytes[at..at + lens[s] as usize] == data(s)[..],
                    "section {s}"
                );
                let e = HEADER + s * ENTRY;
                let crc = u32::from_le_bytes(bytes[e + 24..e + 28].try_into().unwrap());
                assert_eq!(crc, crc32fast::hash(&data(s)));
            }
        }
    }

    #[test]
    fn round_trip_is_identical() {
        let b = bytes();
        let m = from_bytes(Path::new("m.psm"), &b).unwrap();
        assert_eq!(to_bytes(&m).unwrap(), b);
        assert_eq!(m.len(), 2);
        assert_eq!(m.find_item("2"), Some(1));
        assert_eq!(m.title(0), "sony tv");
    }

    #[test]
    fn damage_is_reported_not_panicked() {
        let b = bytes();
        assert!(err(b"hello").contains("not a prodsim model"));
        let mut v = b.clone();
        v[8] = 9;
        assert!(err(&v).contains("version 9"));
        for cut in [b.len() / 2, b.len() - 1, HEADER + 5] {
            let e = err(&b[..cut]);
            assert!(e.contains("truncated") || e.contains("corrupt"), "{e}");
        }
        // Flip every 97th byte past the header, one at a time.
        for i in (HEADER..b.len()).step_by(97) {
            let mut v = b.clone();
            v[i] ^= 0x5A;
            let _ = err(&v);
        }
        // The same damage through a memory-mapped open: a cheap open may
        // accept damage in the big arrays, but then queries must not panic
        // and `verify` must name the damage.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.psm");
        std::fs::write(&path, &b).unwrap();
        let good = load(&path).unwrap();
        assert!(matches!(good.fwd_terms, Arr::Mapped { .. }));
        assert_eq!(to_bytes(&good).unwrap(), b);
        verify(&path).unwrap();
        let mut accepted = 0;
        for i in (HEADER..b.len()).step_by(7) {
            let mut v = b.clone();
            v[i] ^= 0x5A;
            std::fs::write(&path, &v).unwrap();
            if let Ok(m) = load(&path) {
                accepted += 1;
                for item in 0..m.len() as u32 {
                    let _ = crate::rank::neighbours(
                        &m,
                        &crate::rank::Query::Item(m.item_id(item).into()),
                        5,
                        true,
                    );
                }
                let _ = crate::rank::neighbours(
                    &m,
                    &crate::rank::Query::Text("sony kodak ink tv".into()),
                    5,
                    true,
                );
                match verify(&path) {
                    Err(e) => assert!(e.to_string().contains("corrupt"), "{e}"),
                    // Only padding between sections is outside every checksum.
                    Ok(()) => assert_eq!(to_bytes(&m).unwrap(), b, "byte {i}"),
                }
            }
        }
        assert!(
            accepted > 0,
            "no damage reached the lazily checked sections"
        );
        // A table claiming an enormous section must not allocate it.
        let mut v = b.clone();
        v[HEADER + 16..HEADER + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = err(&v);
        assert!(e.contains("checksum") || e.contains("truncated"), "{e}");
    }
}
