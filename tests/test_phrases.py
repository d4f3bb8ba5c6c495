"""Tests of word2vec.text.phrases and `w2v phrases`: word2phrase scores, greedy joins, streaming, pruning, the CLI."""

import gzip
import io
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from word2vec.text import phrases
from word2vec.cli import cli

TINY = "new york is big\nnew york is old\nin new york\nyork new\n"  # 13 tokens


def invoke(args, text=None):
    return CliRunner().invoke(cli, ["phrases", *args], input=text)


def write(tmp_path, text, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def scores_of(tmp_path, text, scoring="default", min_count=1):
    """{(a, b): score} of every counted pair."""
    path = write(tmp_path, text)
    with open(path, "rb") as handle:
        counts = phrases.count(handle, path, phrases.PhraseOptions(min_count=min_count))
    words = list(counts.index)
    scores = phrases.score_pairs(counts, scoring, min_count)
    return {(words[k >> 32], words[k & 0xFFFFFFFF]): s for k, s in zip(counts.pair_keys.tolist(), scores)}


def rewritten(text, chunk_bytes=1 << 20, **options):
    """The library's output for `text` read in blocks of `chunk_bytes`."""
    source = io.BytesIO(text.encode("utf-8", "surrogateescape"))
    options = phrases.PhraseOptions(**options)
    counts = phrases.count(source, "text", options, chunk_bytes=chunk_bytes)
    found = phrases.select(counts, options)
    source.seek(0)
    out = io.BytesIO()
    phrases.rewrite(source, "text", counts, found, out, options, chunk_bytes=chunk_bytes)
    return out.getvalue().decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- scores


def test_default_scores_are_word2phrase_formula(tmp_path):
    scores = scores_of(tmp_path, TINY, min_count=1)
    assert scores[("new", "york")] == pytest.approx((3 - 1) / (4 * 4) * 13)  # 1.625
    assert scores[("york", "is")] == pytest.approx((2 - 1) / (4 * 2) * 13)  # 1.625
    assert scores[("is", "big")] == 0.0
    assert scores[("york", "new")] == 0.0
    assert len(scores) == 6


def test_min_count_enters_the_score_and_excludes_rare_pairs(tmp_path):
    scores = scores_of(tmp_path, TINY, min_count=2)
    assert scores[("new", "york")] == pytest.approx((3 - 2) / 16 * 13)
    assert scores[("york", "is")] == 0.0
    assert scores[("is", "big")] == -math.inf  # seen once


def test_npmi_exact_value(tmp_path):
    scores = scores_of(tmp_path, TINY, scoring="npmi", min_count=1)
    p_ab, p_a = 3 / 13, 4 / 13
    assert scores[("new", "york")] == pytest.approx(math.log(p_ab / (p_a * p_a)) / -math.log(p_ab))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcde"), max_size=12), min_size=1, max_size=15))
def test_npmi_lies_between_minus_one_and_one(lines):
    text = "\n".join(" ".join(line) for line in lines)
    counts = phrases.count(io.BytesIO(text.encode()), "text", phrases.PhraseOptions())
    scores = phrases.score_pairs(counts, "npmi", min_count=1)
    assert np.all((scores >= -1.0) & (scores <= 1.0))


def test_pairs_never_span_a_line_break(tmp_path):
    scores = scores_of(tmp_path, TINY)
    assert ("big", "new") not in scores and ("old", "in") not in scores and ("york", "york") not in scores
    assert invoke(["--min-count", "1", "--threshold", "-1e9"], "a\nb\n" * 10).stdout == "a\nb\n" * 10


# --------------------------------------------------------------------------- joining


def test_threshold_is_strict(tmp_path):
    path = write(tmp_path, TINY)
    joined = invoke([path, "--min-count", "1", "--threshold", "1.6"])
    assert joined.exit_code == 0
    assert joined.stdout == "new_york is big\nnew_york is old\nin new_york\nyork new\n"
    assert invoke([path, "--min-count", "1", "--threshold", "1.625"]).stdout == TINY


def test_rare_pairs_never_join_however_low_the_threshold(tmp_path):
    result = invoke([write(tmp_path, TINY), "--min-count", "2", "--threshold", "-1e9"])
    assert result.stdout == "new_york is big\nnew_york is old\nin new_york\nyork new\n"  # in new, york new: once


def test_greedy_left_to_right_joins_each_word_once():
    assert rewritten("a a a a\na a a\n", min_count=1, threshold=-1e9) == "a_a a_a\na_a a\n"


def test_line_structure_is_kept():
    text = "\n  x   y \n\n\ty x\r\nx y"
    assert rewritten(text, min_count=1, threshold=-1e9) == "\nx_y\n\ny_x\nx_y\n"
    assert rewritten("", min_count=1) == ""


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "dd", "é"]), max_size=10), max_size=12),
       st.integers(1, 12), st.sampled_from([-1e9, 0.0, 1.0]))
