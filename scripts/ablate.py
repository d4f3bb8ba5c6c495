#!/usr/bin/env python3
"""Quality ablation: w2v's skip-gram kernel against gensim's training loop, one difference at a time.

Each variant swaps w2v's skip-gram kernel for one that differs from it in one respect
(how negatives are drawn and applied, what happens at saturated scores, the learning-rate
granularity); gensim trains the same model as the reference.  Every model is scored by
gensim's own evaluators: analogy (restrict_vocab=30000), WordSim-353, MEN-3000 and
MTurk-771 (Spearman).  Run it with the benchmark venv's interpreter (scripts/bench.py
creates `.bench-venv/` with gensim); results are appended as JSON lines to --results, so
an interrupted ablation resumes where it stopped.

    .bench-venv/bin/python scripts/ablate.py --seeds 1 2 3 --output docs/ablation.md
    .bench-venv/bin/python scripts/ablate.py --variants gensim-neg w2v-neg --seeds 1
"""

import argparse
import contextlib
import gzip
import heapq
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from word2vec import config as config_mod  # noqa: E402
from word2vec.text import vocab as vocab_mod  # noqa: E402
from word2vec.training import kernels as K  # noqa: E402
from word2vec.training import loop as training  # noqa: E402
from ablate_kernels import SAT_CLIP, SAT_EXACT, SAT_SKIP, SAT_TABLE, train_variant  # noqa: E402

DATA = REPO.parent / "shared" / "data"
BENCHMARKS = (("analogy", "questions-words.txt"), ("ws353", "wordsim353.tsv"),
              ("men", "men3000.tsv"), ("mturk", "mturk771.tsv"))
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, epochs=5, threads=2)


# --------------------------------------------------------------------------- variants

