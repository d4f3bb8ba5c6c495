#!/usr/bin/env python3
"""Word-similarity scores split by how often the rarer word of a pair occurs in the corpus.

Compares model directories (each with vectors.npy and vocab.tsv) on WordSim-353, MEN-3000
and MTurk-771: Spearman's rho over the pairs both words of which every model knows, in bands
of the rarer word's count (the count column of the first model's vocab.tsv). It shows where
one model gains or loses, e.g. a subword model against a word-only one:

    python3 scripts/pairs_by_count.py runs/word runs/subwords

Needs numpy and scipy (scipy comes with gensim, in the test extra).
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
FILES = (("WS-353", "wordsim353.tsv"), ("MEN", "men3000.tsv"), ("MTurk", "mturk771.tsv"))


def load_model(folder):
    """(index of each word, unit vectors, counts) of a model directory."""
    words, counts = [], []
    with open(os.path.join(folder, "vocab.tsv"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if fields[0]:
                words.append(fields[0])
                counts.append(int(fields[1]))
    vectors = np.load(os.path.join(folder, "vectors.npy"))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return {w: i for i, w in enumerate(words)}, vectors / np.maximum(norms, 1e-12), np.array(counts)


def read_pairs(path):
    """(word, word, human score) of a tab-separated similarity file; other lines are skipped."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.strip().split("\t")
            if len(fields) < 3 or fields[0].startswith("#"):
                continue
            try:
                pairs.append((fields[0].lower(), fields[1].lower(), float(fields[2])))
            except ValueError:
                continue
    return pairs


def band_table(pairs, models, bands):
    """Rows (band, pair count, rho of each model) over the pairs every model knows."""
    known = [(a, b, h) for a, b, h in pairs if all(a in m[0] and b in m[0] for m in models)]
    index, _, counts = models[0]
    rarer = np.array([min(counts[index[a]], counts[index[b]]) for a, b, _ in known])
    human = np.array([h for _, _, h in known])
    cosines = [np.array([v[ix[a]] @ v[ix[b]] for a, b, _ in known]) for ix, v, _ in models]
    rows = []
    for lo, hi in zip(bands[:-1], bands[1:]):
        chosen = (rarer >= lo) & (rarer < hi)
        if chosen.sum() >= 3:
            rows.append((f"{lo}–{hi - 1}", int(chosen.sum()), [spearmanr(human[chosen], c[chosen])[0] for c in cosines]))
    rows.append(("all", len(known), [spearmanr(human, c)[0] for c in cosines]))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", help="model directories")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="directory of the similarity files")
    p.add_argument("--bands", type=int, nargs="+", default=[5, 50, 200, 1000],
                   help="band edges of the rarer word's count (default: 5 50 200 1000, then no limit)")
    args = p.parse_args(argv)
    models = [load_model(m) for m in args.models]
    bands = sorted(args.bands) + [sys.maxsize]
    print("| benchmark | rarer word's count | pairs | " + " | ".join(args.models) + " |")
    print("|---|---|---|" + "---|" * len(models))
    for name, filename in FILES:
        for band, n, rhos in band_table(read_pairs(os.path.join(args.data, filename)), models, bands):
            band = band.replace(f"–{sys.maxsize - 1}", "+")
            print(f"| {name} | {band} | {n} | " + " | ".join(f"{r:.3f}" for r in rhos) + " |")


if __name__ == "__main__":
    main()
