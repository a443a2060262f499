export * from './quality';
export * from './isa95';
