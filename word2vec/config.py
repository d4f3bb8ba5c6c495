"""Configuration: defaults in frozen dataclasses, YAML overrides, `--set` overrides, validation."""

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field

import yaml

from .errors import ConfigError

OUTPUT_FORMATS = ("npy", "word2vec-bin", "word2vec-txt")


def _spec(default, *, choices=None, minimum=None, maximum=None, exclusive_min=False, **kwargs):
    """A dataclass field carrying its validation rules in metadata."""
    meta = {"choices": choices, "min": minimum, "max": maximum, "exclusive_min": exclusive_min}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta, **kwargs)
    return field(default=default, metadata=meta, **kwargs)


@dataclass(frozen=True)
class CorpusConfig:
    lowercase: bool = _spec(False)
    max_sentence_length: int = _spec(1000, minimum=1)


@dataclass(frozen=True)
class VocabConfig:
    min_count: int = _spec(5, minimum=1)
    max_size: typing.Optional[int] = _spec(None, minimum=1)
    sample: float = _spec(1e-3, minimum=0.0)


@dataclass(frozen=True)
class ModelConfig:
    arch: str = _spec("skipgram", choices=("skipgram", "cbow"))
    loss: str = _spec("neg", choices=("neg", "hs", "softmax"))
    vector_size: int = _spec(100, minimum=1)
    window: int = _spec(5, minimum=1)
    negative: int = _spec(5, minimum=1)
    ns_exponent: float = _spec(0.75)
    cbow_mean: bool = _spec(True)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = _spec(5, minimum=1)
    alpha: float = _spec(0.025, minimum=0.0, exclusive_min=True)
    min_alpha: float = _spec(0.0001, minimum=0.0)
    threads: int = _spec(0, minimum=0)  # 0 means all cores
    seed: int = _spec(1, minimum=0, maximum=2**32 - 1)  # the thread RNGs are seeded from (seed << 16) + thread
    checkpoint_every: float = _spec(600.0, minimum=0.0)
    alpha_schedule: str = _spec("sawtooth", choices=("sawtooth", "linear"))  # see Trainer.alpha_at


@dataclass(frozen=True)
class OutputConfig:
    formats: typing.List[str] = _spec(["npy", "word2vec-bin"], choices=OUTPUT_FORMATS)


@dataclass(frozen=True)
class EvalConfig:
    analogy: typing.Optional[str] = _spec(None)
    similarity: typing.List[str] = _spec([])
    restrict: int = _spec(30000, minimum=1)


@dataclass(frozen=True)
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    vocab: VocabConfig = field(default_factory=VocabConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self):
        """The resolved config as plain nested dicts (for YAML and JSON)."""
        return dataclasses.asdict(self)

    def with_overrides(self, overrides):
        """A new Config with `{"section.key": value}` overrides applied and validated."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            section, key = _split_key(dotted)
            data[section][key] = value
        return from_dict(data)


SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config)}


def _all_keys():
    return [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def _unknown(name):
    # a dotted name needs a key, so a bare section is no suggestion for it
    candidates = _all_keys() + ([] if "." in name else list(SECTIONS))
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (valid sections: {', '.join(SECTIONS)})"
    return ConfigError(f"unknown config key '{name}'{hint}")


def _split_key(dotted):
    section, _, key = dotted.partition(".")
    if section in SECTIONS and not key:
        keys = ", ".join(f.name for f in dataclasses.fields(SECTIONS[section]))
        raise ConfigError(f"config key '{dotted}' names a section, not a key (its keys: {keys})")
    if section not in SECTIONS or not key:
        raise _unknown(dotted)
    if key not in {f.name for f in dataclasses.fields(SECTIONS[section])}:
        raise _unknown(dotted)
    return section, key


def from_dict(data):
    """Build and validate a Config from nested dicts holding only the keys that change."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("a config must be a mapping of sections (corpus, vocab, model, train, output, eval)")
    sections = {}
    for name, values in data.items():
        if name not in SECTIONS:
            raise _unknown(str(name))
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ConfigError(f"config section '{name}' must be a mapping of keys to values")
        sections[name] = _build_section(name, SECTIONS[name], values)
    config = Config(**sections)
    _check_consistency(config)
    return config


