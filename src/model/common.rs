//! Every item's entries in the common terms (the terms whose posting lists
//! search may set aside), with their weights coded in a byte: a compact copy
//! of part of the forward index that bounds what the set-aside terms add to
//! an item's score almost exactly, at a fraction of the memory traffic of
//! reading its stored vector (3 bytes an entry against 8, and only the
//! common entries). Built in memory from the forward index by
//! [`Model::prepare_searches`] (a pass over every stored entry: worth it for
//! a batch run, which completes candidates for every item, and for the
//! explorer's stream of queries, not for one query).

use super::Model;
use rayon::prelude::*;

/// Items per parallel piece when the table is built.
const PIECE: usize = 16_384;

/// Common entries an item needs on average for the table to be built.
const MIN_PER_ITEM: usize = 16;

/// Per item, its entries in the common terms: the term's position among the
/// common terms (`u16`) and its weight as a byte. `code * scale` (in
/// exact arithmetic) is at least the weight, and less than one 255th of the
/// item's largest common weight above it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Common {
    /// The common terms, ascending.
    terms: Vec<u32>,
    /// Per item + 1: where its entries start.
    offsets: Vec<u64>,
    idx: Vec<u16>,
    codes: Vec<u8>,
    /// Per item: what one unit of its codes is worth.
    scales: Vec<f32>,
}

/// The byte of weight `w` for an item whose unit is `scale`: the smallest
/// code with `code * scale >= w` (checked in f64, where the product of two
/// f32 values is exact), at most 255.
fn code_of(w: f32, scale: f32) -> u8 {
    if !(scale > 0.0 && w > 0.0) {
        return 0;
    }
    // The quotient, truncated, is the code or one or two below it.
    let mut c = ((w / scale) as u32).min(255);
    while c < 255 && f64::from(c) * f64::from(scale) < f64::from(w) {
        c += 1;
    }
    c as u8
}

/// The unit of an item's codes when its largest common weight is `max`:
/// at least `max / 255`, so every weight up to `max` has a code.
fn scale_of(max: f32) -> f32 {
    let s = max / 255.0;
    if f64::from(s) * 255.0 < f64::from(max) {
        s.next_up()
    } else {
        s
    }
}

impl Common {
    /// The table of a model with band norms; None without them, or when
    /// there are more common terms than a `u16` numbers.
    pub(crate) fn build(model: &Model) -> Option<Common> {
        let floor = model.band_floor()?;
        let terms: Vec<u32> = (0..model.vocab_len() as u32)
            .into_par_iter()
            .filter(|&t| model.doc_freq(t) >= floor)
            .collect();
        if terms.is_empty() || terms.len() >= usize::from(u16::MAX) {
            return None;
        }
        // With few common entries per item, reading a candidate's stored
        // vector costs little more than its coded entries (word-only
        // models: a few an item, and batch runs were 3% slower with it).
        let entries: usize = terms.iter().map(|&t| model.doc_freq(t)).sum();
        if entries < MIN_PER_ITEM * model.len() {
            return None;
        }
        // Term -> its position among the common terms (u16::MAX: none).
        let mut position = vec![u16::MAX; model.vocab_len()];
        for (i, &t) in terms.iter().enumerate() {
            position[t as usize] = i as u16;
        }
        let common = |t: u32| position.get(t as usize).copied().unwrap_or(u16::MAX);
        let n = model.len();
        let starts: Vec<usize> = (0..n).step_by(PIECE).collect();
        let pieces: Vec<Common> = starts
            .par_iter()
            .map(|&s| {
                let mut piece = Common::default();
                for item in s..(s + PIECE).min(n) {
                    let (ts, ws, _) = model.item_vector(item as u32);
                    let max = ts
                        .iter()
                        .zip(ws)
                        .filter(|&(&t, _)| common(t) != u16::MAX)
                        .map(|(_, &w)| w)
                        .fold(0.0f32, f32::max);
                    let unit = scale_of(max);
                    for (&t, &w) in ts.iter().zip(ws) {
                        let p = common(t);
                        if p != u16::MAX {
                            piece.idx.push(p);
                            piece.codes.push(code_of(w, unit));
                        }
                    }
                    piece.offsets.push(piece.idx.len() as u64);
                    piece.scales.push(unit);
                }
                piece
            })
            .collect();
        let entries = pieces.iter().map(|p| p.idx.len()).sum();
        let mut out = Common {
            terms,
            offsets: Vec::with_capacity(n + 1),
            idx: Vec::with_capacity(entries),
            codes: Vec::with_capacity(entries),
            scales: Vec::with_capacity(n),
        };
        out.offsets.push(0);
        for p in pieces {
            let base = out.idx.len() as u64;
            out.offsets.extend(p.offsets.iter().map(|&e| base + e));
            out.idx.extend_from_slice(&p.idx);
            out.codes.extend_from_slice(&p.codes);
            out.scales.extend_from_slice(&p.scales);
        }
        Some(out)
    }

    /// Number of common terms.
    pub(crate) fn len(&self) -> usize {
        self.terms.len()
    }

    /// The position of term `t` among the common terms.
    pub(crate) fn position(&self, t: u32) -> Option<usize> {
        self.terms.binary_search(&t).ok()
    }

