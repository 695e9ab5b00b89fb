//! Every item's entries in the common terms (the terms whose posting lists
//! search may set aside), with their weights coded in a byte: a compact copy
//! of part of the forward index that bounds what the set-aside terms add to
//! an item's score almost exactly, at a fraction of the memory traffic of
//! reading its stored vector (3 bytes an entry against 8, and only the
//! common entries). Built in memory from the forward index by
//! [`Model::prepare_searches`] (a pass over every stored entry: worth it for
//! a batch run, which completes candidates for every item, and for the
//! explorer's stream of queries, not for one query). Beside the entries, a
//! 64-byte signature per item (which buckets of common terms it has) rules
//! about half the candidates out before their entries are read.

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
    /// Per item, its signature: [`SIG_WORDS`] words, bit `b` set when the
    /// item has an entry in a common term of bucket `b` ([`bucket`]). It
    /// gives a looser bound than the entries ([`Common::sig_sum`]) from one
    /// cache line an item, against about six for the entries of an item of
    /// the default config; search tests it first.
    sigs: Vec<u64>,
}

/// Buckets of the signatures, and the words of one.
pub(crate) const SIG_BUCKETS: usize = 512;
const SIG_WORDS: usize = SIG_BUCKETS / 64;

/// The signature bucket of the common term at `position`: a multiplicative
/// hash, so that terms next to each other in key order spread out.
pub(crate) fn bucket(position: usize) -> usize {
    ((position as u32).wrapping_mul(0x9E37_79B1) >> (32 - SIG_BUCKETS.trailing_zeros())) as usize
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
                    let mut sig = [0u64; SIG_WORDS];
                    for (&t, &w) in ts.iter().zip(ws) {
                        let p = common(t);
                        if p != u16::MAX {
                            piece.idx.push(p);
                            piece.codes.push(code_of(w, unit));
                            let b = bucket(usize::from(p));
                            sig[b / 64] |= 1 << (b % 64);
                        }
                    }
                    piece.sigs.extend_from_slice(&sig);
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
            sigs: Vec::with_capacity(n * SIG_WORDS),
        };
        out.offsets.push(0);
        for p in pieces {
            let base = out.idx.len() as u64;
            out.offsets.extend(p.offsets.iter().map(|&e| base + e));
            out.idx.extend_from_slice(&p.idx);
            out.codes.extend_from_slice(&p.codes);
            out.scales.extend_from_slice(&p.scales);
            out.sigs.extend_from_slice(&p.sigs);
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

    /// `sum(sums[b])` over the buckets `b` of the item's signature. With
    /// `sums[b]` the sum of `q * weight_bound` over the set-aside terms in
    /// bucket `b`, this times the item's scale bounds what those terms add
    /// to its score (each of its entries in them is in one of its buckets
    /// and weighs at most `weight_bound * scale`), up to f32 rounding.
    pub(crate) fn sig_sum(&self, sums: &[f32; SIG_BUCKETS], item: u32) -> f32 {
        let i = item as usize * SIG_WORDS;
        let Some(sig) = self.sigs.get(i..i + SIG_WORDS) else {
            return f32::INFINITY;
        };
        #[cfg(target_arch = "x86_64")]
        if crate::scan::available() {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { sig_sum_avx512(sums, sig) };
        }
        sig_sum_scalar(sums, sig)
    }

    /// Asks the CPU to start fetching an item's signature (a hint only).
    pub(crate) fn prefetch_sig(&self, item: u32) {
        for w in (0..SIG_WORDS).step_by(8) {
            if let Some(x) = self.sigs.get(item as usize * SIG_WORDS + w) {
                super::prefetch(x);
            }
        }
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

/// `sum(sums[b])` over the bits `b` set in `sig`.
fn sig_sum_scalar(sums: &[f32; SIG_BUCKETS], sig: &[u64]) -> f32 {
    let mut lanes = [0.0f32; 4];
    for (w, &word) in sig.iter().enumerate().take(SIG_WORDS) {
        let mut bits = word;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            lanes[b & 3] += sums[w * 64 + b];
            bits &= bits - 1;
        }
    }
    lanes.iter().sum()
}

/// [`sig_sum_scalar`] sixteen buckets at a time, a bit of the signature
/// masking each lane.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sig_sum_avx512(sums: &[f32; SIG_BUCKETS], sig: &[u64]) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); 2];
    for (w, &word) in sig.iter().enumerate().take(SIG_WORDS) {
        for q in 0..4 {
            let mask = (word >> (16 * q)) as u16;
            let at = w * 64 + 16 * q;
            // SAFETY: at + 16 <= SIG_BUCKETS (w < SIG_WORDS, q < 4), so the
            // 16 lanes loaded are inside `sums`.
            unsafe {
                let s = _mm512_loadu_ps(sums.as_ptr().add(at));
                acc[q & 1] = _mm512_mask_add_ps(acc[q & 1], mask, acc[q & 1], s);
            }
        }
    }
    _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1]))
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
        let mut next = crate::rank::tests::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let state = next();
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
    fn signature_sums_equal_exact_sums() {
        let mut next = crate::rank::tests::xorshift(0x0bad_5eed_1234_5678u64);
        let mut sums = [0f32; SIG_BUCKETS];
        for x in sums.iter_mut() {
            *x = (next() % 1000) as f32 / 997.0;
        }
        for density in [0u64, 1, 8, 32, 64] {
            let sig: Vec<u64> = (0..SIG_WORDS)
                .map(|_| (0..64).fold(0u64, |w, b| w | (u64::from(next() % 64 < density) << b)))
                .collect();
            let exact: f64 = (0..SIG_BUCKETS)
                .filter(|&b| sig[b / 64] >> (b % 64) & 1 == 1)
                .map(|b| f64::from(sums[b]))
                .sum();
            let scalar = sig_sum_scalar(&sums, &sig);
            assert!(
                (f64::from(scalar) - exact).abs() <= 1e-5 * exact.max(1.0),
                "{density}"
            );
            #[cfg(target_arch = "x86_64")]
            if crate::scan::available() {
                // SAFETY: AVX-512F is available (checked).
                let vector = unsafe { sig_sum_avx512(&sums, &sig) };
                assert!(
                    (f64::from(vector) - exact).abs() <= 1e-5 * exact.max(1.0),
                    "{density}"
                );
            }
        }
        // Buckets spread neighbouring positions.
        let used: std::collections::HashSet<usize> = (0..SIG_BUCKETS).map(bucket).collect();
        assert!(used.len() > SIG_BUCKETS / 2, "{} buckets used", used.len());
    }

    #[test]
    fn vector_sum_equals_scalar_sum() {
        let mut next = crate::rank::tests::xorshift(0x2545_f491_4f6c_dd1du64);
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
