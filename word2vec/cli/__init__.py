"""The `w2v` command line: a thin layer over the library; errors become one `Error: …` line.

Exit statuses: 0 ok, 1 bad data or an unknown word, 2 bad usage, 130 interrupted (143 on SIGTERM).
"""

import atexit
import errno
import os
import sys
import threading

import click

from ..errors import Interrupted, W2VError
from ..version import __version__
from .common import report_error


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


def _register():
    """Add the commands of each group's module: train, text, query, files, plots."""
    from . import files, plots, query, text, train

    for module in (train, text, query, files, plots):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main():
    """Console entry point."""
    try:
        cli.main(prog_name="w2v")
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code):
    """End a finished command without the interpreter's teardown.

    Freeing every module and running LLVM's destructors took 0.15-0.2 s of a 1.8 s training
    run. Everything of value is written by then (w2v's files are closed and synced as they are
    written), so the exit handlers run, the standard streams are flushed, and the process ends.
    A code that is not a number (a message), a failing flush, or a thread that Python would
    wait for takes the ordinary way out.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not (code is None or isinstance(code, int)) or others:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)
