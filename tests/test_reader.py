"""Reading the corpus in a forked child: the same Corpus, the same errors, and a child that can be stopped."""

import errno
import os
import time

import numpy as np
import pytest

from word2vec import config as config_mod
from word2vec.errors import DataError, W2VError
from word2vec.text import corpus
from word2vec.training import encoded, reader

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def test_the_child_reads_what_this_process_would(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("the cat sat on the mat\nthe dog sat\n\nthe end été\n" * 30)
    config = config_mod.resolve(None, ["vocab.min_count=2"])
    with corpus.make_workdir() as here, corpus.make_workdir() as there:
        expected = encoded.read_corpus([str(path)], config, here)
        got = reader.start(lambda: encoded.read_corpus([str(path)], config, there), encoded.Corpus).result()
        assert got.vocab.words == expected.vocab.words and "été" in got.vocab.words
        np.testing.assert_array_equal(got.vocab.counts, expected.vocab.counts)
        np.testing.assert_array_equal(got.ids, expected.ids)
        np.testing.assert_array_equal(got.ends, expected.ends)
        assert (got.raw_tokens, got.bad_bytes) == (expected.raw_tokens, expected.bad_bytes)
        assert not got.ids.flags.writeable


def _fail(exc):
    def read():
        raise exc
    return read


@pytest.mark.parametrize("exc", [DataError("the corpus is empty: no tokens were found"),
                                 OSError(errno.ENOSPC, "No space left on device", "/tmp/x"),
                                 ValueError("odd")])
def test_errors_in_the_child_come_back(tmp_path, exc):
    pending = reader.start(_fail(exc), encoded.Corpus)
    with pytest.raises((DataError, OSError, W2VError)) as raised:
        pending.result()
    if isinstance(exc, OSError):
        assert raised.type is OSError and raised.value.errno == errno.ENOSPC and raised.value.filename == "/tmp/x"
    elif isinstance(exc, DataError):
        assert raised.type is DataError and str(raised.value) == str(exc)
    else:
        assert raised.type is W2VError and "ValueError: odd" in str(raised.value)


def test_cancel_stops_a_child_that_is_still_reading(tmp_path):
    pending = reader.start(lambda: time.sleep(60), encoded.Corpus)
    pid, started = pending.pid, time.monotonic()
    os.kill(pid, 0)  # running
    pending.cancel()
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):  # gone, and collected
        os.kill(pid, 0)
