// The rows of `posit-gan bench speed` (issue 14's "Done when"): one per target, each a value of ours
// and its peer's value measured in the same run, aggregated over the rounds of the run. Pure.

export type SpeedWhat = 'cgan-train' | 'dcgan-train' | 'gemm' | 'quire';
export type SpeedUnit = 'it/s' | 'TFLOP/s';

/** Peer names as the issue spells them (the PyTorch peers on a GPU). */
export const PEERS = {
  ownFp32: 'posit-gan fp32',
  ownF32: 'posit-gan f32',
  pytorch: 'PyTorch fp32 eager',
  cublas: 'cuBLAS FP32',
} as const;

/** The PyTorch peers' names on the device they ran on: on the CPU (a rehearsal of the scripts) they
 *  are neither cuBLAS nor the GPU peer the issue means, and their names say so. */
export function pytorchPeers(device: 'cuda' | 'cpu' | null): { train: string; gemm: string } {
  if (device === 'cpu') return { train: 'PyTorch fp32 eager on the CPU (rehearsal)', gemm: 'PyTorch fp32 matmul on the CPU (rehearsal)' };
  return { train: PEERS.pytorch, gemm: PEERS.cublas };
}

/** One round's measurement of one row: our value and the peer's (null when the peer was not
 *  measured, with the reason in peerNote). */
export interface SpeedRound {
  what: SpeedWhat;
  variant: string;
  size: number;
  unit: SpeedUnit;
  peer: string;
  value: number;
  peerValue: number | null;
  peerNote?: string;
  /** Training rows: dispatches our iteration recorded (a machine-independent measure of host work). */
  dispatchesPerIteration?: number;
}

export interface SpeedRow {
  what: SpeedWhat;
  variant: string;
  size: number;
  /** Mean over the rounds of each round's rate (itself the mean over its timed window). */
  value: number;
  unit: SpeedUnit;
  peer: string;
  peerValue: number | null;
  /** value / peerValue, or null without a peer value. */
  ratio: number | null;
  /** Why the peer has no value (peer not measured), when it has none. */
  peerNote?: string;
  dispatchesPerIteration?: number;
  /** Every round, in order: the rates scatter between rounds on a GPU, so each is reported. */
  rounds: { value: number; peerValue: number | null; ratio: number | null }[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratioOf = (v: number, p: number | null) => (p === null || !(p > 0) ? null : v / p);

/** Rows from the rounds' measurements, in the order their keys first appear. A row has a peer value
 *  only if every round measured the peer (a mean over some rounds would not be side by side). */
export function aggregate(rounds: readonly SpeedRound[]): SpeedRow[] {
  const by = new Map<string, SpeedRound[]>();
  for (const r of rounds) {
    const key = JSON.stringify([r.what, r.variant, r.size, r.peer]);
    const list = by.get(key);
    if (list) list.push(r);
    else by.set(key, [r]);
  }
  return [...by.values()].map((list) => {
    const first = list[0]!;
    const value = mean(list.map((r) => r.value));
    const peers = list.map((r) => r.peerValue);
    const peerValue = peers.every((p): p is number => p !== null) ? mean(peers) : null;
    const row: SpeedRow = {
      what: first.what,
      variant: first.variant,
      size: first.size,
      value,
      unit: first.unit,
      peer: first.peer,
      peerValue,
      ratio: ratioOf(value, peerValue),
      rounds: list.map((r) => ({ value: r.value, peerValue: r.peerValue, ratio: ratioOf(r.value, r.peerValue) })),
    };
    const note = list.find((r) => r.peerNote)?.peerNote;
    if (peerValue === null && note) row.peerNote = note;
    const d = list.map((r) => r.dispatchesPerIteration).filter((x): x is number => x !== undefined);
    if (d.length) row.dispatchesPerIteration = mean(d);
    return row;
  });
}

/** Rates with 2 decimals (it/s 1), or 3 significant digits below 1. */
function num(x: number | null, unit?: SpeedUnit): string {
  if (x === null) return '—';
  if (Math.abs(x) < 1) return x.toPrecision(3);
  return unit === 'TFLOP/s' ? x.toFixed(2) : x.toFixed(1);
}

/** A markdown table of the rows (each round's ratio in the last column). */
export function markdownTable(rows: readonly SpeedRow[]): string {
  const lines = [
    '| what | variant | size | value | unit | peer | peer value | ratio | ratio per round |',
    '|---|---|---:|---:|---|---|---:|---:|---|',
  ];
  for (const r of rows) {
    const perRound = r.rounds.map((x) => (x.ratio === null ? '—' : x.ratio.toFixed(2))).join(', ');
    const peerValue = r.peerValue === null ? `— (${r.peerNote ?? 'not measured'})` : num(r.peerValue, r.unit);
    lines.push(`| ${r.what} | ${r.variant} | ${r.size} | ${num(r.value, r.unit)} | ${r.unit} | ${r.peer} | ${peerValue} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`} | ${perRound} |`);
  }
  return lines.join('\n');
}
