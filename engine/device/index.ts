// The device layer's public face (runtime-neutral). Node code imports openNodeGpu from './node.ts';
// browser code imports openBrowserGpu from './browser.ts'.
export * from './errors.ts';
export * from './gpu.ts';
export { guard } from './guard.ts';
