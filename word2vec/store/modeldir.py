"""The model directory on disk: what may be replaced, the run lock, and staged saves swapped in atomically.

A model directory is written whole into a hidden sibling folder and then exchanged with
the old one in a single rename (renameat2 RENAME_EXCHANGE on Linux), so a reader or a
crash only ever sees the old model or the new one, never a mix of their files. The hidden
folder's name holds the writer's pid, so the next save can remove those of crashed runs.
"""

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile

import numpy as np

from .. import config as config_mod
from ..errors import DataError, W2VError
from ..fileio import UMASK, atomic_write, fsync_dir, write_error

CHECKPOINT = "checkpoint.npz"
LOCK = ".w2v.lock"


# The files w2v writes in a model directory; anything else there is the user's.
OUTPUT_WEIGHTS = "w_out.npy"  # what continued training needs beside the input vectors
NGRAMS = "ngrams.npy"  # a subword model's n-gram rows: those of the buckets its words use
NGRAM_BUCKETS = "ngram_buckets.npy"  # … and their bucket numbers (without it: all buckets, as saved before)
WORD_ROWS = "word_rows.npy"  # a subword model's own input rows of its words (vectors.npy: their means with n-grams)
FASTTEXT_BIN = "vectors.fasttext.bin"
MODEL_FILES = frozenset({"vectors.npy", "vocab.tsv", "config.yaml", "metrics.json", "vectors.bin", "vectors.txt",
                         NGRAMS, NGRAM_BUCKETS, WORD_ROWS, FASTTEXT_BIN, CHECKPOINT, LOCK, OUTPUT_WEIGHTS})


