"""Evaluation: word analogies (3CosAdd/3CosMul, as compute-accuracy and gensim) and word-pair similarity."""

import math
import os

import numpy as np

from ..errors import ConfigError, DataError
from ..fileio import open_binary, read_chunks

METHODS = ("add", "mul")
COSMUL_EPSILON = 1e-3  # Levy & Goldberg (2014), as the issue asks; gensim uses 1e-6
_BLOCK = 256  # analogy questions scored against the vocabulary in one matrix product


def fold_case(word):
    """The case-insensitive key: str.upper, as gensim (same as lowercasing for ASCII; 'ß' = 'SS')."""
    return word.upper()


def unit_rows(matrix):
    """Rows scaled to unit length, float32 (n, d); all-zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros(matrix.shape, np.float32), where=norms > 0)


def candidate_count(vectors, restrict):
    """How many rows (the most frequent words) `restrict` lets take part; None means all."""
    if restrict is None:
        return len(vectors.words)
    if isinstance(restrict, bool) or not isinstance(restrict, (int, np.integer)) or restrict < 1:
        raise ConfigError(f"restrict must be a whole number of rows, 1 or more; got {restrict!r}")
    return min(int(restrict), len(vectors.words))


def analogy_scores(candidates, a, b, c, method="add"):
    """Score every candidate as the answer to "a is to b as c is to ?".

    Parameters
    ----------
    candidates : float32 (n, d), unit rows
    a, b, c : float32 (k, d), unit rows: k questions
    method : "add" — 3CosAdd, the cosine with unit(b − a + c), as gensim's most_similar([b, c], [a]);
             "mul" — 3CosMul (Levy & Goldberg 2014) with cosines shifted to [0, 1], as gensim's
             most_similar_cosmul: cos'(x, b)·cos'(x, c) / (cos'(x, a) + 1e-6)

    Returns
    -------
    float32 (k, n)
    """
    if method == "add":
        query = b - a + c
        norms = np.linalg.norm(query, axis=1, keepdims=True)
        return np.divide(query, norms, out=np.zeros_like(query), where=norms > 0) @ candidates.T
    if method == "mul":
        shifted = [(x @ candidates.T + 1) / 2 for x in (a, b, c)]
        return shifted[1] * shifted[2] / (shifted[0] + np.float32(COSMUL_EPSILON))
    raise ConfigError(f"analogy method must be one of {', '.join(METHODS)}; got {method!r}")


def evaluate_analogies(vectors, path, restrict=30000, method="add"):
    """Analogy accuracy by the protocol of word2vec's compute-accuracy and gensim's evaluate_word_analogies.

    Only the first `restrict` rows (the most frequent words) take part; a question counts when all
    four words are among them, compared case-insensitively (of two words differing only by case the
    earlier one stands for both). The answer is the best candidate among those rows other than a, b
    and c (and their case variants); it is right when it equals d up to case.

    A model with subwords answers every question whose d is among those rows: a, b or c outside
    them are built from their n-grams as written in the file (as if the vocabulary held only
    those rows), and `subword_questions` counts the questions that needed one. The questions
    a word-only model answers are then `questions − subword_questions`.

    Parameters
    ----------
    vectors : Vectors (uses `.words`, `.vectors`, and `.subwords` when it has them)
    path : questions file: `: section` lines, then lines `a b c d`
    restrict : int or None (all rows)
    method : "add" (3CosAdd) or "mul" (3CosMul)

    Returns
    -------
    list of dicts {"section", "correct", "questions", "skipped", "accuracy"} (and "subword_questions"
    with subwords): one per section in file order, then "semantic", "syntactic" (sections named
    gram*) and "total".
    """
    if method not in METHODS:
        raise ConfigError(f"analogy method must be one of {', '.join(METHODS)}; got {method!r}")
    count = candidate_count(vectors, restrict)
    sections = _read_analogies(os.fspath(path))
    lookup, canonical, variants = _case_index(vectors.words[:count])
    built = _Built(vectors, count)
    results, questions, owners = _ask(sections, lookup, built)
    # float64: near-ties (1e-8 apart) must break the way gensim's per-question float64 scores do
    normed = np.concatenate([unit_rows(vectors.vectors[:count]), unit_rows(built.matrix())]).astype(np.float64)
    answers = _answer(normed, questions, canonical, variants, method, count)
    hits = np.bincount(np.array(owners, np.int64)[answers == questions[:, 3]], minlength=len(results))
    for result, correct in zip(results, hits.tolist()):
        result["correct"] = correct
    semantic = [r for r in results if not r["section"].startswith("gram")]
    syntactic = [r for r in results if r["section"].startswith("gram")]
    keys = ("correct", "questions", "skipped") + (("subword_questions",) if built.subwords is not None else ())
    summary = [_summary(name, group, keys) for name, group in (("semantic", semantic), ("syntactic", syntactic))]
    return [_with_accuracy(r) for r in results] + summary + [_summary("total", results, keys)]


def _ask(sections, lookup, built):
    """Each section's counts, the rows of the questions that can be asked int64 (q, 4), and their sections."""
    results, questions, owners = [], [], []
    for number, (title, items) in enumerate(sections):
        found = [rows for rows in (built.rows(item, lookup) for item in items) if rows is not None]
        questions += found
        owners += [number] * len(found)
        results.append({"section": title, "correct": 0, "questions": len(found), "skipped": len(items) - len(found)})
        if built.subwords is not None:
            results[-1]["subword_questions"] = sum(max(rows[:3]) >= built.count for rows in found)
    return results, np.array(questions, np.int64).reshape(-1, 4), owners


class _Built:
    """The words of analogy questions built from subwords: rows `count`, `count + 1`, … after the candidates."""

    def __init__(self, vectors, count):
        self.vectors, self.count = vectors, count
        self.subwords = getattr(vectors, "subwords", None)
        self.index, self.vectors_built = {}, []

    def rows(self, item, lookup):
        """The rows of a question's words a, b, c, d, or None when it cannot be asked."""
        rows = [lookup.get(fold_case(word)) for word in item]
        if None not in rows:
            return rows
        if self.subwords is None or rows[3] is None:
            return None
        return [row if row is not None else self._row(word) for row, word in zip(rows[:3], item)] + rows[3:]

    def _row(self, word):
        if word not in self.index:
            self.index[word] = self.count + len(self.vectors_built)
            self.vectors_built.append(self.vectors.subword_vector(word))
        return self.index[word]

    def matrix(self):
        return np.array(self.vectors_built, np.float32).reshape(-1, self.vectors.vectors.shape[1])


def _answer(normed, questions, canonical, variants, method, count=None):
    """The canonical row of each question's best answer; a, b, c and their case variants excluded.

    `normed` holds the candidates (its first `count` rows, all when None), then any more rows
    that questions may use for a, b or c.
    """
    count = len(normed) if count is None else count
    answers = np.empty(len(questions), np.int64)
    for start in range(0, len(questions), _BLOCK):
        block = questions[start : start + _BLOCK]
        scores = analogy_scores(normed[:count], *(normed[block[:, i]] for i in range(3)), method=method)
        lines = np.arange(len(block))
        for i in range(3):
            known = block[:, i] < count
            scores[lines[known], block[known, i]] = -np.inf
        for line, rows in enumerate(block[:, :3].tolist()):
            for row in rows:
                if row in variants:
                    scores[line, variants[row]] = -np.inf
        answers[start : start + len(block)] = canonical[scores.argmax(axis=1)]
    return answers


def _case_index(words):
    """Case-folded word → first row; each row's canonical (first) row; canonical row → all its rows."""
    lookup, canonical, variants = {}, np.empty(len(words), np.int64), {}
    for row, word in enumerate(words):
        first = lookup.setdefault(fold_case(word), row)
        canonical[row] = first
        if first != row:
            variants.setdefault(first, [first]).append(row)
    return lookup, canonical, variants


def _with_accuracy(result):
    questions = result["questions"]
    return {**result, "accuracy": result["correct"] / questions if questions else 0.0}


def _summary(name, group, keys):
    totals = {key: sum(r[key] for r in group) for key in keys}
    return _with_accuracy({"section": name, **totals})


def _read_analogies(name):
    """[(section name, [[a, b, c, d] as written]), …] in file order."""
    sections = []
    for number, line in enumerate(_read_lines(name), 1):
        words = line.split()
        if not words:
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
        elif not sections:
            raise DataError(f"{name}: line {number}: a question before the first ': section' line")
        elif len(words) != 4:
            raise DataError(f"{name}: line {number}: expected 4 words 'a b c d', found {len(words)}")
        else:
            sections[-1][1].append(words)
    if not any(items for _, items in sections):
        raise DataError(f"{name}: no analogy questions found")
    return sections


def _read_lines(name):
    with open_binary(name) as handle:
        data = b"".join(read_chunks(handle, name))
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{name}: line {line}: not valid UTF-8") from None


def evaluate_pairs(vectors, path, restrict=None):
    """Correlation of cosine similarity with human similarity scores (WordSim-353, SimLex, MEN, …).

    Lines hold `word1 word2 score` separated by tabs, commas or spaces; blank lines, `#` comments and
    a header (a first line whose score is not a number) are skipped. Words are looked up
    case-insensitively (the earlier of two case variants wins) among the first `restrict` rows
    (all when None); pairs with an unknown word are left out and reported as `oov`. A model
    with subwords builds the unknown words from their n-grams instead: every pair is used,
    `oov` is still the share of pairs with a word out of the vocabulary, and `subword_pairs`
    counts them.

    Returns
    -------
    dict {"file", "spearman", "pearson", "pairs": pairs used, "oov": share of pairs left out (0..1)};
    the correlations are nan when fewer than two pairs remain or one side is constant.
    """
    name = os.fspath(path)
    lookup = _case_index(vectors.words[: candidate_count(vectors, restrict)])[0]
    subwords = getattr(vectors, "subwords", None)
    gold, pairs, oov = [], [], 0
    for one, two, score in _read_pairs(name):
        rows = lookup.get(fold_case(one)), lookup.get(fold_case(two))
        if None in rows:
            oov += 1
            if subwords is None:
                continue
        gold.append(score)
        pairs.append([vectors.vectors[r] if r is not None else vectors.subword_vector(w) for r, w in zip(rows, (one, two))]
                     if subwords is not None else rows)
    if not gold and not oov:
        raise DataError(f"{name}: no word pairs found")
    total = len(gold) + (0 if subwords is not None else oov)
    if subwords is not None:
        pairs = np.array(pairs, np.float32).reshape(-1, 2, vectors.vectors.shape[1])
        left, right = pairs[:, 0], pairs[:, 1]
    else:
        pairs = np.array(pairs, np.int64).reshape(-1, 2)
        left, right = vectors.vectors[pairs[:, 0]], vectors.vectors[pairs[:, 1]]
    model = np.sum(unit_rows(left) * unit_rows(right), axis=1)
    result = {"file": name, "spearman": spearman(gold, model), "pearson": pearson(gold, model),
              "pairs": len(gold), "oov": oov / total}
    if subwords is not None:  # coverage without subwords is 1 − oov; with them, every pair is used
        result["subword_pairs"] = oov
    return result


def _read_pairs(name):
    """Yield (word1, word2, score) for each pair line."""
    first = True
    for number, line in enumerate(_read_lines(name), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t" if "\t" in line else "," if "," in line else None)]
        if len(fields) != 3:
            raise DataError(f"{name}: line {number}: expected 'word1 word2 score', found {len(fields)} fields")
        score = _number(fields[2])
        if score is None and not first:
            raise DataError(f"{name}: line {number}: score {fields[2][:30]!r} is not a number")
        if score is not None:
            yield fields[0], fields[1], score
        first = False


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def rank_average(values):
    """Ranks 1..n with ties given the mean of their ranks (scipy.stats.rankdata's 'average')."""
    values = np.asarray(values, np.float64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends + 1) / 2)[np.cumsum(new) - 1]
    return ranks


def pearson(x, y):
    """Pearson's correlation coefficient; nan for fewer than two values or a constant side."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2:
        return math.nan
    x, y = x - x.mean(), y - y.mean()
    scale = math.sqrt(float(x @ x) * float(y @ y))
    return max(-1.0, min(1.0, float(x @ y) / scale)) if scale > 0 else math.nan


def spearman(x, y):
    """Spearman's rank correlation: Pearson's on average ranks (as scipy.stats.spearmanr)."""
    return pearson(rank_average(x), rank_average(y)) if len(x) >= 2 else math.nan
