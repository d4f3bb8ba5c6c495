"""Tests of word2vec.config: defaults, YAML and `--set` overrides, validation messages, round trips."""

import dataclasses

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from word2vec import config
from word2vec.errors import ConfigError, DataError, W2VError

SECTIONS_LIST = "corpus, vocab, model, train, output, eval"
TRAIN_KEYS = ("; the keys of train are epochs, alpha, min_alpha, threads, seed, checkpoint_every, alpha_schedule, "
              "sync_words, sync_frequent, sync_lag, continue_merge")


def resolve_set(*assignments):
    return config.resolve(None, assignments)


def config_error(call, *args):
    """The message of the ConfigError that `call(*args)` raises."""
    with pytest.raises(ConfigError) as info:
        call(*args)
    return str(info.value)


# --- defaults ---------------------------------------------------------------------------


def test_defaults():
    cfg = config.Config()
    assert cfg.corpus.lowercase is False
    assert cfg.corpus.max_sentence_length == 1000
    assert cfg.vocab.min_count == 5
    assert cfg.vocab.max_size is None
    assert cfg.vocab.sample == 1e-3
    assert cfg.model.arch == "skipgram"
    assert cfg.model.loss == "neg"
    assert cfg.model.vector_size == 100
    assert cfg.model.window == 5
    assert cfg.model.negative == 5
    assert cfg.model.ns_exponent == 0.75
    assert cfg.train.epochs == 5
    assert cfg.train.alpha == 0.025
    assert cfg.train.min_alpha == 0.0001
    assert cfg.train.threads == 0
    assert cfg.train.seed == 1
    assert cfg.output.formats == ["npy", "word2vec-bin"]


def test_resolve_without_file_or_overrides_gives_the_defaults():
    assert config.resolve() == config.Config()


def test_default_lists_are_not_shared_between_instances():
    first, second = config.Config(), config.Config()
    assert first.output.formats is not second.output.formats


def test_config_sections_are_frozen():
    cfg = config.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.train.epochs = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.model = config.ModelConfig()


def test_effective_threads_is_the_setting_or_all_cores():
    assert config.effective_threads(resolve_set("train.threads=3")) == 3
    assert config.effective_threads(config.Config()) >= 1


# --- YAML files ---------------------------------------------------------------------------


