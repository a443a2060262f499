import type { ErpShiftV1 } from '@weir/contracts';
import type { ChangeSet, EntityKind, ErpFeed } from '../sync/change-set';
import { expandShifts, shiftIdDate, type SiteCalendar } from './shift-calendar';
import { addDays, isoDate } from './time-zone';

/** Settings of the calendar feed. */
export interface ShiftFeedOptions {
  sites: readonly SiteCalendar[];
  /** How far back the rolling window reaches. */
  pastMs: number;
  /** How far ahead. */
  futureMs: number;
  now?: () => number;
}

const utcDate = (ms: number): { year: number; month: number; day: number } => {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
};

/**
 * The shift calendar as a feed: every poll expands the rules into shifts
 * starting within [now - past, now + future). Shifts whose content is unchanged
 * are not republished (their `changedAt` is the time of the expansion that first
 * wrote them). A shift that is no longer generated for a day well inside the
 * window (a rule removed or moved) is tombstoned; shifts that left the window
 * at the past end are history and stay on the topic.
 */
export class ShiftCalendarFeed implements ErpFeed {
  readonly name = 'shifts';
  readonly kinds: readonly EntityKind[] = ['shifts'];

  constructor(private readonly o: ShiftFeedOptions) {}

  fetchChanges(): Promise<ChangeSet> {
    const now = this.o.now?.() ?? Date.now();
    const from = now - this.o.pastMs;
    const to = now + this.o.futureMs;
    const changedAt = new Date(now).toISOString();
    const shifts: ErpShiftV1[] = this.o.sites.flatMap((site) => expandShifts(site, from, to, changedAt));
    // Local dates differ from UTC dates by up to 14 h: two days' margin keeps the edge days
    // (where only some shifts fall inside the window) out of both the deletion and the pruning.
    const coveredFrom = isoDate(addDays(utcDate(from), 2));
    const coveredTo = isoDate(addDays(utcDate(to), -2));
    const pruneBefore = isoDate(addDays(utcDate(from), -2));
    return Promise.resolve({
      upserts: { shifts },
      deletions: {},
      snapshot: {
        kinds: ['shifts'],
        covers: (_kind, id) => {
          const date = shiftIdDate(id);
          return date !== undefined && date >= coveredFrom && date <= coveredTo;
        },
        prune: (_kind, id) => {
          const date = shiftIdDate(id);
          return date !== undefined && date < pruneBefore;
        },
      },
    });
  }
}
