/**
 * The cluster's own web origins: every member's HTTP and HTTPS listener, by its advertised address
 * and its hostname (and `localhost`/`127.0.0.1` for a loopback address). The dashboard served by one
 * node may talk to any other node when its own dies (docs/decisions.md, "Dashboard: talking to the
 * other nodes"), so the page's Content-Security-Policy lists these origins in `connect-src` and the
 * API lets them read its answers (cluster-cors.ts). Nothing outside the cluster is ever listed.
 */
import type { MemberState } from '../cluster/cluster-read-model.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

function hostsOf(m: MemberState): string[] {
  const hosts = new Set([m.member.addr, m.member.hostname]);
  if (LOOPBACK.test(m.member.addr)) for (const h of ['localhost', '127.0.0.1']) hosts.add(h);
  // An IPv6 literal is written in brackets in an origin.
  return [...hosts]
    .filter((h) => h !== '')
    .map((h) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h));
}

/** Every origin a member of the cluster serves the dashboard and the API from. */
export function clusterOrigins(members: readonly MemberState[]): Set<string> {
  const out = new Set<string>();
  for (const m of members) {
    for (const host of hostsOf(m)) {
      out.add(`http://${host}:${m.member.http_port}`);
      out.add(`https://${host}:${m.member.https_port}`);
    }
  }
  return out;
}
