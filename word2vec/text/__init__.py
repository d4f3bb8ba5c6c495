"""Text: reading and tokenizing corpora, the vocabulary and its tables (subsampling, noise, Huffman), phrases.

Modules: `corpus` (one streaming pass: tokens → int32 ids), `vocab` (counts, subsampling,
the alias-table noise sampler, the Huffman tree), `phrases` (word2phrase), `subwords`
(fastText's character n-grams and their hash).
"""

from .corpus import scan
from .vocab import Vocab

__all__ = ["scan", "Vocab"]
