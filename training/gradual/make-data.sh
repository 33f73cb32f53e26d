#!/bin/bash
# Training data for the learned gradual model, exactly as models/gradual/gradual-v1.onnx was trained:
#   training/gradual/make-data.sh FIRST_SEED LAST_SEED [WORK_DIR]
# Realistic-generator corpora (src/bench/realistic.ts), two clips per seed; odd seeds use photos only
# (--real ''), even seeds real shots cut out of ../shared/media/real as well (see README.md on leakage).
# Seeds 1001-1003 were rendered at the generator's default 512x288, later ones at 320x180 (half the
# rendering time; features are computed at 192x108 either way). Then dumps the model input and labels of
# every clip (benchmarks/learned-data.ts). Needs `npm run build` first. Never use seed 777 (held out) or the
# evaluation seeds 11 and 4242.
set -euo pipefail
first=${1:?first seed}
last=${2:?last seed}
work=${3:-/tmp/gradual-train}
cd "$(dirname "$0")/../.."
mkdir -p "$work/corpus" "$work/features"
for s in $(seq "$first" "$last"); do
  case $s in 11|777|4242) echo "seed $s is reserved for evaluation" >&2; exit 2;; esac
  d=$work/corpus/s$s
  if [ ! -f "$d/done" ]; then
    args=(--realistic --seed "$s" --clips 2 --out "$d")
    [ "$s" -gt 1003 ] && args+=(--size 320x180)
    [ $((s % 2)) -eq 1 ] && args+=(--real '')
    node dist/benchmarks/corpus.js "${args[@]}" > "$d.log"
    touch "$d/done"
  fi
  [ -f "$work/features/s$s/index.json" ] || node dist/benchmarks/learned-data.js --out "$work/features/s$s" --stats-dir "$work/stats" "$d" > /dev/null
done
