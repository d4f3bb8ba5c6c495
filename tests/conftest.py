"""Shared fixtures: small corpus files written by the tests themselves and a scratch folder."""

import bz2
import gzip
import itertools
import lzma

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
