"""Tests for word2vec/evaluate.py: analogy accuracy and word-pair correlations."""

import math

import numpy as np
import pytest

from word2vec.query import evaluate
from word2vec.errors import ConfigError, DataError
from word2vec.query.vectors import Vectors


def _unit_axis(size, *axes):
    vector = np.zeros(size, np.float32)
    vector[list(axes)] = 1
    return vector


@pytest.fixture
def capitals():
    """Axes 0–5 for base words, 6 = "country of", 7 = "comparative"; row 10 is a case variant of
    row 0 that points exactly at the 3CosAdd answer of paris:france::berlin:? (so it must be excluded)."""
    rows = [("Paris", [0]), ("france", [0, 6]), ("berlin", [1]), ("germany", [1, 6]), ("rome", [2]),
            ("italy", [2, 6]), ("good", [3]), ("better", [3, 7]), ("bad", [4]), ("worse", [4, 7])]
    words = [w for w, _ in rows]
    vectors = [_unit_axis(8, *axes) for _, axes in rows]
    unit = [v / np.linalg.norm(v) for v in vectors]
    words.append("paris")
    vectors.append(unit[1] - unit[0] + unit[2])  # france - Paris + berlin
    words += ["tokyo", "japan"]
    vectors += [_unit_axis(8, 5), _unit_axis(8, 5, 6)]
    return Vectors(words, np.array(vectors))


QUESTIONS = """\
: capital-common-countries
paris france berlin germany
berlin germany rome italy
PARIS FRANCE rome Italy
rome italy berlin italy
madrid spain rome italy
tokyo japan rome italy

: family
boy girl brother sister
: gram2-comparative
good better bad worse
bad worse good better
good better bad good
good better ugly uglier
"""


def _row(section, correct, questions, skipped):
    accuracy = correct / questions if questions else 0.0
    return {"section": section, "correct": correct, "questions": questions, "skipped": skipped, "accuracy": accuracy}


def test_sections_oov_case_and_sums(tmp_path, capitals):
    (tmp_path / "q.txt").write_text(QUESTIONS)
    assert evaluate.evaluate_analogies(capitals, tmp_path / "q.txt", restrict=None) == [
        _row("capital-common-countries", 4, 5, 1),
        _row("family", 0, 0, 1),
        _row("gram2-comparative", 2, 3, 1),
        _row("semantic", 4, 5, 2),
        _row("syntactic", 2, 3, 1),
        _row("total", 6, 8, 3),
    ]


def test_restrict_skips_rare_words(tmp_path, capitals):
    (tmp_path / "q.txt").write_text(QUESTIONS)
    result = capitals.evaluate_analogies(tmp_path / "q.txt", restrict=11)
    assert result[0] == _row("capital-common-countries", 3, 4, 2)
    assert result[-1] == _row("total", 5, 7, 4)
    assert evaluate.evaluate_analogies(capitals, tmp_path / "q.txt", restrict=30000)[-1] == _row("total", 6, 8, 3)


def test_restrict_must_be_positive(tmp_path, capitals):
    (tmp_path / "q.txt").write_text(QUESTIONS)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ConfigError, match="restrict"):
            evaluate.evaluate_analogies(capitals, tmp_path / "q.txt", restrict=bad)


def test_mul_method(tmp_path, capitals):
    (tmp_path / "q.txt").write_text(QUESTIONS)
    result = capitals.evaluate_analogies(tmp_path / "q.txt", restrict=None, method="mul")
    assert result[-1] == _row("total", 6, 8, 3)
    with pytest.raises(ConfigError, match="add, mul"):
        capitals.evaluate_analogies(tmp_path / "q.txt", method="sum")


