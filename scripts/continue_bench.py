"""Continued training on the text8 prefix: part by part (train, then train_more) against all parts at once.

The 2.1M-token prefix is cut into equal parts (2 by default: halves A and B, as sentences of
1,000 tokens). For each seed, one model trains on all the parts at once for E epochs; others
train on the first part for E epochs and continue on each next part for E epochs (the same
epochs per word), once for each train.continue_merge (none: as the run leaves the vectors,
gensim's way; average: w2v's default). Scores: analogy accuracy (restrict 30,000), WS-353 and
MEN Spearman, by gensim's protocol; the last table gives each mean's gap to the run at once.

    .venv/bin/python scripts/continue_bench.py [--data ../shared/data] [--seeds 1 2] [--parts 2]
        [--set loss=hs ...] [--continue-set alpha=0.0125 ...]
"""

import argparse
import gzip
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import word2vec  # noqa: E402

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-4, "min_count": 5, "epochs": 5,
            "threads": 2, "progress": False}
MERGES = ("none", "average")


def parts(data, folder, n_parts):
    """Write the parts and all of them as files of 1,000-token lines; return (part paths, path of all)."""
    with gzip.open(data / "text8-prefix.gz", "rt", encoding="utf-8") as handle:
        tokens = handle.read().split()
    lines = [" ".join(tokens[i : i + 1000]) + "\n" for i in range(0, len(tokens), 1000)]
    cuts = [round(k * len(lines) / n_parts) for k in range(n_parts + 1)]
    paths = []
    for name, part in [(str(k), lines[cuts[k] : cuts[k + 1]]) for k in range(n_parts)] + [("all", lines)]:
        paths.append(os.path.join(folder, f"{name}.txt"))
        with open(paths[-1], "w", encoding="utf-8") as handle:
            handle.writelines(part)
    return paths[:-1], paths[-1]


def scores(model, data):
    accuracy, _ = model.wv.evaluate_word_analogies(str(data / "questions-words.txt"), restrict_vocab=30000)
    _, ws, _ = model.wv.evaluate_word_pairs(str(data / "wordsim353.tsv"))
    _, men, _ = model.wv.evaluate_word_pairs(str(data / "men3000.tsv"))
    return 100 * accuracy, ws[0], men[0]


def assignments(items):
    """`key=value` strings (values read as YAML) as a dict of overrides."""
    pairs = [item.split("=", 1) for item in items]
    return {key: yaml.safe_load(value) for key, value in pairs}


def run_seed(paths, everything, seed, args):
    """Scores of one seed: {row name: (analogy, WS-353, MEN)}."""
    settings = {**SETTINGS, **assignments(args.set), "seed": seed}
    rows = {"all parts at once": scores(word2vec.train(corpus_file=everything, **settings), args.data)}
    for merge in MERGES:
        model = word2vec.train(corpus_file=paths[0], **settings)
        for path in paths[1:]:
            model.train_more(corpus_file=path, progress=False, continue_merge=merge, **assignments(args.continue_set))
        rows[f"part by part, continue_merge {merge}"] = scores(model, args.data)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--parts", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of every run")
    parser.add_argument("--continue-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="overrides of the continued runs only")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        paths, everything = parts(args.data, folder, args.parts)
        for seed in args.seeds:
            for name, values in run_seed(paths, everything, seed, args).items():
                results.setdefault(name, []).append(values)
                print(f"seed {seed}: {name}: " + " ".join(f"{v:.4f}" for v in values), file=sys.stderr)
    means = {name: np.mean(values, axis=0) for name, values in results.items()}
    print("| run | analogy % | WS-353 ρ | MEN ρ |\n|---|---|---|---|")
    for name, (analogy, ws, men) in means.items():
        print(f"| {name} | {analogy:.2f} | {ws:.3f} | {men:.3f} |")
    at_once = means["all parts at once"]
    print("\n| gap to all parts at once | analogy points | WS-353 | MEN |\n|---|---|---|---|")
    for name, values in list(means.items())[1:]:
        print(f"| {name} | " + " | ".join(f"{d:+.{p}f}" for d, p in zip(values - at_once, (2, 3, 3))) + " |")


if __name__ == "__main__":
    main()
