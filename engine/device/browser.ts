// Opens a GPU device in a browser page through navigator.gpu.

import { NoAdapterError } from './errors.ts';
import { Gpu, openGpu, type GpuOptions } from './gpu.ts';

const NO_ADAPTER_HELP_BROWSER =
  'This browser exposes no WebGPU adapter. Use a recent Chrome, Edge or Safari (WebGPU is on by default), ' +
  'or Firefox with dom.webgpu.enabled; on Linux, Chrome may need chrome://flags/#enable-unsafe-webgpu and ' +
  'a Vulkan driver.';

export function browserHasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
}

export async function openBrowserGpu(options: GpuOptions = {}): Promise<Gpu> {
  if (!browserHasWebGpu()) throw new NoAdapterError(`WebGPU is not available in this browser.\n${NO_ADAPTER_HELP_BROWSER}`);
  return openGpu(navigator.gpu, navigator.gpu, 'browser', options, NO_ADAPTER_HELP_BROWSER);
}
