// The PyTorch peers of `posit-gan bench speed`: the scripts in scripts/peers/ run as child processes
// of a python3 that has torch, on the device chosen by --peer-device (cuda by default: a peer of a GPU
// run is a GPU; cpu rehearses the scripts anywhere). When python3, torch or the device is missing the
// peer is unavailable and every row that needs it says why; nothing is estimated in its place.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPTS = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'scripts', 'peers');

export type PeerDevice = 'cuda' | 'cpu' | 'none' | 'auto';

/** An unavailable peer keeps the device it was asked for (`device`: cpu when --peer-device cpu asked
 *  for a rehearsal, else null), so its rows still name the peer they would have had. */
export type Peer =
  | { available: true; python: string; device: 'cuda' | 'cpu'; torch: string; name: string }
  | { available: false; python: string; device: 'cpu' | null; reason: string };

/** `missing`: the program itself could not be started (not found, not executable). */
function run(file: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string; missing?: string }> {
  return new Promise((done) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const errno = err ? (err as { code?: unknown }).code : undefined;
      const code = err ? (typeof errno === 'number' ? errno : -1) : 0;
      const missing = errno === 'ENOENT' ? 'not found' : errno === 'EACCES' ? 'not executable' : undefined;
      done({ code, stdout, stderr: err && !stderr ? err.message : stderr, ...(missing ? { missing } : {}) });
    });
  });
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';

const PROBE = [
  'import json, torch',
  'cuda = torch.cuda.is_available()',
  "print(json.dumps({'torch': torch.__version__, 'cuda': cuda, 'name': torch.cuda.get_device_name(0) if cuda else None}))",
].join('\n');

/** Whether the peers can run, on which device (`requested`: --peer-device). */
export async function findPeer(python: string, requested: PeerDevice): Promise<Peer> {
  const device = requested === 'cpu' ? 'cpu' : null;
  if (requested === 'none') return { available: false, python, device, reason: 'peers not measured (--peer-device none)' };
  const r = await run(python, ['-c', PROBE], 120_000);
  if (r.missing) {
    return { available: false, python, device, reason: `no peers: the python for them, ${python}, was ${r.missing}; install python3 with PyTorch, or name one with --python` };
  }
  if (r.code !== 0) {
    return { available: false, python, device, reason: `no peers: ${python} could not import torch (${lastLine(r.stderr) || `exit ${r.code}`}); install PyTorch for it, or name a python that has it with --python` };
  }
  let probe: { torch: string; cuda: boolean; name: string | null };
  try {
    probe = JSON.parse(lastLine(r.stdout));
  } catch {
    return { available: false, python, device, reason: `no peers: ${python}'s torch probe printed ${JSON.stringify(lastLine(r.stdout))}, not its versions` };
  }
  if (requested === 'cpu') return { available: true, python, device: 'cpu', torch: probe.torch, name: 'cpu' };
  if (!probe.cuda) {
    return { available: false, python, device, reason: `no peers: PyTorch ${probe.torch} sees no CUDA device, and a peer of this run must run on one (--peer-device cpu rehearses the scripts on the CPU)` };
  }
  return { available: true, python, device: 'cuda', torch: probe.torch, name: probe.name ?? 'cuda' };
}

export interface PeerResult {
  device: string;
  torch: string;
  command: string;
  results: Record<string, unknown>[];
  [k: string]: unknown;
}

/** Runs scripts/peers/<script> with its output file and `args`; its parsed result, or the reason it
 *  gave none. */
export async function runPeer(
  peer: Peer & { available: true },
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ ok: true; result: PeerResult } | { ok: false; error: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'posit-gan-peer-'));
  const out = join(dir, 'peer.json');
  try {
    const r = await run(peer.python, [join(SCRIPTS, script), out, ...args, '--device', peer.device], timeoutMs);
    if (r.code !== 0) return { ok: false, error: `${script} failed (exit ${r.code}): ${lastLine(r.stderr) || lastLine(r.stdout)}` };
    return { ok: true, result: JSON.parse(readFileSync(out, 'utf8')) as PeerResult };
  } catch (e) {
    return { ok: false, error: `${script}: ${(e as Error).message}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
