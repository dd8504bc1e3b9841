// Types for the `wgsl-preprocessor` package (one plain ES module without declarations, and without a
// "main" field: it is imported by its file name). Its tag evaluates #if/#elif/#else/#endif over the
// template's literal text; an #if / #elif must be followed directly by a substitution, whose
// truthiness picks the branch. Substituted values are appended as they are (never scanned for
// directives). shaders/wgsl.ts wraps it; kernels use that wrapper, not this module.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  export function wgsl(strings: readonly string[], ...values: unknown[]): string;
}
