export * from './containers';
export * from './fixtures';
export * from './ports';
export * from './observe';
export * from './temp-dirs';
export * from './service-process';
