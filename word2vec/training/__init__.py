"""Training: the numpy reference model and its gradient checks, the compiled kernels, the training loop, checkpoints.

Modules: `model` (the numpy reference of every loss, words and subwords), `pairs` (the
plain-Python window reference), `gradcheck` (finite differences), `kernel_ops` (what every
kernel shares: RNG, sigmoid tables, output layers), `kernels` and `kernels_subword` (numba
sentence loops), `subword_model` (fastText's input rows), `jobs` (an epoch's kernel calls and
their order), `loop` (read, train on threads, save), `reporting` (log lines and progress), `checkpoint` (resumable state), `continuation`
(`--init`: training a saved model on more text), `interrupts` (SIGINT/SIGTERM).
Nothing is imported here: the kernels load numba, which only training needs.
"""
