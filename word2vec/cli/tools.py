"""CLI commands that work on corpora and model files: vocab, export, vectors, info, plot, plot-loss."""

import json
import os

import click
import numpy as np

from .. import store
from ..store import modeldir
from .. import safe_yaml
from .common import (Tally, echo, loading_options, load_model, model_option, model_options, queries, quiet_option,
                         topn_option, warn)
from ..errors import ConfigError, DataError

_BLOCK_LINES = 1 << 14  # lines written to stdout at a time
EXPORT_FORMATS = ["word2vec-bin", "word2vec-txt", "npy", "projector"]


def _load(path, limit=None, no_header=False, quiet=False):
    return load_model(path, limit, no_header, quiet)


def _write_lines(lines):
    """Write lines of data to stdout as UTF-8, many at a time (a 10M-word vocabulary stays quick)."""
    block = []
    for line in lines:
        block.append(line)
        if len(block) == _BLOCK_LINES:
            click.echo("".join(block).encode(), nl=False)
            block = []
    if block:
        click.echo("".join(block).encode(), nl=False)


# --- vocab ------------------------------------------------------------------------------

@click.command()
@click.argument("corpus", nargs=-1)
@click.option("--min-count", default=1, show_default=True, type=click.IntRange(min=1),
              help="Leave out words seen fewer times.")
@click.option("--max-size", type=click.IntRange(min=1), metavar="N", help="Keep only the N most frequent words.")
@click.option("--lowercase", is_flag=True, help="Lowercase the words first (as corpus.lowercase).")
@click.option("--merge", is_flag=True, help="CORPUS files are word<TAB>count shards: add up their counts.")
@click.option("--output", "-o", default="-", show_default=True, metavar="FILE",
              help="Write the rows here (atomically; .gz/.bz2/.xz compress) instead of stdout.")
@quiet_option
def vocab(corpus, min_count, max_size, lowercase, merge, output, quiet):
    """Count the words of CORPUS files (`-` or none: stdin); print word<TAB>count.

    Rows are sorted by count, most frequent first, then by word. Words are split
    on whitespace exactly as `w2v train` splits them. The default --min-count 1
    keeps every word, so shards counted apart merge exactly; apply the threshold
    when merging:

    \b
    ls part-* | xargs -P 4 -I{} sh -c 'w2v vocab {} > {}.tsv'
    w2v vocab --merge part-*.tsv --min-count 5 > vocab.tsv
    w2v train part-* --vocab vocab.tsv
    """
    from ..text import vocab as vocab_mod

    paths = list(corpus) or ["-"]
    words, counts = _merge_shards(paths, lowercase) if merge else _count_words(paths, lowercase, quiet)
    if not words or counts.sum() == 0:
        raise DataError("the corpus is empty: no tokens were found")
    if counts.max() < min_count:
        raise DataError(f"no word occurs at least {min_count} times (the most frequent occurs "
                        f"{int(counts.max())} times); lower --min-count")
    table, _ = vocab_mod.build(words, counts, min_count, max_size)
    if output == "-":
        _write_lines(f"{word}\t{count}\n" for word, count in zip(table.words, table.counts.tolist()))
    else:
        store.write_vocab(output, table.words, table.counts)


def _count_words(paths, lowercase, quiet):
    """One pass of the training tokenizer (`corpus.scan`) over the files: (words, int64 counts)."""
    from ..text import corpus as corpus_mod

    with corpus_mod.make_workdir() as workdir:
        scan = corpus_mod.scan(paths, workdir, lowercase=lowercase)
    if not quiet:
        corpus_mod.warn_bad_bytes(scan.bad_bytes, warn)
    return scan.words, scan.counts


