export * from './quality';
export * from './isa95';
export * from './asset-mapping';
export * from './asset-mapping.settings';
