import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Three projects, so a change can be checked at the speed of what it touches:
//   pure     formats, data, statistics, files, the hardware model: no GPU   (npx vitest run --project pure)
//   gpu      kernels, training, the CLI: a WebGPU adapter (lavapipe on CI)   (--project gpu)
//   browser  the demo in headless Chromium (WebGPU on SwiftShader)          (--project browser)
// `npm test` runs all three. A test file is a GPU test when it opens an adapter (through the engine's
// test harness or openNodeGpu) or starts the CLI; every other file under test/ is pure, and the pure
// project makes loading dawn.node an error (test/pure-setup.ts), so a GPU test filed as pure fails
// loudly instead of passing here and costing GPU time somewhere else.
// Each GPU test file opens one device and keeps it for the file: forks keep dawn.node's native state
// per process.

const OPENS_GPU = /openTestRuntime|openNodeGpu|engine\/device\/node|\/harness\.ts'|bin\/posit-gan|'bin', 'posit-gan'/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const all = testFiles('test').filter((f) => !f.startsWith(join('test', 'browser')));
const gpu = all.filter((f) => OPENS_GPU.test(readFileSync(f, 'utf8')));
const pure = all.filter((f) => !gpu.includes(f));

const shared = { pool: 'forks' as const, testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { test: { ...shared, name: 'pure', include: pure, setupFiles: ['test/pure-setup.ts'] } },
      { test: { ...shared, name: 'gpu', include: gpu } },
      { test: { ...shared, name: 'browser', include: ['test/browser/**/*.test.ts'] } },
    ],
  },
});
