//! Tag bytes and the SWAR search of a bucket's tag word (see "Tag bytes" in the parent module).

use super::{BUCKET, SEALED_TAG, UNTAGGED};

/// The tag byte of a key with `hash`: its top 7 bits, with the high bit set so that it is never
/// `UNTAGGED` or `SEALED_TAG`. The slot index uses the low bits, so the two are independent for
/// a good hasher.
#[inline(always)]
pub(super) fn tag(hash: u64) -> u8 {
    0x80 | (hash >> 57) as u8
}

/// Byte `k` (slot `k` of its bucket) of the tag word `meta`.
#[inline(always)]
pub(super) fn tag_byte(meta: u64, k: usize) -> u8 {
    (meta >> (8 * k)) as u8
}

/// The slots of a bucket whose tag word is `meta` that concern the key whose tag is `t`, as one
/// bit per slot (bit `8k + 7` for slot `k`): an UNTAGGED or SEALED slot ends the key's chain
/// (see "Tag bytes"), and a slot tagged `t` may be the key's; a slot with another tag belongs
/// for life to another key.
///
/// Exact, byte by byte. A tag byte is only ever UNTAGGED (0), SEALED_TAG (1) or a key's tag
/// (high bit set, see [`tag`]), so the first two are the bytes whose high bit is clear: one
/// `!meta` finds both, where a test for each value cost ten more instructions per bucket. `zero`
/// flags a byte iff it is 0, without the borrow between bytes of the shorter
/// `(v - 0x01..) & !v` form.
#[inline(always)]
pub(super) fn candidates(meta: u64, t: u8) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// The high bits of the bucket's `BUCKET` bytes.
    const LANES: u64 = HIGH >> (8 * (8 - BUCKET));
    const _: () = assert!(UNTAGGED < 0x80 && SEALED_TAG < 0x80);
    #[inline(always)]
    fn zero(v: u64) -> u64 {
        !(((v & LOW7).wrapping_add(LOW7)) | v) & HIGH
    }
    debug_assert!(
        meta.to_le_bytes()
            .iter()
            .all(|&b| b == UNTAGGED || b == SEALED_TAG || b >= 0x80),
        "a tag byte other than UNTAGGED, SEALED_TAG or a tag: {meta:#018x}"
    );
    debug_assert!(t >= 0x80, "not a key's tag: {t:#04x}");
    ((!meta & HIGH) | zero(meta ^ (LO * u64::from(t)))) & LANES
}

/// [`candidates`] split for a reader: the slots tagged `t` before the first UNTAGGED or SEALED
/// slot (the chain's end for readers), and that end's slot, if the bucket has one.
#[inline(always)]
pub(super) fn tagged_before_end(meta: u64, t: u8) -> (u64, Option<usize>) {
    let m = candidates(meta, t);
    // The untagged and sealed bytes, as in `candidates`.
    let ends = !meta & m;
    // The bits below the lowest end (all of them when there is none).
    let before = ends.wrapping_sub(1) & !ends;
    (m & before, (ends != 0).then(|| first_slot(ends)))
}

/// The slot of the lowest candidate bit of `m` (see `candidates`).
#[inline(always)]
pub(super) fn first_slot(m: u64) -> usize {
    (m.trailing_zeros() / 8) as usize
}
