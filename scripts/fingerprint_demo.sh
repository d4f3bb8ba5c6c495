#!/usr/bin/env bash
# Print a fingerprint of what the demo makes: the model files (metrics.json without its
# timings) and the stdout of similar, analogy and eval. Two checkouts that print the same
# fingerprint behave the same on the demo (one thread, so the run is deterministic).
# Usage: scripts/fingerprint_demo.sh [CHECKOUT]    (default: this one; needs .venv from demo.sh or test.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
checkout="$(cd "${1:-$here}" && pwd)"
python="$here/.venv/bin/python"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
w2v() { (cd "$checkout" && PYTHONPATH="$checkout" "$python" -m word2vec "$@"); }

w2v train data/demo_corpus.txt --config configs/demo.yaml --set train.threads=1 --output "$out/m" --quiet
(cd "$out/m" && sha256sum config.yaml vectors.bin vectors.npy vectors.txt vocab.tsv)
"$python" - "$out/m/metrics.json" <<'PY'
import hashlib, json, sys
metrics = json.load(open(sys.argv[1]))
for epoch in metrics["epochs"]:
    epoch.pop("seconds"), epoch.pop("words_per_sec")
print(hashlib.sha256(json.dumps(metrics, sort_keys=True).encode()).hexdigest(), " metrics.json (no timings)")
PY
{
    w2v similar --model "$out/m" -k 5 paris france euro king dogs
    w2v analogy --model "$out/m" france paris germany
    w2v analogy --model "$out/m" man king woman
    w2v eval analogy data/demo_questions.txt --model "$out/m"
} | sha256sum | sed 's/-$/stdout of similar, analogy, eval/'
