// `posit-gan formats [FMT...]`: the range, precision and special values of number formats.

import { describeFormat, describeText } from '../../../formats/describe.ts';
import { FORMAT_SYNTAX_HELP, parseFormat } from '../../../formats/descriptor.ts';
import type { Command } from '../command.ts';

export const DEFAULT_FORMATS = [
  'fp32', 'fp16', 'bf16', 'e4m3', 'e5m2', 'e4m3q', 'e5m2q', 'e3m2', 'e2m3',
  'p8e0', 'p8e1', 'p8e2', 'p16e1', 'p16e2', 'p6e1', 'p6e2',
];

const formats: Command = {
  name: 'formats',
  summary: 'show the range, precision and special values of number formats',
  usage: 'posit-gan formats [--json] [FMT...]',
  help: [
    `Prints a table per format: bits and storage container, the largest and smallest values (maxpos /
minpos for posits; max, min normal, min subnormal for floats; max, min, resolution for fixed point),
the dynamic range in decades (log10 of largest / smallest positive value), the decimal digits of
precision at 1.0 (-log10 of the gap between 1.0 and the next value, i.e. log10(2^p) for p fraction
bits at 1.0) and the special patterns (zeros, NaR / NaN, infinities) and overflow behaviour.
Values are shown exactly, as 2^k or m * 2^k, and in decimal ('≈' where the decimal is rounded).
Without FMT it shows ${DEFAULT_FORMATS.join(' ')}.`,
    { options: [{ name: 'json', type: 'boolean', help: 'print a JSON array of descriptions instead of the tables' }] },
    `Format specs (case-insensitive, spaces ignored; quote specs with parentheses in the shell):
${FORMAT_SYNTAX_HELP}
Defaults: e<E>m<M> is IEEE-like (subnormals, inf, NaN, ties to even, no saturation); OCP e4m3/e5m2
saturate on finite overflow, e4m3(sat=0) gives NaN and e5m2(sat=0) infinity instead; fixed point
saturates and rounds ties to even; float(...) starts from IEEE-like with bias 2^(e-1) - 1.
Posit NaR decodes to NaN; -0 encodes to -0 for floats and to 0 for posits and fixed point.
An invalid spec exits with code 2.`,
  ],
  positionals: true,
  async run(values, positionals) {
    // Parse everything first, so that a bad spec prints nothing but its error.
    const fs = (positionals.length ? positionals : DEFAULT_FORMATS).map(parseFormat);
    const ds = fs.map(describeFormat);
    const out = values.json ? JSON.stringify(ds, null, 2) : ds.map(describeText).join('\n\n');
    process.stdout.write(out + '\n');
    return 0;
  },
};
export default formats;
