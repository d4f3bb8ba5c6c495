"""Continued training on the text8 prefix: A then B (train, then train_more) against A+B at once.

The 2.1M-token prefix is cut into halves A and B (as sentences of 1,000 tokens). For each seed,
one model trains on A+B for E epochs; another trains on A for E epochs and continues on B for
E epochs (the same epochs per word), with the learning rate restarting at each given alpha.
Scores: analogy accuracy (restrict 30,000) and WS-353 Spearman, by gensim's protocol.

    .venv/bin/python scripts/continue_bench.py [--data ../shared/data] [--seeds 1 2] [--alphas 0.025 0.0125]
"""

import argparse
import gzip
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import word2vec  # noqa: E402

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-4, "min_count": 5, "epochs": 5,
            "threads": 2, "progress": False}


def halves(data, folder):
    """Write A, B and A+B as files of 1,000-token lines; return their paths."""
    with gzip.open(data / "text8-prefix.gz", "rt", encoding="utf-8") as handle:
        tokens = handle.read().split()
    lines = [" ".join(tokens[i : i + 1000]) + "\n" for i in range(0, len(tokens), 1000)]
    middle = len(lines) // 2
    paths = {}
    for name, part in (("a", lines[:middle]), ("b", lines[middle:]), ("ab", lines)):
        paths[name] = os.path.join(folder, f"{name}.txt")
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.writelines(part)
    return paths


def scores(model, data):
    accuracy, _ = model.wv.evaluate_word_analogies(str(data / "questions-words.txt"), restrict_vocab=30000)
    _, spearman, _ = model.wv.evaluate_word_pairs(str(data / "wordsim353.tsv"))
    return 100 * accuracy, spearman[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.025, 0.0125])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = halves(args.data, folder)
        rows = {"A+B at once": [], **{f"A, then B from alpha {a}": [] for a in args.alphas}}
        for seed in args.seeds:
            joint = word2vec.train(corpus_file=paths["ab"], seed=seed, **SETTINGS)
            rows["A+B at once"].append(scores(joint, args.data))
            for alpha in args.alphas:
                model = word2vec.train(corpus_file=paths["a"], seed=seed, **SETTINGS)
                model.train_more(corpus_file=paths["b"], alpha=alpha, progress=False)
                rows[f"A, then B from alpha {alpha}"].append(scores(model, args.data))
            print(f"seed {seed} done", file=sys.stderr)
    print("| run | analogy % | WS-353 ρ |\n|---|---|---|")
    for name, values in rows.items():
        analogy, ws = np.mean(values, axis=0)
        print(f"| {name} | {analogy:.2f} | {ws:.3f} |")


if __name__ == "__main__":
    main()
