import type { z } from 'zod';
import { ApiError, type ParamIssue } from './api-error';

/** Validates request input with a zod schema; every problem is reported at once as a 400 naming the parameter. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'path' = 'query'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data as z.infer<S>;
  const issues: ParamIssue[] = result.error.issues.map((i) => ({
    param: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || '(request)',
    problem: describeIssue(i),
  }));
  throw new ApiError('REQUEST.INVALID', `invalid ${where} parameter${issues.length > 1 ? 's' : ''}: ${issues.map((i) => `${i.param}: ${i.problem}`).join('; ')}`, { issues });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'is not a parameter of this endpoint';
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return issue.message;
}
