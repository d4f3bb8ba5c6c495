#!/usr/bin/env python3
"""Benchmark w2v against gensim, side by side, in one run.

Both programs train the same skip-gram model (negative 5, window 5, 100 dims,
sample 1e-4, min_count 5) on the shared text8 prefix, each run as a whole
separate process: the wall time and peak RSS cover everything the command
does (vocabulary, training, saving).  The programs alternate within each
repeat and the table reports medians.  Models of the 5-epoch runs are scored
by one evaluator for both: gensim's `evaluate_word_analogies` (restricted to
the 30,000 most frequent words) and `evaluate_word_pairs` on WordSim-353.

gensim is installed only into the benchmark venv (default `.bench-venv/` in
the repository root), never as a project dependency.  w2v runs from this
checkout (`python -m word2vec` with the repository root on PYTHONPATH).

    python3 scripts/bench.py                 # full grid, 3 repeats (creates .bench-venv/)
    python3 scripts/bench.py --quick         # 1 repeat, 5 epochs x 2 threads (+ the 4x corpus)
    python3 scripts/bench.py --python /path/to/python-with-gensim-and-numba --epochs 5 --threads 2
    python3 scripts/bench.py --output bench.md
    python3 scripts/bench.py --quick --subwords --no-4x   # the fastText model: w2v against gensim's FastText

The driver needs only the standard library; the table goes to stdout (and to
--output), progress to stderr.
"""

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_VENV = REPO / ".bench-venv"
CORPUS_GZ = "text8-prefix.gz"
QUESTIONS = "questions-words.txt"
WORDSIM = "wordsim353.tsv"
LINE_TOKENS = 1000  # w2v cuts sentences at 1000 tokens; gensim gets the same cut as lines

# The settings both programs train with.
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, seed=1)
# --subwords adds fastText's n-grams: w2v's model.minn/maxn/buckets against gensim's FastText.
SUBWORDS = dict(min_n=3, max_n=6, bucket=2_000_000)

# Runs a command, reports its wall time and peak RSS as one JSON line.  It is a
# fresh process per measurement, so RUSAGE_CHILDREN holds the one child only.
WRAPPER = r"""
import json, resource, subprocess, sys, time
log = open(sys.argv[1], "wb")
start = time.perf_counter()
code = subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
print(json.dumps({"code": code, "wall": wall, "rss_mb": rss, "cpu": usage.ru_utime + usage.ru_stime}))
"""

GENSIM_TRAIN = r"""
import json, sys
from gensim.models import FastText, Word2Vec
from gensim.models.word2vec import LineSentence

mode, corpus, out, epochs, workers, settings = sys.argv[1:7]
s = json.loads(settings)
kwargs = dict(vector_size=s["vector_size"], window=s["window"], min_count=s["min_count"], sg=1, hs=0,
              negative=s["negative"], sample=s["sample"], epochs=int(epochs), workers=int(workers),
              seed=s["seed"])
model_class = Word2Vec
if s.get("max_n"):
    model_class = FastText
    kwargs.update(min_n=s["min_n"], max_n=s["max_n"], bucket=s["bucket"])
if mode == "corpus_file":
    model = model_class(corpus_file=corpus, **kwargs)
else:
    model = model_class(sentences=LineSentence(corpus), **kwargs)
model.wv.save_word2vec_format(out, binary=True)
"""

