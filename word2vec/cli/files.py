"""CLI commands over model files: export (convert), vectors (print rows), info (describe)."""

import json
import os

import click
import numpy as np

from .. import safe_yaml, store
from ..errors import DataError
from ..store import fasttext_bin, modeldir
from .common import (Tally, echo, load_model, note_subwords, loading_options, model_option, model_options, queries, quiet_option,
                     read_data, warn, write_lines)

EXPORT_FORMATS = ["word2vec-bin", "word2vec-txt", "npy", "projector", "fasttext-bin"]


# --- export -----------------------------------------------------------------------------

@click.command()
@model_options
@click.option("--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS), help="The format to write.")
@click.option("--output", "-o", required=True, metavar="PATH",
              help="The file (word2vec-bin, word2vec-txt, fasttext-bin) or folder (npy, projector) to write.")
@quiet_option
def export(model, limit, no_header, fmt, output, quiet):
    """Write the vectors of the model (--model: a model directory or a C-format file) in another format.

    \b
    word2vec-bin  the C tool's binary format (gensim, fastText, … read it)
    word2vec-txt  the C tool's text format, 9 significant digits (exact float32)
    npy           a model directory: vectors.npy and vocab.tsv (counts 0 if the model has none)
    projector     vectors.tsv and metadata.tsv for https://projector.tensorflow.org
    fasttext-bin  fastText's .bin (gensim's load_facebook_model reads it) of a model directory
                  that w2v trained, or of a fastText .bin; the whole model, so no --limit
    """
    if fmt == "fasttext-bin":
        _export_fasttext(model, limit, output, quiet)
        return
    vectors = load_model(model, limit, no_header, quiet)
    if fmt in ("word2vec-bin", "word2vec-txt"):
        store.write_word2vec(output, vectors.words, vectors.vectors, binary=fmt == "word2vec-bin")
    elif fmt == "projector":
        store.write_projector(output, vectors.words, vectors.vectors)
    else:
        _export_model_dir(model, output, vectors)
    if not quiet:
        warn(f"wrote {len(vectors)} vectors of {vectors.vector_size} dimensions to {output} ({fmt})")


def _export_fasttext(source, limit, output, quiet):
    """Write fastText's .bin of a trained model directory or of a fastText .bin (whole: words, n-grams, output)."""
    if limit is not None:
        raise DataError("fasttext-bin writes the whole model (its n-gram rows and output weights too); "
                        "leave out --limit")
    if os.path.isdir(source):
        model = fasttext_bin.from_model_dir(source)
    elif fasttext_bin.is_fasttext_bin(source):
        model = fasttext_bin.read(source)
    else:
        raise DataError(f"{source} is a file of word vectors only; fasttext-bin needs a model directory that "
                        "w2v trained (it holds the output weights and, with subwords, the n-gram rows) "
                        "or a fastText .bin")
    fasttext_bin.write(output, model)
    if not quiet:
        grams = f" and {model.buckets:,} n-gram buckets" if model.maxn > 0 else ""
        warn(f"wrote {len(model.words)} words{grams} of {model.input_matrix.shape[1]} dimensions to {output} "
             "(fasttext-bin)")


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
    table = load_model(model, limit, no_header, quiet)
    tally = Tally()
    for word in queries(words):
        row = tally.run(word, table.__getitem__, word)
        if row is not None:
            # the text format's own formatter: the same digits as vectors.txt, in bulk
            click.echo(store.pack_text([word.encode() + b" "], row[np.newaxis], " "), nl=False)
    note_subwords(table, quiet)
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
        write_lines(line + "\n" for line in _describe(facts))


def _directory_facts(folder, quiet=False):
    vectors = load_model(folder, quiet=quiet)
    facts = {"path": folder, "kind": "model directory", "words": len(vectors), "dimensions": vectors.vector_size,
             **_subword_facts(vectors)}
    config = os.path.join(folder, "config.yaml")
    if os.path.isfile(config):
        facts["config"] = read_data(config, safe_yaml.safe_load)
    metrics = os.path.join(folder, "metrics.json")
    if os.path.isfile(metrics):
        facts.update(_summarize_metrics(read_data(metrics, json.load)))
    names = sorted(n for n in os.listdir(folder) if not n.startswith(".") and os.path.isfile(os.path.join(folder, n)))
    facts["files"] = {name: os.path.getsize(os.path.join(folder, name)) for name in names}
    return facts


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


def _subword_facts(vectors):
    sub = vectors.subwords
    return {"subwords": {"minn": sub.minn, "maxn": sub.maxn, "buckets": sub.buckets}} if sub is not None else {}


def _file_facts(path, no_header, quiet=False):
    """Words and dimensions from the header of a C-format file (the whole file without one), or a fastText .bin."""
    from ..store import fasttext_bin

    if fasttext_bin.is_fasttext_bin(path):
        vectors = load_model(path, quiet=quiet)
        return {"path": path, "kind": "fasttext-bin", "words": len(vectors), "dimensions": vectors.vector_size,
                **_subword_facts(vectors), "files": {os.path.basename(path): os.path.getsize(path)}}
    if no_header:
        vectors = load_model(path, no_header=True, quiet=quiet)
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
    yield from _rows({"words": facts["words"], "dimensions": facts["dimensions"], **facts.get("subwords", {})})
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


COMMANDS = [export, vectors_command, info]
