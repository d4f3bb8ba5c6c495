"""Store: the file formats (the C tool's text and binary, vocab.tsv, .npy, projector) and the model directory.

Modules: `read_vectors` and `write_vectors` (the C tool's formats; the projector's TSV),
`tables` (vocab.tsv and .npy), `fasttext_bin` (fastText's .bin, version 12), `modeldir` (the model directory: ownership checks, the run
lock, staged saves swapped in atomically). Single-file atomic writes live one layer down, in
`word2vec.fileio`, because reading text uses that module too.
"""

from .read_vectors import is_number, read_word2vec
from .tables import MAX_COUNT, RowBlocks, load_npy, read_vocab, save_npy, write_vocab
from .write_vectors import pack_text, write_projector, write_word2vec

__all__ = ["read_word2vec", "is_number", "write_word2vec", "write_projector", "pack_text",
           "read_vocab", "write_vocab", "load_npy", "save_npy", "RowBlocks", "MAX_COUNT"]
