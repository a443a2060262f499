/** Error codes of the analytics API, each mapped to one HTTP status at the edge (error.filter.ts). */
export const API_ERROR_STATUS = {
  'REQUEST.INVALID': 400,
  'ANALYTICS.TOO_MANY_POINTS': 400,
  'ANALYTICS.RANGE_TOO_LONG': 400,
  'AUTH.MISSING_CREDENTIALS': 401,
  'AUTH.INVALID_TOKEN': 401,
  'AUTH.TOKEN_EXPIRED': 401,
  'AUTH.TOKEN_NOT_YET_VALID': 401,
  'AUTH.UNKNOWN_API_KEY': 401,
  'AUTH.ROLE_FORBIDDEN': 403,
  'ANALYTICS.SITE_FORBIDDEN': 403,
  'ANALYTICS.NOT_FOUND': 404,
  'RATE_LIMITED': 429,
  'ANALYTICS.QUERY_TIMEOUT': 503,
  'ANALYTICS.DATABASE_UNAVAILABLE': 503,
  'INTERNAL': 500,
} as const;
/** One error code. */
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** One problem with a request parameter. */
export interface ParamIssue {
  param: string;
  problem: string;
}

/** An error with a stable code; `details` goes into the response body. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: { issues?: ParamIssue[]; retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}
