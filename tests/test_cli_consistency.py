"""One command line: every `w2v` command, found by walking the click tree, uses the same option
names with the same meanings. A new command that drifts fails here."""

import click
import pytest

from word2vec.cli import cli

FORMATS = {"tsv", "json", "text"}
TEXT_FORMAT = {"info"}  # a table for people that differs from TSV
FILE_FORMAT = {"export"}  # --format names the file format to write (word2vec-bin, npy, …), not an output style


def commands(group=cli, path=()):
    """(path, command, is_group) for the root group and every command under it, groups included."""
    yield path, group, isinstance(group, click.Group)
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield from commands(command, (*path, name))


def leaves(root=cli):
    return [(" ".join(path), command) for path, command, is_group in commands(root) if not is_group]


def options(command):
    return [p for p in command.params if isinstance(p, click.Option)]


def help_names(root, path):
    """The help option names of the command at `path`, as click builds them in a real invocation."""
    ctx = root.make_context("w2v", [], resilient_parsing=True)
    for name in path:
        command = ctx.command.commands[name]
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    return set(ctx.command.get_help_option(ctx).opts)


def drift(root=cli):
    """Every way the commands under `root` disagree, as readable strings (empty: consistent)."""
    problems, meaning, model_options = [], {}, []
    for path, command, is_group in commands(root):
        name = " ".join(path) or "w2v"
        if help_names(root, path) != {"-h", "--help"}:
            problems.append(f"{name}: no -h/--help")
        if not is_group and "-q" not in {o for p in options(command) for o in p.opts}:
            problems.append(f"{name}: no -q/--quiet")
        for option in options(command):
            problems += _option_drift(name, option, meaning)
            if "--model" in option.opts:
                model_options.append((name, option))
    for name, option in model_options:
        first = model_options[0][1]
        if (set(option.opts), option.default, option.help) != (set(first.opts), first.default, first.help):
            problems.append(f"{name}: --model differs from {model_options[0][0]}'s")
    return problems


def _option_drift(name, option, meaning):
    problems = []
    shorts = [o for o in option.opts + option.secondary_opts if not o.startswith("--")]
    longs = tuple(sorted(o for o in option.opts if o.startswith("--")))
    for short in shorts:
        if meaning.setdefault(short, longs) != longs:
            problems.append(f"{name}: {short} means {'/'.join(longs)} here but {'/'.join(meaning[short])} elsewhere")
    if "-k" in shorts and (longs != ("--topn",) or option.type.__class__ is not click.IntRange):
        problems.append(f"{name}: -k must be --topn, a count of neighbours")
    if "-o" in shorts and longs != ("--output",):
        problems.append(f"{name}: -o must be --output")
    if "--model" in longs and "-m" not in shorts:
        problems.append(f"{name}: --model needs -m")
    if "--format" in longs and name.split()[-1] not in FILE_FORMAT:
        choices = set(option.type.choices)
        if not choices <= FORMATS or ("text" in choices and name not in TEXT_FORMAT):
            problems.append(f"{name}: --format choices {sorted(choices)}")
    return problems


def test_the_command_tree_is_walked_whole():
    names = {name for name, _ in leaves()}
    assert {"train", "similar", "analogy", "outlier", "eval analogy", "eval similarity", "vectors", "info", "export",
            "plot", "plot-loss", "vocab", "phrases", "cluster", "gradcheck"} <= names


def test_every_command_speaks_the_same_language():
    assert drift() == []


@pytest.mark.parametrize("name", [name for name, _ in leaves()])
def test_every_command_answers_help_and_quiet(name):
    from click.testing import CliRunner

    for flag in ("-h", "--help"):
        result = CliRunner().invoke(cli, [*name.split(), flag])
        assert result.exit_code == 0 and result.stdout.startswith("Usage: ")
        assert "-q, --quiet" in result.stdout


def test_a_drifting_command_is_caught():
    """The same walk over a tree with one command added that breaks each rule."""

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    def root():
        pass

    for command in cli.commands.values():
        root.add_command(command)

    @root.command("neighbours")
    @click.option("--model", "model")  # no -m, another default
    @click.option("-k", "--clusters", type=int)  # -k is not a count of neighbours
    @click.option("-o", "--out")  # -o is not --output
    @click.option("--format", type=click.Choice(["csv", "text"]))
    def neighbours(model, clusters, out, format):  # and no -q
        pass

    assert drift(root) == [
        "neighbours: no -q/--quiet",
        "neighbours: --model needs -m",
        "neighbours: -k means --clusters here but --topn elsewhere",
        "neighbours: -k must be --topn, a count of neighbours",
        "neighbours: -o means --out here but --output elsewhere",
        "neighbours: -o must be --output",
        "neighbours: --format choices ['csv', 'text']",
        "neighbours: --model differs from analogy's",
    ]
