"""Checkpoints: the whole training state in one `checkpoint.npz` (no pickle), written atomically, checked on load.

A checkpoint holds the weights, the threads' RNG states and tallies, and as JSON the config,
the vocabulary, the absolute corpus paths with a digest of the encoded corpus, and the position
(epoch, job); a continued run's also the model it started from (`prior_w_in`, `prior_counts`).
Everything is checked before a resumed run reaches the kernels.
"""

import contextlib
import hashlib
import io
import json
import math
import os
import zipfile

import numpy as np

from .. import config as config_mod
from ..errors import DataError, W2VError
from ..fileio import atomic_write
from ..safe_yaml import show
from ..store.modeldir import CHECKPOINT
from .merge import Prior

CHECKPOINT_VERSION = 1


def save_checkpoint(folder, arrays, meta):
    """Write `checkpoint.npz` in `folder`: the arrays plus `meta` (JSON) as uint8 bytes."""
    payload = dict(arrays)
    payload["meta"] = np.frombuffer(json.dumps(dict(meta, version=CHECKPOINT_VERSION)).encode(), dtype=np.uint8)
    path = os.path.join(folder, CHECKPOINT)
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **payload)
    return path


def load_checkpoint(folder, cluster=False):
    """Read `checkpoint.npz` from `folder` (or a path to it): (arrays dict, meta dict).

    A checkpoint of a run on a cluster (its meta holds "cluster") resumes only with `cluster`
    true, and one of a local run only without.
    """
    path = _checkpoint_path(folder)
    if not os.path.exists(path):
        raise DataError(f"no checkpoint to resume from in {folder} (looked for {CHECKPOINT})")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        _check_members(path, raw)
        data = np.load(io.BytesIO(raw), allow_pickle=False)
        arrays = {name: data[name] for name in data.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except DataError:
        raise
    except Exception as exc:  # zipfile, numpy and json each raise their own kinds
        reason = (str(exc).splitlines() or [""])[0][:80]
        raise DataError(f"{path}: corrupt checkpoint ({type(exc).__name__}: {reason})") from None
    if not isinstance(meta, dict) or meta.get("version") != CHECKPOINT_VERSION:
        raise DataError(f"{path}: unknown checkpoint version")
    if ("cluster" in meta) != cluster:
        raise DataError(f"{path} was written by a run on a Dask cluster; resume it with --cluster ADDRESS" if not cluster
                        else f"{path} was written by a run on this machine; resume it without --cluster")
    _fill_keys_added_since(meta)
    _check_checkpoint(path, arrays, meta)
    return arrays, meta


def _fill_keys_added_since(meta):
    """A checkpoint written before train.alpha_schedule (or train.sync_lag) existed resumes as it began."""
    train = meta.get("config", {}).get("train") if isinstance(meta.get("config"), dict) else None
    if isinstance(train, dict) and "alpha_schedule" not in train:
        train["alpha_schedule"] = "linear"
    if isinstance(train, dict) and "cluster" in meta and "sync_lag" not in train:
        train["sync_lag"] = 0


def _checkpoint_path(folder):
    return folder if folder.endswith(".npz") else os.path.join(folder, CHECKPOINT)


def _check_members(path, raw):
    """Refuse a zip member that would decompress to more than the whole file: w2v stores them uncompressed."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for info in archive.infolist():
            if info.file_size > len(raw):
                raise DataError(f"{path}: corrupt checkpoint ({show(info.filename)} claims {info.file_size} "
                                f"bytes in a file of {len(raw)}); it was not written by w2v")


_META_TYPES = {"config": dict, "words": list, "paths": list, "digest": str, "epoch": int, "job": int,
               "epoch_seconds": (int, float), "metrics": list, "threads": int}
_METRIC_KEYS = ("epoch", "loss", "predictions", "words", "seconds", "words_per_sec")
CLUSTER_METRIC_KEYS = ("rounds", "bytes_per_round", "compute_seconds", "sync_seconds")  # a cluster run's epochs
CLUSTER_MAX_WORKERS = 4096  # a cluster run's threads are those of all its workers


def _check_checkpoint(path, arrays, meta):
    """Check that the parts of a checkpoint agree, so a damaged one never reaches the kernels."""
    def fail(problem):
        return DataError(f"{path}: corrupt checkpoint ({problem})")

    for key, kind in _META_TYPES.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise fail(f"'{key}' is missing or of the wrong type")
    try:
        config = config_mod.from_dict(meta["config"])
    except W2VError as exc:
        raise fail(f"its config: {exc}") from None
    words, threads, dim = meta["words"], meta["threads"], config.model.vector_size
    max_threads = config_mod.MAX_THREADS * (CLUSTER_MAX_WORKERS if "cluster" in meta else 1)
    if not all(isinstance(w, str) for w in words + meta["paths"]) or not 1 <= threads <= max_threads \
            or meta["job"] < 0 or not 0 <= meta["epoch"] <= config.train.epochs:
        raise fail("bad words, paths, threads, epoch or job")
    n_out = max(len(words) - 1, 1) if config.model.loss == "hs" else len(words)  # as training.init_weights
    expected = {"w_in": ((len(words), dim), np.float32), "w_out": ((n_out, dim), np.float32),
                "rngs": ((threads, 1), np.uint64), "tallies": ((threads, 3), np.float64),
                "counts": ((len(words),), np.int64)}
    n_in = len(arrays["w_in"]) if np.ndim(arrays.get("w_in")) == 2 else 0
    if config.model.maxn and len(words) <= n_in <= len(words) + config.model.buckets:
        expected["w_in"] = ((n_in, dim), np.float32)  # subwords: the used buckets follow (resume checks how many)
    for name, (shape, dtype) in expected.items():
        array = arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            got = "nothing" if array is None else f"{array.dtype} {array.shape}"
            raise fail(f"{name} should be {np.dtype(dtype)} {shape}, found {got}")
    _check_prior(arrays, len(words), dim, fail)
    problem = _bad_values(arrays) or _bad_progress(meta)
    if problem:
        raise fail(problem)


def _check_prior(arrays, n_words, dim, fail):
    """The model a continued run started from, when the checkpoint holds one: shapes, values, counts."""
    if "prior_w_in" not in arrays and "prior_counts" not in arrays:
        return
    expected = {"prior_w_in": ((n_words, dim), np.float32), "prior_counts": ((n_words,), np.int64)}
    for name, (shape, dtype) in expected.items():
        array = arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            got = "nothing" if array is None else f"{array.dtype} {array.shape}"
            raise fail(f"{name} should be {np.dtype(dtype)} {shape}, found {got}")
    if not np.isfinite(arrays["prior_w_in"]).all():
        raise fail("prior_w_in holds NaN or infinity")
    if (arrays["prior_counts"] < 0).any() or (arrays["prior_counts"] > arrays["counts"]).any():
        raise fail("prior_counts below 0 or above the counts")


def prior_of(arrays):
    """The merge.Prior a checkpoint holds, or None."""
    return Prior(arrays["prior_w_in"], arrays["prior_counts"]) if "prior_w_in" in arrays else None


def _bad_values(arrays):
    """What is wrong with the numbers of a checkpoint's arrays (None when nothing is)."""
    if (arrays["counts"] < 0).any():
        return "negative word counts"
    if not (np.isfinite(arrays["tallies"]).all() and (arrays["tallies"] >= 0).all()):
        return "tallies that are negative, NaN or infinite"
    for name in ("w_in", "w_out"):
        if not all(np.isfinite(arrays[name][start : start + 65536]).all()
                   for start in range(0, len(arrays[name]), 65536)):
            return f"{name} holds NaN or infinity"
    return None


def _bad_progress(meta):
    """What is wrong with the time and the per-epoch metrics of a checkpoint (None when nothing is)."""
    if not _finite_non_negative(meta["epoch_seconds"]):
        return f"epoch_seconds {show(meta['epoch_seconds'])} is not a finite number of seconds"
    if len(meta["metrics"]) != meta["epoch"]:
        return f"{len(meta['metrics'])} epochs of metrics for {meta['epoch']} finished epochs"
    for entry in meta["metrics"]:
        keys = _METRIC_KEYS + (CLUSTER_METRIC_KEYS if "cluster" in meta else ())
        if not isinstance(entry, dict) or set(entry) != set(keys) \
                or not all(_finite_non_negative(entry[key]) for key in keys):
            return f"metrics entry {show(entry)} is not {', '.join(keys)} as finite numbers of 0 or more"
    return None


def _finite_non_negative(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def check_position(folder, meta, n_jobs):
    """Refuse a checkpoint whose job index is past its epoch's last job: known once the corpus is read."""
    if meta["job"] >= n_jobs:
        raise DataError(f"{_checkpoint_path(folder)}: corrupt checkpoint (job {meta['job']}, but an epoch of "
                        f"this corpus has {n_jobs} jobs)")


def remove_checkpoint(folder):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, CHECKPOINT))


