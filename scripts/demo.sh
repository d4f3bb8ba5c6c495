#!/usr/bin/env bash
# Set up .venv, (re)generate the bundled corpus, train on it and show some neighbours.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
setup_venv
W2V=.venv/bin/w2v

.venv/bin/python scripts/make_demo_corpus.py
$W2V train data/demo_corpus.txt --config configs/demo.yaml --output demo-model

echo "== nearest neighbours" >&2
$W2V similar --model demo-model -k 5 paris france euro king dogs
echo "== analogies (A is to B as C is to ?)" >&2
$W2V analogy --model demo-model france paris germany
$W2V analogy --model demo-model man king woman
