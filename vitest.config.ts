import { defineConfig } from 'vitest/config';

// Tests run on whatever WebGPU adapter the machine has (lavapipe on CI). Each test file that needs a
// GPU opens one device and keeps it for the file: forks keep dawn.node's native state per process.
// test/browser/ drives the demo in headless Chromium (WebGPU on SwiftShader); it runs with the rest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
