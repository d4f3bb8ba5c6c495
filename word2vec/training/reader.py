"""Read and encode the corpus in a child process while this one loads numba and the kernel.

Reading the text8 prefix takes about as long as importing numba and loading the cached
kernel (half a second each), and both hold the GIL, so threads cannot overlap them. A forked
child can: it runs `read()`, which leaves the encoded ids and sentence ends in the run's
temporary folder as always, and sends the vocabulary back through a pipe (so a full disk is
reported as it would be here). The parent maps the same id files.

An error in the child (a bad corpus, a full disk) comes back as the same exception with the
same message. Where fork is unavailable, `start` reads in this process instead.
"""

import json
import os
import signal

import numpy as np

from ..errors import W2VError
from ..text import vocab as vocab_mod


class Finished:
    """A read that already happened in this process."""

    def __init__(self, result):
        self.value = result

    def result(self):
        return self.value

    def cancel(self):
        pass


class Forked:
    """A read running in a child process; `result()` waits for it and returns its Corpus."""

    def __init__(self, pid, pipe, make_corpus):
        self.pid, self.pipe, self.make_corpus = pid, pipe, make_corpus

    def result(self):
        message = _read_all(self.pipe)  # to the end first: the child blocks on a full pipe
        os.close(self.pipe)
        self.pipe = None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        header, _, body = message.partition(b"\n")
        if not header:  # killed before it could say anything
            raise W2VError(f"reading the corpus stopped ({_describe(status)})")
        outcome = json.loads(header)
        if "error" in outcome:
            raise _rebuild_error(outcome["error"])
        words_end = outcome["words_bytes"]
        words = body[:words_end].decode("utf-8").split("\n") if outcome["n_words"] else []
        counts = np.frombuffer(body[words_end:], dtype=np.int64).copy()
        return self.make_corpus(vocab_mod.Vocab(words, counts), _map(outcome["ids"]), _map(outcome["ends"]),
                                outcome["raw_tokens"], outcome["bad_bytes"])

    def cancel(self):
        """Stop the child (an interrupted or failed run) and collect it."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None


def start(read, make_corpus):
    """Run `read()`, which returns a Corpus with memory-mapped ids and ends, in a child process.

    `make_corpus(vocab, ids, ends, raw_tokens, bad_bytes)` rebuilds it here.
    """
    if not hasattr(os, "fork"):
        return Finished(read())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return Forked(pid, read_end, make_corpus)
    os.close(read_end)
    _child(read, write_end)  # never returns


def _child(read, pipe):
    for signum in (signal.SIGINT, signal.SIGTERM):  # the parent handles interrupts and stops the child
        signal.signal(signum, signal.SIG_DFL)
    code, body = 1, b""
    try:
        corpus = read()
        words = "\n".join(corpus.vocab.words).encode("utf-8")
        body = words + np.asarray(corpus.vocab.counts, dtype=np.int64).tobytes()
        outcome = {"ids": _describe_map(corpus.ids), "ends": _describe_map(corpus.ends), "words_bytes": len(words),
                   "raw_tokens": corpus.raw_tokens, "bad_bytes": corpus.bad_bytes, "n_words": len(corpus.vocab)}
        code = 0
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = {"error": _describe_error(exc)}
    try:
        message = memoryview(json.dumps(outcome).encode("utf-8") + b"\n" + body)
        while message:
            message = message[os.write(pipe, message):]
    except BaseException:  # noqa: BLE001 - the parent sees a silent child as a stopped read
        code = 1
    finally:
        os._exit(code)


def _read_all(fd):
    parts = []
    while True:
        part = os.read(fd, 1 << 20)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _describe_map(array):
    """Where a memory-mapped result lives (or its values, for the empty arrays that are not maps)."""
    filename = getattr(array, "filename", None)
    if filename is None:
        return {"values": np.asarray(array).tolist(), "dtype": array.dtype.str}
    return {"path": filename, "dtype": array.dtype.str, "count": len(array)}


def _map(described):
    if "values" in described:
        array = np.array(described["values"], dtype=described["dtype"])
        array.setflags(write=False)
        return array
    return np.memmap(described["path"], dtype=described["dtype"], mode="r", shape=(described["count"],))


def _describe_error(exc):
    if isinstance(exc, OSError):
        return {"kind": "OSError", "errno": exc.errno, "strerror": exc.strerror, "filename": exc.filename,
                "message": str(exc)}
    if isinstance(exc, W2VError):
        return {"kind": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, KeyboardInterrupt):
        return {"kind": "KeyboardInterrupt", "message": ""}
    return {"kind": "W2VError", "message": f"reading the corpus failed: {type(exc).__name__}: {exc}"}


def _rebuild_error(error):
    from .. import errors

    kind = error["kind"]
    if kind == "OSError":
        if error["errno"] is None:
            return OSError(error["message"])
        return OSError(error["errno"], error["strerror"], error["filename"])
    if kind == "KeyboardInterrupt":
        return KeyboardInterrupt()
    cls = {"ConfigError": errors.ConfigError, "DataError": errors.DataError}.get(kind, W2VError)
    return cls(error["message"])


def _describe(status):
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"
