/** Reading and writing bench/results/<section>.json. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { MachineInfo } from './machine.js';

/** The repository's bench/results folder (the compiled file lives in dist/bench/lib). */
export const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface SectionResult<T = unknown> {
  readonly section: string;
  readonly mode: 'quick' | 'full';
  readonly machine: MachineInfo;
  /** Wall-clock duration of the section, in s. */
  readonly durationS: number;
  readonly settings: Record<string, unknown>;
  readonly results: T;
}

export function writeResult<T>(result: SectionResult<T>): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${result.section}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

export function readResult<T>(section: string): SectionResult<T> | undefined {
  const path = join(resultsDir, `${section}.json`);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as SectionResult<T>;
}