# name -> (loss, kernel rule, modifiers, description).  The kernel rule is "gensim" (gensim
# itself), None (w2v's kernel) or (shared negatives?, saturation rule); the modifiers change
# what w2v feeds its kernel: "init" gensim's init range, "alpha" gensim's corpus_file
# learning-rate schedule, "jobalpha" one alpha per 10k-word job, "tree" gensim's Huffman
# tree, "halves" gensim's order (the corpus's two halves side by side, as its 2 workers).
PAIR_SKIP = (False, SAT_SKIP)
VARIANTS = {
    "gensim-neg": ("neg", "gensim", (), "gensim 4.4, corpus_file (per-pair negatives, skips abs(s) ≥ 6)"),
    "w2v-neg": ("neg", None, (), "w2v before this work: negatives shared per window, window minibatch, exact gradient"),
    "neg-shared-skip": ("neg", (True, SAT_SKIP), (), "(b) w2v + gensim's skip at abs(s) ≥ 6"),
    "neg-pair-exact": ("neg", (False, SAT_EXACT), (), "(a) per-pair negatives, row-by-row updates, exact gradient"),
    "neg-pair-skip": ("neg", PAIR_SKIP, (), "(a)+(b) per-pair negatives + gensim's skip (gensim's update rule)"),
    "neg-pair-clip": ("neg", (False, SAT_CLIP), (), "(a)+(b) per-pair negatives + the C tool's clip"),
    "neg-shared-jobalpha": ("neg", None, ("jobalpha",), "(c) w2v with alpha constant over each 10k-word job"),
    "w2v-neg-new": ("neg", None, ("init", "sawtooth"), "w2v after the first round of this work: gensim's init, sawtooth alpha (corpus in order)"),
    "w2v-neg-halves": ("neg", None, ("init", "defaults"), "w2v now (the shipped code path): gensim's init, the halves schedule"),
    "neg-init-lin0025": ("neg", None, ("init", "min0025"), "(c)+(e) gensim's init; linear alpha to min_alpha 0.0025 (gensim's mean and last alpha, no restarts)"),
    "neg-init-gensim": ("neg", None, ("init",), "(e) w2v with gensim's init: w_in uniform in [-1/d, 1/d), not [-0.5/d, 0.5/d)"),
    "neg-alpha-gensim": ("neg", None, ("alpha",), "(c) w2v with gensim's corpus_file alpha schedule"),
    "neg-init-alpha": ("neg", None, ("init", "alpha"), "(c)+(e) w2v with gensim's init and alpha schedule"),
    "neg-halves": ("neg", None, ("init", "halves"), "(g) w2v-neg-new with gensim's corpus_file order: the corpus's two halves side by side, alpha by each half's progress"),
    "neg-pair-skip-init-alpha": ("neg", PAIR_SKIP, ("init", "alpha"), "(a)+(b)+(c)+(e): gensim's loop replicated"),
    "gensim-hs": ("hs", "gensim", (), "gensim 4.4 hs=1, negative=0 (skips abs(s) ≥ 6)"),
    "w2v-hs": ("hs", None, (), "w2v before this work: exact gradient"),
    "w2v-hs-new": ("hs", None, ("init", "sawtooth"), "w2v after the first round of this work: gensim's init, sawtooth alpha (corpus in order)"),
    "w2v-hs-halves": ("hs", None, ("init", "defaults"), "w2v now (the shipped code path): gensim's init, the halves schedule"),
    "hs-init-lin0025": ("hs", None, ("init", "min0025"), "(c)+(e) gensim's init; linear alpha to min_alpha 0.0025 (no restarts)"),
    "hs-gensim-tree": ("hs", None, ("init", "min0025", "tree"), "(d) hs-init-lin0025 with gensim's Huffman tree (ties broken by heap order, not by word id)"),
    "hs-skip": ("hs", (False, SAT_SKIP), (), "(b) hs + gensim's skip at abs(s) ≥ 6"),
    "hs-clip": ("hs", (False, SAT_CLIP), (), "(b) hs + the C tool's clip"),
    "hs-init-gensim": ("hs", None, ("init",), "(e) hs with gensim's init range [-1/d, 1/d)"),
    "hs-alpha-gensim": ("hs", None, ("alpha",), "(c) hs with gensim's corpus_file alpha schedule"),
    "hs-init-alpha": ("hs", None, ("init", "alpha"), "(c)+(e) hs with gensim's init and alpha schedule"),
    "hs-skip-init-alpha": ("hs", (False, SAT_SKIP), ("init", "alpha"), "(b)+(c)+(e): gensim's hs loop replicated"),
    "hs-table": ("hs", (False, SAT_TABLE), ("init", "sawtooth"), "(f) w2v-hs-new with gensim's sigmoid: its 1000-entry table read at int((s + 6)·83), skip at abs(s) ≥ 6"),
    "hs-tree": ("hs", None, ("init", "sawtooth", "tree"), "(d) w2v-hs-new with gensim's Huffman tree"),
    "hs-halves": ("hs", None, ("init", "halves"), "(g) gensim's corpus_file order: the two threads train the two halves of the corpus side by side, alpha by each half's progress"),
    "hs-halforder": ("hs", None, ("init", "sawtooth", "halforder"), "(g) the order alone: the two halves side by side, sawtooth alpha by the words done in the epoch"),
    "hs-halfalpha": ("hs", None, ("init", "halfalpha"), "(g) the alpha alone: corpus in order, alpha by each half's progress (two teeth per epoch)"),
    "hs-quarters": ("hs", None, ("init", "quarters"), "(g) as hs-halves with four stretches side by side, each with the whole sawtooth tooth"),
    "hs-replica": ("hs", (False, SAT_TABLE), ("init", "halves", "tree"), "(d)+(e)+(f)+(g): gensim's hs loop replicated, tree and table included"),
}


class _ByCount(tuple):
    """A heap item compared by count only, as gensim's Heapitem: ties fall to heap order."""

    def __lt__(self, other):
        return self[0] < other[0]


