#!/usr/bin/env python3
"""Benchmark `w2v train --cluster local:2` against a local run with 2 threads, in one run.

Both train the settings of scripts/bench.py (negative 5, window 5, 100 dims, sample 1e-4,
min_count 5, 5 epochs) on the shared text8 prefix, each as a whole separate process, so the
wall time covers everything (the LocalCluster's start, counting, encoding, training, saving).
The two alternate within each seed (which goes first alternates too) and the table gives
medians of the wall times and their ratio. Every model is scored by scripts/bench.py's
evaluator (gensim's `evaluate_word_analogies` within the 30,000 most frequent words, and
Spearman on WS-353, MEN-3000 and MTurk-771); seed r trains with train.seed r, and the quality
columns give the mean and standard deviation over the seeds. The cluster runs' metrics.json
gives the round costs: rounds an epoch, bytes sent per round, compute and sync seconds.

Both read the shared .gz as it is (`--corpus gz`, the default: one line, which the cluster
cuts into one piece a worker once read), or a text file of the same tokens in 1000-token lines
(`--corpus lines`: w2v cuts sentences at 1000 tokens anyway, so the local run trains exactly
what it trains on the .gz; the cluster's workers read their own blocks of it). `--defaults`
trains with w2v's defaults instead of bench.py's settings (sample 1e-3 among them): the
acceptance's own command, `w2v train CORPUS --cluster local:2` against `--threads 2`.

    python3 scripts/bench_cluster.py                          # skip-gram, 3 seeds
    python3 scripts/bench_cluster.py --arch skipgram cbow     # both architectures
    python3 scripts/bench_cluster.py --arch cbow --seeds 1 --set train.sync_words=500000 --only cluster
    python3 scripts/bench_cluster.py --defaults --corpus lines   # w2v's defaults, on 1000-token lines
    python3 scripts/bench_cluster.py --probe-sync 2 4 8 16       # a round's sync alone, against the workers

The interpreter must import gensim and w2v (the test extra has both: `.venv/bin/python`).
The table goes to stdout (and to --output), progress to stderr.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the settings, the timing wrapper and the evaluator)

MODES = ("local", "cluster")
QUALITY = bench.QUALITY
ROUND_KEYS = ("rounds", "bytes_per_round", "compute_seconds", "sync_seconds")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", metavar="DIR", default=str(bench.DEFAULT_DATA),
                   help="shared data directory (default: ../shared/data beside the repository)")
    p.add_argument("--arch", nargs="+", choices=("skipgram", "cbow"), default=["skipgram"])
    p.add_argument("--loss", choices=("neg", "hs"), default="neg")
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="seeds 1..N (default 3)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--corpus", choices=("gz", "lines"), default="gz",
                   help="the shared .gz as it is (default), or its tokens in 1000-token lines of plain text")
    p.add_argument("--defaults", action="store_true",
                   help="w2v's default settings (only the seed set) instead of bench.py's; --epochs is ignored")
    p.add_argument("--workers", type=int, default=2, help="cluster: local:N (default 2, one thread each)")
    p.add_argument("--threads", type=int, default=2, help="local run: --threads (default 2)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="a config override for both runs (repeatable)")
    p.add_argument("--cluster-set", dest="cluster_sets", action="append", default=[], metavar="KEY=VALUE",
                   help="a config override for the cluster runs only (repeatable)")
    p.add_argument("--only", choices=MODES, help="run one side only")
    p.add_argument("--no-eval", dest="evaluate", action="store_false", help="skip the quality evaluation")
    p.add_argument("--probe-sync", type=int, nargs="+", metavar="N",
                   help="instead: time the sync of a round alone (no training) with N workers each, e.g. 2 4 8")
    p.add_argument("--probe-rows", type=int, default=22541, metavar="R",
                   help="rows each worker sends per matrix in --probe-sync (default: the text8 prefix's vocabulary)")
    p.add_argument("--output", metavar="FILE", help="also write the Markdown table here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (models, logs)")
    args = p.parse_args(argv)
    if args.seeds < 1 or args.epochs < 1 or args.workers < 1 or args.threads < 1:
        p.error("--seeds, --epochs, --workers and --threads must be at least 1")
    return args


def command(args, mode, corpus, arch, seed, out):
    s = bench.SETTINGS
    sets = {"model.arch": arch, "model.loss": args.loss, "model.vector_size": s["vector_size"],
            "model.window": s["window"], "model.negative": s["negative"], "vocab.min_count": s["min_count"],
            "vocab.sample": s["sample"], "train.epochs": args.epochs, "train.seed": seed,
            "output.formats": "[npy]"}
    if args.defaults:
        sets = {"model.arch": arch, "model.loss": args.loss, "train.seed": seed, "output.formats": "[npy]"}
    cmd = [sys.executable, "-m", "word2vec", "train", str(corpus), "--quiet", "--output", str(out)]
    cmd += ["--cluster", f"local:{args.workers}"] if mode == "cluster" else ["--threads", str(args.threads)]
    for key, value in sets.items():
        cmd += ["--set", f"{key}={value}"]
    for item in args.sets + (args.cluster_sets if mode == "cluster" else []):
        cmd += ["--set", item]
    return cmd


class Runner:
    def __init__(self, args, tmp, env):
        self.args, self.tmp, self.env, self.count = args, tmp, env, 0
        self.data = Path(args.data).resolve()
        (tmp / "evaluate.py").write_text(bench.EVALUATE)

    def run(self, mode, corpus, arch, seed):
        """One timed run, evaluated; a dict of wall, cpu, load, the quality scores and the round costs."""
        self.count += 1
        out = self.tmp / f"run{self.count:03d}-{mode}" / "model"
        out.parent.mkdir()
        logfile = out.parent / "log.txt"
        load = os.getloadavg()[0]
        cmd = [sys.executable, "-c", bench.WRAPPER, str(logfile)] + command(self.args, mode, corpus, arch, seed, out)
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        measured = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {"code": -1}
        if measured["code"] != 0:
            tail = logfile.read_text(errors="replace").strip().splitlines()[-15:]
            sys.exit(f"bench_cluster: {mode} exited with {measured['code']}:\n  " + "\n  ".join(tail)
                     + result.stderr[-2000:])
        measured["load"] = load
        metrics = json.loads((out / "metrics.json").read_text())
        if mode == "cluster":
            epochs = metrics["epochs"]
            measured["rounds"] = epochs[0]["rounds"]
            measured["bytes_per_round"] = statistics.mean(e["bytes_per_round"] for e in epochs)
            measured["compute_seconds"] = sum(e["compute_seconds"] for e in epochs) / sum(e["rounds"] for e in epochs)
            measured["sync_seconds"] = sum(e["sync_seconds"] for e in epochs) / sum(e["rounds"] for e in epochs)
        measured["train_seconds"] = sum(e["seconds"] for e in metrics["epochs"])
        if self.args.evaluate:
            measured.update(self.evaluate(out))
        shutil.rmtree(out, ignore_errors=True)
        return measured

    def evaluate(self, model):
        pair_sets = {name: str(self.data / path) for name, path in bench.PAIR_SETS.items()}
        cmd = [sys.executable, str(self.tmp / "evaluate.py"), "w2v", str(model), str(self.data / bench.QUESTIONS),
               json.dumps(pair_sets)]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench_cluster: evaluating {model} failed:\n{result.stderr[-2000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def run_all(args, runner, corpus):
    results = {}  # (arch, mode) -> [measurement per seed]
    modes = [args.only] if args.only else list(MODES)
    for seed in range(1, args.seeds + 1):
        for arch in args.arch:
            order = modes if seed % 2 else modes[::-1]
            for mode in order:
                m = runner.run(mode, corpus, arch, seed)
                results.setdefault((arch, mode), []).append(m)
                quality = ", ".join(f"{q} {m[q]:.3f}" for q in QUALITY if q in m)
                rounds = (f", {m['rounds']} rounds/epoch, {m['bytes_per_round'] / 1e6:.1f} MB/round, "
                          f"compute {m['compute_seconds']:.2f}s sync {m['sync_seconds']:.3f}s a round"
                          if mode == "cluster" else "")
                bench.log(f"{arch} {mode:7s} seed {seed}: {m['wall']:.1f}s wall (training {m['train_seconds']:.1f}s, "
                          f"load {m['load']:.1f}){rounds}; {quality}")
    return results


def mean_sd(values, digits=3):
    if not values:
        return "–"
    sd = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.{digits}f}{sd}"


def quality_cells(runs):
    return [mean_sd([r["analogy"] * 100 for r in runs if "analogy" in r], 2)] + \
        [mean_sd([r[q] for r in runs if q in r]) for q in ("ws353", "men", "mturk")]  # the table's columns


def round_cells(runs):
    if "rounds" not in runs[0]:
        return ["", "", "", ""]
    return [str(runs[0]["rounds"]), f"{statistics.median(r['bytes_per_round'] for r in runs) / 1e6:.1f}",
            f"{statistics.median(r['compute_seconds'] for r in runs):.2f}",
            f"{statistics.median(r['sync_seconds'] for r in runs):.3f}"]


def verdict(args, results, arch):
    """The acceptance lines of one architecture: quality deltas of the means, and the wall ratio."""
    local, cluster = results.get((arch, "local")), results.get((arch, "cluster"))
    if not local or not cluster:
        return ""
    parts = []
    if args.evaluate:
        for key, scale, limit in (("analogy", 100, 0.5), ("ws353", 1, 0.02), ("men", 1, 0.02)):
            delta = statistics.mean(r[key] * scale for r in cluster) - statistics.mean(r[key] * scale for r in local)
            parts.append(f"Δ{key} {delta:+.3f} ({'ok' if delta >= -limit else 'FAILS'}: ≥ −{limit})")
    ratio = statistics.median(r["wall"] for r in cluster) / statistics.median(r["wall"] for r in local)
    parts.append(f"wall cluster/local {ratio:.2f} ({'ok' if ratio <= 1.5 else 'FAILS'}: ≤ 1.5)")
    return f"{arch} {args.loss}: " + "; ".join(parts)


def round_costs(args, results, arch):
    """The inputs of the scaling model: a round's compute (a worker's share at the local run's speed per
    thread) against the rest of its wall time (transfers, merge, waiting), medians over the seeds."""
    local, cluster = results.get((arch, "local")), results.get((arch, "cluster"))
    if not local or not cluster:
        return ""
    epoch_local = statistics.median(r["train_seconds"] for r in local) / args.epochs
    rounds = cluster[0]["rounds"]
    compute = epoch_local * args.threads / args.workers / rounds  # one worker-thread's share of a round
    per_round = statistics.median(r["train_seconds"] for r in cluster) / args.epochs / rounds
    mb = statistics.median(r["bytes_per_round"] for r in cluster) / 1e6
    return (f"{arch} round costs: {rounds} rounds an epoch, {mb:.1f} MB a round; a round takes {per_round:.2f} s, "
            f"of which compute ≈ {compute:.2f} s (the local run's speed per thread) and overhead ≈ "
            f"{per_round - compute:.2f} s (transfers, merge, waiting; metrics.json's sync_seconds {statistics.median(r['sync_seconds'] for r in cluster):.3f} s)")


def format_table(args, results, tokens):
    head = ["arch", "run", "wall s (median; min–max)", "training s", "analogy %", "WS-353 ρ", "MEN ρ", "MTurk ρ",
            "rounds/epoch", "MB/round", "compute s/round", "sync s/round"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for (arch, mode), runs in results.items():
        walls = [r["wall"] for r in runs]
        spread = f" ({min(walls):.1f}–{max(walls):.1f})" if len(runs) > 1 else ""
        name = f"local:{args.workers}" if mode == "cluster" else f"--threads {args.threads}"
        lines.append("| " + " | ".join([arch, name, f"{statistics.median(walls):.1f}{spread}",
                                        f"{statistics.median(r['train_seconds'] for r in runs):.1f}",
                                        *quality_cells(runs), *round_cells(runs)]) + " |")
    lines.append("")
    lines += [line for line in (verdict(args, results, arch) for arch in args.arch) if line]
    lines += [line for line in (round_costs(args, results, arch) for arch in args.arch) if line]
    loads = [r["load"] for runs in results.values() for r in runs]
    lines.append("")
    settings = ("w2v's defaults" if args.defaults else
                f"{args.loss} (negative {bench.SETTINGS['negative']}), window {bench.SETTINGS['window']}, "
                f"{bench.SETTINGS['vector_size']} dims, sample {bench.SETTINGS['sample']:g}, min_count "
                f"{bench.SETTINGS['min_count']}, {args.epochs} epochs")
    corpus = "the .gz as it is (one line)" if args.corpus == "gz" else "in 1000-token lines"
    lines.append(
        f"Settings: {settings}"
        + (f", {' '.join(args.sets)}" if args.sets else "")
        + (f"; cluster only: {' '.join(args.cluster_sets)}" if args.cluster_sets else "")
        + f"; text8 prefix, {tokens:,} tokens, {corpus}. Seeds 1–{args.seeds}; quality: mean ± sd over "
        f"the seeds; wall: the whole process, medians. Round costs: medians over seeds of the per-round means. "
        f"{os.cpu_count()} CPUs; 1-minute load average before the runs: median {statistics.median(loads):.1f}, "
        f"max {max(loads):.1f}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the sync probe

def _worker_round(update, rows, dim, seed):
    """A stand-in for a worker's round: apply the merged update, return changed rows of both matrices."""
    import numpy as np

    state = _worker_round.__dict__.setdefault("weights", {})
    for m, part in enumerate(update or ()):
        weights = state.setdefault(m, np.zeros((rows, dim), np.float32))
        weights[part[0]] += part[1]
    rng = np.random.default_rng(seed)
    return tuple((np.arange(rows, dtype=np.int32), rng.standard_normal((rows, dim), dtype=np.float32) * 1e-3)
                 for _ in range(2))


