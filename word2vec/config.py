"""Configuration: defaults in frozen dataclasses, YAML overrides, `--set` overrides, validation."""

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field

import yaml

from .errors import ConfigError
from .safe_yaml import SHOWN_CHARS, YamlRefused, safe_load, show

OUTPUT_FORMATS = ("npy", "word2vec-bin", "word2vec-txt", "fasttext-bin")
MAX_THREADS = 1024  # more than the cores of any machine; each thread holds its own scratch


def _spec(default, doc, *, choices=None, minimum=None, maximum=None, exclusive_min=False, path=False):
    """A dataclass field carrying its one-line meaning and its validation rules in metadata.

    `path` marks a file name: relative ones in a config file are taken from the file's folder.
    """
    meta = {"doc": doc, "choices": choices, "min": minimum, "max": maximum, "exclusive_min": exclusive_min,
            "path": path}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


# The upper bounds are far beyond any real run but keep every buffer and table the size of
# memory: a window or a negative count sizes each thread's scratch, the threads each hold a
# Python thread, and the noise table raises counts (up to 2^63) to ns_exponent in float64.
@dataclass(frozen=True)
class CorpusConfig:
    lowercase: bool = _spec(False, "lowercase the text")
    max_sentence_length: int = _spec(1000, "longer lines are cut into pieces of this many tokens",
                                     minimum=1, maximum=1_000_000)


@dataclass(frozen=True)
class VocabConfig:
    min_count: int = _spec(5, "drop words seen fewer times", minimum=1, maximum=10**9)
    max_size: typing.Optional[int] = _spec(None, "keep at most this many words, the most frequent",
                                           minimum=1, maximum=10**8)
    sample: float = _spec(1e-3, "subsampling threshold of frequent words; 0 turns it off",
                          minimum=0.0, maximum=1.0)


@dataclass(frozen=True)
class ModelConfig:
    arch: str = _spec("skipgram", "the architecture", choices=("skipgram", "cbow"))
    loss: str = _spec("neg", "negative sampling, hierarchical softmax or the exact softmax",
                      choices=("neg", "hs", "softmax"))
    vector_size: int = _spec(100, "dimensions of the vectors", minimum=1, maximum=10_000)
    window: int = _spec(5, "maximum window; each center word draws its own from 1..window", minimum=1, maximum=1000)
    negative: int = _spec(5, "noise words per prediction (loss neg)", minimum=1, maximum=1000)
    ns_exponent: float = _spec(0.75, "the noise distribution is count^ns_exponent", minimum=-2.0, maximum=2.0)
    cbow_mean: bool = _spec(True, "the CBOW hidden vector is the mean (else the sum) of the context")
    # fastText's subwords: a word's input vector is the mean of its own row and its n-gram rows
    minn: int = _spec(3, "shortest character n-gram of a word (subwords)", minimum=1, maximum=100)
    maxn: int = _spec(0, "longest character n-gram; 0 turns subwords off", minimum=0, maximum=100)
    buckets: int = _spec(2_000_000, "hash buckets of the n-gram rows (buckets × vector_size floats)",
                         minimum=1, maximum=10**9)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = _spec(5, "passes over the corpus", minimum=1, maximum=1000)
    alpha: float = _spec(0.025, "initial learning rate, decayed towards min_alpha (see alpha_schedule)",
                         minimum=0.0, maximum=1.0, exclusive_min=True)
    min_alpha: float = _spec(0.0001, "final learning rate (at most alpha)", minimum=0.0, maximum=1.0)
    threads: int = _spec(0, "training threads; 0 means all cores", minimum=0, maximum=MAX_THREADS)
    # the thread RNGs are seeded from (seed << 16) + thread
    seed: int = _spec(1, "seed of the weights and of every thread's RNG", minimum=0, maximum=2**32 - 1)
    checkpoint_every: float = _spec(600.0, "seconds between checkpoints; 0 = only on interrupt",
                                    minimum=0.0, maximum=365 * 86400.0)
    alpha_schedule: str = _spec("halves", "learning-rate schedule: halves (the corpus's two halves side by side, "
                                "each epoch falling half its share in each, as gensim's corpus_file with 2 workers), "
                                "sawtooth (the same fall over the corpus in order) or linear",
                                choices=("halves", "sawtooth", "linear"))
    sync_words: int = _spec(600_000, "with --cluster: words trained between two syncs, over all workers together",
                            minimum=10_000, maximum=10**9)
    sync_frequent: int = _spec(5000, "with --cluster: the rows of this many most frequent words (under hs: the "
                               "tree nodes nearest the root) also sync halfway between two syncs of every row, as "
                               "pWord2Vec's frequency tiers; 0: every row at every sync (and with sync_lag 1)",
                               minimum=0, maximum=10**9)
    sync_lag: int = _spec(0, "with --cluster: rounds a worker trains before the merge of a round reaches it; "
                          "0 waits for every merge, 1 overlaps a round's sync with the next round's compute",
                          minimum=0, maximum=1)
    continue_merge: str = _spec("average", "with --init: a word both texts hold ends as the average of its old vector "
                                "and the run's, by the occurrences each has seen (average), or as the run leaves "
                                "it (none, as gensim)", choices=("average", "none"))