def corpus_digest(data):
    """A fingerprint of the encoded corpus, so a resumed run can check it reads the same text."""
    digest = hashlib.blake2b(digest_size=16)
    for start in range(0, len(data.ids), 1 << 22):
        digest.update(np.ascontiguousarray(data.ids[start:start + (1 << 22)]).tobytes())
    digest.update(np.ascontiguousarray(data.ends).tobytes())
    return digest.hexdigest()


def saver(folder, trainer, paths, digest):
    """A callable(state) that saves `trainer`'s run into `folder` (the Trainer's on_checkpoint)."""
    absolute = [p if p == "-" else os.path.abspath(p) for p in paths]  # so --resume works from anywhere

    def save(state):
        arrays = {"w_in": state.w_in, "w_out": state.w_out, "rngs": state.rngs, "tallies": state.tallies,
                  "counts": trainer.data.vocab.counts}
        if trainer.prior is not None:
            arrays.update(prior_w_in=trainer.prior.w_in, prior_counts=trainer.prior.counts)
        meta = {"config": trainer.config.to_dict(), "words": trainer.data.vocab.words, "paths": absolute,
                "digest": digest, "epoch": state.epoch, "job": state.job, "epoch_seconds": state.epoch_seconds,
                "metrics": state.metrics, "threads": trainer.threads}
        path = save_checkpoint(folder, arrays, meta)
        trainer.reporter.log(f"checkpoint saved: {path}")
    return save
