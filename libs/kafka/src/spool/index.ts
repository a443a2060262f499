export { StoreAndForwardProducer, type StoreAndForwardOptions, type SpoolAppendOptions, type SpoolStats, type SpoolDrop, type SpoolFullPolicy, type FsyncMode } from './store-and-forward-producer';
export { SpoolError, isSpoolError, type SpoolErrorCode } from './spool-error';
