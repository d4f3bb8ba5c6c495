"""Tests of word2vec.query.cluster and `w2v cluster`: k-means steps against plain loops, purity, output order."""

import collections
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import word2vec
from word2vec.query import cluster
from word2vec import store
from word2vec.cli import cli
from word2vec.errors import ConfigError

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "data" / "demo_corpus.txt"
CAPITALS = ("paris berlin rome madrid athens london warsaw stockholm oslo bern budapest prague moscow ankara "
            "tokyo beijing delhi seoul bangkok hanoi jakarta abuja nairobi accra rabat washington brasilia "
            "santiago lima").split()


def unit_rows(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def groups(seed=0, per_group=30, dim=20, n_groups=4):
    """Unit rows scattered tightly around `n_groups` random directions, and the true group of each row."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_groups, dim))
    truth = np.repeat(np.arange(n_groups), per_group)
    rng.shuffle(truth)
    return unit_rows(centers[truth] + 0.15 * rng.standard_normal((len(truth), dim))), truth


def write_model(tmp_path, words, rows):
    path = tmp_path / "vectors.txt"
    store.write_word2vec(str(path), words, np.asarray(rows, np.float32), binary=False)
    return str(path)


def test_assign_picks_the_most_similar_centroid():
    unit, _ = groups()
    centroids = unit[[0, 5, 9]]
    labels, similarity = cluster.assign(unit, centroids)
    for row, label, sim in zip(unit, labels, similarity):
        dots = [float(row @ c) for c in centroids]
        assert label == int(np.argmax(dots))
        assert sim == pytest.approx(max(dots), abs=1e-6)


def test_update_is_the_normalized_mean_of_each_class():
    unit, truth = groups()
    centroids = cluster.update(unit, truth, np.ones(len(unit), np.float32), 4)
    for label in range(4):
        mean = unit[truth == label].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(centroids[label], mean / np.linalg.norm(mean), atol=1e-6)


def test_an_empty_class_restarts_at_the_worst_placed_row():
    unit = unit_rows([[1, 0], [1, 0.01], [0, 1]])
    labels = np.array([0, 0, 0])
    similarity = np.array([1.0, 0.99, 0.0], np.float32)
    centroids = cluster.update(unit, labels, similarity, 2)
    np.testing.assert_allclose(centroids[1], unit[2])


def test_kmeans_plus_plus_picks_distinct_rows():
    unit = unit_rows([[1, 0]] * 5 + [[0, 1]] * 2)
    chosen = cluster.kmeans_plus_plus(unit, 6, np.random.default_rng(3))
    assert len(set(chosen.tolist())) == 6


def test_kmeans_recovers_known_groups():
    unit, truth = groups()
    labels = cluster.kmeans(unit, 4, seed=1)
    for group in range(4):
        assert len(set(labels[truth == group].tolist())) == 1
    assert len(set(labels.tolist())) == 4


def test_duplicates_keep_every_class_label_in_range():
    unit = unit_rows([[1, 0]] * 6 + [[0, 1]])
    labels = cluster.kmeans(unit, 3, seed=0)
    assert labels.min() >= 0 and labels.max() < 3
    assert labels[6] not in labels[:6].tolist()


def test_kmeans_is_deterministic_for_a_seed():
    unit, _ = groups(n_groups=6, per_group=10)
    first = cluster.kmeans(unit, 5, seed=7)
    assert np.array_equal(first, cluster.kmeans(unit, 5, seed=7))


def test_more_classes_than_words_is_rejected():
    with pytest.raises(ConfigError, match="-k 4"):
        cluster.kmeans(unit_rows(np.eye(3)), 4)


def test_cli_prints_word_tab_class_sorted_by_class_then_word(tmp_path):
    unit, truth = groups(per_group=5, n_groups=3)
    words = [f"g{g}w{i}" for i, g in enumerate(truth)]
    model = write_model(tmp_path, words, unit)
    result = CliRunner().invoke(cli, ["cluster", "--model", model, "-n", "3", "--seed", "2"])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(w for w, _ in rows) == sorted(words)
    assert rows == sorted(rows, key=lambda row: (int(row[1]), row[0]))
    classes = {}
    for word, label in rows:
        classes.setdefault(word[:2], set()).add(label)
    assert all(len(labels) == 1 for labels in classes.values()) and len(set().union(*classes.values())) == 3
    again = CliRunner().invoke(cli, ["cluster", "--model", model, "-n", "3", "--seed", "2"])
    assert again.stdout == result.stdout


def test_cli_one_class_per_word_when_k_is_the_vocabulary(tmp_path):
    model = write_model(tmp_path, ["b", "a", "c"], np.eye(3))
    result = CliRunner().invoke(cli, ["cluster", "--model", model, "-n", "3"])
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["0", "1", "2"]


def test_cli_too_many_classes_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["cluster", "--model", write_model(tmp_path, ["a", "b"], np.eye(2)), "-n", "3"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: -k 3")


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory):
    """A model trained on the bundled demo corpus (a few seconds)."""
    output = tmp_path_factory.mktemp("demo") / "model"
    word2vec.train(str(DEMO_CORPUS), {"train": {"threads": 1}, "model": {"vector_size": 50}},
                   output=str(output))
    return str(output)


def test_demo_capitals_fall_into_few_classes(demo_model):
    result = CliRunner().invoke(cli, ["cluster", "--model", demo_model, "-n", "20"])
    assert result.exit_code == 0
    classes = dict(line.split("\t") for line in result.stdout.splitlines())
    spread = collections.Counter(classes[city] for city in CAPITALS)
    assert len(spread) <= 3
    assert max(spread.values()) / len(CAPITALS) >= 0.4  # seeds of model and k-means vary it: 0.52 … 1.0
