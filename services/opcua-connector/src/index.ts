export { connectorSettingsSchema, resolveSources, statePaths, type ConnectorSettings, type ConnectorSettingsInput } from './config';
export { startConnector, type ConnectorOptions, type RunningConnector } from './connector';
export { SourceRunner, stateKeys, toNodeSample } from './source/source-runner';
export type { Spool, SpoolStats } from './spool/spool';
