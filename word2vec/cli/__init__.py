"""The `w2v` command line: a thin layer over the library; errors become one `Error: …` line.

Exit statuses: 0 ok, 1 bad data or an unknown word, 2 bad usage, 130 interrupted (143 on SIGTERM).
"""

import errno
import os
import sys

import click

from ..version import __version__
from .. import config as config_mod
from .common import quiet_option, report_error, train_reporter, warn
from ..errors import ConfigError, Interrupted, W2VError


class W2VGroup(click.Group):
    """Turns the project's errors, broken pipes and Ctrl-C into clean exits."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Interrupted as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)
        except W2VError as exc:
            report_error(str(exc))
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                _quiet_broken_pipe()
            report_error(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
            ctx.exit(1)


def _quiet_broken_pipe():
    """The reader went away (`| head`): stop quietly, and keep Python from complaining at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)


@click.group(cls=W2VGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="w2v")
def cli():
    """w2v: train word2vec embeddings and query them, from the shell.

    \b
    w2v train corpus.txt --config configs/demo.yaml --output model
    w2v similar king queen
    zcat corpus.gz | w2v train - --set train.epochs=3

    \b
    Exit statuses: 0 ok, 1 bad data or an unknown word, 2 bad usage,
    130 interrupted (143 on SIGTERM; training saves a checkpoint first).
    """


# train's flags for the keys people expect as flags: (flag, config key, type, metavar)
SHORTHANDS = (
    ("--dim", "model.vector_size", int, "N"), ("--epochs", "train.epochs", int, "N"),
    ("--window", "model.window", int, "N"), ("--min-count", "vocab.min_count", int, "N"),
    ("--negative", "model.negative", int, "N"), ("--sample", "vocab.sample", float, "X"),
    ("--alpha", "train.alpha", float, "X"), ("--threads", "train.threads", int, "N"),
    ("--seed", "train.seed", int, "N"), ("--arch", "model.arch", str, "skipgram|cbow"),
    ("--loss", "model.loss", str, "neg|hs|softmax"),
)


def shorthand_options(func):
    """One option per SHORTHANDS row, default None (not given)."""
    for flag, key, kind, metavar in reversed(SHORTHANDS):
        func = click.option(flag, type=kind, metavar=metavar, help=f"Shorthand for --set {key}=…")(func)
    return func


def shorthand_overrides(values, assignments):
    """{"section.key": value} of the shorthand flags given; a --set of the same key is ambiguous."""
    overrides = {key: values[flag[2:].replace("-", "_")] for flag, key, _, _ in SHORTHANDS}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    flags = {key: flag for flag, key, _, _ in SHORTHANDS}
    for assignment in assignments:
        key = assignment.partition("=")[0].strip()
        if key in overrides:
            raise ConfigError(f"--set {key}=… and {flags[key]} both set {key}; give only one of them")
    return overrides


@cli.command()
@click.argument("corpus", nargs=-1)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="YAML file with the keys to change.")
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one config key (repeatable); the value is YAML.")
@click.option("--output", "-o", default="model", show_default=True, help="Model directory to write.")
@click.option("--vocab", "vocab_path", help="Use this word<TAB>count vocabulary instead of counting.")
@click.option("--resume", "resume_dir", metavar="DIR",
              help="Continue the interrupted run whose checkpoint is in DIR (its config is used).")
@click.option("--progress", is_flag=True, help="Show progress even when stderr is not a terminal.")
@shorthand_options
@quiet_option
def train(corpus, config_path, assignments, output, vocab_path, resume_dir, progress, quiet, **shorthands):
    """Train vectors on CORPUS files (`-` is stdin; .gz, .bz2 and .xz are read transparently).

    Each config key is set by, from weakest to strongest: its default, --config FILE,
    then --set or its shorthand flag (--dim 300 is --set model.vector_size=300); giving
    both for one key is refused.

    On a terminal a progress bar runs on stderr; elsewhere one line per epoch
    (epoch, mean loss, words/s, elapsed), and with --progress a line every few seconds too.

    Ctrl-C or SIGTERM saves a checkpoint first; `--resume DIR` continues from it
    (give the corpus again when it was read from stdin).
    """
    from .. import api
    from ..training import loop as train_mod

    reporter = train_reporter(quiet, progress)
    hooks = api.evaluation_hooks(reporter)
    overrides = shorthand_overrides(shorthands, assignments)
    if resume_dir:
        if config_path or assignments or vocab_path or overrides:
            raise click.UsageError("--resume takes the config and vocabulary from the checkpoint; "
                                   "drop --config, --set, its shorthand flags and --vocab")
        output = resume_dir
        _, _, metrics = train_mod.resume(resume_dir, list(corpus) or None, reporter, hooks)
    else:
        if not corpus:
            raise click.UsageError("give at least one CORPUS file (or - for stdin)")
        config = config_mod.resolve(config_path, assignments)
        config = config.with_overrides(overrides) if overrides else config
        vocab = train_mod.load_vocab(vocab_path) if vocab_path else None
        inputs = [path for path in (config_path, vocab_path) if path]
        _, _, metrics = train_mod.train(list(corpus), config, output, reporter, vocab, hooks, inputs)
    if not quiet:
        warn(f"wrote {output}/ (mean loss {metrics['epochs'][-1]['loss']:.4f} in the last epoch)")


@cli.command()
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="Seed of the random test data.")
@quiet_option
def gradcheck(seed, quiet):
    """Check every gradient of the reference model by finite differences.

    Prints name<TAB>max_relative_error<TAB>ok|FAIL; exits 1 if any check fails.
    It prints nothing on stderr, so --quiet changes nothing (every command takes it).
    """
    from ..training import gradcheck as checks

    rows = checks.run_all(seed=seed)
    for line in checks.format_rows(rows):
        click.echo(line)
    if not all(ok for _, _, ok in rows):
        sys.exit(1)


@cli.command("config")
@quiet_option
def config_command(quiet):
    """Print the default config as commented YAML (each key's meaning and range), to start a file from.

    \b
    w2v config > my.yaml    # then keep only the keys you change
    """
    click.echo(config_mod.commented_yaml(), nl=False)


def _register():
    from . import phrases as cli_phrases
    from . import query as cli_query
    from . import tools as cli_tools

    for module in (cli_query, cli_tools, cli_phrases):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main():
    """Console entry point."""
    cli.main(prog_name="w2v")
