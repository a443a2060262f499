export * from './containers';
export * from './fixtures';
export * from './ports';
