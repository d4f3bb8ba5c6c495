"""Dropping LLVM's clean library pages once the kernels are loaded."""

import os

import numpy as np
import pytest

from word2vec import config as config_mod
from word2vec.training import kernels, kernels_subword, loop, pages

SMAPS = """\
7f0000000000-7f0000001000 r--p 00000000 08:01 42 /venv/llvmlite/binding/libllvmlite.so
Size:                  4 kB
Rss:                   4 kB
Anonymous:             0 kB
7f0000001000-7f0000005000 r-xp 00001000 08:01 42 /venv/llvmlite/binding/libllvmlite.so
Rss:                  16 kB
Anonymous:             0 kB
7f0000005000-7f0000006000 r--p 00005000 08:01 42 /venv/llvmlite/binding/libllvmlite.so
Rss:                   4 kB
Anonymous:             4 kB
7f0000006000-7f0000007000 rw-p 00006000 08:01 42 /venv/llvmlite/binding/libllvmlite.so
Anonymous:             0 kB
7f0000007000-7f0000008000 r-xp 00000000 08:01 43 /usr/lib/libc.so.6
Anonymous:             0 kB
7f0000008000-7f0000009000 rw-p 00000000 00:00 0
Anonymous:             4 kB
"""


def test_only_read_only_mappings_without_private_pages_are_chosen():
    assert pages._clean_mappings(SMAPS.splitlines()) == [(0x7F0000000000, 0x7F0000001000),
                                                         (0x7F0000001000, 0x7F0000005000)]


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux's /proc")
@pytest.mark.parametrize("arch,loss,maxn", [("skipgram", "neg", 0), ("cbow", "hs", 0), ("skipgram", "neg", 4)])
def test_preloaded_kernel_is_the_one_training_calls(tmp_path, arch, loss, maxn):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    config = config_mod.resolve(None, [f"model.arch={arch}", f"model.loss={loss}", "model.vector_size=8",
                                       f"model.maxn={maxn}", "model.minn=3", "model.buckets=100",
                                       "vocab.min_count=1", "train.epochs=1", "train.threads=1",
                                       "train.checkpoint_every=0"])
    table = kernels_subword.KERNELS if maxn else kernels.KERNELS
    loop.preload(config)
    preloaded = list(table[(arch, loss)].signatures)
    assert preloaded
    assert pages.release_compiler_pages() > 0  # found in the real smaps; LLVM is read back only to compile
    quiet = loop.Reporter(progress=False, log=lambda message: None)
    _, vectors, metrics = loop.train([str(corpus)], config, str(tmp_path / "m"), quiet)
    assert table[(arch, loss)].signatures == preloaded  # training found the preloaded kernel: no new types
    assert np.isfinite(vectors).all() and metrics["epochs"][0]["loss"] > 0
