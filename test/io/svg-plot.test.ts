// SVG line charts: well-formed markup, every series drawn with its name, ticks, log axis, gaps for
// non-finite values, escaping, and bucket averaging.

import { describe, expect, it } from 'vitest';
import { lineChart, niceTicks } from '../../gan/io/svg-plot.ts';

/** A minimal XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function checkWellFormed(svg: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(svg))) {
    expect(m.index, `unparsable markup at ${consumed}: ${svg.slice(consumed, consumed + 40)}`).toBe(consumed);
    consumed = re.lastIndex;
    const [, close, name, , selfClose, text] = m;
    if (text !== undefined) {
      expect(text.replace(/&(lt|gt|amp|quot|apos);/g, '')).not.toMatch(/[<>&]/);
    } else if (close) {
      expect(stack.pop()).toBe(name);
    } else if (!selfClose) {
      stack.push(name!);
    }
  }
  expect(consumed).toBe(svg.length);
  expect(stack).toEqual([]);
}

function paths(svg: string): string[] {
  return [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!);
}

describe('niceTicks', () => {
  it('uses 1, 2, 5 steps that cover the range', () => {
    expect(niceTicks(0, 1)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(Object.is(niceTicks(-0.001, 1).ticks[0], 0)).toBe(true);
    expect(niceTicks(0, 1000).step).toBe(200);
    expect(niceTicks(-3, 7).ticks).toEqual([-2, 0, 2, 4, 6]);
    expect(() => niceTicks(1, 1)).toThrow(/lo < hi/);
  });
});

describe('lineChart', () => {
  const losses = {
    d: Array.from({ length: 500 }, (_, i) => 1.4 * Math.exp(-i / 200) + 0.3),
    g: Array.from({ length: 500 }, (_, i) => 0.7 + 0.3 * Math.sin(i / 30)),
  };

  it('is well-formed SVG holding every series, the legend, labels and ticks', () => {
    const svg = lineChart(
      [
        { name: 'loss D', y: losses.d },
        { name: 'loss G', y: losses.g },
      ],
      { title: 'cgan p8+ <test> & co', xLabel: 'step', yLabel: 'loss' },
    );
    checkWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(paths(svg)).toHaveLength(2);
    expect(svg).toContain('<title>loss D</title>');
    expect(svg).toContain('>loss G</text>'); // legend entry
    expect(svg).toContain('cgan p8+ &lt;test&gt; &amp; co');
    expect(svg).toContain('>step</text>');
    expect(svg).toContain('>400</text>'); // an x tick
    // Every path point lies inside the plot rectangle.
    for (const d of paths(svg)) {
      for (const [, x, y] of d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)) {
        expect(Number(x)).toBeGreaterThanOrEqual(70);
        expect(Number(x)).toBeLessThanOrEqual(700);
        expect(Number(y)).toBeGreaterThanOrEqual(36);
        expect(Number(y)).toBeLessThanOrEqual(368);
      }
    }
  });

  it('breaks lines at NaN and, on a log axis, at non-positive values; puts ticks at powers of ten', () => {
    const y = [1, 10, NaN, 100, 1000, 0, 10000];
    const lin = lineChart([{ name: 'a', y }]);
    expect(paths(lin)[0]!.match(/M/g)).toHaveLength(2); // split by the NaN
    const log = lineChart([{ name: 'a', y }], { logY: true });
    checkWellFormed(log);
    expect(paths(log)[0]!.match(/M/g)).toHaveLength(3); // split by NaN and by 0
    for (const t of ['>1</text>', '>10</text>', '>100</text>', '>1000</text>', '>10000</text>']) expect(log).toContain(t);
  });

  it('bucket-averages long series down to maxPoints', () => {
    const y = Array.from({ length: 10000 }, (_, i) => i % 2); // alternating 0, 1: means of pairs are 0.5
    const svg = lineChart([{ name: 'alt', y }], { maxPoints: 100 });
    const pts = paths(svg)[0]!.match(/[ML]/g)!;
    expect(pts.length).toBe(100);
    const ys = new Set([...paths(svg)[0]!.matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => m[1]));
    expect(ys.size).toBe(1); // a flat line at 0.5
  });

  it('draws a band under its series (one polygon per unbroken stretch) and fits the axis to it; markers mark points', () => {
    const x = [0, 100, 200, 300, 400];
    const y = [500, 200, 100, 80, 70];
    const lo = [450, 150, NaN, 60, 50];
    const hi = [550, 260, 130, 100, 300];
    const svg = lineChart([{ name: 'p8+', x, y, band: { lo, hi } }], { markers: true, yLabel: 'FID' });
    checkWellFormed(svg);
    const polys = [...svg.matchAll(/<polygon points="([^"]*)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
    expect(polys).toHaveLength(2); // broken at the NaN
    expect(polys.map((p) => p.length)).toEqual([4, 4]); // two points along hi and two back along lo
    expect(svg).toContain('<title>p8+ (band)</title>');
    // The highest band value (550, above the line's 500) sets the top of the axis: the plot's top edge.
    const top = Math.min(...polys.flat().map(([, py]) => py!));
    expect(top).toBeCloseTo(36, 1);
    expect(svg.match(/<circle /g)).toHaveLength(5);
    expect(() => lineChart([{ name: 'bad', x, y, band: { lo: [1], hi } }])).toThrow(/a band of 1 values for 5 y values/);
  });

  it('handles a constant series, explicit x, and no data', () => {
    checkWellFormed(lineChart([{ name: 'c', x: [10, 20, 30], y: [2, 2, 2] }]));
    const none = lineChart([{ name: 'n', y: [NaN] }]);
    checkWellFormed(none);
    expect(none).toContain('no data');
    expect(() => lineChart([{ name: 'bad', x: [1], y: [1, 2] }])).toThrow(/1 x values for 2 y values/);
  });
});
