import { Inject, Injectable } from '@nestjs/common';
import { quoteIdent } from '@weir/timescale';
import type { ClientBase, Pool } from 'pg';
import { withTransaction } from '../common/db';
import { PG_POOL } from '../common/tokens';
import { planContextChanges, type ContextChange, type ContextTable } from './context-rows';

/** What applying one batch of ERP changes did. */
export interface ContextWrite {
  /** Versions inserted or updated (an older `changed_at` than the stored one changes nothing). */
  upserted: number;
  /** Open versions closed by tombstones. */
  closed: number;
}

/**
 * ERP context (assets, work orders, production orders, shifts): one row per
 * version, keyed (id, valid_from). A message upserts its version, the newest
 * `changed_at` winning, so a replay or an out-of-order redelivery changes
 * nothing. A tombstone (the ERP deleted the record) closes the record's open
 * version at the tombstone's Kafka timestamp instead of deleting it, so "as
 * of" joins of older telemetry keep their context.
 */
@Injectable()
export class ContextRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Applies the changes of one batch, in order, in one transaction. */
  async apply<T extends { id: string; validFrom: string; changedAt: string }>(table: ContextTable<T>, changes: readonly ContextChange<T>[]): Promise<ContextWrite> {
    return withTransaction(this.pool, async (client) => {
      const result: ContextWrite = { upserted: 0, closed: 0 };
      for (const run of planContextChanges(changes)) {
        if (run.kind === 'upsert') result.upserted += await this.upsert(client, table, run.messages);
        else result.closed += await this.close(client, table, run.ids, run.atMs);
      }
      return result;
    });
  }

  private async upsert<T extends { id: string; validFrom: string; changedAt: string }>(client: ClientBase, table: ContextTable<T>, messages: readonly T[]): Promise<number> {
    const names = table.columns.map((c) => quoteIdent(c.name));
    const recordType = table.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    const updates = table.columns.filter((c) => c.name !== 'id' && c.name !== 'valid_from').map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
    const records = messages.map((m) => Object.fromEntries(table.columns.map((c) => [c.name, c.value(m)])));
    const target = quoteIdent(table.table);
    const { rowCount } = await client.query(
      `INSERT INTO ${target} AS t (${names.join(', ')})
       SELECT ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${recordType})
       ON CONFLICT (id, valid_from) DO UPDATE SET ${updates.join(', ')}
       WHERE t.changed_at <= excluded.changed_at`,
      [JSON.stringify(records)],
    );
    return rowCount ?? 0;
  }

  private async close<T extends { id: string; validFrom: string; changedAt: string }>(client: ClientBase, table: ContextTable<T>, ids: readonly string[], atMs: readonly number[]): Promise<number> {
    const { rowCount } = await client.query(
      `UPDATE ${quoteIdent(table.table)} t SET valid_to = a.at
         FROM unnest($1::text[], $2::double precision[]) AS d(id, at_ms), LATERAL (SELECT to_timestamp(d.at_ms / 1000) AS at) a
        WHERE t.id = d.id AND t.valid_to IS NULL AND t.valid_from < a.at`,
      [ids, atMs],
    );
    return rowCount ?? 0;
  }
}
