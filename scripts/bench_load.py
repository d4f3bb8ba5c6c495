"""Benchmark loading a GoogleNews-sized word2vec binary (3M × 300 float32, about 3.6 GB).

    .venv/bin/python scripts/bench_load.py [--words 3000000] [--dim 300] [--dir /tmp] [--gensim]

Writes a file of random vectors, times `store.read_word2vec` on all of it and with
`limit=100000` (what `--limit 100000` does), then `vectors.load` (which also builds the
word index), prints the figures and deletes the file. The file was just written, so it
is in the page cache: the figures measure parsing, not the disk. `--gensim` also times
gensim's `load_word2vec_format` when gensim is importable.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from word2vec import store
from word2vec.query import vectors  # noqa: E402

BLOCK = 50_000  # rows generated and written at a time


def write_file(path, n_words, dim, seed=0):
    """A word2vec binary of `n_words` random float32 vectors; words `w0`, `w1`, … (GoogleNews-like lengths)."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as handle:
        handle.write(f"{n_words} {dim}\n".encode())
        for start in range(0, n_words, BLOCK):
            rows = min(BLOCK, n_words - start)
            block = rng.standard_normal((rows, dim), dtype=np.float32).tobytes()
            size = 4 * dim
            handle.write(b"".join(
                b"%s_w%d %s\n" % (b"word" * (1 + i % 3), start + i, block[i * size : (i + 1) * size])
                for i in range(rows)))


def peak_memory_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def timed(label, func):
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s   (peak memory so far {peak_memory_gb():.1f} GB)", flush=True)
    return result, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=3_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="Where to write the file.")
    parser.add_argument("--gensim", action="store_true", help="Also time gensim's loader.")
    args = parser.parse_args()

    expected = args.words * (4 * args.dim + 16)
    free = shutil.disk_usage(args.dir).free
    if free < 1.5 * expected:
        sys.exit(f"{args.dir} has {free / 1e9:.1f} GB free, the file needs about {expected / 1e9:.1f} GB; "
                 "use --dir elsewhere or fewer --words and extrapolate")
    fd, path = tempfile.mkstemp(prefix="bench-load-", suffix=".bin", dir=args.dir)
    os.close(fd)
    try:
        _, seconds = timed(f"write {args.words:,} × {args.dim}", lambda: write_file(path, args.words, args.dim))
        size = os.path.getsize(path)
        print(f"file: {size / 1e9:.2f} GB ({size / seconds / 1e6:.0f} MB/s written)")
        timed(f"read_word2vec, limit={args.limit:,}", lambda: store.read_word2vec(path, limit=args.limit))
        for attempt in ("first", "second"):  # the first one also pays for the page faults of a new 3.6 GB array
            (words, table), seconds = timed(f"read_word2vec, all ({attempt} run)", lambda: store.read_word2vec(path))
            assert len(words) == args.words and table.shape == (args.words, args.dim)
            print(f"  {size / seconds / 1e6:.0f} MB/s, {args.words / seconds / 1e6:.2f} M vectors/s")
            del words, table
        timed("vectors.load (also builds the word index), all", lambda: vectors.load(path))
        if args.gensim:
            time_gensim(path, args.limit)
    finally:
        os.unlink(path)


def time_gensim(path, limit):
    try:
        from gensim.models import KeyedVectors
    except ImportError:
        print("gensim is not importable here; skipped")
        return
    timed(f"gensim load_word2vec_format, limit={limit:,}",
          lambda: KeyedVectors.load_word2vec_format(path, binary=True, limit=limit))
    timed("gensim load_word2vec_format, all", lambda: KeyedVectors.load_word2vec_format(path, binary=True))


if __name__ == "__main__":
    main()
