import type { IncomingMessage, ServerResponse } from 'node:http';

// The parts of Express' request and response the API uses (the repository has no Express type package).

/** An Express request as the API sees it. */
export type HttpRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; principal?: unknown };
/** An Express response as the API sees it. */
export type HttpResponse = ServerResponse & { status(code: number): HttpResponse; json(body: unknown): void };

/** The route template of a matched request (`/v1/kpi/oee`), or `unmatched`. */
export function routeOf(req: HttpRequest): string {
  return req.route ? `${req.baseUrl ?? ''}${String(req.route.path)}` : 'unmatched';
}
