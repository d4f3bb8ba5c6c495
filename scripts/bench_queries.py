#!/usr/bin/env python3
"""Benchmark `w2v similar` on a big synthetic model directory: first-query and per-query latency.

Writes a model directory of random float32 vectors (default 1M words x 300 dimensions, 1.2 GB)
and a vocab.tsv into a temporary folder, then measures, each as a separate `w2v similar` process:

- first query: the wall time of `w2v similar w0 --model DIR` as a whole (start, load, normalize,
  answer), median of a few runs;
- further queries: one process reading queries from a pipe; each query is written only after
  the previous answer has arrived, and timed from the write to its last output line.

Targets (issue 4): first query under 2 s, each further query under 50 ms. The figures go to
stdout; nothing is asserted (this is a benchmark, not a test).

    .venv/bin/python scripts/bench_queries.py
    .venv/bin/python scripts/bench_queries.py --words 200000 --dims 100 --queries 50
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIRST_TARGET, NEXT_TARGET = 2.0, 0.050
_WRITE_ROWS = 1 << 16  # rows generated at a time, to keep the float temporaries small


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--words", type=int, default=1_000_000, help="vocabulary size (default 1,000,000)")
    p.add_argument("--dims", type=int, default=300, help="vector size (default 300)")
    p.add_argument("--queries", type=int, default=20, help="stdin queries after the first (default 20)")
    p.add_argument("--topn", type=int, default=10, help="neighbours per query (default 10)")
    p.add_argument("--runs", type=int, default=3, help="first-query runs; the median is reported (default 3)")
    p.add_argument("--python", default=None, help="interpreter running w2v (default: .venv/bin/python, "
                   "else this one)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def write_model(folder, words, dims, seed):
    """vectors.npy (standard normal float32) and vocab.tsv (w0, w1, … with falling counts)."""
    rng = np.random.default_rng(seed)
    vectors = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(words, dims))
    for start in range(0, words, _WRITE_ROWS):
        stop = min(start + _WRITE_ROWS, words)
        vectors[start:stop] = rng.standard_normal((stop - start, dims), dtype=np.float32)
    vectors.flush()
    del vectors
    with open(folder / "vocab.tsv", "w", encoding="utf-8") as handle:
        handle.writelines(f"w{i}\t{words - i + 4}\n" for i in range(words))


def w2v_command(python, model, *words, topn=10):
    return [python, "-m", "word2vec", "similar", *words, "--model", str(model), "-k", str(topn)]


def first_query_seconds(python, env, model, topn):
    """Wall time of one whole `w2v similar w0` process."""
    start = time.perf_counter()
    done = subprocess.run(w2v_command(python, model, "w0", topn=topn), env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or len(done.stdout.splitlines()) != topn:
        sys.exit(f"bench_queries: w2v similar failed ({done.returncode}): {done.stderr.strip()}")
    return seconds


def piped_query_seconds(python, env, model, queries, topn):
    """Seconds from writing each stdin query to reading its last answer line, in one process."""
    process = subprocess.Popen(w2v_command(python, model, topn=topn), env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    times = []
    try:
        for word in queries:
            start = time.perf_counter()
            process.stdin.write(word + "\n")
            process.stdin.flush()
            for _ in range(topn):
                if not process.stdout.readline():
                    sys.exit(f"bench_queries: w2v similar stopped: {process.stderr.read().strip()}")
            times.append(time.perf_counter() - start)
    finally:
        process.stdin.close()
        process.wait()
    return times


def default_python():
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def main(argv=None):
    args = parse_args(argv)
    python = args.python or default_python()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    tmp = Path(tempfile.mkdtemp(prefix="w2v-bench-queries-"))
    try:
        model = tmp / "model"
        model.mkdir()
        start = time.perf_counter()
        write_model(model, args.words, args.dims, args.seed)
        size_gb = (model / "vectors.npy").stat().st_size / 1e9
        print(f"model: {args.words:,} words x {args.dims} dims, vectors.npy {size_gb:.2f} GB "
              f"(written in {time.perf_counter() - start:.1f} s); python {python}")
        firsts = [first_query_seconds(python, env, model, args.topn) for _ in range(args.runs)]
        first = statistics.median(firsts)
        print(f"first query (whole process): median {first:.3f} s of {args.runs} runs "
              f"[{', '.join(f'{s:.3f}' for s in firsts)}]  target < {FIRST_TARGET:.0f} s: "
              f"{'ok' if first < FIRST_TARGET else 'MISSED'}")
        rng = np.random.default_rng(args.seed + 1)
        words = [f"w{i}" for i in rng.integers(0, args.words, args.queries + 1)]
        times = piped_query_seconds(python, env, model, words, args.topn)
        further = times[1:]
        print(f"stdin, first of {len(times)} queries (start + load + answer): {times[0]:.3f} s")
        print(f"stdin, each further query: median {statistics.median(further) * 1000:.1f} ms, "
              f"max {max(further) * 1000:.1f} ms over {len(further)}  target < {NEXT_TARGET * 1000:.0f} ms: "
              f"{'ok' if max(further) < NEXT_TARGET else 'MISSED'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
