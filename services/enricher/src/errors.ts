/** Codes of the enricher's errors and counters. */
export type EnricherErrorCode = 'ENRICHMENT.CONTEXT_LOAD_TIMEOUT';

/** An enricher error with a code that logs and alerts can match on. */
export class EnricherError extends Error {
  constructor(
    readonly code: EnricherErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'EnricherError';
  }
}