def _build_section(name, cls, values):
    hints = typing.get_type_hints(cls)
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in fields:
            raise _unknown(f"{name}.{key}")
        kwargs[key] = _check_value(f"{name}.{key}", value, hints[key], fields[key].metadata)
    return cls(**kwargs)


def _type_name(hint):
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union:
        return f"{_type_name(args[0])} or null"
    if typing.get_origin(hint) is list:
        return f"a list of {_type_name(args[0])}"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string"}[hint]


def _check_value(key, value, hint, meta):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        if value is None:
            return None
        return _check_value(key, value, args[0], meta)
    if origin is list:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{key}' must be {_type_name(hint)}, got {value!r}")
        return [_check_value(key, item, args[0], meta) for item in value]
    value = _yaml11_float(value) if hint is float else value
    if not _is_instance(value, hint):
        raise ConfigError(f"config key '{key}' must be {_type_name(hint)}, got {value!r}")
    try:
        value = float(value) if hint is float else value
    except OverflowError:  # an integer beyond float range
        raise ConfigError(f"config key '{key}' must be a finite number, got {value!r}") from None
    _check_range(key, value, meta)
    return value


def _yaml11_float(value):
    """YAML 1.1 reads `1e-4` (no dot) as a string; users mean the number."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _is_instance(value, hint):
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def _check_range(key, value, meta):
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key '{key}' must be a finite number, got {value!r}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"config key '{key}' must be one of {', '.join(choices)}; got {value!r}")
    low, high = meta.get("min"), meta.get("max")
    if low is not None:
        if meta.get("exclusive_min") and not value > low:
            raise ConfigError(f"config key '{key}' must be greater than {low}; got {value!r}")
        if value < low:
            raise ConfigError(f"config key '{key}' must be at least {low}; got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"config key '{key}' must be at most {high}; got {value!r}")


def _check_consistency(config):
    if config.train.min_alpha > config.train.alpha:
        raise ConfigError(
            f"config key 'train.min_alpha' ({config.train.min_alpha}) must not exceed "
            f"'train.alpha' ({config.train.alpha})"
        )
    if not config.output.formats:
        raise ConfigError(f"config key 'output.formats' needs at least one of {', '.join(OUTPUT_FORMATS)}")


def parse_set(assignment):
    """Parse one `--set section.key=value`; the value is a YAML scalar or flow list."""
    dotted, sep, text = assignment.partition("=")
    dotted = dotted.strip()
    if not sep or not dotted:
        raise ConfigError(f"--set expects section.key=value, got {assignment!r}")
    _split_key(dotted)
    try:
        value = _safe_load(text) if text.strip() else None
    except ConfigError:
        raise ConfigError(f"--set {dotted}: cannot parse value {text!r}") from None
    return dotted, value


def _safe_load(stream):
    """yaml.safe_load; every failure, including PyYAML's non-YAMLError ones, becomes ConfigError."""
    try:
        return yaml.safe_load(stream)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError((str(exc).splitlines() or [type(exc).__name__])[0]) from None
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # an invalid date (2001-13-45), a bad explicit tag (!!int x), nesting too deep
        raise ConfigError(f"{type(exc).__name__}: {str(exc)[:80]}") from None


def load_yaml(path):
    """Read a YAML config file (safely) into nested dicts."""
    try:
        with open(path, encoding="utf-8") as handle:
            return _safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except ConfigError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def resolve(config_path=None, assignments=()):
    """The Config from defaults, then the YAML file, then each `--set` in order."""
    config = from_dict(load_yaml(config_path)) if config_path else Config()
    overrides = dict(parse_set(item) for item in assignments)
    return config.with_overrides(overrides) if overrides else config


def to_yaml(config):
    """The resolved config as YAML text."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)


def effective_threads(config):
    """The number of training threads: `train.threads`, or all usable cores when it is 0."""
    if config.train.threads:
        return config.train.threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
