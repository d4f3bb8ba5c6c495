"""Shared fixtures: small corpus files written by the tests themselves and a scratch folder."""

import bz2
import gzip
import itertools
import lzma
import subprocess
import sys

import pytest

COMPRESSORS = {"": bytes, ".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


@pytest.fixture
def write_corpus(tmp_path):
    """Factory: `write_corpus(text, suffix="", name=None)` writes a corpus file and returns its path.

    `text` is str (written as UTF-8) or bytes (written as is); `suffix` is "", ".gz", ".bz2"
    or ".xz" and compresses the file accordingly. Each call gets a new file unless `name` is given.
    """
    numbers = itertools.count()

    def write(text, suffix="", name=None):
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        path = tmp_path / ((name or f"corpus{next(numbers)}.txt") + suffix)
        path.write_bytes(COMPRESSORS[suffix](data))
        return path

    return write


@pytest.fixture
def workdir(tmp_path):
    """An empty folder for the files a stage writes (id files, outputs)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


TOPICS = [[f"t{t}w{i}" for i in range(8)] for t in range(4)]


@pytest.fixture(scope="session")
def topic_corpus(tmp_path_factory):
    """(path, topics): 3,000 lines of 12 words, each line drawn from one of 4 topics of 8 words (36k tokens).

    A model that learned anything puts each word's nearest neighbours in its own topic.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(TOPICS[rng.integers(4)], 12)) for _ in range(3000)]
    path = tmp_path_factory.mktemp("topics") / "topics.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path), TOPICS


_COMPILE = """
import sys
from word2vec import config as config_mod
from word2vec.training import loop


class ByPair(loop.Trainer):
    subword_by_pair = True  # the cluster replicas' subword skip-gram neg


maxn = int(sys.argv[1])
if not maxn:
    from word2vec.distributed import deltas
    deltas.warm_up()
for arch in ("skipgram", "cbow"):
    for loss in ("neg", "hs", "softmax"):
        config = config_mod.Config().with_overrides({"model.arch": arch, "model.loss": loss, "model.maxn": maxn,
                                                     "model.buckets": 100, "model.vector_size": 8})
        loop.preload(config)
        if maxn and (arch, loss) == ("skipgram", "neg"):
            loop.preload(config, trainer_class=ByPair)
"""


@pytest.fixture(scope="session", autouse=True)
def kernels_compiled():
    """On a fresh checkout, compile the training kernels before the tests, the word kernels and the
    subword kernels in two processes at once (numba caches them on disk; the tests load them).

    Compiled where a test first needs them, they take ~2 minutes one at a time on a 2-core machine
    with a core idle. When every kernel is in the cache already, this does nothing.
    """
    from word2vec.training import kernels, kernels_subword, loop

    every = [*kernels.KERNELS.values(), *kernels_subword.KERNELS.values(),
             kernels_subword.train_subword_skipgram_neg_by_pair]
    if all(loop.kernel_cached(kernel) for kernel in every):
        return
    runs = [subprocess.Popen([sys.executable, "-c", _COMPILE, maxn]) for maxn in ("0", "6")]
    for run in runs:
        assert run.wait(timeout=1200) == 0, "compiling the kernels failed"
