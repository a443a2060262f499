// Expands a Grafana PostgreSQL panel query the way Grafana does before sending it to the database:
// first the dashboard's template variables (frontend), then the datasource's macros (backend; same
// formats as Grafana's postgres macro engine, including time_bucket() for $__timeGroup when the
// datasource has timescaledb enabled).

/** The time range and variables of one dashboard render. */
export interface RenderContext {
  from: Date;
  to: Date;
  /** Grafana's $__interval for the panel, e.g. `5m`. */
  interval: string;
  variables: Record<string, string>;
  timescaledb: boolean;
}

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

function intervalSeconds(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim().replace(/^'|'$/g, ''));
  if (!m) throw new Error(`error parsing interval ${text}`);
  return Number(m[1]) * UNIT_S[m[2]!]!;
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const sqlString = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** Template variables: `${name:sqlstring}` quoted, `${name}`, `$name` and `[[name]]` as they are. */
export function interpolateVariables(sql: string, ctx: RenderContext): string {
  const vars: Record<string, string> = { ...ctx.variables, __interval: ctx.interval, __interval_ms: String(intervalSeconds(ctx.interval) * 1000) };
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)(?!\w|\()/g, (whole, braced?: string, format?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare!;
    const value = vars[name];
    if (value === undefined) {
      if (bare?.startsWith('__')) return whole;
      throw new Error(`unknown template variable ${name}`);
    }
    if (format === undefined || format === 'raw') return value;
    if (format === 'sqlstring') return sqlString(value);
    throw new Error(`unsupported variable format ${format}`);
  });
}

/** Datasource macros, as Grafana's postgres macro engine expands them. */
export function expandMacros(sql: string, ctx: RenderContext): string {
  return sql.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (_whole, name: string, rawArgs: string) => {
    const args = rawArgs.split(',').map((a) => a.trim());
    const group = (): string => {
      if (args.length < 2) throw new Error(`macro ${name} needs time column and interval`);
      const s = intervalSeconds(args[1]!);
      return ctx.timescaledb ? `time_bucket('${s.toFixed(3)}s',${args[0]})` : `floor(extract(epoch from ${args[0]})/${s})*${s}`;
    };
    switch (name) {
      case '__time':
        return `${args[0]} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${args[0]}) as "time"`;
      case '__timeFilter':
        return `${args[0]} BETWEEN '${iso(ctx.from)}' AND '${iso(ctx.to)}'`;
      case '__timeFrom':
        return `'${iso(ctx.from)}'`;
      case '__timeTo':
        return `'${iso(ctx.to)}'`;
      case '__timeGroup':
        return group();
      case '__timeGroupAlias':
        return `${group()} AS "time"`;
      case '__unixEpochFilter':
        return `${args[0]} >= ${Math.floor(ctx.from.getTime() / 1000)} AND ${args[0]} <= ${Math.floor(ctx.to.getTime() / 1000)}`;
      default:
        throw new Error(`unknown macro ${name}`);
    }
  });
}

/** Both steps, in Grafana's order. */
export function renderQuery(sql: string, ctx: RenderContext): string {
  return expandMacros(interpolateVariables(sql, ctx), ctx);
}
