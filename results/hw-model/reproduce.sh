#!/usr/bin/env bash
# Reproduces results/hw-model/: the op-count files (training: results/hw-model/record-training.ts;
# deployment: posit-gan deploy on a short training run's checkpoint), the energy reports at 65 nm and
# the sensitivity tables. Run from the repository root; about 10 minutes on a CPU (lavapipe).
set -euo pipefail
out=results/hw-model
ops=$out/opcounts
mkdir -p "$ops" runs/hw

# Training: 1 uncounted warm-up step (calibration for p8+), then 2 counted steps.
for r in fp16 fp8 p8+; do
  npx tsx $out/record-training.ts --model cgan --recipe $r --warmup 1 --steps 2 --data-limit 640 --out $ops/cgan-train-$r.opcounts.json
  npx tsx $out/record-training.ts --model dcgan --recipe $r --size 32 --ngf 64 --ndf 64 --warmup 1 --steps 2 --data-limit 640 --out $ops/dcgan-train-$r.opcounts.json
done

# Deployment: the generator of a 3-step p8+ run (op counts are shape arithmetic: the weights' values
# do not change them), 100 images in one forward pass per recipe.
bin/posit-gan train --model cgan --recipe p8+ --steps 3 --data-limit 640 --out runs/hw/cgan --progress quiet
bin/posit-gan train --model dcgan --recipe p8+ --size 32 --ngf 64 --ndf 64 --steps 3 --data-limit 640 --out runs/hw/dcgan --progress quiet
for m in cgan dcgan; do
  bin/posit-gan deploy --checkpoint runs/hw/$m --recipes fp16,fp8,p6+t --n 100 --out runs/hw/$m/deploy
  for r in fp16 fp8 p6+t; do cp runs/hw/$m/deploy/$r.opcounts.json $ops/$m-deploy-$r.opcounts.json; done
done

# Energy reports at 65 nm (energy.txt: every term and source; energy.svg: the breakdown chart). The
# full energy.json (several MB of terms) is not kept: summary.json holds the ratios and breakdowns.
energy() { # set reference extra-args...
  local set=$1 ref=$2; shift 2
  bin/posit-gan energy $ops/$set-{fp16,fp8,$ref}.opcounts.json --node 65 --normalize-to $set-$ref "$@"
}
for m in cgan dcgan; do
  ex=(); [ $m = dcgan ] && ex=(--exclude exp,log) # the BCE loss: no table prices exp or log
  energy $m-train p8+ "${ex[@]}" --out $out/$m-train > /dev/null
  energy $m-train p8+ "${ex[@]}" --sweep-kappa 1.0,1.3,1.6 --out $out/$m-train-kappa > /dev/null
  energy $m-train p8+ "${ex[@]}" --sweep-dram LPDDR4,DDR3,HBM2,HBM3 --out $out/$m-train-dram > /dev/null
  energy $m-deploy p6+t --out $out/$m-deploy > /dev/null
  energy $m-deploy p6+t --sweep-kappa 1.0,1.3,1.6 --out $out/$m-deploy-kappa > /dev/null
  energy $m-deploy p6+t --sweep-dram LPDDR4,DDR3,HBM2,HBM3 --out $out/$m-deploy-dram > /dev/null
done
rm -f $out/*/energy.json

# Every set x every sensitivity variant: summary.md, summary.json.
npx tsx $out/sensitivity.ts
