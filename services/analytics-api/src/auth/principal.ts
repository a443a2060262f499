import { ROLES, type Role } from '../config';
import { ApiError } from '../common/api-error';

/** What a caller may do; each endpoint needs one. */
export type Permission = 'assets:read' | 'series:read' | 'timeseries:read' | 'timeseries:raw' | 'kpi:read' | 'completeness:read' | 'alerts:read';

/** Permissions of each role (README "Roles"). */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['assets:read', 'series:read', 'timeseries:read', 'kpi:read', 'completeness:read'],
  analyst: ['assets:read', 'series:read', 'timeseries:read', 'timeseries:raw', 'kpi:read', 'completeness:read'],
  soc: ['assets:read', 'series:read', 'timeseries:read', 'timeseries:raw', 'completeness:read', 'alerts:read'],
  admin: ['assets:read', 'series:read', 'timeseries:read', 'timeseries:raw', 'kpi:read', 'completeness:read', 'alerts:read'],
};

/** An authenticated caller. */
export interface Principal {
  /** Key name (`key:<name>`) or token subject (`jwt:<sub>`); the rate limit is per principal id. */
  id: string;
  role: Role;
  /** Sites the caller may read, or 'all'. */
  sites: readonly string[] | 'all';
}

/** Builds a principal from a role and a site list (`*` for all), refusing what is malformed. */
export function principalFrom(id: string, role: unknown, sites: unknown): Principal {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new ApiError('AUTH.INVALID_TOKEN', `role must be one of ${ROLES.join(', ')}`);
  if (!Array.isArray(sites) || sites.length === 0 || !sites.every((s): s is string => typeof s === 'string' && s.length > 0))
    throw new ApiError('AUTH.INVALID_TOKEN', 'sites must be a non-empty array of site ids (or ["*"])');
  return { id, role: role as Role, sites: sites.includes('*') ? 'all' : [...new Set(sites)] };
}

/** Whether the principal may read a site. */
export function canReadSite(p: Principal, siteId: string | null | undefined): boolean {
  if (p.sites === 'all') return true;
  return siteId !== null && siteId !== undefined && p.sites.includes(siteId);
}

/** The site filter to pass to SQL: null means every site. */
export function siteFilter(p: Principal): string[] | null {
  return p.sites === 'all' ? null : [...p.sites];
}

/** Throws ANALYTICS.SITE_FORBIDDEN unless the principal may read the site. */
export function assertSite(p: Principal, siteId: string | null | undefined, what: string): void {
  if (!canReadSite(p, siteId)) throw new ApiError('ANALYTICS.SITE_FORBIDDEN', `${what} belongs to a site this caller may not read`);
}
