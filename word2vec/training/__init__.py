"""Training: the numpy reference model and its gradient checks, the compiled kernels, the training loop, checkpoints.

Modules: `model` (the numpy reference of every loss), `pairs` (the plain-Python window
reference), `gradcheck` (finite differences), `kernels` (numba), `loop` (read, train on
threads, save), `checkpoint` (resumable state), `interrupts` (SIGINT/SIGTERM).
Nothing is imported here: `kernels` loads numba, which only training needs.
"""
