"""Store: the file formats (the C tool's text and binary, vocab.tsv, .npy, projector) and the model directory.

Modules: `formats` (reading and writing vectors and vocabularies), `modeldir` (the model
directory: ownership checks, the run lock, staged saves swapped in atomically).
Atomic single-file writes live one layer down, in `word2vec.fileio`, since text and store both use them.
"""
