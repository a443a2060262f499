export { startAnalyticsApi, type AnalyticsApiDeps, type RunningAnalyticsApi } from './analytics-api';
export { analyticsSettingsSchema, ROLES, type AnalyticsSettings, type Role } from './config';
export { signHs256 } from './auth/jwt';
export { bucketedStatement, type BucketedQuery, type RollupSource } from './timeseries/timeseries.repository';