def ensure_dir(folder):
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise W2VError(f"cannot create output directory {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise W2VError(f"output directory {folder} is not writable")


def check_output_dir(folder, inputs=()):
    """Refuse an output directory that a save would destroy anything of the user's in.

    A directory is replaced whole, so it must be missing, empty, or a w2v model directory:
    only files w2v writes, with a marker that w2v made it (see `_has_marker`). It must not be
    the working directory or a parent of it, nor hold one of the `inputs` (corpus, vocab, config…).
    """
    real = os.path.realpath(folder)
    here = os.path.realpath(os.getcwd())
    if real == here or here.startswith(real.rstrip(os.sep) + os.sep):
        raise W2VError(f"output directory {folder} is the working directory or holds it, and a save replaces "
                       "the whole folder; choose another --output, such as a new folder")
    for path in inputs:
        if path != "-" and _is_inside(os.path.realpath(path), real):
            raise W2VError(f"output directory {folder} holds the input {path}, and a save replaces the whole "
                           "folder; choose another --output")
    if not os.path.lexists(real):
        return
    if not os.path.isdir(real):
        raise W2VError(f"{folder} is a file, not a model directory; choose another --output")
    entries = sorted(os.listdir(real))
    for name in entries:
        if name not in MODEL_FILES or not _regular(os.path.join(real, name)):
            raise W2VError(f"{folder} holds {name!r}, so it is not a w2v model directory, and a save "
                           "replaces the whole folder; choose another --output")
    if set(entries) - {LOCK} and not _has_marker(real):
        raise W2VError(f"{folder} holds {entries[0]!r} but no model that w2v made (config.yaml, "
                       "vectors.npy with vocab.tsv, or a checkpoint); choose another --output")


def _is_inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _has_marker(folder):
    """True when `folder` holds a config.yaml w2v can read, an npy export, or a checkpoint."""
    names = set(os.listdir(folder))
    if "config.yaml" in names:
        try:
            config_mod.resolve(os.path.join(folder, "config.yaml"))
            return True
        except W2VError:
            return False
    if {"vectors.npy", "vocab.tsv"} <= names:
        return True
    if CHECKPOINT in names:
        with open(os.path.join(folder, CHECKPOINT), "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"  # a zip: np.savez wrote it
    return False


@contextlib.contextmanager
def locked(folder, log=None):
    """Hold an exclusive lock on the output directory for a whole training run.

    The lock file is opened without following a symlink, so a link planted as `.w2v.lock`
    never truncates its target. A lock file left by a run that died is taken over (and `log`
    says so). A run that fails before writing anything removes the directories it created for it.
    """
    target = os.path.realpath(folder)  # a symlink to a folder still to be made: make its target
    created = _missing_dirs(target)
    ensure_dir(target)
    path = os.path.join(target, LOCK)
    handle = _open_lock(path, folder)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise W2VError(f"output directory {folder} is in use by another w2v train ({owner}); "
                       "wait for it or choose another --output") from None
    handle.seek(0)
    previous = handle.read().strip()
    if previous and log is not None:
        log(f"taking over the lock of an earlier run that is gone ({previous}) in {folder}")
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
    except OSError as exc:
        handle.close()
        raise write_error(path, exc) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it: nobody else can have taken it
        handle.close()
        with contextlib.suppress(OSError):
            for made in created:
                os.rmdir(made)  # only empty ones: a saved model or checkpoint stays


def _open_lock(path, folder):
    """Open (or create) the lock file: never through a symlink, never a FIFO or a device."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o666 & ~UMASK)
    except OSError as exc:
        why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror or exc
        raise W2VError(f"cannot lock output directory {folder}: {path}: {why}; remove it or "
                       "choose another --output") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise W2VError(f"cannot lock output directory {folder}: {path} is not a regular file; remove it "
                       "or choose another --output")
    return open(fd, "r+")  # noqa: SIM115 (closed by `locked`)


def _missing_dirs(folder):
    """The directories on the way to `folder` that do not exist yet, deepest first."""
    missing, path = [], os.path.abspath(folder)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def save_model(folder, files):
    """Write a complete model directory. `files` maps file names to writer(path) callables."""
    folder = os.path.realpath(folder)  # a symlinked folder: its target is replaced and the link stays
    parent = os.path.dirname(folder)
    ensure_dir(parent)
    _remove_stale_stages(folder)
    try:
        stage = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.{os.getpid()}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise write_error(folder, exc) from None
    try:
        for name, writer in files.items():
            _write_staged(writer, stage, folder, name)
        os.chmod(stage, 0o777 & ~UMASK)
        _carry_over(folder, stage)
        _swap_in(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_staged(writer, stage, folder, name):
    """Run one writer; an error names the model's file, not the hidden folder it was written in."""
    try:
        writer(os.path.join(stage, name))
    except OSError as exc:
        raise write_error(os.path.join(folder, name), exc) from None
    except W2VError as exc:
        if type(exc) not in (W2VError, DataError):
            raise
        raise type(exc)(str(exc).replace(stage, folder)) from None


def _remove_stale_stages(folder):
    """Remove the staging folders that saves into `folder` left when their process died."""
    parent, name = os.path.split(folder)
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.[A-Za-z0-9_]+\.tmp(\.old)?")
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in sorted(entries):
        match = pattern.fullmatch(entry)
        if not match or _alive(int(match.group(1))):
            continue
        if match.group(2) and not os.path.exists(folder):
            with contextlib.suppress(OSError):  # killed between the two renames of the fallback swap:
                os.rename(os.path.join(parent, entry), folder)  # the old model comes back
            continue
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _alive(pid):
    """Whether another process has this pid (ours only leaves stale stages: its saves run one at a time)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def _carry_over(folder, stage):
    """Keep the lock file (held by this run) across the swap."""
    lock = os.path.join(folder, LOCK)
    if os.path.exists(lock):
        with contextlib.suppress(OSError):
            os.link(lock, os.path.join(stage, LOCK))


def _swap_in(stage, folder):
    if not os.path.exists(folder):
        os.rename(stage, folder)
    elif _exchange(stage, folder):
        shutil.rmtree(stage, ignore_errors=True)  # `stage` now holds the old model
    else:  # no atomic exchange here: move the old one aside first
        old = stage + ".old"
        os.rename(folder, old)
        os.rename(stage, folder)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(os.path.dirname(folder))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Atomically exchange two paths (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


def write_json(path, data):
    with atomic_write(path, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def write_config(path, config):
    with atomic_write(path, "w") as handle:
        handle.write(config_mod.to_yaml(config))


def save_trained(folder, vocab, w_in, config, metrics, w_out=None, subword=None, fasttext=None):
    """Write a trained model: vectors.npy, vocab.tsv, config.yaml, metrics.json and the formats asked for.

    `w_in` holds the word vectors (W, d); `w_out` the output weights, saved as w_out.npy for
    continued training. A subword model adds `subword`, a dict of its words' own input rows
    "word_rows" (W, d), its n-gram rows "ngrams" (U, d) and their sorted bucket numbers
    "ngram_buckets" int64 (U,) (None: "ngrams" holds all buckets), saved as word_rows.npy,
    ngrams.npy and ngram_buckets.npy; `fasttext()` returns the `fasttext_bin.FastTextModel`
    that the fasttext-bin format writes.
    """
    from . import fasttext_bin, tables, write_vectors

    files = {
        "vectors.npy": lambda p: tables.save_npy(p, w_in),
        "vocab.tsv": lambda p: tables.write_vocab(p, vocab.words, vocab.counts),
        "config.yaml": lambda p: write_config(p, config),
        "metrics.json": lambda p: write_json(p, metrics),
    }
    if "word2vec-bin" in config.output.formats:
        files["vectors.bin"] = lambda p: write_vectors.write_word2vec(p, vocab.words, w_in, binary=True)
    if "word2vec-txt" in config.output.formats:
        files["vectors.txt"] = lambda p: write_vectors.write_word2vec(p, vocab.words, w_in, binary=False)
    if w_out is not None:
        files[OUTPUT_WEIGHTS] = lambda p: tables.save_npy(p, w_out)
    if subword is not None:
        files[WORD_ROWS] = lambda p: tables.save_npy(p, subword["word_rows"])
        files[NGRAMS] = lambda p: tables.save_npy(p, subword["ngrams"])
        if subword.get("ngram_buckets") is not None:
            files[NGRAM_BUCKETS] = lambda p: tables.save_npy(p, np.asarray(subword["ngram_buckets"], np.int64))
    if fasttext is not None:
        files[FASTTEXT_BIN] = lambda p: fasttext_bin.write(p, fasttext())
    save_model(folder, files)


def load_ngrams(folder, buckets, dim):
    """A subword model's n-gram rows, memory-mapped, with their bucket numbers.

    Returns
    -------
    rows : float32 (U, d), the rows of the buckets the words use (zero for the others)
    ids : int64 (U,), their sorted bucket numbers; None when `rows` holds all `buckets`
        (a model saved before w2v kept the used buckets only)

    Raises
    ------
    DataError
        When the files do not fit each other or the config's buckets and dimensions.
    """
    from . import tables

    path, ids_path = os.path.join(folder, NGRAMS), os.path.join(folder, NGRAM_BUCKETS)
    rows = tables.load_npy(path, mmap=True)
    ids = tables.load_npy(ids_path, mmap=False) if os.path.isfile(ids_path) else None
    if rows.ndim != 2 or rows.shape[1] != dim or (ids is None and len(rows) != buckets):
        raise DataError(f"{path}: shape {rows.shape} does not match the config's {buckets} buckets of {dim}")
    if ids is not None:
        if ids.shape != (len(rows),) or ids.dtype.kind not in "iu" \
                or (len(ids) and (ids[0] < 0 or ids[-1] >= buckets or (np.diff(ids) <= 0).any())):
            raise DataError(f"{ids_path}: not the {len(rows)} increasing bucket numbers below {buckets} "
                            f"of the rows of {NGRAMS}; the model directory is damaged")
        ids = ids.astype(np.int64, copy=False)
    return rows, ids
