import { describe, expect, it } from 'vitest';
import { ocsfPassthrough } from './ocsf.passthrough';

const fill = { uid: 'generated-1', logName: 'ocsf' };

describe('ocsfPassthrough', () => {
  it('takes an OCSF Detection Finding, turning epoch-ms time into ISO and keeping unknown attributes under unmapped', () => {
    const r = ocsfPassthrough(
      {
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        time: 1795590300000,
        severity_id: 4,
        metadata: { product: { name: 'Falcon', vendor_name: 'CrowdStrike' }, version: '1.3.0', uid: 'det-77' },
        finding_info: { title: 'Credential dumping', uid: 'f-1' },
      },
      fill,
    );
    expect(r).toEqual({
      ok: true,
      event: {
        uid: 'det-77',
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        time: '2026-11-25T07:05:00.000Z',
        severity_id: 4,
        metadata: { product: { name: 'Falcon', vendor_name: 'CrowdStrike' }, version: '1.3.0', log_name: 'ocsf' },
        unmapped: { finding_info: { title: 'Credential dumping', uid: 'f-1' } },
      },
    });
  });

  it('derives category_uid from class_uid and uses the generated uid when the source has none', () => {
    const r = ocsfPassthrough({ class_uid: 3002, activity_id: 1, time: '2026-11-25T08:00:00Z', severity_id: 1, is_mfa: true, user: { name: 'jdoe' }, metadata: { product: { name: 'Okta' } } }, fill);
    expect(r.ok && [r.event.uid, r.event.category_uid, r.event.is_mfa]).toEqual(['generated-1', 3, true]);
  });

  it('refuses an event without metadata.product, naming the field', () => {
    const r = ocsfPassthrough({ class_uid: 3002, activity_id: 1, time: '2026-11-25T08:00:00Z', severity_id: 1, metadata: {} }, fill);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('metadata.product') });
  });
});
