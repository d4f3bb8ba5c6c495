"""The corpus as training reads it: scanned once, its vocabulary chosen, its tokens encoded as ids.

`read_while_loading` reads it in a forked child (`reader`) while this process loads the
kernel, so that numba's import and the read overlap.
"""

import os
import time
from dataclasses import dataclass

import numpy as np

from .. import fileio
from ..errors import DataError, W2VError
from ..text import corpus
from ..text import vocab as vocab_mod
from . import reader


@dataclass
class Corpus:
    """The corpus encoded as vocabulary ids. ids int32 (N,); ends int64 (S,) sentence ends."""

    vocab: vocab_mod.Vocab
    ids: np.ndarray
    ends: np.ndarray
    raw_tokens: int
    bad_bytes: int = 0


def read_corpus(paths, config, workdir, vocab=None):
    """Scan `paths` once, choose the vocabulary (or use `vocab`) and encode the tokens."""
    scan = corpus.scan(paths, workdir, config.corpus.lowercase, config.corpus.max_sentence_length)
    if vocab is None:
        vocab, remap = vocab_mod.build(scan.words, scan.counts, config.vocab.min_count, config.vocab.max_size)
    else:
        remap = np.array([vocab.index.get(word, -1) for word in scan.words], dtype=np.int32)
    if scan.n_tokens == 0:
        raise DataError("the corpus is empty: no tokens were found")
    ids, ends = corpus.encode(scan, remap, workdir)
    if len(ids) == 0:
        raise DataError("no token of the corpus is in the vocabulary")
    os.unlink(scan.id_path)
    return Corpus(vocab, ids, ends, scan.n_tokens, scan.bad_bytes)


def load_vocab(path):
    """A Vocab from a `word<TAB>count` file (`w2v vocab` output, or the C tool's -save-vocab)."""
    from .. import store

    words, counts = store.read_vocab(path)
    return vocab_mod.from_counts(words, counts)


def read_while_loading(paths, config, workdir, vocab, reporter, guard, load):
    """Read the corpus in a child process while this one runs `load()` (the kernel's preload).

    A signal that comes while the child starts or the kernel loads waits until both are done
    (numba runs finalizers there, where an exception raised by a signal handler would be
    lost), then ends the run and the child; one that comes while waiting for the child ends
    them at once.
    """
    started, pending = time.perf_counter(), None
    try:
        with guard.deferred():
            pending = reader.start(lambda: read_corpus(paths, config, workdir, vocab), Corpus)
            load()
        return _finish(pending.result, workdir, reporter, started)
    finally:
        if pending is not None:
            pending.cancel()


def _finish(read, workdir, reporter, started):
    """The child's Corpus, with its warnings and the vocabulary line on stderr."""
    try:
        data = read()
    except OSError as exc:
        if not fileio.is_disk_full(exc):
            raise
        raise W2VError(f"no space left on device in the temporary folder {workdir} while encoding the corpus; "
                       "set TMPDIR to a folder with more room") from None
    corpus.warn_bad_bytes(data.bad_bytes, reporter.log)
    reporter.log(f"vocabulary: {len(data.vocab)} words; corpus: {data.raw_tokens} tokens, "
                 f"{len(data.ids)} in vocabulary ({time.perf_counter() - started:.1f}s)")
    return data
