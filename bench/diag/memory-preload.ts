/**
 * Diagnostics preload (`node --expose-gc --import .../memory-preload.js`): on SIGWINCH (ignored by
 * default, unused by Bosun) writes `$BOSUN_MEMORY_DIR/mem-<pid>-<n>.json` with the process's memory
 * before and after a full garbage collection, and V8's heap spaces. That splits RSS into what the JS
 * heap holds, what it merely reserves, and what lies outside it (code, native modules, malloc).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';

export interface MemoryReport {
  readonly pid: number;
  readonly uptimeS: number;
  readonly before: Record<string, number>;
  readonly afterGc: Record<string, number>;
  readonly spaces: Record<string, { used: number; size: number }>;
}

const dir = process.env.BOSUN_MEMORY_DIR;
const mib = (m: NodeJS.MemoryUsage): Record<string, number> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round((v / 1e6) * 10) / 10]));

if (dir) {
  let n = 0;
  process.on('SIGWINCH', () => {
    const before = mib(process.memoryUsage());
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const afterGc = mib(process.memoryUsage());
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [
        s.space_name,
        {
          used: Math.round((s.space_used_size / 1e6) * 10) / 10,
          size: Math.round((s.space_size / 1e6) * 10) / 10,
        },
      ]),
    );
    const report: MemoryReport = {
      pid: process.pid,
      uptimeS: Math.round(process.uptime()),
      before,
      afterGc,
      spaces,
    };
    const file = join(dir, `mem-${process.pid}-${++n}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(report));
    writeFileSync(file, JSON.stringify(report));
  });
}