def gensim_huffman(counts):
    """vocab.huffman_tree with gensim's tie-breaking (same code lengths in total, other tree)."""
    n = len(counts)
    heap = [_ByCount((int(c), i)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent, branch = np.zeros(2 * n - 1, np.int64), np.zeros(2 * n - 1, np.uint8)
    for node in range(n, 2 * n - 1):
        (c1, a), (c2, b) = heapq.heappop(heap), heapq.heappop(heap)
        parent[a], parent[b], branch[b] = node, node, 1
        heapq.heappush(heap, _ByCount((c1 + c2, node)))
    return vocab_mod._paths(parent, branch, n)


def side_by_side(make_jobs, parts=2, interleave=True, restart=True):
    """make_jobs as gensim's `parts` corpus_file workers see the corpus: the jobs of its
    `parts` stretches alternate (interleave), and each job's words-before column counts from
    the start of its own stretch, scaled so that each stretch spans the sawtooth's half epoch
    (restart), or from the start of the epoch in the new order (not restart)."""
    def jobs_of_parts(ends, *args):
        jobs = make_jobs(ends, *args)
        cuts = np.searchsorted(jobs[:, 2], ends[-1] * np.arange(1, parts) / parts)
        stretches = [part.copy() for part in np.split(jobs, cuts)]
        if restart:
            for part in stretches:
                part[:, 2] = (part[:, 2] - part[0, 2]) * parts // 2
        if interleave:
            longest = max(len(part) for part in stretches)
            order = [part[i] for i in range(longest) for part in stretches if i < len(part)]
        else:
            order = [job for part in stretches for job in part]
        order = np.array(order, dtype=np.int64).reshape(-1, 3)
        if not restart:
            sizes = ends[order[:, 1] - 1] - np.where(order[:, 0] > 0, ends[order[:, 0] - 1], 0)
            order[:, 2] = np.cumsum(sizes) - sizes
        return order
    return jobs_of_parts


def half_params(self, epoch, job):
    """Trainer.params over side_by_side jobs: alpha by the words before the job in its half."""
    lo, hi, before = self.jobs[job]
    after = before + (self.data.ends[hi - 1] - (self.data.ends[lo - 1] if lo > 0 else 0)) * self.parts // 2
    m = self.config.model
    return (m.window, m.negative, self.alpha_at(epoch, before), self.alpha_at(epoch, after), m.cbow_mean)


def w_in_range(w_in, dim):
    """The half-width of w2v's own init range, in units of 1/d (0.5 before this work, 1 after)."""
    return 1.0 if np.abs(w_in).max() * dim > 0.5 else 0.5


@contextlib.contextmanager
def modified(loss, rule, mods):
    """Patch w2v's kernel table and training functions for one variant, and restore them."""
    key = ("skipgram", loss)
    saved = (K.KERNELS[key], training.Trainer.params, training.Trainer.alpha_at, training.init_weights,
             vocab_mod.huffman_tree, training.make_jobs)
    if isinstance(rule, tuple):
        code = K.LOSS_HS if loss == "hs" else K.LOSS_NEG
        K.KERNELS[key] = lambda *args: train_variant(code, rule[0], rule[1], *args)
        K.KERNELS[key].signatures = True  # no "compiling…" notice
    if "jobalpha" in mods:
        def job_alpha(self, epoch, job):
            window, negative, start, _, cbow_mean = saved[1](self, epoch, job)
            return window, negative, start, start, cbow_mean
        training.Trainer.params = job_alpha
    if "alpha" in mods:
        def gensim_alpha(self, epoch, words_before):
            # corpus_file: each of T workers measures its own words against the whole
            # epoch, so an epoch's progress stops at 1/T, and alpha jumps back each epoch
            cfg = self.config.train
            progress = (epoch + words_before / (self.total_words * self.threads)) / cfg.epochs
            return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(progress, 1.0)
        training.Trainer.alpha_at = gensim_alpha
    if "tree" in mods:
        vocab_mod.huffman_tree = gensim_huffman
    training.Trainer.parts = 2
    if "halves" in mods:  # with the linear schedule: gensim's per-worker alpha, exactly
        training.make_jobs, training.Trainer.params = side_by_side(saved[5]), half_params
    if "halforder" in mods:  # the order alone, alpha by the words done in the epoch
        training.make_jobs, training.Trainer.params = side_by_side(saved[5], restart=False), half_params
    if "halfalpha" in mods:  # alpha restarting at the second half alone, the order as before
        training.make_jobs, training.Trainer.params = side_by_side(saved[5], interleave=False), half_params
    if "quarters" in mods:  # four stretches side by side, each on the sawtooth's half epoch
        training.Trainer.parts = 4
        training.make_jobs, training.Trainer.params = side_by_side(saved[5], 4), half_params
    def chosen_init(n_words, config):
        # every variant names its init range: the C tool's [-0.5/d, 0.5/d) or gensim's [-1/d, 1/d)
        w_in, w_out = saved[3](n_words, config)
        width = w_in_range(w_in, config.model.vector_size)
        return w_in * np.float32((1.0 if "init" in mods else 0.5) / width), w_out
    training.init_weights = chosen_init
    try:
        yield
    finally:
        (K.KERNELS[key], training.Trainer.params, training.Trainer.alpha_at, training.init_weights,
         vocab_mod.huffman_tree, training.make_jobs) = saved


def w2v_config(loss, seed):
    s = SETTINGS
    return config_mod.Config().with_overrides({
        "model.arch": "skipgram", "model.loss": loss, "model.vector_size": s["vector_size"],
        "model.window": s["window"], "model.negative": s["negative"], "vocab.min_count": s["min_count"],
        "vocab.sample": s["sample"], "train.epochs": s["epochs"], "train.threads": s["threads"],
        "train.seed": seed, "output.formats": ["npy"]})


def train_w2v(name, corpus, seed, tmp):
    loss, rule, mods, _ = VARIANTS[name]
    with modified(loss, rule, mods):
        reporter = training.Reporter(log=lambda message: None)
        config = w2v_config(loss, seed)
        if "sawtooth" in mods:  # the schedule of the first round of this work
            config = config.with_overrides({"train.alpha_schedule": "sawtooth"})
        elif "defaults" not in mods:  # the schedule before this work, or the one the variant names
            config = config.with_overrides({"train.alpha_schedule": "linear",
                                            "train.min_alpha": 0.0025 if "min0025" in mods else 0.0001})
        vocab, w_in, _ = training.train([str(corpus)], config, str(tmp / "model"), reporter)
    return vocab.words, w_in


def train_gensim(name, lines, seed):
    from gensim.models import Word2Vec

    s, hs = SETTINGS, VARIANTS[name][0] == "hs"
    model = Word2Vec(corpus_file=str(lines), vector_size=s["vector_size"], window=s["window"],
                     min_count=s["min_count"], sg=1, hs=int(hs), negative=0 if hs else s["negative"],
                     sample=s["sample"], epochs=s["epochs"], workers=s["threads"], seed=seed)
    return model.wv


def score(kv, data):
    analogy, _ = kv.evaluate_word_analogies(str(data / BENCHMARKS[0][1]), restrict_vocab=30000)
    result = {"analogy": float(analogy)}
    for name, path in BENCHMARKS[1:]:
        result[name] = float(kv.evaluate_word_pairs(str(data / path))[1][0])
    return result


def run_one(name, seed, data, lines, tmp):
    from gensim.models import KeyedVectors

    started = time.perf_counter()
    if VARIANTS[name][1] == "gensim":
        kv = train_gensim(name, lines, seed)
    else:
        words, w_in = train_w2v(name, data / "text8-prefix.gz", seed, tmp)
        kv = KeyedVectors(w_in.shape[1])
        kv.add_vectors(words, w_in)
    result = {"variant": name, "seed": seed, "seconds": round(time.perf_counter() - started, 1)}
    result.update(score(kv, data))
    return result


# --------------------------------------------------------------------------- report

def mean_spread(values, scale=1.0, digits=3):
    mean = statistics.mean(values) * scale
    sd = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def table(results, names):
    head = ["variant", "what differs", "seeds", "analogy %", "WS-353", "MEN-3000", "MTurk-771"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        runs = [r for r in results if r["variant"] == name]
        if not runs:
            continue
        cells = [f"`{name}`", VARIANTS[name][3], str(len(runs)),
                 mean_spread([r["analogy"] for r in runs], 100, 2)]
        cells += [mean_spread([r[b] for r in runs]) for b in ("ws353", "men", "mturk")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_lines(data, path):
    with gzip.open(data / "text8-prefix.gz", "rb") as handle:
        tokens = handle.read().split()
    with open(path, "wb") as out:
        for start in range(0, len(tokens), 1000):  # the 1000-token cut w2v makes
            out.write(b" ".join(tokens[start:start + 1000]) + b"\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--results", default="ablation.jsonl", help="JSON lines, appended (default ablation.jsonl)")
    p.add_argument("--output", help="write the Markdown table here")
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)
    data = Path(args.data)
    done = []
    if os.path.exists(args.results):
        with open(args.results, encoding="utf-8") as handle:
            done = [json.loads(line) for line in handle if line.strip()]
    with tempfile.TemporaryDirectory(prefix="w2v-ablate-") as tmp:
        tmp = Path(tmp)
        lines = tmp / "lines.txt"
        write_lines(data, lines)
        for seed in args.seeds:
            for name in args.variants:
                if any(r["variant"] == name and r["seed"] == seed for r in done):
                    continue
                result = run_one(name, seed, data, lines, tmp)
                result["load"] = round(os.getloadavg()[0], 2)
                print(json.dumps(result), file=sys.stderr, flush=True)
                with open(args.results, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(result) + "\n")
                done.append(result)
    text = table([r for r in done if r["seed"] in args.seeds], args.variants)
    sys.stdout.write(text)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
