// The box plot (experiment fig9): legend names must fit inside the picture.

import { describe, expect, it } from 'vitest';
import { boxPlot, fiveNumbers } from '../../gan/io/svg-boxplot.ts';

/** The svg's width and every legend text's x and content. */
function layout(svg: string): { width: number; legend: { x: number; text: string }[] } {
  const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
  const legend = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" dominant-baseline="middle">([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), text: m[2]! }));
  return { width, legend };
}

describe('boxPlot', () => {
  it('widens the right margin for long legend names, and only then', () => {
    const stats = fiveNumbers([0.1, 0.5, 0.9]);
    const short = layout(boxPlot([{ label: 'p8', stats, markers: { acgan: 0.5 } }]));
    const long = 'cyclegan (digit2fashion, a long run directory name)';
    const wide = layout(boxPlot([{ label: 'p8', stats, markers: { [long]: 0.5 } }]));
    const entry = wide.legend.find((l) => l.text === long)!;
    // About 7 px a character at the 12 px font: the name ends inside the picture.
    expect(entry.x + 7 * long.length).toBeLessThanOrEqual(wide.width);
    expect(wide.width).toBeGreaterThan(short.width);
    expect(short.width).toBe(480);
  });
});
