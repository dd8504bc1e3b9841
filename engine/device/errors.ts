// Errors the device layer raises. Each one names the problem and, where there is one, the fix.

/** No WebGPU adapter could be found (or the requested one does not exist). */
export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
}

/** The GPU device was lost: driver reset, destroy(), out of memory at the driver level. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(readonly reason: string, message: string) {
    super(`GPU device lost (reason: ${reason}): ${message || 'no message from the driver'}`);
  }
}

/** A WGSL module failed to compile. The message carries the source with line numbers. */
export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
  constructor(readonly label: string, readonly diagnostics: string, readonly source: string) {
    super(`WGSL compilation failed for '${label}':\n${diagnostics}\n--- source ---\n${numberLines(source)}`);
  }
}

/** A validation or out-of-memory error captured by an error scope around a GPU operation. */
export class GpuOperationError extends Error {
  override name = 'GpuOperationError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    readonly op: string,
    readonly gpuMessage: string,
    readonly wgsl?: string,
  ) {
    super(
      `GPU ${kind} error in ${op}: ${gpuMessage}` +
        (kind === 'out-of-memory'
          ? '\nThe device ran out of memory: reduce the batch size or model size, or free tensors you no longer need.'
          : '') +
        (wgsl ? `\n--- WGSL of ${op} ---\n${numberLines(wgsl)}` : ''),
    );
  }
}

/** A GPU promise did not settle within its deadline (a hung driver, or a lost device that never said so). */
export class GpuTimeoutError extends Error {
  override name = 'GpuTimeoutError';
}

export function numberLines(source: string): string {
  const lines = source.split('\n');
  const width = String(lines.length).length;
  return lines.map((l, i) => `${String(i + 1).padStart(width, ' ')} | ${l}`).join('\n');
}
