import type { AlertV1 } from '@weir/contracts';
import { describe, expect, it } from 'vitest';
import { escapeCefHeader, escapeCefValue, formatCef, formatSyslog } from './cef.formatter';

const alert: AlertV1 = {
  class_uid: 2004,
  category_uid: 2,
  activity_id: 2,
  time: '2026-11-30T10:00:00.000Z',
  severity_id: 4,
  status_id: 2,
  finding_info: {
    uid: 'weir-0123456789abcdef',
    title: 'a|b\\c=d',
    desc: 'line1\nx=y\\z|w',
    analytic: { uid: 'rule|1', name: 'r' },
    attacks: [{ technique: { uid: 'T0836' } }, { technique: { uid: 'T0831' } }],
    first_seen_time: '2026-11-30T09:59:00.000Z',
    last_seen_time: '2026-11-30T10:00:00.000Z',
    related_events: [{ uid: 'e1' }, { uid: 'e2' }],
  },
  resources: [{ uid: 'filler1', name: 'acme/hh/line1/filler1', type: 'asset' }],
  metadata: { product: { name: 'Weir correlator', vendor_name: 'Weir' }, version: '1.3.0' },
};

describe('CEF', () => {
  it('escapes header fields (\\ and |) and extension values (\\, = and line breaks)', () => {
    expect(escapeCefHeader('a|b\\c=d')).toBe('a\\|b\\\\c=d');
    expect(escapeCefValue('x=y\\z|w\nq')).toBe('x\\=y\\\\z|w\\nq');
  });

  it('formats an alert as one CEF line with the documented keys', () => {
    expect(formatCef(alert, '0.1.0')).toBe(
      'CEF:0|Weir|Weir correlator|0.1.0|rule\\|1|a\\|b\\\\c=d|8|rt=1796032800000 externalId=weir-0123456789abcdef act=update start=1796032740000 end=1796032800000 cnt=2 cs1Label=attackTechniques cs1=T0836,T0831 cs2Label=assets cs2=acme/hh/line1/filler1 cs3Label=ruleName cs3=r msg=line1\\nx\\=y\\\\z|w',
    );
  });

  it('wraps it in an RFC 5424 header with PRI from facility and severity', () => {
    expect(formatSyslog(alert, 'CEF:0|x', { facility: 13, hostname: 'h', appName: 'a' })).toBe('<107>1 2026-11-30T10:00:00.000Z h a - - - CEF:0|x');
  });
});
