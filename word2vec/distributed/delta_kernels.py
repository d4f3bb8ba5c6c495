"""Compiled passes over a round's deltas, which travel in float16 (see `deltas`).

numba has no float16 on the CPU, so the deltas are handled here as their bits (uint16): a
float32 becomes a half by round-to-nearest-even, as numpy's `astype(np.float16)` does, and a
half becomes a float32 exactly, through a table of all 65,536 of them. Each pass is one sweep
over the rows it touches; numpy took three to five (compare, gather, subtract, convert,
scatter), about 110 ms of a round's sync on the text8 prefix against about 25. They do not check
their indexes (`deltas` does, before calling them).
"""

import numpy as np
from numba import njit

from ..training import padding

JIT_OPTIONS = dict(nogil=True, cache=True)  # no fastmath: NaN must compare as NaN

HALF_TO_FLOAT = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


@njit(inline="always", **JIT_OPTIONS)
def half_bits(bits):
    """The float32 of bits `bits` (uint32) rounded to the nearest float16, ties to even (numpy's astype).

    Every case is computed and one is selected, without branches: deltas mix normal and subnormal
    halves unpredictably, and a mispredicted branch cost more than the arithmetic (2.9 -> 1.7 ms for
    2.25M deltas). Equal to numpy's astype for all 2^32 patterns (checked once; the tests sample them)."""
    a = np.int64(bits) & 0x7FFFFFFF  # the magnitude
    sign = (np.int64(bits) >> 16) & 0x8000
    payload = (a & 0x7FFFFF) >> 13  # inf, or NaN keeping its payload's top bits (never 0: still a NaN)
    large = 0x7C00 | ((payload | (payload == 0)) if a > 0x7F800000 else 0)
    # a normal half (2^-14 <= |f| < 65536; a carry into the exponent is right, up to inf): rebias the exponent,
    # round the 23-bit mantissa to 10 bits, ties to even
    normal = (a - 0x38000000 + 0xFFF + ((a >> 13) & 1)) >> 13
    # a subnormal half, or zero: the mantissa with its implicit bit, shifted right and rounded to even
    shift = max(min(126 - (a >> 23), 31), 1)
    m = (a & 0x7FFFFF) | 0x800000
    value = m >> shift
    rest = m & ((np.int64(1) << shift) - 1)
    half = np.int64(1) << (shift - 1)
    value += (rest > half) | ((rest == half) & (value & 1))
    small = value if a < 0x38800000 else normal
    return np.uint16(sign | (large if a >= 0x47800000 else small))


@njit(inline="always", **JIT_OPTIONS)
def _differs(current, base, r):
    """True when row `r` of `current` differs from that of `base` (NaN differs from itself)."""
    for j in range(base.shape[1]):
        if current[r, j] != base[r, j]:
            return True
    return False


@njit(**JIT_OPTIONS)
def take_rows(current, base, candidates, rows_out, halves_out):
    """The rows among `candidates` where `current` differs from `base`: their ids go to rows_out,
    current − base as half bits to halves_out, and those rows of current back to base. The count."""
    k = 0
    dim = base.shape[1]
    scratch = np.empty(dim, np.float32)
    bits = scratch.view(np.uint32)
    for t in range(candidates.shape[0]):
        r = candidates[t]
        if not _differs(current, base, r):
            continue
        rows_out[k] = r
        for j in range(dim):
            scratch[j] = current[r, j] - base[r, j]
            current[r, j] = base[r, j]
        for j in range(dim):
            halves_out[k, j] = half_bits(bits[j])
        k += 1
    return k


@njit(**JIT_OPTIONS)
def merge_parts(rows, halves, bounds, table, most, weights, rows_out, halves_out):
    """The workers' parts, one after the other in `rows` (int32; part p is bounds[p]:bounds[p + 1], its rows
    strictly ascending) and `halves` (their deltas' bits), merged: each row's deltas added up in float32 in
    part order, scaled down to `most` times their mean where more parts list the row, rounded to half bits.
    The rows, ascending, go to rows_out and their merged deltas to halves_out; with a `weights` that has
    rows they are added to it too. One sweep down the parts side by side, a row at a time. The count."""
    n_parts = bounds.shape[0] - 1
    at = bounds[:-1].copy()
    dim = halves.shape[1]
    total = np.empty(dim, np.float32)
    bits = total.view(np.uint32)
    apply = weights.shape[0] > 0
    k = 0
    while True:
        r = -1  # the lowest row any part lists next
        for p in range(n_parts):
            if at[p] < bounds[p + 1] and (r < 0 or rows[at[p]] < r):
                r = rows[at[p]]
        if r < 0:
            return k
        total[:] = 0.0
        parts = 0
        for p in range(n_parts):
            i = at[p]
            if i < bounds[p + 1] and rows[i] == r:
                for j in range(dim):
                    total[j] += table[halves[i, j]]
                at[p] = i + 1
                parts += 1
        if parts > most:
            scale = np.float32(most) / np.float32(parts)
            for j in range(dim):
                total[j] = total[j] * scale
        rows_out[k] = r
        for j in range(dim):
            halves_out[k, j] = half_bits(bits[j])
        if apply:  # a loop of its own: fused with the rounding, it took twice as long
            for j in range(dim):
                weights[r, j] += table[halves_out[k, j]]
        k += 1


@njit(**JIT_OPTIONS)
def apply_rows(base, work, rows, halves, table):
    """base[rows] += the deltas (half bits), and work[rows] = base[rows] (work may be base)."""
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(base.shape[1]):
            value = base[r, j] + table[halves[i, j]]
            base[r, j] = value
            work[r, j] = value


@njit(**JIT_OPTIONS)
def keep_rows(current, base, candidates, rows_out, values_out):
    """The rows among `candidates` where `current` differs from `base`: their ids to rows_out, their values
    in current to values_out (float32, exact), and those rows of current back to base. The count."""
    k = 0
    dim = base.shape[1]
    for t in range(candidates.shape[0]):
        r = candidates[t]
        if not _differs(current, base, r):
            continue
        rows_out[k] = r
        for j in range(dim):
            values_out[k, j] = current[r, j]
            current[r, j] = base[r, j]
        k += 1
    return k


def warm_up():
    """Load (or compile) every pass, on tiny arrays of the types training uses: plain weights, and the
    padded views (`training.padding`) a replica trains in."""
    plain, padded = np.zeros((2, 2), np.float32), padding.zeros(2, 2)
    halves = np.zeros((2, 2), np.uint16)
    rows = np.arange(2, dtype=np.int32)
    take_rows(padded, plain.copy(), rows, rows.copy(), halves)
    keep_rows(padded, plain.copy(), rows, rows.copy(), np.zeros((2, 2), np.float32))
    for weights in (plain, padded):
        apply_rows(plain, weights, rows, halves, HALF_TO_FLOAT)
        apply_rows(weights, weights, rows, halves, HALF_TO_FLOAT)
    bounds = np.array([0, 2], np.int64)
    for weights in (plain, padded, plain[:0]):
        merge_parts(rows, halves, bounds, HALF_TO_FLOAT, 2, weights, rows.copy(), halves.copy())