def _gensim_reference(vectors, questions, restrict, method):
    """gensim's evaluate_word_analogies, transcribed one question at a time (candidates restricted).

    Returns (correct, counted, predictions): predictions holds gensim's answer, or None for skipped."""
    ok = {}
    for row, word in reversed(list(enumerate(vectors.words[:restrict]))):
        ok[word.upper()] = row
    unit = vectors.normed[:restrict]
    correct, predictions = 0, []
    for a, b, c, expected in ([w.upper() for w in q] for q in questions):
        if not all(w in ok for w in (a, b, c, expected)):
            predictions.append(None)
            continue
        if method == "add":
            mean = (unit[ok[b]] + unit[ok[c]] - unit[ok[a]]) / 3
            scores = unit @ (mean / np.linalg.norm(mean))
        else:
            shifted = [(unit @ unit[ok[w]] + 1) / 2 for w in (a, b, c)]
            scores = shifted[1] * shifted[2] / (shifted[0] + evaluate.COSMUL_EPSILON)
        best = [r for r in np.argsort(-scores, kind="stable")[:8] if r not in (ok[a], ok[b], ok[c])][:5]
        for row in best:
            predicted = vectors.words[row].upper()
            if predicted in ok and predicted not in (a, b, c):
                break
        predictions.append(predicted)
        correct += predicted == expected
    return correct, len(questions) - predictions.count(None), predictions


@pytest.mark.parametrize("method", ["add", "mul"])
def test_agrees_with_gensim_on_random_vectors(tmp_path, method):
    rng = np.random.default_rng(3)
    stems = [f"w{i}" for i in range(60)]
    words = stems + [s.upper() for s in stems[::7]] + ["rare1", "rare2"]
    vectors = Vectors(words, rng.standard_normal((len(words), 12)))
    pool = [s.upper() if i % 5 == 0 else s for i, s in enumerate(stems)] + ["oov", "rare1"]
    questions = [list(rng.choice(pool, 4, replace=False)) for _ in range(600)]
    answers = _gensim_reference(vectors, [q[:3] + [q[0]] for q in questions], 62, method)[2]
    for question, answer in list(zip(questions, answers))[::2]:  # make half of them right
        question[3] = answer or question[3]
    lines = [": first"] + [" ".join(q) for q in questions[:300]] + [": gram-second"]
    (tmp_path / "q.txt").write_text("\n".join(lines + [" ".join(q) for q in questions[300:]]) + "\n")
    total = evaluate.evaluate_analogies(vectors, tmp_path / "q.txt", restrict=62, method=method)[-1]
    correct, counted, _ = _gensim_reference(vectors, questions, 62, method)
    assert (total["correct"], total["questions"]) == (correct, counted)
    assert correct > 150 and total["skipped"] == 600 - counted > 0


@pytest.mark.parametrize("content,problem", [
    ("", "no analogy questions found"),
    (": only a header\n\n", "no analogy questions found"),
    ("a b c d\n", "line 1: a question before the first ': section' line"),
    (": s\na b c d\na b c\n", "line 3: expected 4 words 'a b c d', found 3"),
])
def test_analogy_file_errors(tmp_path, capitals, content, problem):
    (tmp_path / "q.txt").write_text(content)
    with pytest.raises(DataError, match=r"q\.txt: " + problem):
        evaluate.evaluate_analogies(capitals, tmp_path / "q.txt")


def test_missing_or_undecodable_file(tmp_path, capitals):
    with pytest.raises(DataError, match="no such file"):
        evaluate.evaluate_analogies(capitals, tmp_path / "missing.txt")
    (tmp_path / "q.txt").write_bytes(b": s\na b c d\n\xff b c d\n")
    with pytest.raises(DataError, match=r"q\.txt: line 3: not valid UTF-8"):
        evaluate.evaluate_analogies(capitals, tmp_path / "q.txt")


# ---------------------------------------------------------------- word pairs


@pytest.fixture
def angles():
    """'a' at 0°, the others at the given angles: cosines are known exactly."""
    degrees = {"a": 0, "b": 80, "c": 40, "d": 60, "e": 10, "A": 90}
    vectors = [[math.cos(math.radians(x)), math.sin(math.radians(x))] for x in degrees.values()]
    return Vectors(list(degrees), np.array(vectors))


