import { openNodeGpu } from '../../../engine/device/node.ts';
import { COMPUTE_LIMITS, SUBGROUP_MATRIX_FEATURE, USEFUL_FEATURES } from '../../../engine/device/gpu.ts';
import { describeConfig } from '../../../engine/device/subgroup-matrix.ts';
import type { Command } from '../command.ts';
import { GPU_OPTIONS, GPU_OPTIONS_HELP, gpuOptionsFrom } from '../gpu-options.ts';

const info: Command = {
  name: 'info',
  summary: 'show the WebGPU adapter, its features and compute limits',
  help: `Usage: posit-gan info [--json] [device options]

Shows the adapter posit-gan would use (vendor, architecture, description, hardware or software), the
optional features it uses (timestamp-query, subgroups, shader-f16, subgroup matrices) and the limits
that matter for compute. With --subgroup-matrix, also the subgroup matrix configurations and what the
probe found for the 8-bit one the tensor-core quire uses (the form of Dawn's load / store builtins).

  --json    print one JSON object instead of the table

${GPU_OPTIONS_HELP}`,
  options: { ...GPU_OPTIONS, json: { type: 'boolean' } },
  async run(values) {
    const gpu = await openNodeGpu(gpuOptionsFrom(values));
    try {
      const features = [...USEFUL_FEATURES, SUBGROUP_MATRIX_FEATURE].map((f) => ({ feature: f, enabled: gpu.features.has(f) }));
      if (values.json) {
        process.stdout.write(JSON.stringify({ adapter: gpu.adapter, features, limits: gpu.limits, subgroupMatrix: gpu.subgroupMatrix }, null, 2) + '\n');
        return 0;
      }
      const a = gpu.adapter;
      const rows: [string, string][] = [
        ['adapter', a.description],
        ['vendor', a.vendor],
        ['architecture', a.architecture],
        ['device', a.device || '-'],
        ['kind', a.software ? 'software (CPU)' : 'hardware'],
        ['runtime', a.runtime],
      ];
      if (a.subgroupMinSize !== undefined) rows.push(['subgroup size', `${a.subgroupMinSize}..${a.subgroupMaxSize}`]);
      for (const f of features) rows.push([`feature ${f.feature}`, f.enabled ? 'yes' : 'no']);
      for (const c of a.subgroupMatrixConfigs ?? []) rows.push(['subgroup matrix config', describeConfig(c)]);
      const sm = gpu.subgroupMatrix;
      if (sm) {
        const cv = sm.int8?.conventions;
        rows.push(['tensor-core quire', sm.int8 && cv ? `${describeConfig(sm.int8.config)}; ${cv.dialect} form, offsets in ${cv.offsetUnit}s, strides in ${cv.strideUnit}s` : `unusable: ${sm.problem}`]);
      }
      for (const k of COMPUTE_LIMITS) rows.push([k, String(gpu.limits[k])]);
      const w = Math.max(...rows.map((r) => r[0].length));
      process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
export default info;
