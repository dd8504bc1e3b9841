// Stroke thickness of a drawn shape (a digit), measured as ink area over skeleton length: for a stroke of
// width w and length L the ink covers about w * L pixels and its centre line (skeleton) is L long, so
// the ratio is w, whatever the shape of the stroke. Browser-safe.
//
// Ink: the pixels at or above INK_THRESHOLD (half intensity) of the 8-bit image.
// Skeleton: Zhang & Suen's parallel thinning ("A fast parallel algorithm for thinning digital
// patterns", CACM 27(3), 1984), which peels the ink's boundary in alternating south-east / north-west
// sub-iterations until a one-pixel-wide centre line is left, followed by one sequential pass removing
// the redundant corner pixels of the staircases it leaves on diagonal lines. (Zhang-Suen's known flaw:
// an isolated 2 x 2 block vanishes entirely; such a speck then adds area without length.)
// Length: the skeleton as a chain, each pair of 8-adjacent skeleton pixels contributing the distance
// between their centres (1 side by side, sqrt 2 diagonally; a diagonal pair already joined through a
// shared side neighbour adds nothing), plus half a pixel at every free end (a line of k pixels thus
// measures k). Counting skeleton pixels instead would make diagonal strokes sqrt 2 times too thick.
// Thinning also shortens a stroke by about half its width at each free end (a w x L bar thins to a
// line L - w long), which would make short, thick strokes (a "1") look thicker than long ones of the
// same width; the length is corrected for that (measureMask). The chain length still overestimates a
// curve's length by up to ~8% depending on its direction (Freeman's chain-code bias), so measured widths
// of curved strokes carry that much spread; straight bars measure exactly, diagonal bands within a few
// percent (test/data/stroke.test.ts).

/** The 8-bit level at and above which a pixel counts as ink. */
export const INK_THRESHOLD = 128;

export interface StrokeMeasure {
  /** Ink pixels. */
  area: number;
  /** The stroke's length in pixels: the skeleton's chain length with the ends restored (see above). */
  length: number;
  /** area / length: the mean stroke width in pixels (0 for no ink). */
  thickness: number;
}

/** The ink mask of an image: 1 where pixels[offset + i] >= threshold. */
export function inkMask(pixels: Uint8Array, offset: number, height: number, width: number, threshold = INK_THRESHOLD): Uint8Array {
  const mask = new Uint8Array(height * width);
  for (let i = 0; i < mask.length; i++) mask[i] = pixels[offset + i]! >= threshold ? 1 : 0;
  return mask;
}

// The ring of the 8 neighbours P2..P9 (Zhang and Suen's names), clockwise from north, as (row,
// column) offsets. A neighbourhood is coded as 8 bits, bit k set when neighbour k is ink; every rule
// below depends on that code alone, so it is evaluated once per code into a 256-entry table.
const RING: readonly (readonly [number, number])[] = [[-1, 0], [-1, 1], [0, 1], [1, 1], [1, 0], [1, -1], [0, -1], [-1, -1]];

function bits(code: number): number[] {
  return RING.map((_, k) => (code >> k) & 1);
}

/** Zhang-Suen's deletion rule for sub-iteration `sub` (0 or 1) on a neighbourhood code. */
function zhangSuenDeletes(code: number, sub: number): boolean {
  const [p2, p3, p4, p5, p6, p7, p8, p9] = bits(code) as [number, number, number, number, number, number, number, number];
  const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
  if (b < 2 || b > 6) return false;
  // A: 0 -> 1 transitions around the ring P2, P3, ..., P9, P2.
  const ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2];
  let a = 0;
  for (let k = 0; k < 8; k++) if (ring[k] === 0 && ring[k + 1] === 1) a++;
  if (a !== 1) return false;
  // Sub-iteration 1 removes south-east boundary and north-west corner points, 2 the opposite.
  return sub === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0;
}

/** Whether a skeleton pixel with this neighbourhood is redundant: at least two ink neighbours that
 *  form one 8-connected group without it (so removing it changes neither connectivity nor the ends). */
function redundant(code: number): boolean {
  const set = bits(code).flatMap((v, k) => (v ? [k] : []));
  if (set.length < 2) return false;
  // Neighbours touch when consecutive in the ring, or two side neighbours a corner apart (north and
  // east touch diagonally): within one step of each other.
  const touch = (a: number, b: number) => Math.max(Math.abs(RING[a]![0] - RING[b]![0]), Math.abs(RING[a]![1] - RING[b]![1])) === 1;
  const group = [set[0]!];
  let rest = set.slice(1);
  for (let grew = true; grew; ) {
    const joining = rest.filter((k) => group.some((g) => touch(g, k)));
    grew = joining.length > 0;
    group.push(...joining);
    rest = rest.filter((k) => !joining.includes(k));
  }
  return rest.length === 0;
}

