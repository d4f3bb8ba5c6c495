"""Pieces shared by the CLI commands: options, output formats, stdin queries, error reporting."""

import json
import os
import sys
import warnings

import click

from .errors import UnknownWordError

DEFAULT_MODEL = "model"


def default_model():
    """The model used when --model is not given: $W2V_MODEL, else ./model."""
    return os.environ.get("W2V_MODEL") or DEFAULT_MODEL


model_option = click.option(
    "--model", "model_path", default=default_model, show_default="$W2V_MODEL or ./model",
    metavar="PATH", help="A model directory, or a .bin/.txt/.vec file in the C tool's formats.",
)
def model_options(func):
    """--model PATH plus the loading options for files in the C formats (--limit, --no-header)."""
    func = click.option("--no-header", is_flag=True, help="The text model file has no `W d` header line.")(func)
    func = click.option("--limit", type=click.IntRange(min=1), metavar="N",
                        help="Load only the first N vectors (the most frequent words).")(func)
    return model_option(func)


def load_model(model_path, limit=None, no_header=False, quiet=False):
    """The Vectors at `model_path` (a model directory or a C-format file).

    The loader's warning about words with invalid UTF-8 becomes one plain stderr line.
    """
    from .vectors import load

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


def echo(line):
    """Write one line of data to stdout."""
    click.echo(line)


def warn(message):
    """A message for the user on stderr (never stdout)."""
    click.echo(message, err=True)


def report_error(message):
    click.echo(f"Error: {message}", err=True)


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
    """Counts the queries that failed, so the exit status can be 1 at the end."""

    def __init__(self):
        self.failures = 0

    def run(self, func, *args):
        try:
            return func(*args)
        except UnknownWordError as exc:
            report_error(str(exc))
            self.failures += 1
            return None

    def exit(self):
        if self.failures:
            sys.exit(1)


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


def show_progress(quiet, progress):
    """Progress bars only on a terminal, unless --progress; never with --quiet."""
    if quiet:
        return False
    if progress:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
