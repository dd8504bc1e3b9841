#!/usr/bin/env bash
# Everything a session with the lent GPU machine should check and measure, in one run that fits its
# device budget (README "On a GPU"). On the GPU host, from the repository root, after
# `source .gpu/env.sh`:
#   scripts/gpu-session.sh            # results under $OUT (default: gpu-out/)
# Stages, each under its own time limit so one slow stage cannot starve the rest:
#   1. adapter info                                    info.txt
#   2. the test suite (the browser test needs chromium: left out here)   tests.txt
#   3. bench quantize, matmul, conv, train             bench/*.json and *.txt
#   4. experiment table1 --model cgan for the steps that fit the time left   results/, runs/ logs
# A stage that fails or times out is recorded in summary.txt and the next one still runs.
# GPU_SESSION_PART=checks runs stages 1-3 only, =table stage 4 only (for two device calls, each under
# the 600 s a call may run; table then reads bench/train.json from $OUT if present), default both.
# GPU_SESSION_SECONDS (default 540) is this call's budget; Table I gets what the others leave.
# Locally, GPU_SESSION_SMOKE=1 runs every stage at a toy size on the software adapter (a rehearsal).
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out/bench"
node=${NODE:-node}
cli=(${node} bin/posit-gan)
smoke=${GPU_SESSION_SMOKE:-0}
budget=${GPU_SESSION_SECONDS:-540} # one command may run 600 s on the device machine
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }

stage() { # name limit_seconds command...
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  if [ "$limit" -le 5 ]; then echo "$name: skipped (no time left)" >> "$out/summary.txt"; return; fi
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.txt" 2>&1
  local rc=$?
  echo "$name: exit $rc in $(( $(date +%s) - t0 )) s (limit $limit s)" >> "$out/summary.txt"
}

part=${GPU_SESSION_PART:-all}
touch "$out/summary.txt"
if [ "$part" != table ]; then
stage info 60 "${cli[@]}" info

if [ "$smoke" = 1 ]; then
  stage tests 120 "$node" node_modules/vitest/vitest.mjs run test/formats/descriptor.test.ts
  stage bench-quantize 120 "${cli[@]}" bench quantize --sizes 65536 --formats p8e2 --reps 3 --out "$out/bench/quantize.json"
  stage bench-matmul 120 "${cli[@]}" bench matmul --sizes 64 --formats p8e2 --reps 2 --out "$out/bench/matmul.json"
  stage bench-conv 120 "${cli[@]}" bench conv --sizes 1 --formats p8e2 --reps 2 --out "$out/bench/conv.json"
  stage bench-train 180 "${cli[@]}" bench train --model cgan --recipes fp32,p8+ --batches 64 --reps 3 --warmup 1 --out "$out/bench/train.json"
else
  stage tests 240 "$node" node_modules/vitest/vitest.mjs run --exclude 'test/browser/**'
  stage bench-quantize 60 "${cli[@]}" bench quantize --out "$out/bench/quantize.json"
  stage bench-matmul 90 "${cli[@]}" bench matmul --out "$out/bench/matmul.json"
  stage bench-conv 60 "${cli[@]}" bench conv --out "$out/bench/conv.json"
  stage bench-train 90 "${cli[@]}" bench train --model cgan --out "$out/bench/train.json"
fi
fi
[ "$part" = checks ] && { cat "$out/summary.txt"; exit 0; }

# Table I steps: what fits 70% of the time left at the slowest recipe's measured batch-64 rate (five
# recipes, two minutes kept for compiling and the FID evaluations), unless given.
table_steps=${GPU_SESSION_TABLE_STEPS:-$("$node" -e '
  const fs = require("fs");
  const [file, left, smoke] = process.argv.slice(1);
  let rate = 0;
  try { rate = Math.min(...JSON.parse(fs.readFileSync(file, "utf8")).results.filter((r) => r.batch === 64).map((r) => r.iterationsPerSecond)); } catch {}
  const steps = Math.floor((rate * Math.max(0, Number(left) - 120) * 0.7) / 5);
  console.log(smoke === "1" ? 4 : Math.min(20000, Math.max(100, Number.isFinite(steps) ? steps : 100)));
' "$out/bench/train.json" "$(left)" "$smoke")}
echo "table1: $table_steps steps per recipe" >> "$out/summary.txt"

# Table I with whatever time is left (5 recipes, then FID on 10k samples each).
name=$([ "$smoke" = 1 ] && echo cgan-gpu-smoke || echo cgan-gpu)
stage table1 "$(left)" "${cli[@]}" experiment table1 --model cgan --steps "$table_steps" --progress jsonl \
  --eval-n "$([ "$smoke" = 1 ] && echo 200 || echo 10000)" --name "$name"
mkdir -p "$out/results"
cp -r "results/$name" "$out/results/" 2>/dev/null
# A rehearsal leaves nothing in the checkout.
[ "$smoke" = 1 ] && rm -rf "results/$name" "runs/$name-table1"
cat "$out/summary.txt"
