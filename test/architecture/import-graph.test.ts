/**
 * The layering of src/ (docs/design.md, "Layers"), checked on the source so it stays true: no import
 * cycle between files (type-only imports included: they are how a layer leaks its shape upward), and
 * no import from a folder to a folder on a higher layer.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Each folder of src/ (and each file at its top) and its layer: a file may import from its own folder
 * or from a folder on a lower layer, never from a higher one or a sibling on the same layer.
 */
export const LAYERS: Readonly<Record<string, number>> = {
  errors: 0,
  // Generic helpers (retry policy, coalescing task): they import nothing from the project.
  lib: 0,
  'log.ts': 0,
  'version.ts': 0,
  store: 1,
  cluster: 2,
  metrics: 2,
  actions: 3,
  users: 3,
  api: 4,
  client: 5,
  // The wiring: node/ builds one running node from the layers below; launcher/ starts a set of them;
  // cli/ is the program's entry point (`bosun start` runs a node).
  node: 6,
  launcher: 7,
  cli: 8,
};

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('could not find the repository root');
    dir = parent;
  }
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/** Relative imports of one file (static, `export ... from` and dynamic), as paths under src/. */
function importsOf(src: string, file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+'(\.[^']+)'/g),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((spec) => relative(src, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
}

function layerOf(path: string): string {
  return path.split('/')[0]!;
}

/** The strongly connected components with more than one file (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const src = join(repoRoot(), 'src');
  const graph = new Map(sourceFiles(src).map((f) => [relative(src, f), importsOf(src, f)]));

  it('names every folder of src/ in the layer table', () => {
    const unknown = [...new Set([...graph.keys()].map(layerOf))].filter((l) => !(l in LAYERS));
    assert.deepEqual(unknown, []);
  });

  it('has no cycles', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('points only downward, from a layer to a lower one', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        const [from, to] = [layerOf(file), layerOf(target)];
        if (from !== to && !(LAYERS[to]! < LAYERS[from]!)) upward.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });
});
