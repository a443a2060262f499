import { connect } from 'node:net';

/** GET on the analytics API with the run's API key; throws with the body on anything but 200. */
export async function apiGet<T>(api: { url: string; key: string }, path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  const url = new URL(path, api.url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const res = await fetch(url, { headers: { 'X-API-Key': api.key }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url.pathname}${url.search}: ${res.status} ${text.slice(0, 2000)}`);
  return JSON.parse(text) as T;
}

/** Every page of a paged endpoint (`next` cursor) concatenated. */
export async function apiGetAll<P extends { next: string | null }, T>(api: { url: string; key: string }, path: string, query: Record<string, string | number | undefined>, items: (page: P) => T[]): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await apiGet<P>(api, path, { ...query, cursor });
    out.push(...items(page));
    if (!page.next) return out;
    cursor = page.next;
  }
}

/** PAN-OS time as GlobalProtect writes it (`2026/11/25 08:05:00`), in UTC. */
function panTime(t: Date): string {
  return t.toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, '/');
}

/**
 * A GlobalProtect gateway logon as the firewall sends it over syslog: `user`
 * from `publicIp`, the VPN assigning `privateIp`, authenticated with LDAP (the
 * log names no second factor).
 */
export function globalProtectLogon(t: Date, user: string, publicIp: string, privateIp: string): string {
  const csv = `1,${panTime(t)},012801000001,GLOBALPROTECT,0,2561,${panTime(t)},vsys1,gateway-auth,login,LDAP,SSL,${user},DE,ENG-LAPTOP-7,${publicIp},0.0.0.0,${privateIp},0:0:0:0:0:0:0:0,host-7,SN7,6.2.1,Microsoft Windows,10,1,,,"GlobalProtect gateway user authentication succeeded",success,,0,user-logon,0,gp-gateway,1234,0x0`;
  return `<134>1 ${t.toISOString()} pa-fw01 globalprotect - - - ${csv}`;
}

/** Sends syslog lines over TCP (LF framing) and closes the connection once they are written. */
export async function sendSyslogTcp(port: number, lines: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end(lines.map((l) => `${l}\n`).join(''), () => resolve());
    });
    socket.once('error', reject);
  });
}
