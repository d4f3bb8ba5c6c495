"""Tests of word2vec.training.gradcheck: every built-in check passes, and its rows print in the exact CLI format."""

import pytest

from word2vec.training.gradcheck import format_rows, run_all

REQUIRED_NAMES = {
    "sigmoid",
    "naive_softmax_loss_and_gradient",
    "neg_sampling_loss_and_gradient",
    "hierarchical_softmax_loss_and_gradient",
    "skipgram[softmax]",
    "skipgram[neg]",
    "cbow[softmax]",
    "cbow[neg]",
    *(f"subword_{arch}[{loss}]" for arch in ("skipgram", "cbow") for loss in ("neg", "hs", "softmax")),
}


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_run_all_rows_are_ok_and_below_tolerance(seed):
    rows = run_all(seed=seed)
    assert REQUIRED_NAMES <= {name for name, _, _ in rows}
    for name, error, ok in rows:
        assert ok is True, name
        assert 0.0 <= error < 1e-6, name


def test_run_all_is_deterministic_per_seed():
    assert run_all(seed=3) == run_all(seed=3)
    assert run_all(seed=3) != run_all(seed=4)


def test_run_all_marks_rows_above_tolerance_as_failed():
    rows = run_all(seed=0, tolerance=0.0)
    assert rows and not any(ok for _, _, ok in rows)


def test_format_rows_exact():
    rows = [("sigmoid", 1.23456e-10, True), ("skipgram[neg]", 0.5, False)]
    assert format_rows(rows) == ["sigmoid\t1.235e-10\tok", "skipgram[neg]\t5.000e-01\tFAIL"]


def test_format_rows_of_run_all_has_three_tab_fields():
    lines = format_rows(run_all())
    assert len(lines) == len(run_all())
    for line in lines:
        name, error, status = line.split("\t")
        assert status == "ok" and float(error) < 1e-6 and name
