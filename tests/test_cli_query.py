"""The query commands `w2v analogy`, `outlier`, `eval analogy|similarity`, the Python API under them,
and the evaluation `w2v train` runs at the end: exit statuses and exact output."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import word2vec
from word2vec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
S = 1 / math.sqrt(2)


def run(args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def write_model(folder, words, vectors):
    """A model directory: vectors.npy and vocab.tsv, counts falling in row order."""
    folder.mkdir()
    np.save(folder / "vectors.npy", np.asarray(vectors, np.float32))
    (folder / "vocab.tsv").write_text("".join(f"{w}\t{100 - i}\n" for i, w in enumerate(words)))
    return folder


@pytest.fixture
def royal(tmp_path):
    """man : king :: woman : ?  — 3CosAdd answers duchess, 3CosMul queen.

    man, king and woman lie on axes 0, 1, 2 (king twice as long), so the cosines of a unit
    candidate with them are its first three coordinates: duchess (-0.3, -0.3, 0.6) scores
    0.6/√3 = 0.3464 by add and 0.35·0.8/0.351 = 0.7977 by mul; queen (0, 0.3, 0.25) scores
    0.55/√3 = 0.3175 and 0.65·0.625/0.501 = 0.8109. apple and pear share axis 5 (cosine 0.6).
    """
    r_duchess, r_queen = math.sqrt(0.46), math.sqrt(0.8475)
    words = ["man", "king", "woman", "queen", "duchess", "apple", "pear"]
    vectors = [[1, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0],
               [0, 0.3, 0.25, 0, r_queen, 0, 0], [-0.6, -0.6, 1.2, 2 * r_duchess, 0, 0, 0],
               [0, 0, 0, 0, 0, 3, 0], [0, 0, 0, 0, 0, 0.6, 0.8]]
    return write_model(tmp_path / "royal", words, vectors)


@pytest.fixture
def capitals(tmp_path):
    """One axis per place or animal; axis 6 means "country of", axis 7 "plural". `Tokyo` is capitalized."""
    rows = [("paris", [0]), ("france", [0, 6]), ("berlin", [1]), ("germany", [1, 6]), ("rome", [2]),
            ("italy", [2, 6]), ("dog", [3]), ("dogs", [3, 7]), ("cat", [4]), ("cats", [4, 7]),
            ("Tokyo", [5]), ("japan", [5, 6])]
    vectors = np.zeros((len(rows), 8), np.float32)
    for row, (_, axes) in enumerate(rows):
        vectors[row, axes] = 1
    return write_model(tmp_path / "capitals", [w for w, _ in rows], vectors)


QUESTIONS = """\
: capital-common-countries
paris france berlin germany
berlin germany rome italy
PARIS FRANCE rome Italy
rome italy paris germany
madrid spain rome italy
tokyo japan rome italy

