export * from './config';
export * from './connector';
export * from './errors';
export * from './metrics';
