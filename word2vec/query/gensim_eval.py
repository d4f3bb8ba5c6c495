"""Evaluation with gensim's return shapes: evaluate_word_analogies and evaluate_word_pairs (with p-values)."""

import math
import os
from collections import namedtuple

import numpy as np

from . import evaluate
from ..errors import ConfigError, DataError

Correlation = namedtuple("Correlation", "statistic pvalue")  # indexable as scipy's results: r[0], r[1]


def _lookup(vectors, restrict_vocab, case_insensitive):
    if not case_insensitive:
        raise ConfigError("w2v compares evaluation words case-insensitively only; leave case_insensitive=True")
    count = evaluate.candidate_count(vectors, restrict_vocab)
    return count, evaluate._case_index(vectors.words[:count])


def evaluate_word_analogies(vectors, path, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False):
    """Analogy accuracy (3CosAdd among the first `restrict_vocab` rows), shaped as gensim's.

    Returns
    -------
    score : float — the share of answered questions answered right (0.0 when none was answered)
    sections : list of dicts {"section": name, "correct": [(A, B, C, D)], "incorrect": [(A, B, C, D)]}
        one per section in file order, then {"section": "Total accuracy", …}; the words are
        uppercased, as gensim's. A question with a word outside the first rows is left out,
        or counted as incorrect when `dummy4unknown`.
    """
    count, (lookup, canonical, variants) = _lookup(vectors, restrict_vocab, case_insensitive)
    questions, entries = [], []
    for title, items in evaluate._read_analogies(os.fspath(path)):
        kept = []
        for item in items:
            item = [evaluate.fold_case(word) for word in item]
            rows = [lookup.get(word) for word in item]
            if None not in rows:
                kept.append((tuple(item), len(questions)))
                questions.append(rows)
            elif dummy4unknown:
                kept.append((tuple(item), None))  # counted as incorrect
        entries.append((title, kept))
    questions = np.array(questions, np.int64).reshape(-1, 4)
    normed = evaluate.unit_rows(vectors.vectors[:count]).astype(np.float64)
    right = (evaluate._answer(normed, questions, canonical, variants, "add") == questions[:, 3]).tolist()
    sections = [{"section": title,
                 "correct": [item for item, q in kept if q is not None and right[q]],
                 "incorrect": [item for item, q in kept if q is None or not right[q]]} for title, kept in entries]
    total = {"section": "Total accuracy",
             "correct": [q for s in sections for q in s["correct"]],
             "incorrect": [q for s in sections for q in s["incorrect"]]}
    answered = len(total["correct"]) + len(total["incorrect"])
    return (len(total["correct"]) / answered if answered else 0.0), sections + [total]


def evaluate_word_pairs(vectors, path, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False):
    """Correlation of cosine similarity with human scores, shaped as gensim's.

    Pairs are read as by `evaluate.evaluate_pairs` (tab, comma or space separated); words are
    looked up case-insensitively among the first `restrict_vocab` rows.

    Returns
    -------
    pearson : Correlation(statistic, pvalue) — two-sided p-value, as scipy's pearsonr
    spearman : Correlation(statistic, pvalue) — as scipy's spearmanr
    oov_ratio : float — the percentage of pairs with an unknown word (of the pairs used when
        `dummy4unknown`, which scores those pairs 0, of all pairs otherwise)
    """
    name = os.fspath(path)
    _, (lookup, _, _) = _lookup(vectors, restrict_vocab, case_insensitive)
    gold, model, oov = [], [], 0
    for one, two, score in evaluate._read_pairs(name):
        rows = lookup.get(evaluate.fold_case(one)), lookup.get(evaluate.fold_case(two))
        if None in rows:
            oov += 1
            if not dummy4unknown:
                continue
            similarity = 0.0
        else:
            unit = evaluate.unit_rows(vectors.vectors[list(rows)])
            similarity = float(unit[0] @ unit[1])
        gold.append(score)
        model.append(similarity)
    if not gold:
        raise DataError(f"{name}: no word pair with both words in the vocabulary")
    pearson, spearman = evaluate.pearson(gold, model), evaluate.spearman(gold, model)
    ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    return (Correlation(pearson, correlation_pvalue(pearson, len(gold))),
            Correlation(spearman, correlation_pvalue(spearman, len(gold))), ratio)


def correlation_pvalue(r, n):
    """Two-sided p-value of a correlation `r` over `n` pairs (Student's t with n − 2 degrees of freedom):
    the regularized incomplete beta I_{1−r²}((n − 2)/2, 1/2), as scipy computes for pearsonr and spearmanr."""
    if n < 3 or math.isnan(r):
        return math.nan
    return incomplete_beta((n - 2) / 2, 0.5, max(0.0, 1.0 - r * r))


def incomplete_beta(a, b, x):
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a, b, x, tiny=1e-300):
    def clamp(value):
        return value if abs(value) > tiny else tiny

    c, d = 1.0, 1.0 / clamp(1.0 - (a + b) * x / (a + 1))
    fraction = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 / clamp(1.0 + numerator * d)
            c = clamp(1.0 + numerator / c)
            fraction *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return fraction
