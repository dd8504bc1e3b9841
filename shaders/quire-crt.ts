// The residue number system of the sliced quire (shaders/quire-sliced.ts): the moduli, how many of
// them a product needs, and the constant tables the GPU kernels read (2^e mod m, Garner's
// constants, the products of the moduli as multi-word integers). Pure: no GPU objects.
//
// Moduli: the pairwise coprime integers at most 256 taken greedily from 256 down (256, 255, 253,
// 251, 247, 241, ...). Every one is at most 2^8, so a residue in the symmetric range
// [-floor(m/2), ceil(m/2) - 1] fits an i8, and a product of two residues is at most 2^14 in
// magnitude: a sum of up to 2^16 of them (one K chunk) is exact in an i32 (|sum| <= 2^30).
// With n moduli of product M_n, an integer C with |C| < M_n / 2 is the one number in
// (-M_n/2, M_n/2] with those residues (Chinese remainder theorem); Garner's algorithm gives its
// mixed-radix digits v_l (0 <= v_l < m_l, C mod M_n = v_0 + v_1 m_0 + v_2 m_0 m_1 + ...) with
// small-integer arithmetic only:
//   v_l = ((r_l - sum_{p<l} v_p (M_p mod m_l)) mod m_l) * (M_l^-1 mod m_l) mod m_l,  M_p = m_0..m_{p-1}.

/** How many moduli the tables hold: enough for 2 x 64-bit-wide operands and K up to 2^32. */
export const QUIRE_MODULI_COUNT = 28;
/** Exponents e of the 2^e mod m table (an operand row's integers span at most this many bits). */
export const QUIRE_POW_SPAN = 64;
/** u32 words of a multi-word integer in the tables (M_n and floor(M_n / 2) for every n). */
export const QUIRE_CRT_WORDS = Math.ceil((QUIRE_MODULI_COUNT * 8 + 1) / 32);

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The moduli, largest first (see the header). */
export const QUIRE_MODULI: readonly number[] = (() => {
  const out: number[] = [];
  for (let n = 256; out.length < QUIRE_MODULI_COUNT; n--) if (out.every((m) => gcd(m, n) === 1)) out.push(n);
  return out;
})();

/** M_n = the product of the first n moduli (BigInt). */
export function moduliProduct(n: number): bigint {
  let p = 1n;
  for (let i = 0; i < n; i++) p *= BigInt(QUIRE_MODULI[i]!);
  return p;
}

/** floor(log2 M_n) for n = 0 .. QUIRE_MODULI_COUNT: the first n moduli recover any integer of
 *  magnitude below 2^(cover[n] - 1). */
export const QUIRE_COVER: readonly number[] = Array.from({ length: QUIRE_MODULI_COUNT + 1 }, (_, n) => moduliProduct(n).toString(2).length - 1);

/** ceil(log2 max(k, 1)): products of k terms add at most this many bits. */
export function log2Ceil(k: number): number {
  return Math.ceil(Math.log2(Math.max(1, k)));
}

/**
 * Bits W that recovering C needs when every A row's integers are below 2^wa and every B column's
 * below 2^wb: |C| <= k (2^wa - 1)(2^wb - 1) < 2^(wa + wb + ceil(log2 k)), and C is recovered from
 * n moduli when M_n > 2 |C|, which floor(log2 M_n) >= W = wa + wb + ceil(log2 k) + 1 ensures.
 */
export function quireBitsNeeded(wa: number, wb: number, k: number): number {
  return wa + wb + log2Ceil(k) + 1;
}

/** The fewest moduli whose product covers W bits (at least 1), or null when the tables hold too few. */
export function moduliNeeded(bits: number): number | null {
  for (let n = 1; n <= QUIRE_MODULI_COUNT; n++) if (QUIRE_COVER[n]! >= bits) return n;
  return null;
}

function modInverse(a: number, m: number): number {
  // Extended Euclid on small integers.
  let [r0, r1, s0, s1] = [a % m, m, 1, 0];
  while (r1) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1) throw new Error(`${a} has no inverse mod ${m}`);
  return ((s0 % m) + m) % m;
}

