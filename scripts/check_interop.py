"""Check that gensim and w2v read each other's word2vec files: same words, same vectors, same top-10 neighbours.

Run it where gensim is installed, with w2v importable (gensim is never a dependency of w2v):

    PYTHONPATH=. path/to/gensim-venv/bin/python scripts/check_interop.py [--model DIR]

w2v → gensim: a model directory is exported with the real command line (`python -m word2vec
export … --format word2vec-bin|word2vec-txt`); gensim's `load_word2vec_format` reads it.
gensim → w2v: gensim's `save_word2vec_format` writes binary, text and headerless text; w2v
loads each (`--no-header` for the last). `--model DIR` adds a trained model to the random table.
Prints one line per check; exits 1 if any fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    from gensim.models import KeyedVectors
except ImportError:
    sys.exit("check_interop.py needs gensim: run it in a virtual environment where gensim is installed")

from word2vec import store
from word2vec.query.vectors import load

NON_ASCII = ["café", "naïve", "Zürich", "東京", "Москва", "İstanbul", "🙂", "e\u0301"]  # the last: a combining accent


def random_table(n=5000, dim=100, seed=7):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n - len(NON_ASCII))] + NON_ASCII
    return words, rng.standard_normal((n, dim)).astype(np.float32)


def gensim_table(words, vectors):
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


def neighbours_agree(ours, theirs, queries):
    """How many queries get the same top-10 words (in order) and scores within 1e-5 from both."""
    same = 0
    for word in queries:
        a, b = ours.most_similar(word, topn=10), theirs.most_similar(word, topn=10)
        same += [w for w, _ in a] == [w for w, _ in b] and np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
    return same


def compare(label, words, vectors, ours, theirs):
    """One report line; True when words, vectors and neighbours all agree."""
    their_words = list(theirs.index_to_key)
    words_ok = ours.words == words and their_words == words
    vectors_ok = words_ok and np.array_equal(ours.vectors, vectors) and np.array_equal(theirs.vectors, vectors)
    queries = words[:: max(1, len(words) // 50)] + [w for w in NON_ASCII if w in ours]
    agree = neighbours_agree(ours, theirs, queries) if words_ok else 0
    ok = words_ok and vectors_ok and agree == len(queries)
    print(f"{'ok  ' if ok else 'FAIL'} {label}: {len(words)} words {'identical' if words_ok else 'DIFFER'}, "
          f"vectors {'identical' if vectors_ok else 'DIFFER'}, top-10 neighbours identical for {agree}/{len(queries)}")
    return ok


def w2v_to_gensim(name, words, vectors, counts, folder):
    model = os.path.join(folder, f"{name}-model")
    os.makedirs(model)
    store.save_npy(os.path.join(model, "vectors.npy"), vectors)
    store.write_vocab(os.path.join(model, "vocab.tsv"), words, counts)
    results = []
    for fmt, suffix in (("word2vec-bin", ".bin"), ("word2vec-txt", ".txt")):
        out = os.path.join(folder, f"{name}-export{suffix}")
        subprocess.run([sys.executable, "-m", "word2vec", "export", "--model", model, "--format", fmt, "--output", out, "-q"],
                       check=True)
        theirs = KeyedVectors.load_word2vec_format(out, binary=suffix == ".bin")
        results.append(compare(f"w2v export {fmt} ({name}) → gensim", words, vectors, load(model), theirs))
    return results


def gensim_to_w2v(name, words, vectors, folder):
    theirs = gensim_table(words, vectors)
    results = []
    for binary, header, label in ((True, True, "binary"), (False, True, "text"), (False, False, "text, no header")):
        path = os.path.join(folder, f"{name}-gensim{'.bin' if binary else '.txt'}")
        theirs.save_word2vec_format(path, binary=binary, write_header=header)
        results.append(compare(f"gensim {label} ({name}) → w2v", words, vectors, load(path, header=header), theirs))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Also check this trained w2v model directory.")
    args = parser.parse_args()
    import gensim

    print(f"gensim {gensim.__version__}, numpy {np.__version__}")
    words, vectors = random_table()
    tables = [("random", words, vectors, np.arange(len(words), 0, -1))]
    if args.model:
        trained = load(args.model)
        counts = trained.counts if trained.counts is not None else np.zeros(len(trained), np.int64)
        tables.append((os.path.basename(os.path.abspath(args.model)), trained.words, np.array(trained.vectors), counts))
    results = []
    with tempfile.TemporaryDirectory(prefix="w2v-interop-") as folder:
        for name, words, vectors, counts in tables:
            results += w2v_to_gensim(name, words, vectors, counts, folder)
            results += gensim_to_w2v(name, words, vectors, folder)
    print(f"{sum(results)} of {len(results)} checks passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
