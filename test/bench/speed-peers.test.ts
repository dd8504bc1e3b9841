// The PyTorch peers of `bench speed` when they cannot run: a python that is missing, or one without
// torch (CI has no torch), must give a reason that names the problem and the fix, and the rows keep
// the peer name the run asked for (test/fixtures/python-without-torch.ts makes a python without torch).

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPeer } from '../../gan/bench/speed-peers.ts';
import { PEERS, pytorchPeers } from '../../gan/bench/speed-rows.ts';
import { pythonWithoutTorch } from '../fixtures/python-without-torch.ts';

describe('bench speed peers that cannot run', () => {
  it('a python that is not there: says so, and how to name another', async () => {
    const python = join(tmpdir(), 'posit-gan-no-such-dir', 'python3');
    const peer = await findPeer(python, 'cpu');
    expect(peer).toMatchObject({ available: false, python, device: 'cpu' });
    if (peer.available) throw new Error('unreachable');
    expect(peer.reason).toContain(`${python}, was not found`);
    expect(peer.reason).toContain('--python');
  });

  it('a python without torch: could not import torch, with the fix', async () => {
    const python = pythonWithoutTorch();
    for (const requested of ['cpu', 'auto', 'cuda'] as const) {
      const peer = await findPeer(python, requested);
      expect(peer).toMatchObject({ available: false, python, device: requested === 'cpu' ? 'cpu' : null });
      if (peer.available) throw new Error('unreachable');
      expect(peer.reason).toMatch(/could not import torch \(.+\); install PyTorch for it, or name a python that has it with --python/);
    }
  });

  it('--peer-device none measures no peer and says so', async () => {
    const peer = await findPeer('python3', 'none');
    expect(peer).toEqual({ available: false, python: 'python3', device: null, reason: 'peers not measured (--peer-device none)' });
  });

  it('peer names: the GPU peers of the issue, or a CPU rehearsal that says so', () => {
    expect(pytorchPeers(null)).toEqual({ train: PEERS.pytorch, gemm: PEERS.cublas });
    expect(pytorchPeers('cuda')).toEqual({ train: PEERS.pytorch, gemm: PEERS.cublas });
    expect(pytorchPeers('cpu').gemm).toMatch(/on the CPU \(rehearsal\)/);
  });
});
