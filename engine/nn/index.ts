// Neural-network modules (PyTorch-style layers with seeded PyTorch-default initialisation).

export * from './init.ts';
export * from './kinds.ts';
export * from './module.ts';
export * from './linear.ts';
export * from './conv.ts';
export * from './norm.ts';
export * from './embedding.ts';
export * from './activation.ts';
export * from './pool.ts';
export * from './resample.ts';
export * from './residual.ts';
export * from './sequential.ts';
