/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and ranks functions by self time and by inclusive
 * time, so a profile can be quoted as evidence in a few lines.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionCost {
  readonly fn: string;
  /** ms */
  readonly self: number;
  readonly selfPct: number;
  readonly total: number;
  readonly totalPct: number;
}

export interface ProfileSummary {
  /** Profile duration, ms. */
  readonly durationMs: number;
  /** Sampled time not idle (program, GC and JS), ms. */
  readonly busyMs: number;
  readonly bySelf: FunctionCost[];
  readonly byTotal: FunctionCost[];
  /** Bosun's own functions (dist/src/), by inclusive time: what Bosun adds on top of its libraries. */
  readonly ownByTotal: FunctionCost[];
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/') : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idleUs = 0;
  let allUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    allUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  const busyUs = allUs - idleUs;
  const rank = (
    m: Map<string, number>,
    key: 'self' | 'total',
    keep: (fn: string) => boolean = () => true,
  ): FunctionCost[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .filter(([fn]) => (!['(root)', '(program)'].includes(fn) || key === 'self') && keep(fn))
      .slice(0, top)
      .map(([fn]) => {
        const s = self.get(fn) ?? 0;
        const t = total.get(fn) ?? 0;
        return {
          fn,
          self: Math.round(s / 100) / 10,
          selfPct: Math.round((s / busyUs) * 1000) / 10,
          total: Math.round(t / 100) / 10,
          totalPct: Math.round((t / busyUs) * 1000) / 10,
        };
      });
  return {
    durationMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busyUs / 1000),
    bySelf: rank(self, 'self'),
    byTotal: rank(total, 'total'),
    ownByTotal: rank(total, 'total', (fn) => fn.includes(' dist/src/')),
  };
}
