"""CLI commands that train and check: train, gradcheck, config."""

import sys

import click

from .. import config as config_mod
from ..errors import ConfigError
from .common import cluster_option, quiet_option, train_reporter, warn

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


@click.command()
@click.argument("corpus", nargs=-1)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="YAML file with the keys to change.")
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one config key (repeatable); the value is YAML.")
@click.option("--output", "-o", default="model", show_default=True, help="Model directory to write.")
@click.option("--vocab", "vocab_path", help="Use this word<TAB>count vocabulary instead of counting.")
@click.option("--resume", "resume_dir", metavar="DIR",
              help="Continue the interrupted run whose checkpoint is in DIR (its config is used).")
@click.option("--init", "init_dir", metavar="MODEL",
              help="Continue training the model directory MODEL on CORPUS (its config, changed by the options given).")
@click.option("--progress", is_flag=True, help="Show progress even when stderr is not a terminal.")
@shorthand_options
@cluster_option
@quiet_option
def train(corpus, config_path, assignments, output, vocab_path, resume_dir, init_dir, progress, cluster, quiet,
          **shorthands):
    """Train vectors on CORPUS files (`-` is stdin; .gz, .bz2 and .xz are read transparently).

    Each config key is set by, from weakest to strongest: its default, --config FILE,
    then --set or its shorthand flag (--dim 300 is --set model.vector_size=300); giving
    both for one key is refused.

    On a terminal a progress bar runs on stderr; elsewhere one line per epoch
    (epoch, mean loss, words/s, elapsed), and with --progress a line every few seconds too.

    Ctrl-C or SIGTERM saves a checkpoint first; `--resume DIR` continues from it
    (give the corpus again when it was read from stdin).

    `--init MODEL` continues a finished model on more text: new words join, counts add up,
    the learning rate restarts at train.alpha, and the words both texts hold end as the average
    of their old and new vectors (train.continue_merge); arch, loss and vector_size must stay.

    `--cluster ADDRESS` counts, encodes and trains on a Dask cluster: CORPUS may be globs and
    URLs (s3://…), each worker reads its own blocks, and the replicas sync every train.sync_words words.
    A checkpoint is written at the end of each epoch (resume with --resume DIR --cluster ADDRESS), and
    the shards of a lost worker move to the others; --init works there too.
    """
    from .. import api

    reporter = train_reporter(quiet, progress)
    hooks = api.evaluation_hooks(reporter)
    overrides = shorthand_overrides(shorthands, assignments)
    if resume_dir:
        if config_path or assignments or vocab_path or overrides:
            raise click.UsageError("--resume takes the config and vocabulary from the checkpoint; "
                                   "drop --config, --set, its shorthand flags and --vocab")
        output = resume_dir
        metrics = _resume(resume_dir, list(corpus) or None, cluster, reporter, hooks)
    elif init_dir:
        if not corpus or vocab_path:
            raise click.UsageError("--init takes the vocabulary from MODEL and needs the new CORPUS; drop --vocab"
                                   if vocab_path else "give at least one CORPUS file (or - for stdin) to continue on")
        model = api.load_model(init_dir)
        config = init_config(model.config, config_path, assignments, overrides)
        metrics = _continue(model, list(corpus), config, output, cluster, reporter, hooks, config_path)
    else:
        if not corpus:
            raise click.UsageError("give at least one CORPUS file (or - for stdin)")
        config = config_mod.resolve(config_path, assignments)
        config = config.with_overrides(overrides) if overrides else config
        metrics = _new_run(list(corpus), config, output, cluster, reporter, hooks, config_path, vocab_path)
    if not quiet:
        warn(f"wrote {output}/ (mean loss {metrics['epochs'][-1]['loss']:.4f} in the last epoch)")


def _resume(folder, corpus, cluster, reporter, hooks):
    """--resume: the metrics of the run continued from the checkpoint in `folder` (on the cluster, if given)."""
    if cluster:
        from ..distributed import rounds

        return rounds.resume(folder, corpus, cluster, reporter, hooks)[-1]
    from ..training import loop as train_mod

    return train_mod.resume(folder, corpus, reporter, hooks)[-1]


def _continue(model, corpus, config, output, cluster, reporter, hooks, config_path):
    """--init: the metrics of `model` trained further on `corpus` (on the cluster, if given)."""
    from .. import api

    inputs = [path for path in (config_path,) if path]
    if cluster:
        from ..distributed import rounds

        return rounds.continue_training(corpus, config, output, cluster, api.training_start(model), reporter, hooks,
                                        inputs)[-1]
    return api.continue_training(model, corpus, config, output, reporter, hooks, inputs)[-1]


def _new_run(corpus, config, output, cluster, reporter, hooks, config_path, vocab_path):
    """The metrics of a new run on `corpus` (on the cluster, if given)."""
    from ..training import loop as train_mod

    vocab = train_mod.load_vocab(vocab_path) if vocab_path else None
    inputs = [path for path in (config_path, vocab_path) if path]
    if cluster:
        from ..distributed import rounds

        return rounds.train(corpus, config, output, cluster, reporter, vocab, hooks, inputs)[-1]
    return train_mod.train(corpus, config, output, reporter, vocab, hooks, inputs)[-1]


def init_config(model_config, config_path, assignments, overrides):
    """The config of a continued run: the model's, changed by the keys of --config, then --set and flags."""
    changes = {}
    if config_path:
        from_file = config_mod.resolve(config_path)  # validated, its relative paths taken from its folder
        for section, keys in (config_mod.load_yaml(config_path) or {}).items():
            changes.update({f"{section}.{key}": getattr(getattr(from_file, section), key) for key in keys or {}})
    changes.update(dict(config_mod.parse_set(item) for item in assignments))
    changes.update(overrides)
    return model_config.with_overrides(changes) if changes else model_config


@click.command()
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


@click.command("config")
@quiet_option
def config_command(quiet):
    """Print the default config as commented YAML (each key's meaning and range), to start a file from.

    \b
    w2v config > my.yaml    # then keep only the keys you change
    """
    click.echo(config_mod.commented_yaml(), nl=False)


COMMANDS = [train, gradcheck, config_command]
