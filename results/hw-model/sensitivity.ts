// The comparison tables of results/hw-model/README.md: every op-count set (cgan / dcgan, training /
// deployment) through the hardware model at 65 nm, normalised to P8+ (training) or P6+T (deployment),
// at the model's default parameters and at each sensitivity variant below, one parameter moved at a
// time. It calls the same code as `posit-gan energy` (hw-model/sweep.ts) and writes
//   summary.json   every ratio, and per run the energy per step by part and the traffic by format
//   summary.md     the tables, beside the paper's numbers
//
//   npx tsx results/hw-model/sensitivity.ts

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpCountsFile, TensorRole } from '../../engine/record/schema.ts';
import { library } from '../../hw-model/default-tables.ts';
import { parseHwFormat } from '../../hw-model/formats.ts';
import { loadOpCounts } from '../../hw-model/load.ts';
import type { OpKind, ParamOverrides } from '../../hw-model/params.ts';
import { buildReport } from '../../hw-model/sweep.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface CountSet {
  name: string;
  /** Op-count files (results/hw-model/opcounts/<file>.opcounts.json): [label, file, the recipe's
   *  storage format for intermediate values (the 'fused rounding' variant)]. */
  runs: [string, string, string][];
  reference: string;
  /** The paper's ratios (docs/method.md section 7.3) for the non-reference runs. */
  paper: Record<string, { energy: number; time: number }>;
  /** Op kinds no table prices (README.md: the BCE loss's exp and log), left out and listed. */
  exclude: OpKind[];
}

const TRAIN_PAPER = { FP16: { energy: 3.15, time: 1.1 }, FP8: { energy: 1.2, time: 1.03 } };
const DEPLOY_PAPER = { FP16: { energy: 11, time: 1.5 }, FP8: { energy: 3, time: 1.35 } };
const train = (model: string, exclude: OpKind[]): CountSet => ({
  name: `${model}-train`,
  // Outputs of the non-matmul ops, errors and weight gradients: fp16 (fp16), fp16 (fp8), p16e2 (p8+).
  runs: [['FP16', `${model}-train-fp16`, 'fp16'], ['FP8', `${model}-train-fp8`, 'fp16'], ['P8+', `${model}-train-p8+`, 'p16e2']],
  reference: 'P8+',
  paper: TRAIN_PAPER,
  exclude,
});
const deploy = (model: string): CountSet => ({
  name: `${model}-deploy`,
  // Every activation: fp16, e4m3 (OCP), p6e1.
  runs: [['FP16', `${model}-deploy-fp16`, 'fp16'], ['FP8', `${model}-deploy-fp8`, 'e4m3'], ['P6+T', `${model}-deploy-p6+t`, 'p6e1']],
  reference: 'P6+T',
  paper: DEPLOY_PAPER,
  exclude: [],
});
const SETS: CountSet[] = [train('cgan', []), deploy('cgan'), train('dcgan', ['exp', 'log']), deploy('dcgan')];

const ALL_ROLES: TensorRole[] = ['weights', 'activations', 'errors', 'gradients', 'optimizer_state', 'inputs'];

/**
 * The 'fused rounding' what-if: the engine's elementwise ops, batch norm and backward GEMMs write
 * float32 results that a separate quantizer then rounds, so the op counts carry that float32 traffic
 * in every recipe. A datapath that rounds as it stores (as the forward GEMM epilogue already does)
 * would move the recipe's format instead: here every float32 activation, error and gradient record
 * moves `format` (weights, optimizer state and inputs keep what the recipe stores them in).
 */
function fusedRounding(c: OpCountsFile, format: string): OpCountsFile {
  const bits = parseHwFormat(format).bits;
  const moved = ['activations', 'errors', 'gradients'];
  const records = c.records.map((r) =>
    r.kind === 'memory' && r.format === 'fp32' && moved.includes(r.role) ? { ...r, format, bits: (r.bits / 32) * bits } : r,
  );
  return { ...c, records };
}

