import { Inject, Injectable, SetMetadata, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../common/api-error';
import type { ApiMetrics } from '../common/api-metrics';
import type { HttpRequest } from '../common/http-types';
import { API_METRICS } from '../common/tokens';
import { Authenticator } from './auth.service';
import { ROLE_PERMISSIONS, type Permission, type Principal } from './principal';
import { RateLimiter } from './rate-limiter';

const PERMISSION_KEY = 'weir:permission';

/** The permission an endpoint needs; an endpoint without one is refused (fail closed). */
export const Requires = (permission: Permission) => SetMetadata(PERMISSION_KEY, permission);

type AuthedRequest = HttpRequest & { principal?: Principal };

/** The authenticated caller of the request (set by AuthGuard). */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p) throw new ApiError('INTERNAL', 'no principal on an authenticated route');
  return p;
});

/** Authenticates every request, applies the rate limit per caller, then checks the endpoint's permission against the caller's role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    let principal: Principal;
    try {
      principal = this.authenticator.authenticate({ authorization: req.headers.authorization, 'x-api-key': req.headers['x-api-key'] });
    } catch (err) {
      this.metrics.rejected.inc({ reason: 'unauthenticated' });
      throw err;
    }
    const decision = this.limiter.take(principal.id);
    if (!decision.allowed) {
      this.metrics.rejected.inc({ reason: 'rate-limited' });
      throw new ApiError('RATE_LIMITED', `too many requests; retry after ${decision.retryAfterS} s`, { retryAfterS: decision.retryAfterS });
    }
    const needed = this.reflector.get<Permission | undefined>(PERMISSION_KEY, ctx.getHandler());
    if (needed === undefined || !ROLE_PERMISSIONS[principal.role].includes(needed)) {
      this.metrics.rejected.inc({ reason: 'role' });
      throw new ApiError('AUTH.ROLE_FORBIDDEN', `role ${principal.role} may not ${needed ?? 'use this endpoint'}`);
    }
    req.principal = principal;
    return true;
  }
}