const DELETES: readonly Uint8Array[] = [0, 1].map((sub) => Uint8Array.from({ length: 256 }, (_, code) => (zhangSuenDeletes(code, sub) ? 1 : 0)));
const REDUNDANT = Uint8Array.from({ length: 256 }, (_, code) => (redundant(code) ? 1 : 0));

/** Zhang-Suen thinning of a binary mask (1 = ink), then the removal of redundant staircase pixels;
 *  returns the skeleton as a new mask. Pixels outside the image count as background. */
export function zhangSuenThin(mask: Uint8Array, height: number, width: number): Uint8Array {
  if (mask.length !== height * width) throw new Error(`zhangSuenThin: ${mask.length} pixels is not ${height} x ${width}`);
  // A one-pixel background border spares the bounds checks: neighbours are fixed index offsets.
  const W = width + 2;
  const img = new Uint8Array((height + 2) * W);
  const offsets = RING.map(([dr, dc]) => dr * W + dc);
  const code = (i: number) => {
    let c = 0;
    for (let k = 0; k < 8; k++) c |= img[i + offsets[k]!]! << k;
    return c;
  };
  let ink: number[] = [];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (mask[r * width + c]) {
        const i = (r + 1) * W + c + 1;
        img[i] = 1;
        ink.push(i);
      }
    }
  }
  const remove: number[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (let sub = 0; sub < 2; sub++) {
      // Parallel: every pixel is judged on the image before this sub-iteration's deletions.
      remove.length = 0;
      const table = DELETES[sub]!;
      for (const i of ink) if (table[code(i)]) remove.push(i);
      if (remove.length) {
        changed = true;
        for (const i of remove) img[i] = 0;
        ink = ink.filter((i) => img[i] === 1);
      }
    }
  }
  // Zhang-Suen leaves 4-connected staircases where the centre line runs diagonally (two pixels per
  // step where one suffices); a last sequential pass (each pixel judged on the image as it is by then)
  // removes such redundant pixels. End points and pixels that join branches or close a loop stay.
  for (const i of ink) if (REDUNDANT[code(i)]) img[i] = 0;
  const out = new Uint8Array(height * width);
  for (const i of ink) if (img[i]) out[(Math.floor(i / W) - 1) * width + (i % W) - 1] = 1;
  return out;
}

/** The length of a skeleton as a chain of pixel centres, with half a pixel at each free end (see top),
 *  and the number of free ends. */
export function skeletonLength(skeleton: Uint8Array, height: number, width: number): { length: number; ends: number } {
  const at = (r: number, c: number) => (r >= 0 && r < height && c >= 0 && c < width ? skeleton[r * width + c]! : 0);
  let sides = 0;
  let diagonals = 0;
  let ends = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (!at(r, c)) continue;
      // Each pair once: the right and lower side neighbours, the two lower diagonals.
      sides += at(r, c + 1) + at(r + 1, c);
      if (at(r + 1, c + 1) && !at(r, c + 1) && !at(r + 1, c)) diagonals++;
      if (at(r + 1, c - 1) && !at(r, c - 1) && !at(r + 1, c)) diagonals++;
      let neighbours = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) if (dr || dc) neighbours += at(r + dr, c + dc);
      if (neighbours === 0) ends += 2;
      else if (neighbours === 1) ends += 1;
    }
  }
  return { length: sides + Math.SQRT2 * diagonals + ends / 2, ends };
}

/** Ink area, centre-line length and thickness of a binary mask (see the top of the file). */
export function measureMask(mask: Uint8Array, height: number, width: number): StrokeMeasure {
  let area = 0;
  for (const v of mask) area += v ? 1 : 0;
  if (area === 0) return { area: 0, length: 0, thickness: 0 };
  const { length: chain, ends } = skeletonLength(zhangSuenThin(mask, height, width), height, width);
  // No skeleton left (only 2 x 2 specks): the ink as a square blob.
  if (chain === 0) return { area, length: Math.sqrt(area), thickness: Math.sqrt(area) };
  // Thinning shortens a stroke by half its width t at each of the e free ends, so the stroke is
  // chain + e t / 2 long and t (chain + e t / 2) = area: the positive root of a quadratic, written
  // in the form that does not cancel (e = 0 gives area / chain).
  const thickness = (2 * area) / (chain + Math.sqrt(chain * chain + 2 * ends * area));
  return { area, length: area / thickness, thickness };
}

/** The stroke thickness of every image of [n, height, width] bytes. */
export function strokeThicknesses(pixels: Uint8Array, n: number, height: number, width: number): Float64Array {
  if (pixels.length !== n * height * width) throw new Error(`strokeThicknesses: ${pixels.length} pixels is not ${n} images of ${height} x ${width}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = measureMask(inkMask(pixels, i * height * width, height, width), height, width).thickness;
  return out;
}
