// Opens a GPU device in Node.js through dawn.node (the `webgpu` npm package). Node-only: the browser
// path (browser.ts) never imports this file.

import { Gpu, openGpu, type GpuOptions } from './gpu.ts';

const NO_ADAPTER_HELP_NODE =
  'posit-gan needs a Vulkan driver that Dawn accepts. Without a GPU, install the software one:\n' +
  '  Debian 12: run scripts/setup-system.sh as root (mesa-vulkan-drivers from bookworm-backports; ' +
  "Debian 12's own Mesa 22 is too old)\n" +
  '  elsewhere: Mesa 24 or newer (package mesa-vulkan-drivers), or the GPU vendor driver with Vulkan.\n' +
  'Check with `vulkaninfo --summary` (package vulkan-tools).';

// dawn.node instances live for the whole process: collecting one while any of its devices is alive
// crashes the process at random (SIGSEGV, futex errors). The Gpu holds its own, and this set makes sure
// nothing — not even a Gpu that is dropped while its device lives on in a tensor — lets it go.
const instances = new Set<unknown>();

export async function openNodeGpu(options: GpuOptions = {}): Promise<Gpu> {
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    throw new Error(
      `Could not load dawn.node from the 'webgpu' package (${(e as Error).message}). Run \`npm install\` in the ` +
        'project root; on an unsupported platform, WebGPU in Node is not available.',
      { cause: e },
    );
  }
  const flags = [...(options.dawnFlags ?? [])];
  if (options.backend) flags.push(`backend=${options.backend}`);
  if (options.adapterName) flags.push(`adapter=${options.adapterName}`);
  if (options.subgroupMatrix && !flags.some((f) => f.includes('allow_unsafe_apis'))) {
    flags.push('enable-dawn-features=allow_unsafe_apis');
  }
  // Globals (GPUBufferUsage, GPUMapMode, error classes) are what browser code expects to find.
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in g)) g[k] = v;
  const instance = webgpu.create(flags);
  instances.add(instance);
  return openGpu(instance, instance, 'node (dawn.node)', options, NO_ADAPTER_HELP_NODE);
}