@dataclass(frozen=True)
class OutputConfig:
    formats: typing.List[str] = _spec(["npy", "word2vec-bin"], "files written beside vectors.npy",
                                      choices=OUTPUT_FORMATS)


@dataclass(frozen=True)
class EvalConfig:
    analogy: typing.Optional[str] = _spec(None, "analogy questions file evaluated after training", path=True)
    similarity: typing.List[str] = _spec([], "word-pair files evaluated after training", path=True)
    restrict: int = _spec(30000, "analogy answers come from this many most frequent words",
                          minimum=1, maximum=10**8)


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
MAX_FILE_BYTES = 1 << 20  # a config file holds a few dozen keys
MAX_SET_CHARS = 4096  # the value of one --set


def _all_keys():
    return [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def _unknown(name):
    """The error for an unknown key: a close match when there is one, and the valid keys of its section."""
    name = name if len(name) <= SHOWN_CHARS else name[: SHOWN_CHARS - 1] + "…"
    # a dotted name needs a key, so a bare section is no suggestion for it
    candidates = _all_keys() + ([] if "." in name else list(SECTIONS))
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    section = name.partition(".")[0]
    if "." in name and section in SECTIONS:
        keys = ", ".join(f.name for f in dataclasses.fields(SECTIONS[section]))
        return ConfigError(f"unknown config key '{name}'{hint}; the keys of {section} are {keys}")
    return ConfigError(f"unknown config key '{name}'{hint}; the sections are {', '.join(SECTIONS)}")


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
            raise ConfigError(f"config key '{key}' must be {_type_name(hint)}, got {show(value)}")
        return [_check_value(key, item, args[0], meta) for item in value]
    value = _yaml11_float(value) if hint is float else value
    if not _is_instance(value, hint):
        raise ConfigError(f"config key '{key}' must be {_type_name(hint)}, got {show(value)}")
    try:
        value = float(value) if hint is float else value
    except OverflowError:  # an integer beyond float range
        raise ConfigError(f"config key '{key}' must be a finite number, got {show(value)}") from None
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
        raise ConfigError(f"config key '{key}' must be a finite number, got {show(value)}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"config key '{key}' must be one of {', '.join(choices)}; got {show(value)}")
    low, high = meta.get("min"), meta.get("max")
    if low is not None:
        if meta.get("exclusive_min") and not value > low:
            raise ConfigError(f"config key '{key}' must be greater than {low}; got {show(value)}")
        if value < low:
            raise ConfigError(f"config key '{key}' must be at least {low}; got {show(value)}")
    if high is not None and value > high:
        raise ConfigError(f"config key '{key}' must be at most {high}; got {show(value)}")


def _check_consistency(config):
    if config.train.min_alpha > config.train.alpha:
        raise ConfigError(
            f"config key 'train.min_alpha' ({config.train.min_alpha}) must not exceed "
            f"'train.alpha' ({config.train.alpha})"
        )
    if config.model.maxn and config.model.maxn < config.model.minn:
        raise ConfigError(f"config key 'model.maxn' ({config.model.maxn}) must be 0 (no subwords) or at least "
                          f"'model.minn' ({config.model.minn})")
    if not config.output.formats:
        raise ConfigError(f"config key 'output.formats' needs at least one of {', '.join(OUTPUT_FORMATS)}")


def parse_set(assignment):
    """Parse one `--set section.key=value`; the value is a YAML scalar or flow list."""
    dotted, sep, text = assignment.partition("=")
    dotted = dotted.strip()
    if not sep or not dotted:
        raise ConfigError(f"--set expects section.key=value, got {show(assignment)}")
    _split_key(dotted)
    if len(text) > MAX_SET_CHARS:
        raise ConfigError(f"--set {dotted}: the value is longer than {MAX_SET_CHARS} characters")
    try:
        value = safe_load(text) if text.strip() else None
    except YamlRefused as exc:
        raise ConfigError(f"--set {dotted}: cannot parse value {show(text)}: {exc}") from None
    except ConfigError:
        raise ConfigError(f"--set {dotted}: cannot parse value {show(text)}") from None
    return dotted, value


def load_yaml(path):
    """Read a YAML config file (safely, at most MAX_FILE_BYTES) into nested dicts."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ConfigError(f"config file {path} is larger than {MAX_FILE_BYTES >> 20} MiB; "
                              "a config holds only the keys it changes")
        return safe_load(data)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except YamlRefused as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    except ConfigError as exc:
        if str(exc).startswith(f"config file {path} "):
            raise
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def resolve(config_path=None, assignments=()):
    """The Config from defaults, then the YAML file, then each `--set` in order.

    Relative paths in the file are taken from the file's folder; those of `--set` from the
    working directory.
    """
    config = _rebase_paths(from_dict(load_yaml(config_path)), config_path) if config_path else Config()
    overrides = dict(parse_set(item) for item in assignments)
    return config.with_overrides(overrides) if overrides else config


def _rebase_paths(config, config_path):
    """`config` with the relative paths of its path keys joined to the folder of `config_path`."""
    folder = os.path.realpath(os.path.dirname(os.fspath(config_path)) or ".")

    def rebase(path):
        if os.path.isabs(path) or path == "-":
            return path
        full = os.path.normpath(os.path.join(folder, path))
        inside = full.startswith(os.path.join(os.path.realpath(os.getcwd()), ""))
        return os.path.relpath(full) if inside else full

    sections = {}
    for name in SECTIONS:
        section = getattr(config, name)
        changes = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if f.metadata["path"] and value is not None:
                changes[f.name] = [rebase(v) for v in value] if isinstance(value, list) else rebase(value)
        sections[name] = dataclasses.replace(section, **changes)
    return Config(**sections)


def to_yaml(config):
    """The resolved config as YAML text."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)


def commented_yaml(config=None):
    """The config (the defaults by default) as YAML with each key's meaning and range as a comment."""
    config = config or Config()
    lines = ["# w2v config: every key with its default value. A config file needs only the keys",
             "# it changes; relative paths in it are taken from the file's folder."]
    for name in SECTIONS:
        lines.append(f"{name}:")
        section = getattr(config, name)
        for f in dataclasses.fields(section):
            value = yaml.safe_dump(getattr(section, f.name), default_flow_style=True, width=1 << 16)
            value = value.strip().removesuffix("...").strip()
            lines.append(f"  {f.name}: {value}".ljust(32) + f"  # {f.metadata['doc']} ({describe_range(type(section), f)})")
    return "\n".join(lines) + "\n"


def describe_range(cls, f):
    """The values a field of section `cls` accepts, in words: `1 to 1000`, `one of neg, hs, softmax`, …"""
    meta, hint = f.metadata, typing.get_type_hints(cls)[f.name]
    optional = typing.get_origin(hint) is typing.Union
    hint = typing.get_args(hint)[0] if optional else hint
    if meta["choices"]:
        words = f"any of {', '.join(meta['choices'])}" if typing.get_origin(hint) is list \
            else f"one of {', '.join(meta['choices'])}"
    elif meta["path"]:
        words = "a list of file names" if typing.get_origin(hint) is list else "a file name"
    elif hint is bool:
        words = "true or false"
    else:
        low, high = _number(meta["min"]), _number(meta["max"])
        words = f"above {low}, at most {high}" if meta["exclusive_min"] else f"{low} to {high}"
    return words + (", or null" if optional else "")


def _number(value):
    return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))


def effective_threads(config):
    """The number of training threads: `train.threads`, or all usable cores when it is 0."""
    if config.train.threads:
        return config.train.threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
