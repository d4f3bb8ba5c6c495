"""Fuzzing every loader with arbitrary bytes: only the project's own errors (W2VError) may come out.

Each loader gets raw random bytes and, to reach past the first check, bytes that start like
a real file of its kind (a valid file cut short, or with some bytes overwritten).
"""

import io
import os
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from word2vec import config
from word2vec.text import corpus
from word2vec import store
from word2vec.store import modeldir
from word2vec.training import checkpoint
from word2vec.errors import W2VError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _write(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _survives(func, *args, **kwargs):
    """Call `func`; a W2VError is an acceptable answer, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid UTF-8 and float overflow warn; that is allowed
        try:
            return func(*args, **kwargs)
        except W2VError as exc:
            assert str(exc) and "\n" not in str(exc), repr(exc)
            return None


def _damaged(valid):
    """Strategy: `valid` cut at any point, or with a few bytes overwritten, or raw random bytes."""
    cut = st.integers(0, len(valid)).map(lambda n: valid[:n])
    patch = st.tuples(st.integers(0, len(valid) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda p: valid[: p[0]] + p[1] + valid[p[0] + len(p[1]) :])
    return st.one_of(st.binary(max_size=400), cut, patch)


def _word2vec_bytes(binary):
    words, vectors = ["a", "bé", "c"], np.arange(6, dtype=np.float32).reshape(3, 2) / 7
    if binary:
        body = b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in zip(words, vectors))
    else:
        body = b"".join(w.encode() + b" " + " ".join(map(str, v.tolist())).encode() + b"\n"
                        for w, v in zip(words, vectors))
    return b"3 2\n" + body


@FUZZ
@given(data=_damaged(_word2vec_bytes(binary=True)), name=st.sampled_from(["v.bin", "v.vectors"]))
def test_read_word2vec_binary(folder, data, name):
    _survives(store.read_word2vec, _write(folder, name, data))


@FUZZ
@given(data=_damaged(_word2vec_bytes(binary=False)), name=st.sampled_from(["v.txt", "v.vectors"]),
       header=st.booleans(), limit=st.sampled_from([None, 0, 2]))
def test_read_word2vec_text(folder, data, name, header, limit):
    result = _survives(store.read_word2vec, _write(folder, name, data), header=header, limit=limit)
    if result is not None:
        words, vectors = result
        assert vectors.dtype == np.float32 and vectors.ndim == 2 and vectors.shape[0] == len(words)


@pytest.mark.parametrize("data,header", [(b"a 1 2\nb 3 4", False), (b"3 2\na 1 2\nb 3 4", True)])
def test_text_file_ending_without_a_newline_is_read_to_its_end(folder, data, header):
    # found by the fuzzer: the last line without a newline used to be read again and again, forever
    path = _write(folder, "nonl.txt", data)
    if header:
        with pytest.raises(W2VError, match="truncated: the header says 3 vectors, found 2"):
            store.read_word2vec(path)
    else:
        words, vectors = store.read_word2vec(path, header=False)
        assert words == ["a", "b"] and vectors.tolist() == [[1, 2], [3, 4]]


@FUZZ
@given(data=_damaged(b"the\t10\nbe\t7\nstra\xc3\x9fe\t3\n"))
def test_read_vocab(folder, data):
    result = _survives(store.read_vocab, _write(folder, "vocab.tsv", data))
    if result is not None:
        words, counts = result
        assert len(words) == len(counts) and (counts >= 0).all()


def _npy_bytes():
    buffer = io.BytesIO()
    np.save(buffer, np.arange(12, dtype=np.float32).reshape(3, 4), allow_pickle=False)
    return buffer.getvalue()


@FUZZ
@given(data=_damaged(_npy_bytes()), mmap=st.booleans())
def test_load_npy(folder, data, mmap):
    array = _survives(store.load_npy, _write(folder, "vectors.npy", data), mmap=mmap)
    assert array is None or isinstance(array, np.ndarray)
    del array  # release the memory map before the next example rewrites the file


_CONFIG = b"model:\n  vector_size: 50\n  arch: cbow\ntrain:\n  alpha: 0.05\n  epochs: 3\noutput:\n  formats: [npy]\n"


@FUZZ
@given(data=_damaged(_CONFIG))
def test_load_yaml_and_from_dict(folder, data):
    loaded = _survives(config.load_yaml, _write(folder, "config.yaml", data))
    _survives(config.from_dict, loaded)


@FUZZ
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                       st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
       key=st.sampled_from(config._all_keys()))
def test_from_dict_with_any_value_for_any_key(key, value):
    section, name = key.split(".")
    _survives(config.from_dict, {section: {name: value}})


@FUZZ
@given(text=st.text(max_size=30), key=st.sampled_from(config._all_keys()))
def test_set_assignment_with_any_value(text, key):
    _survives(config.resolve, None, [f"{key}={text}"])


def _checkpoint_bytes():
    buffer = io.BytesIO()
    np.savez(buffer, w_in=np.ones((2, 3), np.float32), meta=np.frombuffer(b'{"version": 1}', np.uint8))
    return buffer.getvalue()


@FUZZ
@given(data=_damaged(_checkpoint_bytes()))
def test_load_checkpoint(folder, data):
    _survives(checkpoint.load_checkpoint, _write(folder, modeldir.CHECKPOINT, data))


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(["meta", "w_in", "x"]), st.binary(max_size=40), max_size=3))
def test_load_checkpoint_with_any_members(folder, payload):
    """A well-formed zip whose members are not what a checkpoint holds."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in payload.items():
            archive.writestr(name + ".npy", data)
    _survives(checkpoint.load_checkpoint, _write(folder, modeldir.CHECKPOINT, buffer.getvalue()))


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=200).map(str.encode)),
       name=st.sampled_from(["c.txt", "c.txt.gz", "c.txt.bz2", "c.txt.xz"]))
def test_corpus_scan(folder, data, name):
    path = _write(folder, name, data)
    workdir = os.path.join(folder, "work")
    os.makedirs(workdir, exist_ok=True)
    result = _survives(corpus.scan, [path], workdir, False, 7)
    if result is not None:
        assert len(result.counts) == len(result.words)
        assert int(result.counts.sum()) == result.n_tokens
