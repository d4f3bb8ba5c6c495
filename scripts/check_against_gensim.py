#!/usr/bin/env python3
"""Check w2v's analogy and similarity commands against gensim on the same vectors (issue 4 acceptance).

Trains a small gensim skip-gram model on the shared text8 prefix (cut into 1000-token lines; or
takes the C binary model given by --model), saves it in the C binary format and compares, on
that one file:

1. `w2v eval analogy --restrict 30000` with gensim's evaluate_word_analogies(restrict_vocab=30000):
   correct and answered questions per section and in total must be equal;
2. `w2v eval similarity` with gensim's evaluate_word_pairs on WordSim-353: Spearman within 0.001;
3. the top answer of `w2v analogy` for 100 questions with gensim's most_similar (add) and
   most_similar_cosmul (mul). w2v's 3CosMul uses epsilon 0.001 (Levy & Goldberg) where gensim
   uses 1e-6, so mul answers are also checked against gensim's formula with epsilon 0.001, and
   the questions where gensim's own answer differs are listed.

Runs in an interpreter that has gensim (never a w2v dependency); w2v runs as `python -m word2vec`
from this checkout. Prints a report; exits 1 if a check fails.

    /path/to/venv-with-gensim/bin/python scripts/check_against_gensim.py
    ... scripts/check_against_gensim.py --model vectors.bin --data ../shared/data
"""

import argparse
import gzip
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence

