// Optimizers with format-aware state (see optimizer.ts for the precision options).

export * from './optimizer.ts';
export * from './sgd.ts';
export * from './adam.ts';
