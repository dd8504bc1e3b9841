import { GpuTimeoutError } from './errors.ts';

// Node exits with status 0, silently, when the only thing left on its event loop is a promise that
// never settles (a GPU map or a queue fence after a driver hang). Every wait on the GPU goes through
// `guard`, which keeps a timer on the loop for as long as the wait lasts and turns a wait past its
// deadline into an error that names what was being waited for.

const DEFAULT_TIMEOUT_MS = (() => {
  const env = typeof process !== 'undefined' ? process.env?.POSIT_GAN_GPU_TIMEOUT_S : undefined;
  const s = env === undefined ? NaN : Number(env);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 600_000;
})();

export function guard<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new GpuTimeoutError(
          `GPU operation '${what}' did not complete within ${(timeoutMs / 1000).toFixed(0)} s ` +
            '(driver hang or device loss). Set POSIT_GAN_GPU_TIMEOUT_S to wait longer.',
        ),
      );
    }, timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
