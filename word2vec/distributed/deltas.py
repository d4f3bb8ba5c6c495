"""How a round's deltas from the workers become one update: each row's deltas added up, capped.

Averaging (Spark's fix for the divergence of SPARK-24666) divides the learning rate of every
row that k workers touch by k: on the text8 prefix with 2 workers it cost 3 to 4 analogy
points and 0.1 of WS-353 and MEN. Plain sums diverged with 8 workers. A capped sum learns as
a local run's Hogwild threads do where few workers share a row, and stays stable where many do.

The deltas travel between the workers and the driver in float16 (WIRE): half the bytes of a
round's sync. A delta keeps 11 bits of mantissa (a relative error of at most 2^-11, far below
the noise of SGD) and is exact again in float32, so every replica, the driver's, a checkpoint
and a resumed run all apply the very same values. `take`, `merge` and `apply` run compiled
(see `delta_kernels`).
"""

import numpy as np

from . import delta_kernels

MAX_SUMMED = 2  # a row moves at most this many times its mean delta: the stability limit (see merge)
WIRE = np.float16  # deltas travel, and every replica applies them, in half precision (see the module's doc)


def merge(parts, weights=None):
    """The merged update of one matrix: (unique rows int32, ascending; deltas float16), each row's deltas
    added up over the workers that sent it, but at most MAX_SUMMED times their mean; also added to `weights`
    (the driver's copy of the matrix) when given, in the same pass.

    A row few workers touch learns as in a local run, where the threads' updates add up. A row
    that k workers all pull to the same point in a round (a frequent word, saturated) would move
    k times too far if summed, and x ← x + f (t − x) stays stable only for f < 2: summed deltas
    from 8 workers diverged. The parts are as they travel (float16; others are rounded to it
    first); the sums are float32, in part order, rounded once at the end.
    """
    parts = [_ascending(np.asarray(p[0], dtype=np.int32), np.ascontiguousarray(p[1], dtype=WIRE)) for p in parts]
    rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    halves = np.concatenate([p[1] for p in parts]).view(np.uint16) if parts else np.zeros((0, 0), np.uint16)
    n_rows = len(weights) if weights is not None else int(rows.max()) + 1 if len(rows) else 0
    _check_rows(rows, n_rows)
    target = weights if weights is not None else np.zeros((0, halves.shape[1]), np.float32)
    bounds = np.cumsum([0] + [len(p[0]) for p in parts], dtype=np.int64)
    rows_out = np.empty(min(len(rows), n_rows), np.int32)
    halves_out = np.empty((len(rows_out), halves.shape[1]), np.uint16)
    k = delta_kernels.merge_parts(rows, halves, bounds, delta_kernels.HALF_TO_FLOAT, MAX_SUMMED, target,
                                  rows_out, halves_out)
    return rows_out[:k], halves_out[:k].view(WIRE)


def _ascending(rows, deltas):
    """A part's (rows, deltas) in order of row, as `merge` sweeps them (`take` sends them so already); a row
    listed twice is refused."""
    if len(rows) > 1 and not (rows[1:] > rows[:-1]).all():
        order = np.argsort(rows, kind="stable")
        rows, deltas = rows[order], deltas[order]
        if (rows[1:] == rows[:-1]).any():
            raise ValueError(f"deltas list row {int(rows[1:][rows[1:] == rows[:-1]][0])} twice")
    return rows, deltas


def apply(weights, update, work=None):
    """Add an update, (rows, float16 deltas), to `weights` in float32; copy the rows it changed to `work`."""
    rows, deltas = update
    if deltas.dtype != WIRE:  # not as they travel (a test's, say): added as they are
        weights[rows] += deltas
        if work is not None:
            work[rows] = weights[rows]
        return
    _check_rows(rows, len(weights))
    halves = np.ascontiguousarray(deltas).view(np.uint16)
    delta_kernels.apply_rows(weights, weights if work is None else work, rows, halves, delta_kernels.HALF_TO_FLOAT)


def _check_rows(rows, n_rows):
    """The compiled passes do not check their indexes: a row outside the matrix (a corrupt checkpoint's, say)
    is refused here instead of writing past it."""
    if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= n_rows):
        raise ValueError(f"deltas of rows {int(rows.min())}..{int(rows.max())} for a matrix of {n_rows} rows")


def take(current, base, candidates=None):
    """(row ids int32, deltas float16 as they travel) of the rows of `current` that differ from `base`
    (only the `candidates` rows are compared when given, else every row); those rows go back to base."""
    candidates = np.arange(len(base), dtype=np.int32) if candidates is None else candidates.astype(np.int32, copy=False)
    rows = np.empty(len(candidates), np.int32)
    halves = np.empty((len(candidates), base.shape[1]), np.uint16)
    n = delta_kernels.take_rows(current, base, candidates, rows, halves)
    return rows[:n], halves[:n].view(WIRE)


def keep(current, base, candidates):
    """(row ids int32, their values in `current`, float32) of the `candidates` rows where `current` differs from
    `base`, exactly; those rows go back to base (a shard's rows held over a partial round: see `tiers`)."""
    candidates = candidates.astype(np.int32, copy=False)
    rows = np.empty(len(candidates), np.int32)
    values = np.empty((len(candidates), base.shape[1]), np.float32)
    n = delta_kernels.keep_rows(current, base, candidates, rows, values)
    return rows[:n], values[:n]


def warm_up():
    """Load the compiled passes of `take`, `keep`, `merge` and `apply` (see `delta_kernels`)."""
    delta_kernels.warm_up()
