//! The first bounding pass of a pruned search as one sequential scan of the
//! accumulator, for searches that touch a large share of the items.
//!
//! The pass keeps the items whose partial score plus what the set-aside
//! terms may add reaches the threshold. Walking the list of touched items
//! reads the accumulator and the whole-norm bytes at random: at 1M items
//! (4 MB of scores) that cost ~18 CPU cycles an item seen, and a default
//! query sees a tenth of the items. Scanning every slot in order, sixteen
//! at a time with AVX-512, reads both arrays as streams instead; the items
//! kept come out in item order rather than in the order they were touched
//! (which nothing downstream depends on: candidates are sorted by bound).

use crate::rank::{SLACK_ADD, SLACK_MUL, with_slack};

/// What the scan needs besides the accumulator: the whole-norm byte of
/// every item and the numbers of the bound
/// `partial + min(rest_max, per_byte * byte)`, compared with `theta` after
/// [`crate::rank`]'s rounding slack.
pub(crate) struct Bound<'a> {
    pub whole: &'a [u8],
    pub rest_max: f32,
    pub per_byte: f32,
    pub theta: f32,
    pub exclude: Option<u32>,
}

impl Bound<'_> {
    /// Whether item `d`, with partial score `partial`, is kept: the one
    /// definition of the test, for the scan's scalar part and for the
    /// search's walk through its touched list. Without a whole-norm byte
    /// for `d`, the set-aside terms add at most `rest_max`. Computed with
    /// `&`, not `&&`: no branch to mispredict.
    #[inline]
    pub(crate) fn keeps(&self, d: u32, partial: f32) -> bool {
        let rest = match self.whole.get(d as usize) {
            Some(&w) => self.rest_max.min(self.per_byte * f32::from(w)),
            None => self.rest_max,
        };
        (Some(d) != self.exclude) & partial.is_finite() & (with_slack(partial + rest) >= self.theta)
    }
}

