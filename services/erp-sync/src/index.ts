export { startErpSync, sapFeeds, type ErpSync, type ErpSyncDeps } from './erp-sync';
export { erpSyncSettingsSchema, type ErpSyncSettings, type ErpSyncSettingsInput } from './config';
export { ErpSyncError, type ErpErrorCode } from './errors';
export type { FeedResult } from './sync/sync-engine';
