/** Which header a syslog message carried. */
export type SyslogFormat = 'rfc5424' | 'rfc3164';

/** One syslog message with its header decoded. */
export interface SyslogMessage {
  format: SyslogFormat;
  facility: number;
  /** Syslog severity 0 (emergency) .. 7 (debug). */
  severity: number;
  /** Time of the event as ISO 8601 with offset; absent when the header had none (`-`, or a 3164 message without one). */
  time?: string;
  /** The timestamp exactly as written in the header. */
  originalTime?: string;
  hostname?: string;
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG without its `[pid]`. */
  appName?: string;
  procId?: string;
  msgId?: string;
  /** RFC 5424 structured data: SD-ID to its parameters. */
  structuredData?: Record<string, Record<string, string>>;
  /** The free-form message (MSG), without a leading BOM. */
  msg: string;
}

/** The outcome of decoding a syslog header. */
export type SyslogParseResult = { ok: true; message: SyslogMessage } | { ok: false; reason: string };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PRI = /^<(\d{1,3})>/;
const RFC3164_TIME = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) /;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) /;
// A 3164 TAG: a program name, optionally `[pid]`, then a colon. Program names seen in the wild carry
// parentheses (`sshd(pam_google_authenticator)`), dots and dashes.
const TAG = /^([^\s:[\]]{1,64})(?:\[([^\]\s]{1,32})\])?:(?: |$)/;

/**
 * Decodes an RFC 5424 or RFC 3164 message. `receivedAt` fills the year of
 * 3164 timestamps, which have none: the year of receipt, or the one before
 * when that would put the event more than a day in the future (a December
 * line read in January). 3164 timestamps carry no zone and are read as UTC.
 */
export function parseSyslog(text: string, receivedAt: Date): SyslogParseResult {
  const pri = PRI.exec(text);
  if (!pri) return { ok: false, reason: 'no <PRI> at the start (RFC 5424 and RFC 3164 both begin with <0..191>)' };
  const value = Number(pri[1]);
  if (value > 191) return { ok: false, reason: `PRI ${value} is beyond 191` };
  const facility = value >> 3;
  const severity = value & 7;
  const rest = text.slice(pri[0].length);
  if (/^[1-9]\d{0,2} /.test(rest)) return parse5424(rest, facility, severity);
  return { ok: true, message: parse3164(rest, facility, severity, receivedAt) };
}

function parse5424(rest: string, facility: number, severity: number): SyslogParseResult {
  const fields = rest.split(' ');
  // VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, then STRUCTURED-DATA and MSG.
  if (fields.length < 7) return { ok: false, reason: 'RFC 5424 header is incomplete (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA)' };
  const [version, ts, host, app, proc, msgId] = fields as [string, string, string, string, string, string];
  if (version !== '1') return { ok: false, reason: `RFC 5424 version ${version} is not supported (only 1)` };
  let time: string | undefined;
  if (ts !== '-') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(ts) || Number.isNaN(Date.parse(ts))) {
      return { ok: false, reason: `RFC 5424 TIMESTAMP "${ts.slice(0, 40)}" is not an RFC 3339 time` };
    }
    time = ts;
  }
  const headerLength = [version, ts, host, app, proc, msgId].reduce((n, f) => n + f.length + 1, 0);
  const sdAndMsg = rest.slice(headerLength);
  const sd = parseStructuredData(sdAndMsg);
  if (!sd.ok) return sd;
  const msg = stripBom(sdAndMsg.slice(sd.length).replace(/^ /, ''));
  const message: SyslogMessage = { format: 'rfc5424', facility, severity, msg };
  if (time) message.time = time;
  if (ts !== '-') message.originalTime = ts;
  if (host !== '-') message.hostname = host;
  if (app !== '-') message.appName = app;
  if (proc !== '-') message.procId = proc;
  if (msgId !== '-') message.msgId = msgId;
  if (sd.data) message.structuredData = sd.data;
  return { ok: true, message };
}

type SdResult = { ok: true; length: number; data?: Record<string, Record<string, string>> } | { ok: false; reason: string };

/** RFC 5424 STRUCTURED-DATA: `-` or one or more `[SD-ID PARAM="VALUE" ...]`, with `\"`, `\\` and `\]` escaped in values. */
function parseStructuredData(s: string): SdResult {
  if (s.startsWith('-')) return { ok: true, length: 1 };
  if (!s.startsWith('[')) return { ok: false, reason: 'RFC 5424 STRUCTURED-DATA is neither "-" nor "[...]"' };
  const data: Record<string, Record<string, string>> = {};
  let i = 0;
  while (s[i] === '[') {
    const id = /^\[([^\s=\]"]{1,32})/.exec(s.slice(i));
    if (!id) return { ok: false, reason: 'RFC 5424 SD-ELEMENT without an SD-ID' };
    i += id[0].length;
    const params: Record<string, string> = {};
    for (;;) {
      if (s[i] === ']') {
        i++;
        break;
      }
      const name = /^ ([^\s=\]"]{1,32})="/.exec(s.slice(i));
      if (!name) return { ok: false, reason: `RFC 5424 SD-ELEMENT [${id[1]!}] is malformed at offset ${i}` };
      i += name[0].length;
      let value = '';
      for (;;) {
        const c = s[i];
        if (c === undefined) return { ok: false, reason: `RFC 5424 SD-PARAM ${name[1]!} is not terminated` };
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      params[name[1]!] = value;
    }
    data[id[1]!] = params;
  }
  return { ok: true, length: i, data };
}

function parse3164(rest: string, facility: number, severity: number, receivedAt: Date): SyslogMessage {
  const message: SyslogMessage = { format: 'rfc3164', facility, severity, msg: '' };
  let body = rest;
  const bsd = RFC3164_TIME.exec(body);
  const iso = bsd ? null : ISO_TIME.exec(body);
  if (bsd) {
    message.originalTime = bsd[0].trimEnd();
    message.time = bsdTime(bsd, receivedAt);
    body = body.slice(bsd[0].length);
  } else if (iso && !Number.isNaN(Date.parse(iso[1]!))) {
    message.originalTime = iso[1]!;
    message.time = iso[1]!;
    body = body.slice(iso[0].length);
  }
  if (message.time) {
    // After a timestamp comes HOSTNAME, unless the sender left it out and the TAG follows directly.
    const tagFirst = TAG.exec(body);
    if (!tagFirst) {
      const host = /^(\S+) /.exec(body);
      if (host) {
        message.hostname = host[1]!;
        body = body.slice(host[0].length);
      }
    }
  }
  const tag = TAG.exec(body);
  // Without a timestamp only an unmistakable TAG counts: `key=value` devices (FortiGate) start with `date=...`.
  if (tag && (message.time || !tag[1]!.includes('='))) {
    message.appName = tag[1]!;
    if (tag[2]) message.procId = tag[2];
    body = body.slice(tag[0].length);
  }
  message.msg = stripBom(body);
  return message;
}

function bsdTime(m: RegExpExecArray, receivedAt: Date): string | undefined {
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const day = Number(m[2]!.trim());
  let year = receivedAt.getUTCFullYear();
  const at = (y: number): number => Date.UTC(y, month, day, Number(m[3]), Number(m[4]), Number(m[5]));
  if (at(year) > receivedAt.getTime() + 86_400_000) year--;
  const t = at(year);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}