def test_yaml_file_changes_only_the_keys_it_holds(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("model:\n  window: 8\n  arch: cbow\ntrain:\n  epochs: 3\n")
    cfg = config.resolve(path)
    expected = dataclasses.replace(
        config.Config(),
        model=dataclasses.replace(config.ModelConfig(), window=8, arch="cbow"),
        train=dataclasses.replace(config.TrainConfig(), epochs=3),
    )
    assert cfg == expected


def test_empty_yaml_file_and_empty_section_give_the_defaults(tmp_path):
    empty, section = tmp_path / "empty.yaml", tmp_path / "section.yaml"
    empty.write_text("")
    section.write_text("train:\n")
    assert config.resolve(empty) == config.Config()
    assert config.resolve(section) == config.Config()


def test_set_overrides_the_yaml_file_and_later_sets_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 3\n  seed: 7\n")
    cfg = config.resolve(path, ["train.epochs=4", "train.epochs=9"])
    assert (cfg.train.epochs, cfg.train.seed) == (9, 7)


def test_missing_config_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert config_error(config.resolve, path) == f"config file {path}: no such file"


def test_config_file_that_is_a_directory(tmp_path):
    assert config_error(config.resolve, tmp_path) == f"config file {tmp_path} is a directory"


@pytest.mark.parametrize("text", ["train: [1, 2\n", "model:\n  window: 5\n window: 6\n", b"train:\n  seed: \xff\n"])
def test_invalid_yaml_file(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    message = config_error(config.resolve, path)
    assert message.startswith(f"config file {path} is not valid YAML: ")
    assert len(message) > len(f"config file {path} is not valid YAML: ")
    assert "\n" not in message


@pytest.mark.parametrize("text", ["- train\n- model\n", "just words\n", "42\n"])
def test_config_file_that_is_not_a_mapping(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    assert config_error(config.resolve, path) == f"a config must be a mapping of sections ({SECTIONS_LIST})"


def test_config_section_that_is_not_a_mapping():
    message = config_error(config.from_dict, {"train": 5})
    assert message == "config section 'train' must be a mapping of keys to values"


def test_unknown_key_in_a_file_is_named_with_a_suggestion():
    message = config_error(config.from_dict, {"train": {"epoch": 3}})
    assert message == "unknown config key 'train.epoch' (did you mean 'train.epochs'?)" + TRAIN_KEYS


def test_unknown_section_in_a_file():
    assert config_error(config.from_dict, {"xyz": {}}) == f"unknown config key 'xyz'; the sections are {SECTIONS_LIST}"
    assert config_error(config.from_dict, {"trian": {}}) == f"unknown config key 'trian' (did you mean 'train'?); the sections are {SECTIONS_LIST}"


# --- --set ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "assignment, expected",
    [
        ("train.epochs=3", ("train.epochs", 3)),
        (" train.epochs = 3 ", ("train.epochs", 3)),
        ("train.alpha=0.05", ("train.alpha", 0.05)),
        ("corpus.lowercase=true", ("corpus.lowercase", True)),
        ("model.arch=cbow", ("model.arch", "cbow")),
        ("vocab.max_size=", ("vocab.max_size", None)),
        ("vocab.max_size=null", ("vocab.max_size", None)),
        ("output.formats=[npy, word2vec-txt]", ("output.formats", ["npy", "word2vec-txt"])),
        ("eval.analogy=a=b.txt", ("eval.analogy", "a=b.txt")),
    ],
)
def test_parse_set(assignment, expected):
    assert config.parse_set(assignment) == expected


def test_set_scientific_notation_without_a_dot_is_a_float():
    cfg = resolve_set("train.min_alpha=1e-4", "vocab.sample=1e-5")
    assert cfg.train.min_alpha == 1e-4 and type(cfg.train.min_alpha) is float
    assert cfg.vocab.sample == 1e-5 and type(cfg.vocab.sample) is float


def test_set_applies_values_of_every_kind():
    cfg = resolve_set("output.formats=[npy, word2vec-txt]", "corpus.lowercase=true", "vocab.max_size=5000",
                      "model.loss=hs", "train.alpha=0.05")
    assert cfg.output.formats == ["npy", "word2vec-txt"]
    assert cfg.corpus.lowercase is True
    assert cfg.vocab.max_size == 5000
    assert cfg.model.loss == "hs"
    assert cfg.train.alpha == 0.05


def test_set_a_single_format_becomes_a_list():
    assert resolve_set("output.formats=word2vec-txt").output.formats == ["word2vec-txt"]


def test_set_integer_for_a_float_key_becomes_a_float():
    cfg = resolve_set("train.alpha=1")
    assert cfg.train.alpha == 1.0 and type(cfg.train.alpha) is float


def test_set_without_equals_sign():
    assert config_error(config.parse_set, "train.epochs") == "--set expects section.key=value, got 'train.epochs'"
    assert config_error(config.parse_set, "=3") == "--set expects section.key=value, got '=3'"


def test_set_with_an_unparsable_value():
    assert config_error(config.parse_set, "output.formats=[npy,") == "--set output.formats: cannot parse value '[npy,'"


def test_set_unknown_key_is_named_with_a_suggestion():
    message = config_error(config.parse_set, "train.epoch=3")
    assert message == "unknown config key 'train.epoch' (did you mean 'train.epochs'?)" + TRAIN_KEYS


def test_set_unknown_section():
    message = config_error(config.parse_set, "foo.bar=1")
    assert message == f"unknown config key 'foo.bar'; the sections are {SECTIONS_LIST}"
    message = config_error(config.parse_set, "trian.epochs=1")
    assert message == f"unknown config key 'trian.epochs' (did you mean 'train.epochs'?); the sections are {SECTIONS_LIST}"


@pytest.mark.parametrize("name", ["train", "train."])
def test_set_a_section_without_a_key(name):
    message = config_error(config.parse_set, f"{name}=3")
    assert message == (
        f"config key '{name}' names a section, not a key "
        "(its keys: epochs, alpha, min_alpha, threads, seed, checkpoint_every, alpha_schedule, sync_words, "
        "sync_frequent, sync_lag, continue_merge)"
    )


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("model.window", True, "config key 'model.window' must be an integer, got True"),
        ("model.window", "five", "config key 'model.window' must be an integer, got 'five'"),
        ("model.window", 5.0, "config key 'model.window' must be an integer, got 5.0"),
        ("vocab.min_count", "1e3", "config key 'vocab.min_count' must be an integer, got '1e3'"),
        ("vocab.max_size", "big", "config key 'vocab.max_size' must be an integer, got 'big'"),
        ("corpus.lowercase", 1, "config key 'corpus.lowercase' must be true/false, got 1"),
        ("corpus.lowercase", "yes please", "config key 'corpus.lowercase' must be true/false, got 'yes please'"),
        ("train.alpha", "fast", "config key 'train.alpha' must be a number, got 'fast'"),
        ("train.alpha", False, "config key 'train.alpha' must be a number, got False"),
        ("model.arch", 3, "config key 'model.arch' must be a string, got 3"),
        ("output.formats", {"npy": 1}, "config key 'output.formats' must be a list of a string, got {'npy': 1}"),
    ],
)
def test_wrong_type_is_rejected_with_the_key_name(key, value, message):
    assert config_error(config.Config().with_overrides, {key: value}) == message


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("model.vector_size", -5, "config key 'model.vector_size' must be at least 1; got -5"),
        ("model.window", 0, "config key 'model.window' must be at least 1; got 0"),
        ("model.negative", 0, "config key 'model.negative' must be at least 1; got 0"),
        ("vocab.min_count", 0, "config key 'vocab.min_count' must be at least 1; got 0"),
        ("vocab.max_size", 0, "config key 'vocab.max_size' must be at least 1; got 0"),
        ("vocab.sample", -0.001, "config key 'vocab.sample' must be at least 0.0; got -0.001"),
        ("corpus.max_sentence_length", 0, "config key 'corpus.max_sentence_length' must be at least 1; got 0"),
        ("train.epochs", 0, "config key 'train.epochs' must be at least 1; got 0"),
        ("train.threads", -1, "config key 'train.threads' must be at least 0; got -1"),
        ("train.seed", -1, "config key 'train.seed' must be at least 0; got -1"),
        ("train.alpha", 0, "config key 'train.alpha' must be greater than 0.0; got 0.0"),
        ("train.alpha", -0.5, "config key 'train.alpha' must be greater than 0.0; got -0.5"),
        ("train.min_alpha", -1e-4, "config key 'train.min_alpha' must be at least 0.0; got -0.0001"),
    ],
)
def test_out_of_range_is_rejected_with_the_key_name(key, value, message):
    assert config_error(config.Config().with_overrides, {key: value}) == message


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("model.ns_exponent=.nan", "config key 'model.ns_exponent' must be a finite number, got nan"),
        ("train.alpha=.nan", "config key 'train.alpha' must be a finite number, got nan"),
        ("train.alpha=.inf", "config key 'train.alpha' must be a finite number, got inf"),
        ("vocab.sample=inf", "config key 'vocab.sample' must be a finite number, got inf"),
    ],
)
def test_non_finite_numbers_are_rejected(assignment, message):
    assert config_error(resolve_set, assignment) == message