def test_pairs_spearman_with_ties(tmp_path, angles):
    content = "# a comment\nword1\tword2\tscore\n\na\tb\t1\nA\tc\t2\na\td\t2.0\na\te\t3\na\tzebra\t5\n"
    (tmp_path / "pairs.tsv").write_text(content)
    result = evaluate.evaluate_pairs(angles, tmp_path / "pairs.tsv")
    # ranks: gold [1, 2.5, 2.5, 4], model (cos 80°, 40°, 60°, 10°) [1, 3, 2, 4]: r = 4.5 / sqrt(4.5 * 5)
    assert result["spearman"] == pytest.approx(math.sqrt(0.9), rel=1e-12)
    model = [math.cos(math.radians(x)) for x in (80, 40, 60, 10)]
    assert result["pearson"] == pytest.approx(np.corrcoef([1, 2, 2, 3], model)[0, 1], rel=1e-6)
    assert result["pairs"] == 4 and result["oov"] == 0.2
    assert result["file"].endswith("pairs.tsv")
    assert angles.evaluate_pairs(tmp_path / "pairs.tsv") == result


@pytest.mark.parametrize("separator", [",", " ", "  \t"])
def test_pairs_separators(tmp_path, angles, separator):
    lines = [separator.join(p) for p in (("a", "b", "1"), ("a", "c", "2"), ("a", "e", "3"))]
    (tmp_path / "p.csv").write_text("\n".join(lines))
    result = evaluate.evaluate_pairs(angles, tmp_path / "p.csv")
    assert result["spearman"] == pytest.approx(1.0) and result["pairs"] == 3 and result["oov"] == 0.0


@pytest.mark.parametrize("content,problem", [
    ("", "no word pairs found"),
    ("# nothing\n\n", "no word pairs found"),
    ("a\tb\t1\na\tb\n", r"line 2: expected 'word1 word2 score', found 2 fields"),
    ("a\tb\t1\na\tc\thigh\n", r"line 2: score 'high' is not a number"),
    ("a\tb\tnan\na\tc\t1\n", r"line 2: expected|line 1: score"),
])
def test_pairs_file_errors(tmp_path, angles, content, problem):
    (tmp_path / "p.tsv").write_text(content)
    if "nan" in content:  # a first line without a finite score is a header, skipped
        assert evaluate.evaluate_pairs(angles, tmp_path / "p.tsv")["pairs"] == 1
        return
    with pytest.raises(DataError, match=r"p\.tsv: " + problem):
        evaluate.evaluate_pairs(angles, tmp_path / "p.tsv")


def test_all_pairs_unknown(tmp_path, angles):
    (tmp_path / "p.tsv").write_text("x\ty\t1\n")
    result = evaluate.evaluate_pairs(angles, tmp_path / "p.tsv")
    assert math.isnan(result["spearman"]) and result["pairs"] == 0 and result["oov"] == 1.0


def test_rank_average_and_correlations():
    np.testing.assert_array_equal(evaluate.rank_average([10, 20, 20, 30, 5]), [2, 3.5, 3.5, 5, 1])
    np.testing.assert_array_equal(evaluate.rank_average([7, 7, 7]), [2, 2, 2])
    assert evaluate.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(math.sqrt(0.9), rel=1e-12)
    assert evaluate.pearson([1, 2, 3], [2, 4, 6]) == 1.0
    assert evaluate.pearson([1, 2, 3], [3, 2, 1]) == -1.0
    assert math.isnan(evaluate.pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(evaluate.spearman([1], [2]))


def test_spearman_matches_scipy():
    stats = pytest.importorskip("scipy.stats", reason="scipy is only the reference for this check, not a dependency")
    rng = np.random.default_rng(11)
    x, y = rng.integers(0, 6, 50).astype(float), rng.standard_normal(50).round(1)
    assert evaluate.spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], rel=1e-12)
    assert evaluate.pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], rel=1e-12)


def test_phrases_joined_with_underscores_are_ordinary_words(tmp_path):
    # `w2v phrases` output: multi-word names are single tokens, and questions may use them
    words = ["new_york", "usa", "los_angeles", "california", "berlin", "germany"]
    vectors = Vectors(words, np.array([[1, 0, 0, 1], [0, 0, 0, 1], [1, 0.1, 0, 0.9], [0, 0.1, 0, 0.9],
                                       [1, 0, 1, 0], [0, 0, 1, 0]], np.float32))
    questions = tmp_path / "q.txt"
    questions.write_text(": city-in-state\nusa new_york california los_angeles\nNEW_YORK usa berlin germany\n")
    rows = evaluate.evaluate_analogies(vectors, questions)
    assert rows[0] == {"section": "city-in-state", "correct": 2, "questions": 2, "skipped": 0, "accuracy": 1.0}
