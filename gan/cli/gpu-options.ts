// Device-selection options shared by every command that uses the GPU.

import type { GpuOptions } from '../../engine/device/gpu.ts';
import { oneOf, str, type OptionGroup, type Values } from './command.ts';

export const ADAPTER_CHOICES = ['auto', 'hardware', 'software'] as const;

export const GPU_OPTIONS: OptionGroup = {
  title: 'Device options:',
  options: [
    { name: 'adapter', type: 'string', choices: ADAPTER_CHOICES, help: 'adapter choice (default auto: hardware if present, else software with a notice on stderr)' },
    { name: 'adapter-name', type: 'string', value: 'TEXT', help: "pick the adapter whose name contains TEXT (Dawn's adapter= flag)" },
    { name: 'backend', type: 'string', value: 'NAME', help: "Dawn backend: vulkan, metal, d3d12, ... (default: Dawn's choice)" },
    { name: 'dawn-flag', type: 'string', multiple: true, value: 'FLAG', help: 'pass a flag to dawn.node, e.g. enable-dawn-features=disable_robustness (repeatable)' },
    {
      name: 'subgroup-matrix',
      type: 'boolean',
      help:
        'request chromium-experimental-subgroup-matrix (tensor cores; adds --dawn-flag enable-dawn-features=allow_unsafe_apis): exact-quire ' +
        'GEMMs of 8-bit operands then run on the i8 subgroup matrices; an adapter without them is an error, not a fallback',
    },
    // Read by bin/posit-gan before parsing (gan/cli/relay.ts); declared here so every GPU command accepts it.
    { name: 'verbose', type: 'boolean', help: "also show Dawn's own warnings on stderr (its two 'maxDynamic... artificially reduced' lines, hidden by default)" },
  ],
};

export function gpuOptionsFrom(values: Values): GpuOptions {
  const o: GpuOptions = { adapter: oneOf(values, 'adapter', ADAPTER_CHOICES, 'auto') };
  const name = str(values, 'adapter-name');
  if (name) o.adapterName = name;
  const backend = str(values, 'backend');
  if (backend) o.backend = backend;
  const flags = values['dawn-flag'];
  if (Array.isArray(flags)) o.dawnFlags = flags.map(String);
  if (values['subgroup-matrix'] === true) o.subgroupMatrix = true;
  return o;
}

/** The device options of `values` as command-line arguments again (for child processes). */
export function gpuArgsFrom(values: Values): string[] {
  const args: string[] = [];
  for (const k of ['adapter', 'adapter-name', 'backend'] as const) {
    const v = str(values, k);
    if (v !== undefined) args.push(`--${k}`, v);
  }
  const flags = values['dawn-flag'];
  if (Array.isArray(flags)) for (const f of flags) args.push('--dawn-flag', String(f));
  if (values['subgroup-matrix'] === true) args.push('--subgroup-matrix');
  if (values.verbose === true) args.push('--verbose');
  return args;
}
