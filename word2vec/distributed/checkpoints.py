"""Checkpoints of a cluster run: the local `checkpoint.npz` format, plus how the corpus was cut into shards.

The driver holds everything a resumed run needs: the merged weights, every shard's RNG states
(the rows of `rngs`, shard after shard) and tallies of the epoch so far, and the position
(epoch, and in `job` the round). Under "cluster" the meta adds the shards' thread counts and
block size, so that a resumed run cuts the corpus into the same shards whatever its workers,
and the rounds and lost workers recorded so far. The digest covers every shard's encoded ids.
In mid-epoch with train.sync_lag 1 the next round trains from the weights before the last
merge plus each shard's own deltas of the last round: `pending_*` hold those deltas (shard
after shard, `pending_sizes` rows each) and `before_in`/`before_out` the merged rows as they
were, so that the resumed run goes on exactly as the unbroken one.
"""

import hashlib
import os
import threading

import numpy as np

from ..errors import DataError
from ..training import checkpoint
from .deltas import merge

_LOGS = ("round_log", "lost_workers")


def digest(shard_digests):
    """One fingerprint of the whole corpus from those of its shards, in shard order."""
    return hashlib.blake2b("/".join(shard_digests).encode(), digest_size=16).hexdigest()


def absolute(paths):
    """Local paths made absolute (so --resume works from anywhere); URLs as they are."""
    return [path if "://" in path else os.path.abspath(path) for path in paths]


def snapshot(driver, paths, block_bytes, corpus_digest):
    """(arrays, meta) of a checkpoint of the driver's run as it stands, copied: the rounds may go on while they
    are written (see `Writer`)."""
    arrays = {"w_in": driver.w_in.copy(), "w_out": driver.w_out.copy(), "tallies": driver.tallies.copy(),
              "rngs": np.concatenate([shard.rngs for shard in driver.shards]),
              "counts": np.asarray(driver.vocab.counts, dtype=np.int64)}
    if driver.lag and driver.round and driver.last_deltas is not None:
        arrays.update(_pending_arrays(driver.last_deltas, driver.previous))
    meta = {"config": driver.config.to_dict(), "words": list(driver.vocab.words), "paths": absolute(paths),
            "digest": corpus_digest, "epoch": driver.epoch, "job": driver.round,
            "epoch_seconds": driver.epoch_seconds, "metrics": list(driver.metrics), "threads": len(arrays["rngs"]),
            "cluster": {"shards": [shard.threads for shard in driver.shards], "block_bytes": block_bytes,
                        "round_log": list(driver.round_log), "lost_workers": list(driver.placement.losses)}}
    return arrays, meta


class Writer:
    """Writes checkpoints from a thread, one at a time, while the rounds go on: every worker would otherwise
    wait for the driver's disk at the end of each epoch (0.03-0.25 s on the text8 prefix, seconds for a
    large model). `save(..., wait=True)` (on a signal) and `join()` return once it is on disk; a failed write
    raises there."""

    def __init__(self, folder, log):
        self.folder, self.log, self.thread, self.error = folder, log, None, None

    def save(self, arrays, meta, wait=False):
        self.join()
        self.thread = threading.Thread(target=self._write, args=(arrays, meta), name="w2v-checkpoint", daemon=True)
        self.thread.start()
        if wait:
            self.join()

    def _write(self, arrays, meta):
        try:
            self.log(f"checkpoint saved: {checkpoint.save_checkpoint(self.folder, arrays, meta)}")
        except BaseException as exc:  # raised in the driver's thread, by join
            self.error = exc

    def join(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _pending_arrays(deltas, previous):
    """The shards' deltas of the last round and the merged rows before it, as arrays (see the module's doc)."""
    arrays = {"pending_sizes": np.array([[len(d[0][0]), len(d[1][0])] for d in deltas], dtype=np.int64),
              "before_in": previous[0], "before_out": previous[1]}
    for m, name in enumerate(("in", "out")):
        arrays[f"pending_rows_{name}"] = np.concatenate([d[m][0] for d in deltas]).astype(np.int32)
        arrays[f"pending_{name}"] = np.concatenate([d[m][1] for d in deltas]).astype(np.float32)
    return arrays


def pending(arrays):
    """([shard's deltas of the last round], the weights before that round's merge (w_in, w_out)), or
    (None, the weights) for a checkpoint without them. A damaged part is a DataError."""
    weights = (arrays["w_in"], arrays["w_out"])
    if "pending_sizes" not in arrays:
        return None, weights
    sizes = arrays["pending_sizes"]
    try:
        ends = np.cumsum(sizes, axis=0)
        parts = [[(arrays[f"pending_rows_{n}"][e - k:e], arrays[f"pending_{n}"][e - k:e])
                  for n, k, e in zip(("in", "out"), size, end)] for size, end in zip(sizes, ends)]
        update = [merge([part[m] for part in parts]) for m in (0, 1)]
        before = [w.copy() for w in weights]
        for w, (rows, _), old in zip(before, update, (arrays["before_in"], arrays["before_out"])):
            w[rows] = old
    except (IndexError, ValueError, KeyError) as exc:
        raise DataError(f"corrupt checkpoint (its pending deltas: {exc})") from None
    return parts, tuple(before)


def load(folder):
    """(arrays, meta) of a cluster run's checkpoint in `folder`, checked as a local one is, and its cluster part."""
    arrays, meta = checkpoint.load_checkpoint(folder, cluster=True)
    path = os.path.join(folder, checkpoint.CHECKPOINT) if not folder.endswith(".npz") else folder
    cluster = meta["cluster"]
    shards = cluster.get("shards") if isinstance(cluster, dict) else None
    if not (isinstance(shards, list) and shards and all(type(n) is int and n > 0 for n in shards)
            and sum(shards) == meta["threads"] and type(cluster.get("block_bytes")) is int
            and cluster["block_bytes"] > 0 and all(isinstance(cluster.get(key), list) for key in _LOGS)):
        raise DataError(f"{path}: corrupt checkpoint (its cluster part: shards, block_bytes, round_log, lost_workers)")
    return arrays, meta


def layout(arrays, meta):
    """(block bytes, threads of each shard, RNG states of each shard) of a checkpoint."""
    threads = meta["cluster"]["shards"]
    starts = np.cumsum([0] + threads)
    return meta["cluster"]["block_bytes"], threads, [arrays["rngs"][a:b] for a, b in zip(starts, starts[1:])]


def restore(driver, arrays, meta, corpus_digest, paths, path):
    """Put the driver where the checkpoint stands, once its shards are built (`corpus_digest` is theirs)."""
    if corpus_digest != meta["digest"]:
        raise DataError(f"the corpus ({', '.join(paths)}) is not the one this checkpoint was trained on")
    if meta["job"] >= driver.rounds:
        raise DataError(f"{path}: corrupt checkpoint (round {meta['job']}, but an epoch of this corpus has "
                        f"{driver.rounds} rounds)")
    driver.epoch, driver.round, driver.epoch_seconds = meta["epoch"], meta["job"], meta["epoch_seconds"]
    parts, _ = pending(arrays)
    if parts is not None:  # the driver holds the weights before the last merge: merge it again, as update 1
        driver.merge_again(parts)
    driver.tallies[:] = arrays["tallies"]
    driver.metrics = meta["metrics"]
    driver.round_log = meta["cluster"]["round_log"]
    driver.placement.losses = meta["cluster"]["lost_workers"]