/** One parameter moved from the defaults (hw-model/README.md "Parameters") at a time. */
const VARIANTS: { name: string; overrides: ParamOverrides; fused?: boolean }[] = [
  { name: 'defaults (kappa 1.3, LPDDR4, 32 kB SRAM, recorded accumulators, 256 MACs, 25.6 GB/s, no overlap)', overrides: {} },
  { name: 'kappa 1.0', overrides: { kappa: 1.0 } },
  { name: 'kappa 1.6', overrides: { kappa: 1.6 } },
  { name: 'posit MACs accumulate in the quire (16n bits)', overrides: { positAccumulator: 'quire' } },
  { name: 'posit MACs accumulate in p16e2 (no float32 accumulator)', overrides: { positAccumulator: 'p16e2' } },
  { name: 'DRAM DDR3 (70 pJ/bit)', overrides: { memory: { dram: 'DDR3' } } },
  { name: 'DRAM HBM2 (6.25 pJ/bit)', overrides: { memory: { dram: 'HBM2' } } },
  { name: 'SRAM 8 kB', overrides: { memory: { sramKB: 8 } } },
  { name: 'SRAM 1 MB', overrides: { memory: { sramKB: 1024 } } },
  { name: 'no register-file reads (operands stay in the array)', overrides: { memory: { rfReadsPerMacOperand: 0 } } },
  { name: 'weights and optimizer state on chip', overrides: { memory: { onChipRoles: ['weights', 'optimizer_state'] } } },
  { name: 'every tensor on chip (no DRAM)', overrides: { memory: { onChipRoles: ALL_ROLES } } },
  { name: 'arithmetic only (memory traffic left out)', overrides: { exclude: ['memory'] } },
  { name: 'compute and memory time overlap', overrides: { overlap: 'full' } },
  { name: '4096 MAC units (memory-bound)', overrides: { macUnits: 4096 } },
  { name: 'fused rounding: intermediates stored in the recipe format', overrides: {}, fused: true },
  { name: 'fused rounding, weights and optimizer state on chip', overrides: { memory: { onChipRoles: ['weights', 'optimizer_state'] } }, fused: true },
  // The assumptions within this model most favourable to the 8- and 6-bit recipes, together: a bound on
  // how far the model goes towards the paper, not a claim about the paper's accelerator.
  { name: 'favourable bound: fused rounding, posit MACs into p16e2, kappa 1.0', overrides: { positAccumulator: 'p16e2', kappa: 1.0 }, fused: true },
];

const lib = library();
const fixed = (x: number) => `${x.toFixed(2)}x`;
const summary: Record<string, unknown> = {};
const md: string[] = [];

for (const set of SETS) {
  const inputs = set.runs.map(([, f]) => {
    const file = join(here, 'opcounts', `${f}.opcounts.json`);
    return { file, counts: loadOpCounts(file) };
  });
  const fusedInputs = inputs.map((i, k) => ({ ...i, counts: fusedRounding(i.counts, set.runs[k]![2]) }));
  const labels = set.runs.map(([l]) => l);
  const others = labels.filter((l) => l !== set.reference);
  const rows = VARIANTS.map((v) => {
    const exclude = [...set.exclude, ...(v.overrides.exclude ?? [])];
    const report = buildReport(v.fused ? fusedInputs : inputs, lib, { node: '65', ...v.overrides, exclude }, {}, inputs[labels.indexOf(set.reference)]!.file);
    const point = report.points[0]!;
    const ratios = Object.fromEntries(
      point.comparison.rows.map((r, i) => [labels[i], { energy: r.energyRatio, time: r.timeRatio, compute: r.computeEnergyRatio, memory: r.memoryEnergyRatio }]),
    );
    return { variant: v.name, ratios, estimates: point.estimates };
  });
  const base = rows[0]!;
  const runs = Object.fromEntries(
    base.estimates.map((e, i) => {
      const perStep = (m: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(m).map(([k, x]) => [k, x / e.run.steps]));
      const bits: Record<string, number> = {};
      for (const r of inputs[i]!.counts.records) if (r.kind === 'memory') bits[r.format] = (bits[r.format] ?? 0) + r.bits / e.run.steps;
      return [
        labels[i],
        {
          file: `opcounts/${set.runs[i]![1]}.opcounts.json`,
          recipe: e.run.recipe,
          batch: e.run.batch,
          macsPerStep: e.time.macs / e.run.steps,
          energyPerStep_pJ: e.energy.perStep_pJ,
          energyPerStepByPart_pJ: perStep(e.energy.byPart),
          energyPerStepByPhase_pJ: perStep(e.energy.byPhase),
          timePerStep_s: e.time.perStep_s,
          computePerStep_s: e.time.compute_s / e.run.steps,
          memoryPerStep_s: e.time.memory_s / e.run.steps,
          recordedBitsPerStepByFormat: bits,
          excluded: e.excluded,
        },
      ];
    }),
  );
  summary[set.name] = {
    reference: set.reference,
    paper: set.paper,
    excludedKinds: set.exclude,
    variants: rows.map((r) => ({ variant: r.variant, ratios: r.ratios })),
    runs,
  };
  md.push(`### ${set.name} (per ${set.name.endsWith('train') ? 'training step' : 'forward pass'}, relative to ${set.reference})`, '');
  md.push(`| variant | ${others.map((l) => `${l} energy | ${l} time`).join(' | ')} |`);
  md.push(`|---|${others.map(() => '---:|---:').join('|')}|`);
  md.push(`| **paper** | ${others.map((l) => `**${fixed(set.paper[l]!.energy)}** | **${fixed(set.paper[l]!.time)}**`).join(' | ')} |`);
  for (const r of rows) md.push(`| ${r.variant} | ${others.map((l) => `${fixed(r.ratios[l]!.energy)} | ${fixed(r.ratios[l]!.time)}`).join(' | ')} |`);
  md.push('');
}

writeFileSync(join(here, 'summary.json'), JSON.stringify({ node: '65', tables: 'shipped (hw-model/tables)', sets: summary }, null, 1) + '\n');
writeFileSync(join(here, 'summary.md'), md.join('\n'));
process.stdout.write(md.join('\n') + '\n');