/// True where this CPU can run [`keep_dense`] (checked once per process by
/// the standard library).
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Scans `acc` (one partial score per item, 0 for items not touched, +inf
/// for items already scored exactly), zeroing every slot, and writes the
/// items kept and their partial scores to `items` and `values`, in item
/// order; returns how many. Items kept: a finite, non-zero partial score
/// whose bound reaches `theta`, other than `exclude`.
///
/// `None` (and nothing changed) where the CPU lacks AVX-512, or the inputs
/// do not fit: `whole` one byte per slot of `acc`, and `items` and `values`
/// room for every slot.
pub(crate) fn keep_dense(
    acc: &mut [f32],
    b: &Bound<'_>,
    items: &mut [u32],
    values: &mut [f32],
) -> Option<usize> {
    let n = acc.len();
    if !available()
        || b.whole.len() != n
        || items.len() < n
        || values.len() < n
        || u32::try_from(n).is_err()
    {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the CPU has AVX-512F (checked above), and the lengths
        // were checked as `keep_avx512` requires.
        Some(unsafe { keep_avx512(acc, b, items, values) })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// The scalar form of [`keep_dense`], for the tail of the scan and as the
/// reference the tests compare it with.
fn keep_scalar(
    acc: &mut [f32],
    from: usize,
    b: &Bound<'_>,
    items: &mut [u32],
    values: &mut [f32],
    mut kept: usize,
) -> usize {
    for (d, slot) in acc.iter_mut().enumerate().skip(from) {
        let partial = std::mem::take(slot);
        if partial != 0.0
            && b.keeps(d as u32, partial)
            && let (Some(i), Some(v)) = (items.get_mut(kept), values.get_mut(kept))
        {
            *i = d as u32;
            *v = partial;
            kept += 1;
        }
    }
    kept
}

/// # Safety
///
/// The CPU must support AVX-512F; `b.whole.len() == acc.len()`,
/// `items.len() >= acc.len()`, `values.len() >= acc.len()` and
/// `acc.len() <= u32::MAX`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn keep_avx512(
    acc: &mut [f32],
    b: &Bound<'_>,
    items: &mut [u32],
    values: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    let n = acc.len();
    let blocks = n / 16;
    let zero = _mm512_setzero_ps();
    let inf = _mm512_set1_ps(f32::INFINITY);
    let rest_max = _mm512_set1_ps(b.rest_max);
    let per_byte = _mm512_set1_ps(b.per_byte);
    let theta = _mm512_set1_ps(b.theta);
    let slack_mul = _mm512_set1_ps(SLACK_MUL);
    let slack_add = _mm512_set1_ps(SLACK_ADD);
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let (exclude_block, exclude_bit) = match b.exclude {
        Some(e) => (e as usize / 16, 1u16 << (e % 16)),
        None => (usize::MAX, 0),
    };
    let mut kept = 0usize;
    for block in 0..blocks {
        let at = block * 16;
        // SAFETY (all accesses below): `at + 16 <= n`, the length of `acc`
        // and `b.whole`; `kept` counts slots of earlier blocks, so
        // `kept <= at` and `kept + 16 <= n`, within `items` and `values`.
        let p = unsafe { _mm512_loadu_ps(acc.as_ptr().add(at)) };
        let touched = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(p, zero);
        if touched == 0 {
            continue;
        }
        unsafe { _mm512_storeu_ps(acc.as_mut_ptr().add(at), zero) };
        let bytes = unsafe { _mm_loadu_si128(b.whole.as_ptr().add(at).cast::<__m128i>()) };
        let w = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
        let rest = _mm512_min_ps(rest_max, _mm512_mul_ps(per_byte, w));
        // The scalar order: (partial + rest) * SLACK_MUL + SLACK_ADD.
        let ub = _mm512_add_ps(_mm512_mul_ps(_mm512_add_ps(p, rest), slack_mul), slack_add);
        let mut keep = touched
            & _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(p, inf)
            & _mm512_cmp_ps_mask::<_CMP_GE_OQ>(ub, theta);
        if block == exclude_block {
            keep &= !exclude_bit;
        }
        if keep == 0 {
            continue;
        }
        let ids = _mm512_add_epi32(_mm512_set1_epi32(at as i32), lanes);
        // Compressed in registers, then stored whole (a compressing store
        // to memory is microcoded and slow on some CPUs): the lanes past
        // the kept ones land in slots later blocks overwrite or past the
        // returned count.
        unsafe {
            _mm512_storeu_si512(
                items.as_mut_ptr().add(kept).cast(),
                _mm512_maskz_compress_epi32(keep, ids),
            );
            _mm512_storeu_ps(
                values.as_mut_ptr().add(kept),
                _mm512_maskz_compress_ps(keep, p),
            );
        }
        kept += keep.count_ones() as usize;
    }
    keep_scalar(acc, blocks * 16, b, items, values, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random accumulators (zeros, small and large partial scores, +inf
    /// for scored items, lengths that are not multiples of 16): the scan
    /// keeps exactly what the scalar pass keeps and zeroes every slot.
    #[test]
    fn dense_scan_equals_scalar_pass() {
        if !available() {
            eprintln!("no AVX-512 on this CPU: only the scalar pass exists here");
            return;
        }
        let mut next = crate::rank::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let (mut kept_any, mut dropped_any) = (false, false);
        for round in 0..200 {
            let n = 1 + (next() % 300) as usize;
            let acc: Vec<f32> = (0..n)
                .map(|_| match next() % 10 {
                    0..=4 => 0.0,
                    5 => f32::INFINITY,
                    _ => (next() % 1000) as f32 / 1000.0,
                })
                .collect();
            let whole: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let b = Bound {
                whole: &whole,
                rest_max: (next() % 500) as f32 / 1000.0,
                per_byte: (next() % 100) as f32 / 25_500.0,
                theta: (next() % 1000) as f32 / 1000.0,
                exclude: (round % 3 == 0).then(|| (next() % n as u64) as u32),
            };
            let (mut a1, mut a2) = (acc.clone(), acc.clone());
            let (mut i1, mut v1) = (vec![0u32; n], vec![0f32; n]);
            let (mut i2, mut v2) = (vec![0u32; n], vec![0f32; n]);
            let k1 = keep_dense(&mut a1, &b, &mut i1, &mut v1).expect("AVX-512 is available");
            let k2 = keep_scalar(&mut a2, 0, &b, &mut i2, &mut v2, 0);
            assert_eq!(
                (k1, &i1[..k1], &v1[..k1]),
                (k2, &i2[..k2], &v2[..k2]),
                "round {round}"
            );
            assert!(
                a1.iter().all(|&x| x == 0.0),
                "round {round}: slots left non-zero"
            );
            let expected = acc
                .iter()
                .enumerate()
                .filter(|&(d, &p)| {
                    let rest = b.rest_max.min(b.per_byte * f32::from(whole[d]));
                    p != 0.0
                        && p.is_finite()
                        && Some(d as u32) != b.exclude
                        && (p + rest) * SLACK_MUL + SLACK_ADD >= b.theta
                })
                .count();
            assert_eq!(k1, expected, "round {round}");
            kept_any |= k1 > 0;
            dropped_any |= acc.iter().filter(|&&p| p != 0.0 && p.is_finite()).count() > k1;
        }
        // Both outcomes occurred, so the comparison can tell them apart.
        assert!(kept_any && dropped_any);
    }

    #[test]
    fn mismatched_inputs_are_refused() {
        let mut acc = vec![1.0f32; 32];
        let whole = vec![0u8; 31];
        let b = Bound {
            whole: &whole,
            rest_max: 1.0,
            per_byte: 0.0,
            theta: 0.0,
            exclude: None,
        };
        let (mut items, mut values) = (vec![0u32; 32], vec![0f32; 32]);
        assert_eq!(keep_dense(&mut acc, &b, &mut items, &mut values), None);
        assert!(acc.iter().all(|&x| x == 1.0));
    }
}
