"""fastText's n-grams and hash: the values fastText computes, and the vectorized rows of a vocabulary."""

import numpy as np
import pytest

from word2vec import config
from word2vec.errors import ConfigError
from word2vec.text import subwords

HASHES = [("<wh", 1048167652), ("whe", 888420941), ("<where>", 2319392596), ("été", 200187927),
          ("<été>", 2778999949), ("кот", 789794078), ("naïve", 3440832043)]
WHERE = [167652, 989715, 1526707, 1071586, 420941, 312621, 969176, 121234, 1473420, 1540811, 114991, 1529033,
         1568469, 867498]
ETE = [1908133, 59617, 999949, 187927, 196363, 1291535]


@pytest.mark.parametrize("text, expected", HASHES)
def test_fnv1a_matches_fasttext(text, expected):
    assert subwords.fnv1a(text.encode("utf-8")) == expected


def test_bucket_ids_of_the_issue():
    assert subwords.ngram_buckets("where", 3, 6, 2_000_000) == WHERE
    assert subwords.ngram_buckets("été", 3, 6, 2_000_000) == ETE


def test_ngrams_count_characters_and_include_the_short_wrapped_word():
    assert subwords.ngrams("été", 3, 6) == ["<ét", "<été", "<été>", "été", "été>", "té>"]
    assert "<where>" not in subwords.ngrams("where", 3, 6)  # 7 characters > maxn
    assert subwords.ngrams("ab", 1, 1) == ["a", "b"]  # never "<" or ">" alone
    assert subwords.ngrams("word", 3, 0) == []
    assert subwords.ngrams("</s>", 3, 4)[:2] == ["<</", "<</s"]  # as gensim, not fastText: see subwords.py


def test_word_rows_csr_matches_the_per_word_lists():
    words = ["where", "été", "a", "</s>", "кот", "naïve", "x" * 30, "日本語"]
    n = len(words)
    for minn, maxn, buckets in [(3, 6, 2_000_000), (1, 2, 1000), (2, 5, 7), (3, 3, 10)]:
        offsets, rows = subwords.word_rows(words, minn, maxn, buckets)
        assert offsets.dtype == np.int64 and rows.dtype == np.int32 and offsets[-1] == len(rows)
        for i, word in enumerate(words):
            expected = [i] + [n + b for b in subwords.ngram_buckets(word, minn, maxn, buckets)]
            assert rows[offsets[i]:offsets[i + 1]].tolist() == expected
    offsets, rows = subwords.word_rows(words, 3, 6, 2_000_000)
    assert (rows[offsets[0] + 1:offsets[1]] - n).tolist() == WHERE


def test_word_rows_without_subwords_is_one_row_per_word():
    offsets, rows = subwords.word_rows(["a", "b", "c"], 3, 0, 100)
    assert offsets.tolist() == [0, 1, 2, 3] and rows.tolist() == [0, 1, 2]
    offsets, rows = subwords.word_rows([], 3, 6, 100)
    assert offsets.tolist() == [0] and rows.size == 0


def test_word_rows_of_a_large_vocabulary_at_once():
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéк"))
    words = ["".join(rng.choice(letters, size=int(k))) for k in rng.integers(2, 13, size=70_000)]
    offsets, rows = subwords.word_rows(words, 3, 6, 2_000_000)
    assert len(offsets) == 70_001
    for i in range(0, 70_000, 997):  # the vectorized hashes are those of one word at a time
        expected = [i] + [70_000 + b for b in subwords.ngram_buckets(words[i], 3, 6, 2_000_000)]
        assert rows[offsets[i]:offsets[i + 1]].tolist() == expected


def test_config_keys_and_ranges():
    defaults = config.Config().model
    assert (defaults.minn, defaults.maxn, defaults.buckets) == (3, 0, 2_000_000)
    fasttext = config.resolve("configs/fasttext.yaml").model
    assert (fasttext.minn, fasttext.maxn, fasttext.buckets) == (3, 6, 2_000_000)
    with pytest.raises(ConfigError, match=r"^config key 'model.maxn' \(2\) must be 0 \(no subwords\) or at least"):
        config.Config().with_overrides({"model.maxn": 2})
    with pytest.raises(ConfigError, match=r"^config key 'model.buckets' must be at least 1; got 0$"):
        config.Config().with_overrides({"model.buckets": 0})