: gram8-plural
dog dogs cat cats
cat cats dog dogs
dog dogs cat dog
"""
# right: 1, 2, 3 (any case), 6 (tokyo is Tokyo); 4 answers france; madrid and spain are unknown.
# plural: right, right, and wrong (the answer can't be dog, a question word).


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS)
    return path


# ---------------------------------------------------------------- analogy


def test_analogy_add_and_mul(royal):
    result = run(["analogy", "man", "king", "woman", "--model", royal])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == "man king woman\tduchess\t0.3464\n"
    result = run(["analogy", "man", "king", "woman", "--model", royal, "--method", "mul"])
    assert result.stdout == "man king woman\tqueen\t0.8109\n"


def test_analogy_topn_tsv_and_json(royal):
    result = run(["analogy", "man", "king", "woman", "--model", royal, "-k", "3"])
    assert result.stdout == "man king woman\tduchess\t0.3464\nman king woman\tqueen\t0.3175\nman king woman\tapple\t0.0000\n"
    result = run(["analogy", "man", "king", "woman", "--model", royal, "--method", "mul", "-k", "2", "--format", "json"])
    assert result.exit_code == 0
    assert result.stdout == ('{"query": "man king woman", "similar": [{"word": "queen", "score": 0.810878}, '
                             '{"word": "duchess", "score": 0.797721}]}\n')


def test_analogy_reads_questions_from_stdin(royal):
    lines = "man king woman\n\n  king man   queen \nman king\nman king prince\napple pear king\n"
    result = run(["analogy", "--model", royal], input=lines)
    assert result.stdout == "man king woman\tduchess\t0.3464\nking man queen\twoman\t0.1614\napple pear king\tqueen\t0.2236\n"
    assert result.stderr == ("Error: expected three words 'a b c' on a line, got 2: 'man king'\n"
                             "Error: 'prince' is not in the vocabulary\n")
    assert result.exit_code == 1


def test_analogy_unknown_word_and_bad_usage(royal):
    result = run(["analogy", "man", "prince", "woman", "--model", royal])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: 'prince' is not in the vocabulary\n")
    result = run(["analogy", "man", "king", "--model", royal])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: give three words A B C (or none, to read 'a b c' lines from stdin); got 2" in result.stderr
    assert run(["analogy", "man", "king", "woman", "--model", royal, "--method", "cos"]).exit_code == 2


def test_analogy_without_a_model_is_one_error_line(tmp_path):
    result = run(["analogy", "a", "b", "c", "--model", tmp_path / "missing"])
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.startswith("Error: ")
    assert len(result.stderr.splitlines()) == 1


# ---------------------------------------------------------------- outlier


def test_outlier_arguments_and_stdin(royal):
    result = run(["outlier", "apple", "pear", "man", "--model", royal])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "apple pear man\tman\n", "")
    result = run(["outlier", "--model", royal, "--format", "json"],
                  input="apple pear queen\nking\napple prince\nman king woman apple\n")
    assert result.stdout == ('{"query": "apple pear queen", "outlier": "queen"}\n'
                             '{"query": "king", "error": "expected at least two words"}\n'
                             '{"query": "apple prince", "error": "not in vocabulary", "word": "prince"}\n'
                             '{"query": "man king woman apple", "outlier": "apple"}\n')
    assert result.stderr == ("Error: expected at least two words on a line, got 1: 'king'\n"
                             "Error: 'prince' is not in the vocabulary\n")
    assert result.exit_code == 1


def test_outlier_leaves_out_unknown_words_with_a_warning(royal):
    result = run(["outlier", "apple", "pear", "prince", "man", "--model", royal])
    assert (result.exit_code, result.stdout) == (0, "apple pear prince man\tman\n")
    assert result.stderr == "warning: 'prince' is not in the vocabulary; left out of 'apple pear prince man'\n"
    result = run(["outlier", "apple", "pear", "prince", "man", "--model", royal, "-q"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "apple pear prince man\tman\n", "")
    result = run(["outlier", "apple", "prince", "duke", "--model", royal])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: 'prince' is not in the vocabulary\n")


def test_outlier_needs_two_words(royal):
    result = run(["outlier", "apple", "--model", royal])
    assert result.exit_code == 2 and "give at least two words" in result.stderr


# ---------------------------------------------------------------- eval analogy


def test_eval_analogy_tsv(capitals, questions):
    result = run(["eval", "analogy", questions, "--model", capitals])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == (
        "section\tcorrect\tquestions\tskipped\taccuracy\n"
        "capital-common-countries\t4\t5\t1\t0.8000\n"
        "gram8-plural\t2\t3\t0\t0.6667\n"
        "semantic\t4\t5\t1\t0.8000\n"
        "syntactic\t2\t3\t0\t0.6667\n"
        "total\t6\t8\t1\t0.7500\n"
    )


def test_eval_analogy_json_and_restrict(capitals, questions):
    # Only the 10 most frequent words take part: Tokyo and japan drop out, so question 6 is skipped.
    result = run(["eval", "analogy", questions, "--model", capitals, "--restrict", "10", "--format", "json"])
    assert result.exit_code == 0
    assert result.stdout == (
        '{"section": "capital-common-countries", "correct": 3, "questions": 4, "skipped": 2, "accuracy": 0.75}\n'
        '{"section": "gram8-plural", "correct": 2, "questions": 3, "skipped": 0, "accuracy": 0.666667}\n'
        '{"section": "semantic", "correct": 3, "questions": 4, "skipped": 2, "accuracy": 0.75}\n'
        '{"section": "syntactic", "correct": 2, "questions": 3, "skipped": 0, "accuracy": 0.666667}\n'
        '{"section": "total", "correct": 5, "questions": 7, "skipped": 2, "accuracy": 0.714286}\n'
    )


def test_eval_analogy_mul_and_stdin(capitals, questions):
    result = run(["eval", "analogy", "-", "--model", capitals, "--method", "mul"], input=QUESTIONS)
    assert result.exit_code == 0 and result.stdout.splitlines()[-1] == "total\t6\t8\t1\t0.7500"


def test_eval_analogy_errors(capitals, tmp_path):
    result = run(["eval", "analogy", tmp_path / "nope.txt", "--model", capitals])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {tmp_path / 'nope.txt'}: no such file\n"
    bad = tmp_path / "bad.txt"
    bad.write_text(": family\nboy girl brother\n")
    result = run(["eval", "analogy", bad, "--model", capitals])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: {bad}: line 2: expected 4 words 'a b c d', found 3\n"
    assert run(["eval", "analogy", bad, "--model", capitals, "--restrict", "0"]).exit_code == 2


# ---------------------------------------------------------------- eval similarity


@pytest.fixture
def pair_files(tmp_path):
    """Comma-separated with a header and an unknown word; tab-separated with comments and mixed case."""
    first = tmp_path / "pairs.csv"
    first.write_text("word1,word2,score\nparis,france,9\nfrance,germany,6\nparis,berlin,2\nfrance,atlantis,5\n")
    second = tmp_path / "pairs.tsv"
    second.write_text("# a comment\nWord 1\tWord 2\tHuman (mean)\nParis\tFRANCE\t1\n\n# another\n"
                      "paris\tberlin\t5\nfrance\tgermany\t3\n")
    return first, second


def test_eval_similarity_tsv(capitals, pair_files):
    first, second = pair_files
    # cosines: paris-france 1/√2, france-germany 1/2, paris-berlin 0
    pearson_1 = np.corrcoef([9, 6, 2], [S, 0.5, 0])[0, 1]
    pearson_2 = np.corrcoef([1, 5, 3], [S, 0, 0.5])[0, 1]
    result = run(["eval", "similarity", first, second, "--model", capitals])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == (
        "file\tspearman\tpearson\tpairs\toov\n"
        f"{first}\t1.0000\t{pearson_1:.4f}\t3\t0.2500\n"
        f"{second}\t-1.0000\t{pearson_2:.4f}\t3\t0.0000\n"
    )


def test_eval_similarity_json_and_too_few_pairs(capitals, pair_files, tmp_path):
    one = tmp_path / "one.tsv"
    one.write_text("paris\tfrance\t3\nfoo\tbar\t1\n")
    result = run(["eval", "similarity", pair_files[0], one, "--model", capitals, "--format", "json"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(line) for line in lines] == [["file", "spearman", "pearson", "pairs", "oov"]] * 2
    assert lines[0]["spearman"] == 1.0 and lines[0]["pairs"] == 3 and lines[0]["oov"] == 0.25
    assert lines[0]["pearson"] == round(np.corrcoef([9, 6, 2], [S, 0.5, 0])[0, 1], 6)
    # one pair cannot be correlated: null in JSON (which has no NaN), nan in TSV
    assert lines[1] == {"file": str(one), "spearman": None, "pearson": None, "pairs": 1, "oov": 0.5}
    result = run(["eval", "similarity", one, "--model", capitals])
    assert result.stdout.splitlines()[1] == f"{one}\tnan\tnan\t1\t0.5000"


def test_eval_similarity_errors(capitals, pair_files, tmp_path):
    result = run(["eval", "similarity", pair_files[0], tmp_path / "nope.tsv", "--model", capitals])
    assert (result.exit_code, result.stdout) == (1, "")  # nothing printed before the bad file
    assert result.stderr == f"Error: {tmp_path / 'nope.tsv'}: no such file\n"
    assert run(["eval", "similarity", "--model", capitals]).exit_code == 2


# ---------------------------------------------------------------- the Python API


def test_python_api(royal, capitals, questions, pair_files):
    vectors = word2vec.load(royal)
    assert isinstance(vectors, word2vec.Vectors)
    assert len(vectors) == 7 and "queen" in vectors and "prince" not in vectors
    np.testing.assert_array_equal(vectors["king"], [0, 2, 0, 0, 0, 0, 0])
    assert vectors.most_similar("apple", topn=1) == [("pear", pytest.approx(0.6))]
    assert [w for w, _ in vectors.most_similar(["king", "woman"], negative=["man"], topn=2)] == ["duchess", "queen"]
    assert vectors.analogy("man", "king", "woman")[0][0] == "duchess"
    assert vectors.analogy("man", "king", "woman", method="mul")[0] == ("queen", pytest.approx(0.8109, abs=1e-4))
    assert vectors.similarity("apple", "pear") == pytest.approx(0.6)
    assert vectors.doesnt_match(["apple", "pear", "man"]) == "man"
    with pytest.raises(KeyError, match="'prince' is not in the vocabulary"):
        vectors["prince"]

    places = word2vec.load(capitals)
    sections = places.evaluate_analogies(questions)
    assert [(s["section"], s["correct"], s["questions"], s["skipped"]) for s in sections][-1] == ("total", 6, 8, 1)
    scores = places.evaluate_pairs(pair_files[0])
    assert (scores["spearman"], scores["pairs"], scores["oov"]) == (pytest.approx(1.0), 3, 0.25)


# ---------------------------------------------------------------- evaluation after training


def test_train_evaluates_at_the_end(tmp_path):
    corpus = tmp_path / "demo.txt"
    corpus.write_text("\n".join((ROOT / "data" / "demo_corpus.txt").read_text().splitlines()[:6000]) + "\n")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("word1,word2,score\nking,queen,9\nparis,france,8\nking,dog,1\nparis,walked,2\nfoo,bar,3\n")
    questions = ROOT / "data" / "demo_questions.txt"
    out = tmp_path / "model"
    result = run(["train", corpus, "--output", out, "--set", f"eval.analogy={questions}",
                  "--set", f"eval.similarity=[{pairs}]", "--set", "train.threads=1", "--set", "train.epochs=2",
                  "--set", "model.vector_size=16", "--set", "output.formats=[npy]"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    metrics = json.loads((out / "metrics.json").read_text())
    analogy = metrics["analogy"]
    assert analogy["file"] == str(questions)
    assert [s["section"] for s in analogy["sections"]] == [
        "capital-world", "currency", "nationality-adjective", "family", "gram-plural", "gram-past-tense",
        "gram-present-participle", "gram-third-person", "semantic", "syntactic", "total"]
    total = analogy["sections"][-1]
    assert total["questions"] + total["skipped"] == 1110 and total["questions"] > 0
    assert (f"analogy: {total['accuracy']:.2%} of {total['questions']} questions "
            f"({total['skipped']} skipped as out of vocabulary)\n") in result.stderr
    [similarity] = metrics["similarity"]
    assert similarity["file"] == str(pairs) and similarity["pairs"] == 4 and similarity["oov"] == 0.2
    assert re.search(rf"similarity {re.escape(str(pairs))}: spearman {similarity['spearman']:.4f}, "
                     rf"pearson {similarity['pearson']:.4f}, 4 pairs, 20.0% out of vocabulary\n", result.stderr)
    assert run(["eval", "analogy", questions, "--model", out]).stdout.splitlines()[-1] == (
        f"total\t{total['correct']}\t{total['questions']}\t{total['skipped']}\t{total['accuracy']:.4f}")


# ---------------------------------------------------------------- unknown words


def test_similar_suggests_the_word_in_another_case(capitals):
    result = run(["similar", "PARIS", "--model", capitals])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: 'PARIS' is not in the vocabulary (did you mean 'paris'?)\n"
    result = run(["similar", "tokyo", "germani", "zzz", "-m", capitals, "-k", "1"])
    assert result.stderr == ("Error: 'tokyo' is not in the vocabulary (did you mean 'Tokyo'?)\n"
                             "Error: 'germani' is not in the vocabulary (did you mean 'germany'?)\n"
                             "Error: 'zzz' is not in the vocabulary\n")


def test_json_answers_every_query_line_in_order(capitals):
    result = run(["similar", "-m", capitals, "-k", "1", "--format", "json"], input="paris\nParis\nrome\n")
    assert result.stdout == ('{"query": "paris", "similar": [{"word": "france", "score": 0.707107}]}\n'
                             '{"query": "Paris", "error": "not in vocabulary", "word": "Paris"}\n'
                             '{"query": "rome", "similar": [{"word": "italy", "score": 0.707107}]}\n')
    assert result.stderr == "Error: 'Paris' is not in the vocabulary (did you mean 'paris'?)\n"
    assert result.exit_code == 1
    result = run(["analogy", "-m", capitals, "--format", "json"], input="paris france rome\nparis spain\nx y z\n")
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"query": "paris france rome", "similar": [{"word": "italy", "score": 0.958569}]},
        {"query": "paris spain", "error": "expected three words 'a b c'"},
        {"query": "x y z", "error": "not in vocabulary", "word": "x"},
    ]
    assert result.exit_code == 1 and result.stderr.count("\n") == 2


@pytest.mark.parametrize("word, shown", [
    ("evil\n\x1b[2J", "'evil\\n\\x1b[2J'"),  # a newline and a terminal escape
    ("\u202etxt.exe", "'\\u202etxt.exe'"),  # a right-to-left override
    ("königin", "'königin'"),  # letters stay letters
])
def test_words_with_control_characters_are_escaped_in_messages(royal, word, shown):
    result = run(["similar", word, "--model", royal])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {shown} is not in the vocabulary\n"
    result = run(["outlier", "man", "king", word, "--model", royal])
    assert result.stderr.startswith(f"warning: {shown} is not in the vocabulary; left out of ")
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr and "\u202e" not in result.stderr
