// Setup of the `pure` test project (vitest.config.ts): opening WebGPU there is an error, so a test
// that needs a GPU but was not recognised as a GPU test fails with this message instead of quietly
// opening an adapter.
import { vi } from 'vitest';

vi.mock('webgpu', () => {
  const refuse = () => {
    throw new Error(
      "a test in the 'pure' project opened WebGPU (dawn.node): it is a GPU test. vitest.config.ts files a test as GPU when " +
        'it opens an adapter through test/engine/harness.ts or openNodeGpu, or starts bin/posit-gan: make it do so visibly.',
    );
  };
  return { create: refuse, globals: {} };
});
