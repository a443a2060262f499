import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '@weir/observability';
import { ApiError } from './api-error';
import { routeOf, type HttpRequest, type HttpResponse } from './http-types';

/** PostgreSQL error codes that mean "the query was refused for its input", not "the server failed". */
const PG_INPUT_ERRORS = new Set(['22023', '22007', '22008', '22P02', '2201B', '22021', '2201G']);

/**
 * The one place errors become HTTP: ApiError by its code, Nest's own HTTP exceptions (404 for unknown
 * routes) as they are, statement timeouts as 503, everything else 500 without internals in the body.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<HttpResponse>();
    const req = http.getRequest<HttpRequest>();
    const e = this.toApiError(err);
    if (e.status >= 500) this.logger.error({ err, code: e.code, route: routeOf(req) }, 'request failed');
    if (e.details.retryAfterS !== undefined) res.setHeader('Retry-After', String(e.details.retryAfterS));
    if (e.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="weir-analytics"');
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details.issues ? { issues: e.details.issues } : {}) } });
  }

  private toApiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const code = status === 404 ? 'ANALYTICS.NOT_FOUND' : status < 500 ? 'REQUEST.INVALID' : 'INTERNAL';
      return new ApiError(code, status === 404 ? 'no such endpoint' : err.message);
    }
    const pg = err as { code?: unknown; message?: unknown };
    if (pg.code === '57014') return new ApiError('ANALYTICS.QUERY_TIMEOUT', 'the query took longer than the server allows; ask for a shorter range or fewer series');
    if (typeof pg.code === 'string' && PG_INPUT_ERRORS.has(pg.code)) return new ApiError('REQUEST.INVALID', `the database refused a parameter: ${String(pg.message)}`);
    if (typeof pg.code === 'string' && /^(08|53|57P)/.test(pg.code)) return new ApiError('ANALYTICS.DATABASE_UNAVAILABLE', 'the database is not available');
    if (err instanceof Error && /ECONNREFUSED|timeout exceeded when trying to connect|Connection terminated/.test(err.message))
      return new ApiError('ANALYTICS.DATABASE_UNAVAILABLE', 'the database is not available');
    return new ApiError('INTERNAL', 'internal error');
  }
}