EVALUATE = r"""
import json, logging, os, sys
import numpy as np
from gensim.models import KeyedVectors

logging.disable(logging.WARNING)
kind, path, questions, wordsim = sys.argv[1:5]
if kind == "gensim":
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
else:
    vectors = np.load(os.path.join(path, "vectors.npy"))
    with open(os.path.join(path, "vocab.tsv"), encoding="utf-8", errors="surrogateescape") as handle:
        words = [line.rstrip("\n").split("\t")[0] for line in handle if line.strip("\n")]
    if len(words) != len(vectors):
        sys.exit(f"{path}: {len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
analogy, _ = kv.evaluate_word_analogies(questions, restrict_vocab=30000)
pearson, spearman, oov = kv.evaluate_word_pairs(wordsim)
print(json.dumps({"analogy": float(analogy), "spearman": float(spearman[0]), "oov": float(oov),
                  "words": len(kv)}))
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", metavar="PATH",
                   help="use this interpreter (must import gensim and w2v's dependencies) "
                        "instead of creating the benchmark venv")
    p.add_argument("--venv", metavar="DIR", default=str(DEFAULT_VENV),
                   help="benchmark venv to create or reuse (default: .bench-venv/ in the repository root)")
    p.add_argument("--data", metavar="DIR", default=str(DEFAULT_DATA),
                   help="shared data directory (default: ../shared/data beside the repository)")
    p.add_argument("--epochs", type=int, nargs="+", metavar="E", help="epochs to run (default: 1 5)")
    p.add_argument("--threads", type=int, nargs="+", metavar="T", help="threads to run (default: 1 2)")
    p.add_argument("--repeats", type=int, metavar="N",
                   help="repeats of the grid (default 3); also the repeats of the 4x corpus (default 1)")
    p.add_argument("--quick", action="store_true", help="one repeat, 5 epochs with 2 threads only")
    p.add_argument("--no-4x", dest="four_x", action="store_false", help="skip the 4x-corpus runs")
    p.add_argument("--no-eval", dest="evaluate", action="store_false", help="skip the quality evaluation")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="skip the untimed warm-up run of each program (numba cache, file cache)")
    p.add_argument("--gensim-mode", choices=("corpus_file", "iterable"), default="corpus_file",
                   help="gensim input: corpus_file (its fastest) or a LineSentence iterable")
    p.add_argument("--subwords", action="store_true",
                   help="train fastText's subword model (minn 3, maxn 6, 2M buckets): w2v against gensim's FastText")
    p.add_argument("--output", metavar="FILE", help="also write the Markdown table here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (models, logs)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = args.epochs or [5]
        args.threads = args.threads or [2]
        args.repeats = args.repeats or 1
    args.epochs = args.epochs or [1, 5]
    args.threads = args.threads or [1, 2]
    args.repeats_4x = args.repeats or 1
    args.repeats = args.repeats or 3
    for name in ("epochs", "threads"):
        if any(v < 1 for v in getattr(args, name)):
            p.error(f"--{name} values must be at least 1")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


# --------------------------------------------------------------------------- environment

def venv_python(venv):
    venv = Path(venv)
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return venv / "bin" / "python"


def can_import(python, env):
    probe = "import gensim, numba, numpy, click, tqdm, yaml, word2vec.cli"
    result = subprocess.run([str(python), "-c", probe], env=env, capture_output=True, text=True)
    return result.returncode == 0, result.stderr.strip().splitlines()[-1:] or [""]


def setup_python(args, env):
    """The interpreter that runs both programs; creates and fills the venv when needed."""
    if args.python:
        python = Path(args.python)
        ok, error = can_import(python, env)
        if not ok:
            sys.exit(f"bench: {python} cannot import gensim and w2v's dependencies: {error[0]}")
        return python
    python = venv_python(args.venv)
    if not python.exists():
        log(f"creating the benchmark venv {args.venv}")
        subprocess.run([sys.executable, "-m", "venv", args.venv], check=True)
        python = venv_python(args.venv)
    ok, _ = can_import(python, env)
    if not ok:
        log(f"installing w2v (editable) and gensim into {args.venv}")
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(pip + ["--upgrade", "pip"], check=True, stdout=sys.stderr)
        subprocess.run(pip + ["-e", str(REPO), "gensim"], check=True, stdout=sys.stderr)
        ok, error = can_import(python, env)
        if not ok:
            sys.exit(f"bench: the benchmark venv still cannot import everything: {error[0]}")
    return python


def versions(python, env):
    code = ("import sys, gensim, numba, numpy; "
            "print(sys.version.split()[0], gensim.__version__, numba.__version__, numpy.__version__)")
    out = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, check=True)
    return dict(zip(("python", "gensim", "numba", "numpy"), out.stdout.split()))


# --------------------------------------------------------------------------- inputs

def write_lines(path, tokens, copies=1):
    with open(path, "wb") as handle:
        for _ in range(copies):
            for start in range(0, len(tokens), LINE_TOKENS):
                handle.write(b" ".join(tokens[start:start + LINE_TOKENS]))
                handle.write(b"\n")


def prepare_inputs(data, tmp, four_x):
    """Corpus files for both programs; returns a dict name -> (w2v path, gensim path, tokens)."""
    with gzip.open(data / CORPUS_GZ, "rb") as handle:
        tokens = handle.read().split()
    lines = tmp / "text8-lines.txt"
    write_lines(lines, tokens)
    corpora = {"1x": (data / CORPUS_GZ, lines, len(tokens))}
    if four_x:
        lines4 = tmp / "text8-lines-4x.txt"
        write_lines(lines4, tokens, copies=4)
        corpora["4x"] = (lines4, lines4, 4 * len(tokens))
    small = tmp / "warmup.txt"
    write_lines(small, tokens[:50_000])
    corpora["warmup"] = (small, small, 50_000)
    return corpora


# --------------------------------------------------------------------------- runs

class Runner:
    def __init__(self, python, env, tmp, gensim_mode, data):
        self.python, self.env, self.tmp, self.gensim_mode, self.data = python, env, tmp, gensim_mode, data
        self.count = 0
        (tmp / "gensim_train.py").write_text(GENSIM_TRAIN)
        (tmp / "evaluate.py").write_text(EVALUATE)

    def command(self, program, corpus, epochs, threads, out):
        if program == "w2v":
            s = SETTINGS
            sets = {"model.arch": "skipgram", "model.loss": "neg", "model.vector_size": s["vector_size"],
                    "model.window": s["window"], "model.negative": s["negative"],
                    "vocab.min_count": s["min_count"], "vocab.sample": s["sample"],
                    "train.epochs": epochs, "train.threads": threads, "train.seed": s["seed"],
                    "output.formats": "[npy]"}
            if s.get("max_n"):
                sets.update({"model.minn": s["min_n"], "model.maxn": s["max_n"], "model.buckets": s["bucket"]})
            cmd = [str(self.python), "-m", "word2vec", "train", str(corpus), "--quiet", "--output", str(out)]
            for key, value in sets.items():
                cmd += ["--set", f"{key}={value}"]
            return cmd
        return [str(self.python), str(self.tmp / "gensim_train.py"), self.gensim_mode, str(corpus), str(out),
                str(epochs), str(threads), json.dumps(SETTINGS)]

    def run(self, program, corpus, epochs, threads):
        """One timed run; returns (measurement dict, model path)."""
        self.count += 1
        out = self.tmp / f"run{self.count:03d}-{program}" / ("model" if program == "w2v" else "vectors.bin")
        out.parent.mkdir()
        logfile = out.parent / "log.txt"
        cmd = [sys.executable, "-c", WRAPPER, str(logfile)] + self.command(program, corpus, epochs, threads, out)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if result.returncode != 0 or not result.stdout.strip():
            sys.exit(f"bench: the wrapper failed:\n{result.stderr}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        measured["load"] = load
        if measured["code"] != 0:
            tail = logfile.read_text(errors="replace").strip().splitlines()[-15:]
            sys.exit(f"bench: {program} exited with {measured['code']}:\n  " + "\n  ".join(tail))
        return measured, out

    def evaluate(self, program, model):
        cmd = [str(self.python), str(self.tmp / "evaluate.py"), program, str(model),
               str(self.data / QUESTIONS), str(self.data / WORDSIM)]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench: evaluating {model} failed:\n{result.stderr[-2000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def discard(model):
    """Delete a model once measured (the run's log stays beside it)."""
    if model.is_dir():
        shutil.rmtree(model, ignore_errors=True)
    elif model.exists():
        model.unlink()


def run_all(args, runner, corpora):
    programs = ("w2v", "gensim")
    grid = [(e, t) for e in args.epochs for t in args.threads]
    results = {}  # (epochs, threads, corpus, program) -> list of measurement dicts

    if args.warmup:
        log("warm-up (untimed): one small run of each program")
        for program in programs:
            _, model = runner.run(program, corpora["warmup"][0 if program == "w2v" else 1], 1, 1)
            discard(model)

    total = args.repeats * len(grid) * 2
    done = 0
    for repeat in range(1, args.repeats + 1):
        for epochs, threads in grid:
            for program in programs:
                done += 1
                w2v_path, gensim_path, _ = corpora["1x"]
                measured, model = runner.run(program, w2v_path if program == "w2v" else gensim_path,
                                             epochs, threads)
                note = ""
                if args.evaluate and epochs == 5:
                    measured.update(runner.evaluate(program, model))
                    note = f", analogy {100 * measured['analogy']:.1f}%, ws353 {measured['spearman']:.3f}"
                discard(model)
                results.setdefault((epochs, threads, "1x", program), []).append(measured)
                log(f"[{done}/{total}] repeat {repeat}: {program:6s} epochs {epochs} threads {threads}: "
                    f"{measured['wall']:.1f}s (CPU {measured['cpu']:.1f}s), {measured['rss_mb']:.0f} MB{note}")

    four_x = None
    if "4x" in corpora:
        four_x = (5, 2) if (5, 2) in grid else grid[-1]
        epochs, threads = four_x
        for repeat in range(1, args.repeats_4x + 1):
            for program in programs:
                w2v_path, gensim_path, _ = corpora["4x"]
                measured, model = runner.run(program, w2v_path if program == "w2v" else gensim_path,
                                             epochs, threads)
                discard(model)
                results.setdefault((epochs, threads, "4x", program), []).append(measured)
                log(f"[4x {repeat}/{args.repeats_4x}] {program:6s} epochs {epochs} threads {threads}: "
                    f"{measured['wall']:.1f}s (CPU {measured['cpu']:.1f}s), {measured['rss_mb']:.0f} MB")
    return grid, results, four_x


# --------------------------------------------------------------------------- report

def median_of(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def format_table(args, grid, results, four_x, corpora, info):
    head = ["epochs", "threads", "corpus", "program", "wall s (median; min–max)", "words/s",
            "gensim/w2v wall", "CPU s", "peak RSS MB", "analogy %", "WS353 ρ"]
    rows = []
    keys = [(e, t, "1x") for e, t in grid]
    if four_x:
        keys.append((*four_x, "4x"))
    for epochs, threads, corpus in keys:
        tokens = corpora[corpus][2]
        walls = {p: median_of(results[(epochs, threads, corpus, p)], "wall") for p in ("w2v", "gensim")}
        for program in ("w2v", "gensim"):
            runs = results[(epochs, threads, corpus, program)]
            wall = walls[program]
            analogy, rho = median_of(runs, "analogy"), median_of(runs, "spearman")
            lo, hi = min(r["wall"] for r in runs), max(r["wall"] for r in runs)
            spread = f" ({lo:.1f}–{hi:.1f})" if len(runs) > 1 else ""
            rows.append([str(epochs), str(threads), corpus, program, f"{wall:.1f}{spread}",
                         f"{tokens * epochs / wall / 1e3:,.0f}k",
                         f"{walls['gensim'] / walls['w2v']:.2f}" if program == "w2v" else "",
                         f"{median_of(runs, 'cpu'):.1f}",
                         f"{median_of(runs, 'rss_mb'):.0f}",
                         f"{100 * analogy:.1f}" if analogy is not None else "–",
                         f"{rho:.3f}" if rho is not None else "–"])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    if four_x:
        epochs, threads = four_x
        ratios = []
        for program in ("w2v", "gensim"):
            base = median_of(results[(epochs, threads, "1x", program)], "wall")
            big = median_of(results[(epochs, threads, "4x", program)], "wall")
            cpu = (median_of(results[(epochs, threads, "4x", program)], "cpu")
                   / median_of(results[(epochs, threads, "1x", program)], "cpu"))
            ratios.append(f"{program} {big / base:.2f} (CPU time {cpu:.2f})")
        lines.append(f"4× corpus ({epochs} epoch(s), {threads} thread(s)): wall time 4×/1× — "
                     + ", ".join(ratios) + " (4.00 = linear; min_count applies to the 4× counts, "
                     "so the vocabulary is larger).")
    loads = [r["load"] for runs in results.values() for r in runs if r.get("load") is not None]
    load_note = (f" 1-minute load average before the runs: median {statistics.median(loads):.1f}, "
                 f"max {max(loads):.1f} (other work on the machine inflates wall times)." if loads else "")
    lines.append(
        f"Settings: skip-gram, negative {SETTINGS['negative']}, window {SETTINGS['window']}, "
        f"{SETTINGS['vector_size']} dims, sample {SETTINGS['sample']:g}, min_count {SETTINGS['min_count']}"
        + (f", subwords minn {SUBWORDS['min_n']} maxn {SUBWORDS['max_n']} buckets {SUBWORDS['bucket']:,} "
           "(gensim: FastText)" if args.subwords else "") + "; "
        f"corpus text8 prefix, {corpora['1x'][2]:,} tokens (w2v reads the .gz, gensim "
        f"{args.gensim_mode} on {LINE_TOKENS}-token lines"
        + ("; 4×: both read the same text file" if four_x else "") + "). "
        f"Wall time, CPU time (user+sys) and peak RSS of the whole process; medians of {args.repeats} repeat(s)"
        + (f" ({args.repeats_4x} for 4×)" if four_x else "") + "; ratio > 1 means w2v is faster. "
        + ("Quality (5-epoch runs): gensim's evaluate_word_analogies (restrict_vocab=30000) and "
           "evaluate_word_pairs (Spearman) for both. " if args.evaluate else "")
        + f"Warm-up run of each program before timing: {'yes' if args.warmup else 'no'}. "
        f"python {info['python']}, gensim {info['gensim']}, numba {info['numba']}, numpy {info['numpy']}, "
        f"{os.cpu_count()} CPUs." + load_note)
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    if args.subwords:
        SETTINGS.update(SUBWORDS)
    data = Path(args.data).resolve()
    for name in (CORPUS_GZ, QUESTIONS, WORDSIM):
        if not (data / name).is_file():
            sys.exit(f"bench: {data / name} not found (use --data DIR)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONWARNINGS"] = "ignore"
    python = setup_python(args, env)
    info = versions(python, env)
    log(f"interpreter {python} (python {info['python']}, gensim {info['gensim']}, numba {info['numba']})")

    tmp = Path(tempfile.mkdtemp(prefix="w2v-bench-"))
    try:
        log("preparing inputs")
        corpora = prepare_inputs(data, tmp, args.four_x)
        runner = Runner(python, env, tmp, args.gensim_mode, data)
        started = time.perf_counter()
        grid, results, four_x = run_all(args, runner, corpora)
        log(f"done in {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    table = format_table(args, grid, results, four_x, corpora, info)
    sys.stdout.write(table)
    if args.output:
        Path(args.output).write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