/** Little-endian u32 words of a non-negative BigInt. */
function words(x: bigint, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((x >> BigInt(32 * i)) & 0xffffffffn));
}

/**
 * The tables buffer, u32 words at these offsets (R = QUIRE_MODULI_COUNT, E = QUIRE_POW_SPAN,
 * W = QUIRE_CRT_WORDS):
 *   MOD    [R]       the moduli
 *   POW    [R][E]    2^e mod m_l
 *   INV    [R]       (M_l mod m_l)^-1 mod m_l (1 for l = 0)
 *   GAR    [R][R]    M_p mod m_l for p < l (Garner's weights; 0 elsewhere)
 *   PROD   [R+1][W]  M_n as W words, n = 0 .. R
 *   HALF   [R+1][W]  floor(M_n / 2) as W words
 *   COVER  [R+1]     floor(log2 M_n)
 */
export const QUIRE_TABLE_OFFSETS = (() => {
  const R = QUIRE_MODULI_COUNT;
  const W = QUIRE_CRT_WORDS;
  const mod = 0;
  const pow = mod + R;
  const inv = pow + R * QUIRE_POW_SPAN;
  const gar = inv + R;
  const prod = gar + R * R;
  const half = prod + (R + 1) * W;
  const cover = half + (R + 1) * W;
  return { mod, pow, inv, gar, prod, half, cover, words: cover + R + 1 };
})();

/** The tables buffer's contents (layout: QUIRE_TABLE_OFFSETS). */
export function quireTables(): Uint32Array {
  const R = QUIRE_MODULI_COUNT;
  const W = QUIRE_CRT_WORDS;
  const o = QUIRE_TABLE_OFFSETS;
  const t = new Uint32Array(o.words);
  QUIRE_MODULI.forEach((m, l) => {
    t[o.mod + l] = m;
    let p = 1;
    for (let e = 0; e < QUIRE_POW_SPAN; e++) {
      t[o.pow + l * QUIRE_POW_SPAN + e] = p % m;
      p = (p * 2) % m;
    }
    t[o.inv + l] = l === 0 ? 1 : modInverse(Number(moduliProduct(l) % BigInt(m)), m);
    for (let q = 0; q < l; q++) t[o.gar + l * R + q] = Number(moduliProduct(q) % BigInt(m));
  });
  for (let n = 0; n <= R; n++) {
    const M = moduliProduct(n);
    t.set(words(M, W), o.prod + n * W);
    t.set(words(M / 2n, W), o.half + n * W);
    t[o.cover + n] = QUIRE_COVER[n]!;
  }
  return t;
}

/** The symmetric residue of x mod m (in [-floor(m/2), ceil(m/2) - 1], so that it fits an i8). */
export function symmetricResidue(x: bigint, m: number): number {
  const r = Number(((x % BigInt(m)) + BigInt(m)) % BigInt(m));
  return r >= Math.ceil(m / 2) ? r - m : r;
}

/**
 * C from its residues r_l = C mod m_l (any representatives) for the first n moduli, by the same
 * steps the combine kernel takes (Garner's digits, then C = sum v_l M_l, then the symmetric range):
 * the CPU mirror of the GPU's reconstruction, for tests.
 */
export function fromResidues(residues: readonly number[], n: number): bigint {
  const t = quireTables();
  const o = QUIRE_TABLE_OFFSETS;
  const R = QUIRE_MODULI_COUNT;
  const v: number[] = [];
  for (let l = 0; l < n; l++) {
    const m = QUIRE_MODULI[l]!;
    let acc = 0;
    for (let p = 0; p < l; p++) acc += v[p]! * t[o.gar + l * R + p]!;
    const r = (((residues[l]! % m) + m) % m + m - (acc % m)) % m;
    v.push((r * t[o.inv + l]!) % m);
  }
  let x = 0n;
  for (let l = n - 1; l >= 0; l--) x = x * BigInt(QUIRE_MODULI[l]!) + BigInt(v[l]!);
  const M = moduliProduct(n);
  return x > M / 2n ? x - M : x;
}