def test_zero_boundaries_are_allowed():
    cfg = resolve_set("vocab.sample=0", "train.min_alpha=0", "train.threads=0", "train.seed=0")
    assert (cfg.vocab.sample, cfg.train.min_alpha, cfg.train.threads, cfg.train.seed) == (0.0, 0.0, 0, 0)


def test_min_alpha_above_alpha_is_rejected():
    message = config_error(resolve_set, "train.alpha=0.01", "train.min_alpha=0.02")
    assert message == "config key 'train.min_alpha' (0.02) must not exceed 'train.alpha' (0.01)"


def test_min_alpha_equal_to_alpha_is_allowed():
    cfg = resolve_set("train.alpha=0.01", "train.min_alpha=0.01")
    assert cfg.train.min_alpha == cfg.train.alpha == 0.01


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("model.arch=sg", "config key 'model.arch' must be one of skipgram, cbow; got 'sg'"),
        ("model.loss=ns", "config key 'model.loss' must be one of neg, hs, softmax; got 'ns'"),
        ("output.formats=[npy, csv]",
         "config key 'output.formats' must be one of npy, word2vec-bin, word2vec-txt, fasttext-bin; got 'csv'"),
    ],
)
def test_bad_choice_lists_the_valid_choices(assignment, message):
    assert config_error(resolve_set, assignment) == message


def test_empty_output_formats_is_rejected():
    message = config_error(resolve_set, "output.formats=[]")
    assert message == "config key 'output.formats' needs at least one of npy, word2vec-bin, word2vec-txt, fasttext-bin"


# --- round trip ---------------------------------------------------------------------------


def round_trip(cfg):
    return config.from_dict(yaml.safe_load(config.to_yaml(cfg)))


def test_resolved_config_round_trips_through_yaml():
    cfg = resolve_set("train.min_alpha=1e-5", "vocab.max_size=300", "output.formats=[npy, word2vec-txt]",
                      "model.arch=cbow", "eval.similarity=[a.tsv, b.tsv]", "corpus.lowercase=true")
    assert round_trip(cfg) == cfg
    assert round_trip(config.Config()) == config.Config()


@given(
    alpha=st.floats(1e-9, 1.0),
    min_alpha_share=st.floats(0.0, 1.0),
    sample=st.floats(0.0, 1.0),
    ns_exponent=st.floats(-2.0, 2.0),
    window=st.integers(1, 1000),
    max_size=st.none() | st.integers(1, 10**8),
    formats=st.lists(st.sampled_from(config.OUTPUT_FORMATS), min_size=1, max_size=3),
)
@settings(deadline=None)  # no timed tests: on a loaded machine one example can take 0.3 s
def test_any_valid_config_round_trips_through_yaml(alpha, min_alpha_share, sample, ns_exponent, window,
                                                   max_size, formats):
    cfg = config.Config().with_overrides({
        "train.alpha": alpha, "train.min_alpha": alpha * min_alpha_share, "vocab.sample": sample,
        "model.ns_exponent": ns_exponent, "model.window": window, "vocab.max_size": max_size,
        "output.formats": formats,
    })
    assert round_trip(cfg) == cfg


# --- errors -----------------------------------------------------------------------------


def test_config_error_is_a_usage_error_with_exit_status_2():
    assert issubclass(ConfigError, W2VError)
    assert ConfigError.exit_code == 2
    assert DataError.exit_code == 1
    with pytest.raises(ConfigError) as info:
        resolve_set("model.window=0")
    assert info.value.exit_code == 2