def probe_sync(workers, rows, dim, rounds=5):
    """Seconds of one round's sync (gather n workers' changed rows, merge, send the update to each) with no
    training, on a LocalCluster of n processes: the part of a round that grows with the workers."""
    from distributed import Client, LocalCluster

    from word2vec.distributed import deltas as deltas_mod

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=50) as cluster, Client(cluster) as client:
        addresses = sorted(client.scheduler_info()["workers"])
        update, times = None, []
        for r in range(rounds + 1):
            started = time.perf_counter()
            sent = [client.scatter([update], workers=[a], hash=False)[0] if update else None for a in addresses]
            futures = [client.submit(_worker_round, sent[i], rows, dim, r * 100 + i, workers=[a], pure=False)
                       for i, a in enumerate(addresses)]
            results = client.gather(futures)
            update = tuple(deltas_mod.merge([res[m] for res in results]) for m in (0, 1))
            if r:  # the first round warms up
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_probe(args):
    lines = ["| workers | sync s a round (median of 5) | MB a round |", "|---|---|---|"]
    for n in args.probe_sync:
        seconds = probe_sync(n, args.probe_rows, bench.SETTINGS["vector_size"])
        mb = 2 * n * 2 * args.probe_rows * (4 * bench.SETTINGS["vector_size"] + 4) / 1e6
        lines.append(f"| {n} | {seconds:.3f} | {mb:.0f} |")
        bench.log(lines[-1])
    lines.append("")
    lines.append(f"Every worker sends all {args.probe_rows:,} rows of both matrices ({bench.SETTINGS['vector_size']} "
                 f"dims) and receives the merged update; no training. 1-minute load average: {os.getloadavg()[0]:.1f}.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    if args.probe_sync:
        table = run_probe(args)
        sys.stdout.write(table)
        if args.output:
            Path(args.output).write_text(table, encoding="utf-8")
        return
    data = Path(args.data).resolve()
    for name in (bench.CORPUS_GZ, bench.QUESTIONS, *bench.PAIR_SETS.values()):
        if not (data / name).is_file():
            sys.exit(f"bench_cluster: {data / name} not found (use --data DIR)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(bench.REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONWARNINGS"] = "ignore"
    tmp = Path(tempfile.mkdtemp(prefix="w2v-bench-cluster-"))
    try:
        with gzip.open(data / bench.CORPUS_GZ, "rb") as handle:
            tokens = handle.read().split()
        corpus = data / bench.CORPUS_GZ
        if args.corpus == "lines":
            corpus = tmp / "text8-lines.txt"
            bench.write_lines(corpus, tokens)
        runner = Runner(args, tmp, env)
        bench.log("warm-up (untimed): one small run of each side")
        small = tmp / "warmup.txt"
        bench.write_lines(small, tokens[:50_000])
        for arch in args.arch:
            for mode in [args.only] if args.only else MODES:
                subprocess.run(command(args, mode, small, arch, 1, tmp / f"warmup-{arch}-{mode}"), env=env,
                               check=True, capture_output=True)
        started = time.perf_counter()
        results = run_all(args, runner, corpus)
        bench.log(f"done in {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep:
            bench.log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    table = format_table(args, results, len(tokens))
    sys.stdout.write(table)
    if args.output:
        Path(args.output).write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
