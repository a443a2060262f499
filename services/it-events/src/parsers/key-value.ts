/**
 * Splits `key=value key2="quoted value"` text (FortiGate, many appliances)
 * into a record. Quoted values may contain spaces and `\"`; a key without
 * `=` ends parsing of that token. Returns undefined when fewer than
 * `minPairs` pairs were found (so prose is not taken for key=value data).
 */
export function parseKeyValues(text: string, minPairs = 3): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let count = 0;
  const re = /([A-Za-z_][\w.-]*)=("((?:[^"\\]|\\.)*)"|[^\s"]*)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!;
    out[m[1]!] = value;
    count++;
  }
  return count >= minPairs ? out : undefined;
}
