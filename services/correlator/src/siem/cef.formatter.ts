import type { AlertV1 } from '@weir/contracts';

/** Escapes a CEF header field: backslash and pipe (ArcSight CEF rules). */
export function escapeCefHeader(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** Escapes a CEF extension value: backslash, equals sign, and line breaks as \n / \r. */
export function escapeCefValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** OCSF severity 0..6 to CEF 0..10. */
const CEF_SEVERITY = [0, 1, 3, 5, 8, 10, 10];

/**
 * Formats an alert as one CEF line:
 * `CEF:0|Weir|Weir correlator|<version>|<rule id>|<title>|<severity>|<extensions>`.
 * The extension keys are listed in the README.
 */
export function formatCef(alert: AlertV1, productVersion: string): string {
  const f = alert.finding_info;
  const header = ['CEF:0', 'Weir', alert.metadata.product.name, productVersion, f.analytic?.uid ?? 'unknown', f.title, String(CEF_SEVERITY[alert.severity_id] ?? 5)].map((p, i) => (i === 0 ? p : escapeCefHeader(p)));
  const ext: [string, string | undefined][] = [
    ['rt', String(Date.parse(alert.time))],
    ['externalId', f.uid],
    ['act', alert.activity_id === 1 ? 'create' : alert.activity_id === 2 ? 'update' : String(alert.activity_id)],
    ['start', f.first_seen_time ? String(Date.parse(f.first_seen_time)) : undefined],
    ['end', f.last_seen_time ? String(Date.parse(f.last_seen_time)) : undefined],
    ['cnt', String(f.related_events.length)],
    ['cs1Label', 'attackTechniques'],
    ['cs1', f.attacks.map((a) => a.technique.uid).join(',')],
    ['cs2Label', 'assets'],
    ['cs2', alert.resources.map((r) => r.name ?? r.uid).join(',')],
    ['cs3Label', 'ruleName'],
    ['cs3', f.analytic?.name],
    ['msg', f.desc],
  ];
  const extension = ext
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${k}=${escapeCefValue(v)}`)
    .join(' ');
  return `${header.join('|')}|${extension}`;
}

/** OCSF severity to syslog severity (RFC 5424: 2 critical .. 6 informational). */
export function syslogSeverity(severityId: number): number {
  return severityId >= 5 ? 2 : severityId === 4 ? 3 : severityId === 3 ? 4 : severityId === 2 ? 5 : 6;
}

/** Wraps a CEF line in an RFC 5424 syslog header, timestamped with the alert's time. */
export function formatSyslog(alert: AlertV1, cef: string, options: { facility: number; hostname: string; appName: string }): string {
  const pri = options.facility * 8 + syslogSeverity(alert.severity_id);
  return `<${pri}>1 ${alert.time} ${options.hostname} ${options.appName} - - - ${cef}`;
}
