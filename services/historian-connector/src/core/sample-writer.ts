import { telemetryRawV1, type JsonValue, type TelemetryRawV1 } from '@weir/contracts';
import type { Spool, SourceSample } from './source';

/** Spool state key of a source's next sequence number. */
export const seqKey = (sourceId: string): string => `seq:${sourceId}`;

/**
 * Numbers a source's samples and writes them to the spool together with the
 * checkpoints they advance, in one frame: after a kill the next sequence
 * number and every checkpoint agree with what is in the log, so a restart
 * neither skips nor repeats a value. Numbers are taken synchronously right
 * before the append, and the spool orders appends by call, so sequence
 * numbers increase in log (and Kafka) order even with live reads and jobs
 * writing concurrently.
 */
export class SampleWriter {
  private next: number;

  constructor(
    private readonly spool: Spool,
    readonly sourceId: string,
    private readonly origin: TelemetryRawV1['origin'] = 'historian',
  ) {
    const stored = spool.getState(seqKey(sourceId));
    this.next = typeof stored === 'number' ? stored : 0;
  }

  /** The sequence number the next sample gets. */
  get nextSeq(): number {
    return this.next;
  }

  /** Writes `samples` (may be empty) and `state` durably; resolves when both are on disk. */
  write(samples: readonly SourceSample[], state: Record<string, JsonValue | undefined>): Promise<void> {
    const receivedTime = new Date().toISOString();
    const messages: TelemetryRawV1[] = new Array<TelemetryRawV1>(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      // Field by field rather than a spread: this runs for every sample of a backfill.
      const m: TelemetryRawV1 = { sourceId: this.sourceId, nodeId: s.nodeId, seq: this.next++, origin: this.origin, value: s.value, status: s.status, sourceTime: s.sourceTime, receivedTime };
      if (s.dataType !== undefined) m.dataType = s.dataType;
      if (s.serverTime !== undefined) m.serverTime = s.serverTime;
      if (s.browsePath !== undefined) m.browsePath = s.browsePath;
      messages[i] = m;
    }
    return this.spool.appendMany(telemetryRawV1, messages, { state: { ...state, [seqKey(this.sourceId)]: this.next } });
  }
}