    fn span(&self, item: u32) -> std::ops::Range<usize> {
        let i = item as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&s), Some(&e)) if s <= e && e as usize <= self.idx.len() => {
                s as usize..e as usize
            }
            _ => 0..0,
        }
    }

    /// An upper bound of `sum(q[position(t)] * w)` over the item's common
    /// entries (`q` holds a query weight per common term, 0 for terms it
    /// leaves out), up to f32 rounding.
    pub(crate) fn bound(&self, q: &[f32], item: u32) -> f32 {
        let r = self.span(item);
        let (idx, codes) = (&self.idx[r.clone()], &self.codes[r]);
        // (An item without a unit is not bounded: it is scored exactly.)
        let Some(&unit) = self.scales.get(item as usize) else {
            return f32::INFINITY;
        };
        #[cfg(target_arch = "x86_64")]
        if crate::scan::available() {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { sum_avx512(q, idx, codes) } * unit;
        }
        sum_scalar(q, idx, codes) * unit
    }

    /// Asks the CPU to start fetching where an item's entries are (a hint
    /// only; [`Common::prefetch`] reads that a little later).
    pub(crate) fn prefetch_offsets(&self, item: u32) {
        if let Some(x) = self.offsets.get(item as usize) {
            super::prefetch(x);
        }
        if let Some(x) = self.scales.get(item as usize) {
            super::prefetch(x);
        }
    }

    /// Asks the CPU to start fetching an item's entries (a hint only).
    pub(crate) fn prefetch(&self, item: u32) {
        let r = self.span(item);
        for i in (r.start..r.end)
            .step_by(32)
            .chain((!r.is_empty()).then(|| r.end - 1))
        {
            if let Some(x) = self.idx.get(i) {
                super::prefetch(x);
            }
            if let Some(x) = self.codes.get(i) {
                super::prefetch(x);
            }
        }
    }
}

/// `sum(q[idx] * code)` over the entries (a position past `q` adds 0),
/// in eight independent sums: one would wait for every addition.
fn sum_scalar(q: &[f32], idx: &[u16], codes: &[u8]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (head_i, head_c) = (idx.chunks_exact(8), codes.chunks_exact(8));
    let (tail_i, tail_c) = (head_i.remainder(), head_c.remainder());
    for (is, cs) in head_i.zip(head_c) {
        for l in 0..8 {
            lanes[l] += q.get(usize::from(is[l])).copied().unwrap_or(0.0) * f32::from(cs[l]);
        }
    }
    for (l, (&i, &c)) in tail_i.iter().zip(tail_c).enumerate() {
        lanes[l] += q.get(usize::from(i)).copied().unwrap_or(0.0) * f32::from(c);
    }
    lanes.iter().sum()
}

/// [`sum_scalar`] sixteen entries at a time, their query weights gathered
/// (lanes whose position is past `q` gather nothing). Sums in another
/// order, so it may differ from the scalar sum by rounding, which the
/// bound's slack covers.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_avx512(q: &[f32], idx: &[u16], codes: &[u8]) -> f32 {
    use std::arch::x86_64::*;
    let n = idx.len().min(codes.len());
    let len = _mm512_set1_epi32(i32::try_from(q.len()).unwrap_or(i32::MAX));
    let mut acc = _mm512_setzero_ps();
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: entries i..i + 16 exist in both slices (i + 16 <= n), so
        // the 32- and 16-byte loads stay inside them; the gather reads only
        // lanes whose position is below q.len().
        unsafe {
            let ix = _mm512_cvtepu16_epi32(_mm256_loadu_si256(idx.as_ptr().add(i).cast()));
            let c = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(
                codes.as_ptr().add(i).cast(),
            )));
            let inside = _mm512_cmplt_epi32_mask(ix, len);
            let w =
                _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), inside, ix, q.as_ptr().cast());
            acc = _mm512_fmadd_ps(w, c, acc);
        }
        i += 16;
    }
    _mm512_reduce_add_ps(acc) + sum_scalar(q, &idx[i..n], &codes[i..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_bound_their_weights_within_one_unit() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let max = (state % 1_000_000) as f32 / 1e6 + 1e-6;
            let w = max * ((state >> 20) % 1001) as f32 / 1000.0;
            let scale = scale_of(max);
            let c = code_of(w, scale);
            assert!(f64::from(c) * f64::from(scale) >= f64::from(w), "{w} {max}");
            assert!(f64::from(c) * f64::from(scale) < f64::from(w) + f64::from(scale) + 1e-12);
            let smallest = (f64::from(w) / f64::from(scale)).ceil();
            assert_eq!(f64::from(c), smallest.min(255.0), "{w} {max}");
        }
    }

    #[test]
    fn vector_sum_equals_scalar_sum() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let q: Vec<f32> = (0..300).map(|_| (next() % 1000) as f32 / 997.0).collect();
        for len in [0usize, 1, 15, 16, 17, 40, 161] {
            // Some positions past the table (they add nothing).
            let idx: Vec<u16> = (0..len).map(|_| (next() % 330) as u16).collect();
            let codes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let scalar = sum_scalar(&q, &idx, &codes);
            let exact: f64 = idx
                .iter()
                .zip(&codes)
                .filter(|(i, _)| usize::from(**i) < q.len())
                .map(|(&i, &c)| f64::from(q[usize::from(i)]) * f64::from(c))
                .sum();
            assert!(
                (f64::from(scalar) - exact).abs() <= 1e-5 * exact.max(1.0),
                "{len}"
            );
            #[cfg(target_arch = "x86_64")]
            if crate::scan::available() {
                // SAFETY: AVX-512F is available (checked).
                let vector = unsafe { sum_avx512(&q, &idx, &codes) };
                assert!(
                    (f64::from(vector) - exact).abs() <= 1e-5 * exact.max(1.0),
                    "{len}"
                );
            }
        }
    }
}
