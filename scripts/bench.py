#!/usr/bin/env python3
"""Benchmark w2v against gensim, side by side, in one run.

Both programs train the same skip-gram model (negative 5, window 5, 100 dims,
sample 1e-4, min_count 5) on the shared text8 prefix, each run as a whole
separate process: the wall time and peak RSS cover everything the command
does (vocabulary, training, saving).  The programs alternate within each
repeat and the table reports medians.  Models of the 5-epoch runs are scored
by one evaluator for both: gensim's `evaluate_word_analogies` (restricted to
the 30,000 most frequent words) and `evaluate_word_pairs` (Spearman) on WordSim-353,
MEN-3000 and MTurk-771; repeat r trains with seed r, so the quality columns give the
mean and standard deviation over seeds.  Both losses are measured: `neg` (negative 5)
and `hs` (gensim hs=1, negative=0).  The C tool (`word2vec` on PATH, built outside this
repository) joins the runs where it is installed; it has no seed option.

gensim is installed only into the benchmark venv (default `.bench-venv/` in
the repository root), never as a project dependency.  w2v runs from this
checkout (`python -m word2vec` with the repository root on PYTHONPATH).

    python3 scripts/bench.py                 # full grid, 3 repeats (creates .bench-venv/)
    python3 scripts/bench.py --quick         # 1 repeat, 5 epochs x 2 threads (+ the 4x corpus)
    python3 scripts/bench.py --epochs 1 5 --threads 2 --loss neg hs --repeats 3 --no-4x
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
PAIR_SETS = {"ws353": WORDSIM, "men": "men3000.tsv", "mturk": "mturk771.tsv"}
QUALITY = ("analogy", "semantic", "syntactic", "ws353", "men", "mturk")
PERCENT = ("analogy", "semantic", "syntactic")  # accuracies, shown in %
LINE_TOKENS = 1000  # w2v cuts sentences at 1000 tokens; gensim gets the same cut as lines

# The settings both programs train with.
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-4, min_count=5)
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

mode, corpus, out, epochs, workers, settings, loss, seed = sys.argv[1:9]
s = json.loads(settings)
hs = loss == "hs"
kwargs = dict(vector_size=s["vector_size"], window=s["window"], min_count=s["min_count"], sg=1, hs=int(hs),
              negative=0 if hs else s["negative"], sample=s["sample"], epochs=int(epochs),
              workers=int(workers), seed=int(seed))
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
kind, path, questions = sys.argv[1:4]
pair_sets = json.loads(sys.argv[4])
if kind != "w2v":
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
else:
    vectors = np.load(os.path.join(path, "vectors.npy"))
    with open(os.path.join(path, "vocab.tsv"), encoding="utf-8", errors="surrogateescape") as handle:
        words = [line.rstrip("\n").split("\t")[0] for line in handle if line.strip("\n")]
    if len(words) != len(vectors):
        sys.exit(f"{path}: {len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
analogy, sections = kv.evaluate_word_analogies(questions, restrict_vocab=30000)
result = {"analogy": float(analogy), "words": len(kv)}
for part, syntactic in (("semantic", False), ("syntactic", True)):
    chosen = [s for s in sections[:-1] if s["section"].startswith("gram") == syntactic]
    right, asked = sum(len(s["correct"]) for s in chosen), sum(len(s["correct"]) + len(s["incorrect"]) for s in chosen)
    result[part] = right / asked if asked else 0.0
for name, pairs in pair_sets.items():
    result[name] = float(kv.evaluate_word_pairs(pairs)[1][0])
print(json.dumps(result))
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
    p.add_argument("--loss", nargs="+", choices=("neg", "hs"), metavar="L",
                   help="losses to run: neg, hs (default: both)")
    p.add_argument("--repeats", type=int, metavar="N",
                   help="repeats of the grid (default 3); also the repeats of the 4x corpus (default 1)")
    p.add_argument("--quick", action="store_true", help="one repeat, 5 epochs with 2 threads, neg only")
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
        args.loss = args.loss or ["neg"]
    args.loss = args.loss or ["neg", "hs"]
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
    try:
        result = subprocess.run([str(python), "-c", probe], env=env, capture_output=True, text=True)
    except OSError as exc:  # no such interpreter, or not executable
        return False, [exc.strerror or str(exc)]
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

    def command(self, program, corpus, cell, seed, out):
        epochs, threads, loss = cell
        s = SETTINGS
        if program == "w2v":
            sets = {"model.arch": "skipgram", "model.loss": loss, "model.vector_size": s["vector_size"],
                    "model.window": s["window"], "model.negative": s["negative"],
                    "vocab.min_count": s["min_count"], "vocab.sample": s["sample"],
                    "train.epochs": epochs, "train.threads": threads, "train.seed": seed,
                    "output.formats": "[npy]"}
            if s.get("max_n"):
                sets.update({"model.minn": s["min_n"], "model.maxn": s["max_n"], "model.buckets": s["bucket"]})
            cmd = [str(self.python), "-m", "word2vec", "train", str(corpus), "--quiet", "--output", str(out)]
            for key, value in sets.items():
                cmd += ["--set", f"{key}={value}"]
            return cmd
        if program == "c":
            negative, hs = (0, 1) if loss == "hs" else (s["negative"], 0)
            return ["word2vec", "-train", str(corpus), "-output", str(out), "-cbow", "0",
                    "-size", str(s["vector_size"]), "-window", str(s["window"]), "-negative", str(negative),
                    "-hs", str(hs), "-sample", str(s["sample"]), "-min-count", str(s["min_count"]),
                    "-threads", str(threads), "-iter", str(epochs), "-binary", "1", "-alpha", "0.025"]
        return [str(self.python), str(self.tmp / "gensim_train.py"), self.gensim_mode, str(corpus), str(out),
                str(epochs), str(threads), json.dumps(SETTINGS), loss, str(seed)]

    def run(self, program, corpus, cell, seed):
        """One timed run; returns (measurement dict, model path)."""
        self.count += 1
        out = self.tmp / f"run{self.count:03d}-{program}" / ("model" if program == "w2v" else "vectors.bin")
        out.parent.mkdir()
        logfile = out.parent / "log.txt"
        cmd = [sys.executable, "-c", WRAPPER, str(logfile)] + self.command(program, corpus, cell, seed, out)
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
        pair_sets = {name: str(self.data / path) for name, path in PAIR_SETS.items()}
        cmd = [str(self.python), str(self.tmp / "evaluate.py"), program, str(model),
               str(self.data / QUESTIONS), json.dumps(pair_sets)]
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


def programs():
    """w2v and gensim, and the C tool where `word2vec` is on PATH."""
    return ("w2v", "gensim") + (("c",) if shutil.which("word2vec") else ())


def corpus_for(program, corpus):
    return corpus[0] if program == "w2v" else corpus[1]


def measure(args, runner, program, corpus, cell, seed):
    measured, model = runner.run(program, corpus_for(program, corpus), cell, seed)
    note = ""
    if args.evaluate and cell[0] == 5 and corpus is runner.main_corpus:
        measured.update(runner.evaluate(program, model))
        note = ", " + ", ".join(f"{q} {measured[q]:.3f}" for q in QUALITY)
    discard(model)
    log(f"{program:6s} epochs {cell[0]} threads {cell[1]} {cell[2]} seed {seed}: {measured['wall']:.1f}s "
        f"(CPU {measured['cpu']:.1f}s), {measured['rss_mb']:.0f} MB{note}")
    return measured


def run_all(args, runner, corpora):
    grid = [(e, t, loss) for loss in args.loss for e in args.epochs for t in args.threads]
    results = {}  # (epochs, threads, loss, corpus, program) -> list of measurement dicts
    runner.main_corpus = corpora["1x"]
    if args.warmup:
        log("warm-up (untimed): one small run of each program")
        for program in programs():
            for loss in args.loss:
                discard(runner.run(program, corpus_for(program, corpora["warmup"]), (1, 1, loss), 1)[1])
    for repeat in range(1, args.repeats + 1):
        log(f"repeat {repeat}/{args.repeats} (seed {repeat})")
        for cell in grid:
            for program in programs():
                measured = measure(args, runner, program, corpora["1x"], cell, repeat)
                results.setdefault((*cell, "1x", program), []).append(measured)
    four_x = None
    if "4x" in corpora:
        four_x = (5, 2, args.loss[0]) if (5, 2, args.loss[0]) in grid else grid[-1]
        for repeat in range(1, args.repeats_4x + 1):
            for program in programs():
                measured = measure(args, runner, program, corpora["4x"], four_x, repeat)
                results.setdefault((*four_x, "4x", program), []).append(measured)
    return grid, results, four_x


# --------------------------------------------------------------------------- report

def median_of(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def mean_sd(runs, key, scale=1.0, digits=3):
    """Mean ± standard deviation over the runs (seeds) that have `key`, or – when none."""
    values = [r[key] * scale for r in runs if key in r]
    if not values:
        return "–"
    sd = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.{digits}f}{sd}"


def table_row(key, runs, walls, tokens):
    epochs, threads, loss, corpus, program = key
    wall = walls[program]
    lo, hi = min(r["wall"] for r in runs), max(r["wall"] for r in runs)
    spread = f" ({lo:.1f}–{hi:.1f})" if len(runs) > 1 else ""
    ratio = f"{walls['gensim'] / wall:.2f}" if program != "gensim" else ""
    return [str(epochs), str(threads), loss, corpus, program, f"{wall:.1f}{spread}",
            f"{tokens * epochs / wall / 1e3:,.0f}k", ratio, f"{median_of(runs, 'cpu'):.1f}",
            f"{median_of(runs, 'rss_mb'):.0f}"] + [mean_sd(runs, q, 100, 2) for q in PERCENT] + \
        [mean_sd(runs, q) for q in QUALITY[len(PERCENT):]]


def format_table(args, grid, results, four_x, corpora, info):
    head = ["epochs", "threads", "loss", "corpus", "program", "wall s (median; min–max)", "words/s",
            "gensim/program wall", "CPU s", "peak RSS MB", "analogy %", "semantic %", "syntactic %", "WS-353 ρ",
            "MEN ρ", "MTurk ρ"]
    rows = []
    cells = [(*cell, "1x") for cell in grid] + ([(*four_x, "4x")] if four_x else [])
    for cell in cells:
        present = [p for p in programs() if (*cell, p) in results]
        walls = {p: median_of(results[(*cell, p)], "wall") for p in present}
        for program in present:
            rows.append(table_row((*cell, program), results[(*cell, program)], walls, corpora[cell[3]][2]))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    if four_x:
        lines.append(four_x_note(results, four_x))
    lines.append(settings_note(args, results, corpora, info, four_x))
    return "\n".join(lines) + "\n"


def four_x_note(results, four_x):
    ratios = []
    for program in programs():
        base, big = results.get((*four_x, "1x", program)), results.get((*four_x, "4x", program))
        if base and big:
            cpu = median_of(big, "cpu") / median_of(base, "cpu")
            ratios.append(f"{program} {median_of(big, 'wall') / median_of(base, 'wall'):.2f} (CPU time {cpu:.2f})")
    return (f"4× corpus ({four_x[0]} epoch(s), {four_x[1]} thread(s), {four_x[2]}): wall time 4×/1× — "
            + ", ".join(ratios) + " (4.00 = linear; min_count applies to the 4× counts, so the vocabulary "
            "is larger).")


def settings_note(args, results, corpora, info, four_x):
    loads = [r["load"] for runs in results.values() for r in runs if r.get("load") is not None]
    load_note = (f" 1-minute load average before the runs: median {statistics.median(loads):.1f}, "
                 f"max {max(loads):.1f} (other work on the machine inflates wall times)." if loads else "")
    return (
        f"Settings: skip-gram, neg (negative {SETTINGS['negative']}) or hs (negative 0), window "
        f"{SETTINGS['window']}, {SETTINGS['vector_size']} dims, sample {SETTINGS['sample']:g}, min_count "
        f"{SETTINGS['min_count']}"
        + (f", subwords minn {SUBWORDS['min_n']} maxn {SUBWORDS['max_n']} buckets {SUBWORDS['bucket']:,} "
           "(gensim: FastText)" if args.subwords else "") + "; "
        f"corpus text8 prefix, {corpora['1x'][2]:,} tokens (w2v reads the .gz, gensim "
        f"{args.gensim_mode} and the C tool on {LINE_TOKENS}-token lines"
        + ("; 4×: all read the same text file" if four_x else "") + "). "
        f"Wall time, CPU time (user+sys) and peak RSS of the whole process; medians of {args.repeats} repeat(s)"
        + (f" ({args.repeats_4x} for 4×)" if four_x else "") + "; ratio > 1 means the program is faster than "
        "gensim. Repeat r trains with seed r (the C tool has no seed). "
        + ("Quality (5-epoch runs): mean ± standard deviation over the repeats of gensim's "
           "evaluate_word_analogies (restrict_vocab=30000; semantic: the sections not named gram*, syntactic: "
           "those named gram*) and evaluate_word_pairs (Spearman), the same evaluator for every program, on "
           "the vectors of the vocabulary. " if args.evaluate else "")
        + f"Warm-up run of each program before timing: {'yes' if args.warmup else 'no'}. "
        f"python {info['python']}, gensim {info['gensim']}, numba {info['numba']}, numpy {info['numpy']}, "
        f"{os.cpu_count()} CPUs." + load_note)


def main(argv=None):
    args = parse_args(argv)
    if args.subwords:
        SETTINGS.update(SUBWORDS)
    data = Path(args.data).resolve()
    for name in (CORPUS_GZ, QUESTIONS, *PAIR_SETS.values()):
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
