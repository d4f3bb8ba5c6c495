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


@njit(**JIT_OPTIONS)
def half_bits(bits):
    """The float32 of bits `bits` (uint32) rounded to the nearest float16, ties to even (numpy's astype)."""
    bits = np.int64(bits)
    sign = (bits >> 16) & 0x8000
    exponent = (bits >> 23) & 0xFF
    mantissa = bits & 0x7FFFFF
    if exponent == 0xFF:  # inf, or NaN with its payload's top bits (kept a NaN)
        if mantissa == 0:
            return np.uint16(sign | 0x7C00)
        payload = mantissa >> 13
        return np.uint16(sign | 0x7C00 | (payload if payload else 1))
    e = exponent - 112  # the half's biased exponent: 127 - 15
    if e >= 31:
        return np.uint16(sign | 0x7C00)
    if e <= 0:  # a half subnormal, or zero
        if e < -10:
            return np.uint16(sign)
        m = mantissa | 0x800000
        shift = 14 - e
        half = np.int64(1) << (shift - 1)
        value = m >> shift
        rest = m & ((np.int64(1) << shift) - 1)
        if rest > half or (rest == half and (value & 1)):
            value += 1
        return np.uint16(sign | value)
    value = (e << 10) | (mantissa >> 13)
    rest = mantissa & 0x1FFF
    if rest > 0x1000 or (rest == 0x1000 and (value & 1)):
        value += 1  # a carry into the exponent is right, up to inf
    return np.uint16(sign | value)


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
def merge_parts(rows, halves, n_rows, table, most, weights, rows_out, halves_out):
    """The workers' parts, one after the other in `rows` (int32) and `halves` (their deltas' bits), merged: each
    row's deltas added up in float32 in part order, scaled down to `most` times their mean where more parts
    list the row (a part lists a row once), rounded to half bits. The rows, ascending, go to rows_out and
    their merged deltas to halves_out; with a `weights` of n_rows rows they are added to it too (else it
    has none). The count of rows."""
    touched = np.zeros(n_rows, np.float32)
    for i in range(rows.shape[0]):
        touched[rows[i]] += 1.0
    slot = np.empty(n_rows, np.int64)
    k = 0
    for r in range(n_rows):
        if touched[r] > 0.0:
            slot[r] = k
            rows_out[k] = r
            k += 1
    dim = halves.shape[1]
    total = np.zeros((k, dim), np.float32)
    for i in range(rows.shape[0]):
        s = slot[rows[i]]
        for j in range(dim):
            total[s, j] += table[halves[i, j]]
    scratch = np.empty(dim, np.float32)
    bits = scratch.view(np.uint32)
    apply = weights.shape[0] == n_rows
    for s in range(k):
        r = rows_out[s]
        crowded = touched[r] > most
        scale = np.float32(most) / touched[r] if crowded else np.float32(1.0)
        for j in range(dim):
            scratch[j] = total[s, j] * scale if crowded else total[s, j]
        for j in range(dim):
            h = half_bits(bits[j])
            halves_out[s, j] = h
            if apply:
                weights[r, j] += table[h]
    return k


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
    for weights in (plain, padded, plain[:0]):
        merge_parts(rows, halves, 2, HALF_TO_FLOAT, 2, weights, rows.copy(), halves.copy())