REPO = Path(__file__).resolve().parents[1]
LINE_TOKENS = 1000
SPEARMAN_TOLERANCE = 1e-3
EPSILON = 1e-3  # w2v's 3CosMul epsilon


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                   help="folder with text8-prefix.gz, questions-words.txt, wordsim353.tsv (default ../shared/data)")
    p.add_argument("--model", type=Path, help="a C binary model to check instead of training one")
    p.add_argument("--save", type=Path, help="keep the trained model here (C binary format)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--questions", type=int, default=100, help="questions for the top-answer check (default 100)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def train_gensim(corpus_gz, out, epochs, threads, seed):
    """Skip-gram, negative 5, window 5, 100 dims, sample 1e-4, min_count 5 (the settings of bench.py)."""
    with gzip.open(corpus_gz, "rb") as handle:
        tokens = handle.read().split()
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as lines:
        for start in range(0, len(tokens), LINE_TOKENS):
            lines.write(b" ".join(tokens[start : start + LINE_TOKENS]) + b"\n")
    try:
        model = Word2Vec(LineSentence(lines.name), vector_size=100, window=5, min_count=5, sg=1, hs=0, negative=5,
                         sample=1e-4, epochs=epochs, workers=threads, seed=seed)
    finally:
        os.unlink(lines.name)
    model.wv.save_word2vec_format(str(out), binary=True)


def w2v(*args, stdin=None):
    """Run `w2v ARGS` from this checkout; returns its stdout lines parsed as JSON."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "word2vec", *args, "--format", "json"], input=stdin, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"check_against_gensim: w2v {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def check_analogy_totals(kv, model, questions):
    """Per-section and total counts of `w2v eval analogy` against evaluate_word_analogies."""
    _, gensim_sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=30000)
    gensim_counts = [(len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in gensim_sections]
    ours = w2v("eval", "analogy", str(questions), "--model", str(model), "--restrict", "30000")
    sections = [r for r in ours if r["section"] not in ("semantic", "syntactic")]  # … and total last
    our_counts = [(r["correct"], r["questions"]) for r in sections]
    total = ours[-1]
    print(f"eval analogy (restrict 30000): w2v {total['correct']}/{total['questions']} = {total['accuracy']:.4%} "
          f"({total['skipped']} skipped); gensim {gensim_counts[-1][0]}/{gensim_counts[-1][1]} = "
          f"{gensim_counts[-1][0] / gensim_counts[-1][1]:.4%}")
    same = our_counts == gensim_counts
    if not same:
        for ours_row, theirs, name in zip(our_counts, gensim_counts, (r["section"] for r in sections)):
            if ours_row != theirs:
                print(f"  section {name}: w2v {ours_row[0]}/{ours_row[1]}, gensim {theirs[0]}/{theirs[1]}")
    print(f"  per-section and total counts equal: {'yes' if same else 'NO'}")
    return same


def check_similarity(kv, model, wordsim):
    pearson, spearman, oov = kv.evaluate_word_pairs(str(wordsim))
    ours = w2v("eval", "similarity", str(wordsim), "--model", str(model))[0]
    gap = abs(ours["spearman"] - float(spearman[0]))
    print(f"eval similarity (WordSim-353): w2v spearman {ours['spearman']:.6f} pearson {ours['pearson']:.6f} "
          f"pairs {ours['pairs']} oov {ours['oov']:.2%}; gensim spearman {spearman[0]:.6f} "
          f"pearson {pearson[0]:.6f} oov {oov:.2f}%")
    ok = gap <= SPEARMAN_TOLERANCE
    print(f"  spearman difference {gap:.2e} (tolerance {SPEARMAN_TOLERANCE}): {'ok' if ok else 'FAILED'}")
    return ok


def pick_questions(kv, questions, count, seed):
    """`count` lowercased questions (a, b, c) whose three words are in the vocabulary, spread over the file."""
    usable = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        words = line.lower().split()
        if len(words) == 4 and not line.startswith(":") and all(w in kv.key_to_index for w in words[:3]):
            usable.append(words[:3])
    picks = np.random.default_rng(seed).choice(len(usable), size=min(count, len(usable)), replace=False)
    return [usable[i] for i in sorted(picks)]


def cosmul_reference(kv, a, b, c, epsilon):
    """gensim's most_similar_cosmul top answer, with a chosen epsilon."""
    normed = kv.get_normed_vectors()
    shifted = [(normed @ normed[kv.key_to_index[w]] + 1) / 2 for w in (a, b, c)]
    scores = shifted[1] * shifted[2] / (shifted[0] + epsilon)
    scores[[kv.key_to_index[w] for w in (a, b, c)]] = -np.inf
    return kv.index_to_key[int(np.argmax(scores))]


def check_top_answers(kv, model, questions):
    """Top answer of `w2v analogy` (add and mul) against gensim's most_similar and most_similar_cosmul."""
    stdin = "".join(" ".join(q) + "\n" for q in questions)
    ok = True
    for method in ("add", "mul"):
        answers = [r["similar"][0]["word"] for r in w2v("analogy", "--model", str(model), "--method", method,
                                                         "-k", "1", stdin=stdin)]
        if method == "add":
            gensim = [kv.most_similar(positive=[b, c], negative=[a], topn=1)[0][0] for a, b, c in questions]
            reference = gensim
        else:
            gensim = [kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] for a, b, c in questions]
            reference = [cosmul_reference(kv, a, b, c, EPSILON) for a, b, c in questions]
        differ = [i for i, (x, y) in enumerate(zip(answers, gensim)) if x != y]
        off_reference = sum(x != y for x, y in zip(answers, reference))
        name = "most_similar" if method == "add" else "most_similar_cosmul (epsilon 1e-6)"
        print(f"analogy --method {method}: {len(questions) - len(differ)}/{len(questions)} top answers equal "
              f"to gensim's {name}" + ("" if method == "add" else
                                       f"; {len(questions) - off_reference}/{len(questions)} equal to gensim's "
                                       f"formula with epsilon {EPSILON}"))
        for i in differ:
            print(f"  {' '.join(questions[i])}: w2v {answers[i]}, gensim {gensim[i]}")
        ok = ok and off_reference == 0 and len(answers) == len(questions)
    return ok


def main(argv=None):
    args = parse_args(argv)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="w2v-check-gensim-") as tmp:
        model = args.model
        if model is None:
            model = args.save or Path(tmp) / "gensim.bin"
            start = time.perf_counter()
            train_gensim(args.data / "text8-prefix.gz", model, args.epochs, args.threads, args.seed)
            print(f"trained gensim skip-gram on text8-prefix ({args.epochs} epochs) in "
                  f"{time.perf_counter() - start:.0f} s; saved as C binary {model}")
        kv = KeyedVectors.load_word2vec_format(str(model), binary=True)
        print(f"vectors: {len(kv)} words x {kv.vector_size} dims")
        results = [check_analogy_totals(kv, model, args.data / "questions-words.txt"),
                   check_similarity(kv, model, args.data / "wordsim353.tsv"),
                   check_top_answers(kv, model, pick_questions(kv, args.data / "questions-words.txt",
                                                               args.questions, args.seed))]
    print("all checks passed" if all(results) else "SOME CHECKS FAILED")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
