import type { FieldValue } from '../detection-event';

/** Tests one field value (never an array: arrays are matched element by element by the caller). */
export type ScalarMatcher = (value: Exclude<FieldValue, readonly FieldValue[]> | undefined) => boolean;

/** Converts a Sigma string with `*`, `?` wildcards and `\` escapes into a regular expression body. */
export function wildcardToRegExpSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      // Per the specification a backslash escapes only *, ? and itself; elsewhere it is literal.
      if (n === '*' || n === '?' || n === '\\') {
        out += n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        i++;
        continue;
      }
      out += '\\\\';
    } else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** Parses an IPv4 or IPv6 address into a bigint and its width, or undefined. */
export function parseIp(text: string): { value: bigint; bits: 32 | 128 } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (!text.includes(':')) return undefined;
  let addr = text.toLowerCase();
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hextets.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (tail) {
    const v = parseIp(tail[1]!);
    if (!v) return undefined;
    addr = `${addr.slice(0, -tail[1]!.length)}${(v.value >> 16n).toString(16)}:${(v.value & 0xffffn).toString(16)}`;
  }
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

// Parsing an address into a bigint costs more than the comparison; the same few addresses recur.
const IP_CACHE = new Map<string, ReturnType<typeof parseIp> | null>();
function cachedIp(text: string): ReturnType<typeof parseIp> {
  let ip = IP_CACHE.get(text);
  if (ip === undefined) {
    if (IP_CACHE.size >= 10_000) IP_CACHE.clear();
    ip = parseIp(text) ?? null;
    IP_CACHE.set(text, ip);
  }
  return ip ?? undefined;
}

/** A matcher for `cidr`: IPv4 or IPv6 network; throws on a malformed network. */
export function cidrMatcher(cidr: string): ScalarMatcher {
  const [addr, lenText] = cidr.split('/');
  const net = parseIp(addr ?? '');
  const len = lenText === undefined ? net?.bits : Number(lenText);
  if (!net || len === undefined || !Number.isInteger(len) || len < 0 || len > net.bits) throw new Error(`"${cidr}" is not an IPv4 or IPv6 network in CIDR notation`);
  const shift = BigInt(net.bits - len);
  const prefix = net.value >> shift;
  return (value) => {
    if (typeof value !== 'string') return false;
    const ip = cachedIp(value);
    return ip !== undefined && ip.bits === net.bits && ip.value >> shift === prefix;
  };
}

/** A number from a field value: numbers as they are, numeric strings parsed; otherwise undefined. */
export function numericOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
