"""Pieces shared by the CLI commands: options, output formats, stdin queries, error reporting."""

import json
import os
import sys
import time
import warnings

import click

from ..errors import ConfigError, DataError, UnknownWordError, escape_controls

DEFAULT_MODEL = "model"


def default_model():
    """The model used when --model is not given: $W2V_MODEL, else ./model."""
    return os.environ.get("W2V_MODEL") or DEFAULT_MODEL


model_option = click.option(
    "--model", "-m", "model", default=default_model, show_default="$W2V_MODEL or ./model", metavar="PATH",
    help="The model: a model directory, or a .bin/.txt/.vec file in the C tool's formats.",
)
loading_options = [
    click.option("--limit", type=click.IntRange(min=1), metavar="N",
                 help="Load only the first N vectors (the most frequent words)."),
    click.option("--no-header", is_flag=True, help="The text model file has no `W d` header line."),
]


def model_options(func):
    """--model/-m PATH plus the loading options for files in the C formats (--limit, --no-header)."""
    for option in reversed(loading_options):
        func = option(func)
    return model_option(func)


def load_model(model_path, limit=None, no_header=False, quiet=False):
    """The Vectors at `model_path` (a model directory or a C-format file).

    The loader's warning about words with invalid UTF-8 becomes one plain stderr line.
    """
    from ..query.vectors import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnicodeWarning)
        vectors = load(model_path, limit=limit, header=not no_header)
    for item in caught:
        if issubclass(item.category, UnicodeWarning):
            if not quiet:
                warn(f"warning: {item.message}")
        else:  # not ours to reword
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return vectors


format_option = click.option(
    "--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True,
    help="tsv: tab-separated rows; json: one JSON object per line.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing on stderr but errors.")


def topn_option(default, help, least=1):
    """-k/--topn N: how many nearest neighbours; the one meaning of -k in every command."""
    return click.option("-k", "--topn", default=default, show_default=True, type=click.IntRange(min=least),
                        metavar="N", help=help)


def echo(line):
    """Write one line of data to stdout."""
    click.echo(line)


def warn(message):
    """A message for the user on stderr (never stdout)."""
    click.echo(message, err=True)


def report_error(message):
    """One `Error: …` line on stderr; control characters in the message (a hostile word) are escaped."""
    click.echo(f"Error: {escape_controls(message)}", err=True)


def queries(args):
    """The command-line arguments, or else the non-blank lines of stdin (stripped)."""
    if args:
        yield from args
        return
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


class Tally:
    """Counts the queries that failed, so the exit status can be 1 at the end.

    With --format json a failed query still prints one object, {"query": …, "error": …}, so
    the lines of the output match the queries one for one.
    """

    def __init__(self, fmt="tsv"):
        self.fmt = fmt
        self.failures = 0

    def run(self, query, func, *args):
        """`func(*args)`, or None after reporting an unknown word."""
        try:
            return func(*args)
        except UnknownWordError as exc:
            self.fail(query, str(exc), {"error": "not in vocabulary", "word": exc.word})
            return None

    def fail(self, query, message, fields):
        """Report one failed query: `Error: message` on stderr and, for JSON, its object on stdout."""
        report_error(message)
        self.failures += 1
        if self.fmt == "json":
            echo(json.dumps({"query": query, **fields}, ensure_ascii=False))

    def exit(self):
        if self.failures:
            sys.exit(1)


def note_subwords(vectors, quiet=False):
    """One stderr line saying how many words out of the vocabulary were built from their subwords."""
    built = len(getattr(vectors, "built", ()))
    if built and not quiet:
        warn(f"note: {built} word{'s' if built != 1 else ''} out of the vocabulary built from subwords")


def emit_ranked(query, results, fmt):
    """Print `[(word, score)]` for one query as TSV rows or one JSON line."""
    if fmt == "json":
        echo(json.dumps({"query": query, "similar": [{"word": w, "score": round(float(s), 6)} for w, s in results]},
                        ensure_ascii=False))
    else:
        for word, score in results:
            echo(f"{query}\t{word}\t{score:.4f}")


def emit_records(records, fmt, columns):
    """Print dicts as TSV (with a header row) or as JSON lines."""
    if fmt == "json":
        for record in records:
            echo(json.dumps(record, ensure_ascii=False))
        return
    echo("\t".join(columns))
    for record in records:
        echo("\t".join(_cell(record.get(c)) for c in columns))


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def _stderr_is_terminal():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def train_reporter(quiet, progress, every=5.0):
    """How `w2v train` reports: a bar on a terminal; elsewhere a line per epoch, and with --progress
    a plain line every `every` seconds (a log file gets lines, not a bar's \\r frames)."""
    from ..training.loop import Reporter

    if quiet:
        return Reporter(progress=False, log=lambda message: None)
    if _stderr_is_terminal():
        return Reporter(progress=True, log=warn)
    return Reporter(progress=progress, log=warn, on_epoch=_epoch_line,
                    bar_factory=lambda total, initial: PlainProgress(total, initial, warn, every))


def _epoch_line(record, epochs, elapsed):
    warn(f"epoch {record['epoch']}/{epochs}: loss {record['loss']:.4f}, "
         f"{record['words_per_sec']:,.0f} words/s, {elapsed:.1f}s elapsed")


class PlainProgress:
    """The part of tqdm's interface the training loop uses, as a plain line every `every` seconds
    (the first at the first update, so a log shows at once that training has started)."""

    def __init__(self, total, initial, log, every):
        self.total, self.n, self.log, self.every = total, initial, log, every
        self.last = None

    def update(self, words):
        self.n += words

    def set_postfix_str(self, text, refresh=False):
        """The loop sets the figures after each update: the time to write a line, when one is due."""
        if self.last is None or time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.log(f"training: {self.n / max(self.total, 1):.0%} ({self.n:,} of {self.total:,} words), {text}")

    def close(self):
        pass


_BLOCK_LINES = 1 << 14  # lines written to stdout at a time


def write_lines(lines):
    """Write lines of data to stdout as UTF-8, many at a time (a 10M-word vocabulary stays quick)."""
    block = []
    for line in lines:
        block.append(line)
        if len(block) == _BLOCK_LINES:
            click.echo("".join(block).encode(), nl=False)
            block = []
    if block:
        click.echo("".join(block).encode(), nl=False)


def read_data(path, parse):
    """A JSON object or YAML mapping read from `path`; a damaged file is a DataError naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = parse(handle)
    except (OSError, ValueError, ConfigError) as exc:  # UnicodeDecodeError and JSON errors are ValueErrors
        raise DataError(f"{path}: cannot read it ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping of keys to values")
    return data


cluster_option = click.option(
    "--cluster", metavar="ADDRESS", envvar="W2V_CLUSTER", show_envvar=True,
    help="Run on a Dask cluster: tcp://HOST:PORT (a running scheduler), local:N or local:NxT "
         "(N worker processes of T threads here); needs the dask extra.")