def test_tokens_are_conserved_whatever_the_block_size(lines, chunk_bytes, threshold):
    text = "\n".join(" ".join(line) for line in lines)
    whole = rewritten(text, min_count=1, threshold=threshold, delimiter="+")
    assert rewritten(text, chunk_bytes, min_count=1, threshold=threshold, delimiter="+") == whole
    assert whole.replace("+", " ").split() == text.split()
    assert whole.count("\n") == len(text.split("\n")) - (text.endswith("\n") or not text)


def test_chained_runs_make_a_three_word_phrase(tmp_path):
    text = "new york city\n" * 5 + "filler\n" * 100  # (5 - 2) / (5 · 5) · 115 = 13.8 for both pairs
    once = invoke([write(tmp_path, text), "--min-count", "2", "--threshold", "5"])
    assert once.stdout == "new_york city\n" * 5 + "filler\n" * 100
    twice = invoke(["-", "--min-count", "2", "--threshold", "5"], once.stdout)
    assert twice.stdout == "new_york_city\n" * 5 + "filler\n" * 100


def test_pruning_warns_once_and_still_joins():
    text = "new york\n" * 6 + "a b c d e f g h\n"  # 8 distinct pairs
    result = invoke(["-", "--min-count", "1", "--threshold", "0", "--max-pairs", "3"], text)
    assert result.exit_code == 0
    assert result.stderr.count("--max-pairs") == 1
    assert result.stdout == text.replace("new york", "new_york")


def test_pair_table_prunes_with_a_rising_floor():
    messages = []
    table = phrases.PairTable(2, messages.append)
    table.add(np.array([1, 1, 1, 2, 2, 3, 4], np.int64))
    table.flush()
    assert table.keys.tolist() == [1, 2] and table.counts.tolist() == [3, 2] and table.floor == 2
    table.add(np.array([5, 6, 6, 6], np.int64))
    table.flush()
    assert table.keys.tolist() == [1, 6] and table.floor == 3
    assert len(messages) == 1


# --------------------------------------------------------------------------- command line


def test_stdin_is_read_twice():
    result = invoke(["-", "--min-count", "1", "--threshold", "1.6"], TINY)
    assert result.exit_code == 0
    assert result.stdout == "new_york is big\nnew_york is old\nin new_york\nyork new\n"
    assert invoke(["--min-count", "1", "--threshold", "1.6"], TINY).stdout == result.stdout


def test_save_phrases_format(tmp_path):
    saved = tmp_path / "phrases.tsv"
    result = invoke([write(tmp_path, TINY), "--min-count", "1", "--threshold", "0", "--save-phrases", str(saved)])
    assert result.exit_code == 0
    assert saved.read_text() == "new_york\t1.6250\t3\nyork_is\t1.6250\t2\n"


def test_npmi_threshold_defaults_to_one_half(tmp_path):
    text = "hong kong is far\nhong kong is near\nit is far\nhong kong\n"
    result = invoke([write(tmp_path, text), "--scoring", "npmi", "--min-count", "2"])
    assert result.stdout == "hong_kong is_far\nhong_kong is near\nit is_far\nhong_kong\n"  # is far: 0.78
    assert invoke([write(tmp_path, text), "--min-count", "2"]).stdout == text  # 100 is far too high here


def test_compressed_input_lowercase_and_delimiter(tmp_path):
    path = write(tmp_path, gzip.compress(TINY.upper().encode()), "corpus.txt.gz")
    result = invoke([path, "--lowercase", "--min-count", "1", "--threshold", "1.6", "--delimiter", "~"])
    assert result.stdout.splitlines()[0] == "new~york is big"


def test_invalid_utf8_passes_through(tmp_path):
    data = b"caf\xe9 ok\ncaf\xe9 ok\n"
    result = CliRunner().invoke(cli, ["phrases", write(tmp_path, data), "--min-count", "1", "--threshold", "-1"])
    assert result.stdout_bytes == b"caf\xe9_ok\ncaf\xe9_ok\n"


@pytest.mark.parametrize("args, message", [
    (["--delimiter", " "], "Error: --delimiter"),
    (["--delimiter", ""], "Error: --delimiter"),
    (["--threshold", "nan"], "Error: --threshold"),
])
def test_bad_options_are_usage_errors(args, message):
    result = invoke(["-", *args], "a b\n")
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_missing_file_is_a_data_error(tmp_path):
    result = invoke([str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert "Error: " in result.stderr and "nope.txt" in result.stderr


def test_several_corpora_are_counted_together_and_written_in_turn(tmp_path):
    first = write(tmp_path, "new york is big\nnew york", "a.txt")  # no newline at the end: no pair with b.txt
    second = "is old\nin new york\nyork new\n"
    expected = "new_york is big\nnew_york\nis old\nin new_york\nyork new\n"  # new york: 3 in 13 tokens, 1.625
    saved = tmp_path / "phrases.tsv"
    args = ["--min-count", "1", "--threshold", "0", "--save-phrases", str(saved)]
    result = invoke([first, write(tmp_path, second, "b.txt"), *args])
    assert (result.exit_code, result.stdout) == (0, expected)
    assert saved.read_text() == "new_york\t1.6250\t3\n"  # york is: once only, as a.txt ends a line
    assert invoke([first, "-", *args], second).stdout == expected
