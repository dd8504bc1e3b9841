// Device-selection options shared by every command that uses the GPU.

import type { GpuOptions } from '../../engine/device/gpu.ts';
import { oneOf, str, type Options, type Values } from './command.ts';

export const GPU_OPTIONS: Options = {
  adapter: { type: 'string' },
  'adapter-name': { type: 'string' },
  backend: { type: 'string' },
  'dawn-flag': { type: 'string', multiple: true },
  'subgroup-matrix': { type: 'boolean' },
  // Read by bin/posit-gan before parsing (gan/cli/relay.ts); declared here so every GPU command accepts it.
  verbose: { type: 'boolean' },
};

export const GPU_OPTIONS_HELP = `Device options:
  --adapter auto|hardware|software  adapter choice (default auto: hardware if present, else software
                                    with a notice on stderr)
  --adapter-name TEXT               pick the adapter whose name contains TEXT (Dawn's adapter= flag)
  --backend NAME                    Dawn backend: vulkan, metal, d3d12, ... (default: Dawn's choice)
  --dawn-flag FLAG                  pass a flag to dawn.node, e.g. enable-dawn-features=disable_robustness
                                    (repeatable)
  --subgroup-matrix                 request chromium-experimental-subgroup-matrix (tensor cores; adds
                                    --dawn-flag enable-dawn-features=allow_unsafe_apis): exact-quire
                                    GEMMs of 8-bit operands then run on the i8 subgroup matrices;
                                    an adapter without them is an error, not a fallback
  --verbose                         also show Dawn's own warnings on stderr (its two
                                    'maxDynamic... artificially reduced' lines, hidden by default)`;

export function gpuOptionsFrom(values: Values): GpuOptions {
  const o: GpuOptions = { adapter: oneOf(values, 'adapter', ['auto', 'hardware', 'software'] as const, 'auto') };
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