def _merge_shards(paths, lowercase):
    """The summed counts of several `word<TAB>count` files (each lists a word at most once)."""
    totals = {}
    for path in paths:
        words, counts = store.read_vocab(path)
        for word, count in zip(words, counts.tolist()):
            word = word.lower() if lowercase else word
            totals[word] = totals.get(word, 0) + count
    if sum(totals.values()) > store.MAX_COUNT:
        word = max(totals, key=totals.get)
        raise DataError(f"the merged counts add up to more than {store.MAX_COUNT} (2^63 - 1), more than w2v "
                        f"can count ({word!r} alone has {totals[word]})")
    return list(totals), np.fromiter(totals.values(), np.int64, len(totals))


# --- export -----------------------------------------------------------------------------

@click.command()
@model_options
@click.option("--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS), help="The format to write.")
@click.option("--output", "-o", required=True, metavar="PATH",
              help="The file (word2vec-bin, word2vec-txt) or folder (npy, projector) to write.")
@quiet_option
def export(model, limit, no_header, fmt, output, quiet):
    """Write the vectors of the model (--model: a model directory or a C-format file) in another format.

    \b
    word2vec-bin  the C tool's binary format (gensim, fastText, … read it)
    word2vec-txt  the C tool's text format, 9 significant digits (exact float32)
    npy           a model directory: vectors.npy and vocab.tsv (counts 0 if the model has none)
    projector     vectors.tsv and metadata.tsv for https://projector.tensorflow.org
    """
    vectors = _load(model, limit, no_header, quiet)
    if fmt in ("word2vec-bin", "word2vec-txt"):
        store.write_word2vec(output, vectors.words, vectors.vectors, binary=fmt == "word2vec-bin")
    elif fmt == "projector":
        store.write_projector(output, vectors.words, vectors.vectors)
    else:
        _export_model_dir(model, output, vectors)
    if not quiet:
        warn(f"wrote {len(vectors)} vectors of {vectors.vector_size} dimensions to {output} ({fmt})")


def _export_model_dir(source, output, vectors):
    """Write vectors.npy and vocab.tsv as a new model directory (replacing a model there, nothing else)."""
    modeldir.check_output_dir(output, inputs=[source])
    if len(vectors.index) != len(vectors):
        word = next(w for i, w in enumerate(vectors.words) if vectors.index[w] != i)
        raise DataError(f"{source} lists {word!r} twice; vocab.tsv can hold each word once only")
    counts = vectors.counts if vectors.counts is not None else np.zeros(len(vectors), np.int64)
    modeldir.save_model(output, {
        "vectors.npy": lambda path: store.save_npy(path, vectors.vectors),
        "vocab.tsv": lambda path: store.write_vocab(path, vectors.words, counts),
    })


# --- vectors ----------------------------------------------------------------------------

@click.command("vectors")
@click.argument("words", nargs=-1)
@model_options
@quiet_option
def vectors_command(words, model, limit, no_header, quiet):
    """Print `word v1 v2 …` for each WORD (stdin lines when no WORD is given).

    The lines are those of the C text format: values with 9 significant digits,
    which read back as the very same float32. Unknown words are reported on
    stderr and make the exit status 1.
    """
    table = _load(model, limit, no_header, quiet)
    tally = Tally()
    for word in queries(words):
        row = tally.run(word, table.__getitem__, word)
        if row is not None:
            # the text format's own formatter: the same digits as vectors.txt, in bulk
            click.echo(store.pack_text([word.encode() + b" "], row[np.newaxis], " "), nl=False)
    tally.exit()


# --- info -------------------------------------------------------------------------------

@click.command()
@model_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for reading; json: one JSON object.")
@loading_options[1]
@quiet_option
def info(model, fmt, no_header, quiet):
    """Describe the model: vocabulary size, dimensions, config, training metrics, file sizes.

    --model is a model directory or a file in the C formats (of which only the
    header is read, unless --no-header).
    """
    facts = _directory_facts(model, quiet) if os.path.isdir(model) else _file_facts(model, no_header, quiet)
    if fmt == "json":
        echo(json.dumps(facts, ensure_ascii=False))
    else:
        _write_lines(line + "\n" for line in _describe(facts))


def _directory_facts(folder, quiet=False):
    vectors = load_model(folder, quiet=quiet)
    facts = {"path": folder, "kind": "model directory", "words": len(vectors), "dimensions": vectors.vector_size}
    config = os.path.join(folder, "config.yaml")
    if os.path.isfile(config):
        facts["config"] = _read_data(config, safe_yaml.safe_load)
    metrics = os.path.join(folder, "metrics.json")
    if os.path.isfile(metrics):
        facts.update(_summarize_metrics(_read_data(metrics, json.load)))
    names = sorted(n for n in os.listdir(folder) if not n.startswith(".") and os.path.isfile(os.path.join(folder, n)))
    facts["files"] = {name: os.path.getsize(os.path.join(folder, name)) for name in names}
    return facts


def _read_data(path, parse):
    """A JSON object or YAML mapping read from `path`; a damaged file is a DataError naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = parse(handle)
    except (OSError, ValueError, ConfigError) as exc:  # UnicodeDecodeError and JSON errors are ValueErrors
        raise DataError(f"{path}: cannot read it ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping of keys to values")
    return data


def _summarize_metrics(metrics):
    """The training and evaluation figures of metrics.json worth a glance."""
    epochs = [e for e in metrics.get("epochs", []) if isinstance(e, dict)]
    training = {"epochs": len(epochs)}
    if epochs:
        seconds, words = sum(e.get("seconds", 0) for e in epochs), sum(e.get("words", 0) for e in epochs)
        training.update(last_loss=epochs[-1].get("loss"), seconds=round(seconds, 3),
                        words_per_sec=round(words / seconds) if seconds > 0 else None)
    training.update({key: metrics[key] for key in ("corpus_tokens", "threads") if key in metrics})
    evaluation = {}
    sections = metrics.get("analogy", {}).get("sections") or [{}]
    if "accuracy" in sections[-1]:
        total = sections[-1]
        evaluation["analogy"] = {"file": metrics["analogy"].get("file"), "accuracy": total["accuracy"],
                                 "questions": total.get("questions"), "skipped": total.get("skipped")}
    if metrics.get("similarity"):
        evaluation["similarity"] = metrics["similarity"]
    return {"training": training, **({"evaluation": evaluation} if evaluation else {})}


def _file_facts(path, no_header, quiet=False):
    """Words and dimensions from the header of a C-format file (the whole file without one)."""
    if no_header:
        vectors = _load(path, no_header=True, quiet=quiet)
        count, dim, kind = len(vectors), vectors.vector_size, "word2vec-txt (no header)"
    else:
        count, dim, kind = _read_header(path)
    size = os.path.getsize(path) if os.path.isfile(path) else None
    return {"path": path, "kind": kind, "words": count, "dimensions": dim,
            "files": {os.path.basename(path): size}}


def _read_header(path):
    from ..fileio import open_binary

    with open_binary(path) as handle:
        head = handle.read(1 << 16)
    first, _, rest = head.removeprefix(b"\xef\xbb\xbf").partition(b"\n")
    fields = first.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise DataError(f"{path}: first line should be '<count> <dimension>', got {first[:40]!r}; "
                        "a text file without one needs --no-header")
    count, dim = int(fields[0]), int(fields[1])
    record = rest.split(b"\n", 1)[0].split()
    if len(record) == dim + 1 and all(map(store.is_number, record[1:])):
        return count, dim, "word2vec-txt"
    _check_binary_size(path, len(first) + 1, count, dim)
    return count, dim, "word2vec-bin"


def _check_binary_size(path, header_bytes, count, dim):
    """A binary file holds at least `count` records of a 1-byte word, a space and d float32."""
    if path == "-" or path.lower().endswith((".gz", ".bz2", ".xz")) or not os.path.isfile(path):
        return
    least = header_bytes + count * (4 * dim + 2)
    size = os.path.getsize(path)
    if size < least:
        raise DataError(f"{path}: truncated: {size} bytes cannot hold the {count} records of {dim} "
                        f"dimensions its header announces (at least {least} bytes)")


def _describe(facts):
    """The facts as aligned `key  value` lines, one block per section."""
    yield f"{facts['path']}: {facts['kind']}"
    yield from _rows({"words": facts["words"], "dimensions": facts["dimensions"]})
    config = facts.get("config", {})
    if config:
        yield "config"
        yield from _rows({f"{section}.{key}": value for section, keys in config.items()
                          for key, value in (keys.items() if isinstance(keys, dict) else [("", keys)])},
                         text=lambda value: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    if "training" in facts:
        yield "training"
        yield from _rows({_LABELS.get(key, key): value for key, value in facts["training"].items()})
    evaluation = facts.get("evaluation", {})
    if evaluation:
        yield "evaluation"
        yield from _rows(_evaluation_rows(evaluation))
    yield "files"
    yield from _rows({name: _human_size(size) for name, size in facts["files"].items()})


def _evaluation_rows(evaluation):
    rows = {}
    if "analogy" in evaluation:
        a = evaluation["analogy"]
        rows["analogy"] = f"{a['accuracy']:.2%} of {a['questions']} questions ({a['skipped']} skipped), {a['file']}"
    for scores in evaluation.get("similarity", []):
        rows[f"similarity {os.path.basename(str(scores.get('file')))}"] = (
            f"spearman {scores.get('spearman', float('nan')):.4f}, pearson {scores.get('pearson', float('nan')):.4f}, "
            f"{scores.get('pairs')} pairs")
    return rows


_LABELS = {"last_loss": "last loss", "words_per_sec": "words/s", "corpus_tokens": "corpus tokens"}


def _rows(mapping, text=None):
    width = max((len(key) for key in mapping), default=0)
    for key, value in mapping.items():
        yield f"  {key:<{width}}  {(text or _text)(value)}"


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value, ensure_ascii=False)


def _human_size(size):
    if size is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024


# --- plots ------------------------------------------------------------------------------

@click.command()
@click.argument("words", nargs=-1)
@model_options
@click.option("--output", "-o", required=True, metavar="FILE", help="The image to write (.png, .svg or .pdf).")
@topn_option(5, "Nearest neighbours drawn around each word.", least=0)
@quiet_option
def plot(words, model, limit, no_header, output, topn, quiet):
    """Draw WORDS (stdin lines when none is given) and their neighbours on a 2-D PCA map.

    Needs matplotlib (pip install matplotlib). Unknown words are reported and left
    out; the exit status is then 1.
    """
    from ..query import plot as plot_mod

    plot_mod.check_available()
    plot_mod.image_format(output)
    table = _load(model, limit, no_header, quiet)
    tally = Tally()
    known = [word for word in queries(words) if tally.run(word, table.__getitem__, word) is not None]
    if not known:
        raise DataError("no word to draw: give words that are in the vocabulary")
    title = f"{len(dict.fromkeys(known))} words and their {topn} nearest neighbours ({os.path.basename(os.path.abspath(model))})"
    plot_mod.save(plot_mod.word_map(table, known, topn, title), output)
    if not quiet:
        warn(f"wrote {output}")
    tally.exit()


@click.command("plot-loss")
@model_option
@click.option("--output", "-o", required=True, metavar="FILE", help="The image to write (.png, .svg or .pdf).")
@quiet_option
def plot_loss(model, output, quiet):
    """Draw the mean loss of each training epoch, from the model's metrics.json (--model may name that file)."""
    from ..query import plot as plot_mod

    plot_mod.check_available()
    plot_mod.image_format(output)
    path = os.path.join(model, "metrics.json") if os.path.isdir(model) else model
    if not (os.path.isfile(path) and path.endswith(".json")):
        raise DataError(f"{model}: no metrics.json; plot-loss needs a model directory written by w2v train")
    epochs = _read_data(path, json.load).get("epochs")
    title = f"training loss ({os.path.basename(os.path.abspath(model))})"
    plot_mod.save(plot_mod.loss_figure(epochs if isinstance(epochs, list) else [], title), output)
    if not quiet:
        warn(f"wrote {output}")


COMMANDS = [vocab, export, vectors_command, info, plot, plot_loss]
