// Imports go one way: cli → inspect, job, push → textfile → format. This
// reads every import in src/ and fails on one that points up or sideways,
// and on any cycle of imports (within a folder too).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** Rank of each folder; a module may import only lower ranks, or its own folder. */
const LAYERS: Record<string, number> = { format: 0, textfile: 1, inspect: 2, job: 2, push: 2, api: 3, cli: 4 };

function folderOf(file: string): string {
  if (file === 'src/index.ts') return 'api';
  if (file === 'src/errors.ts') return 'format'; // the shared error classes sit at the bottom
  const folder = file.split('/')[1];
  if (folder === undefined || !(folder in LAYERS)) throw new Error(`${file} is in no layer folder`);
  return folder;
}

/** The reason an import breaks the direction, or undefined when it is allowed. */
export function importViolation(from: string, to: string): string | undefined {
  const a = folderOf(from);
  const b = folderOf(to);
  if (a === b || (LAYERS[b] ?? Infinity) < (LAYERS[a] ?? -Infinity)) return undefined;
  return `${from} imports ${to}: ${a} may not import ${b}`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(`${dir}/${entry.name}`) : entry.name.endsWith('.ts') ? [`${dir}/${entry.name}`] : [],
  );
}

/** Relative imports of a file (static, type-only and dynamic), resolved to src/ paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] ?? '');
  return specifiers.map((spec) => posix.normalize(posix.join(dirname(file), spec)).replace(/\.js$/, '.ts'));
}

/**
 * The import cycles of `graph` (file → the files it imports), each once, as
 * the files along it from its first file (in sort order) back to that file.
 */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (path: readonly string[]): void => {
    for (const next of graph.get(path[path.length - 1] as string) ?? []) {
      const at = path.indexOf(next);
      if (at === -1) {
        visit([...path, next]);
        continue;
      }
      const cycle = path.slice(at);
      // The same cycle starts from its smallest file, however it was entered.
      const first = cycle.indexOf([...cycle].sort()[0] as string);
      const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
      cycles.set(rotated.join(' → '), [...rotated, rotated[0] as string]);
    }
  };
  for (const file of [...graph.keys()].sort()) visit([file]);
  return [...cycles.values()];
}

describe('layers', () => {
  it('every import in src/ points down a layer or stays in its folder', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(20);
    const violations = files.flatMap((file) => importsOf(file).flatMap((target) => importViolation(file, target) ?? []));
    expect(violations).toEqual([]);
  });

  it('no import cycle in src/ (type-only and dynamic imports count)', () => {
    const files = sourceFiles('src');
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    expect(importCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('the cycle check finds every cycle once, and none in a graph without one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a', 'b']],
    ]);
    expect(importCycles(graph)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'd'],
    ]);
    expect(
      importCycles(
        new Map([
          ['b', ['c']],
          ['c', ['a']],
          ['a', ['b']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
    expect(
      importCycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('the check catches an upward and a sideways import', () => {
    expect(importViolation('src/format/render.ts', 'src/textfile/lock.ts')).toMatch(/format may not import textfile/);
    expect(importViolation('src/job/run.ts', 'src/push/gateway.ts')).toMatch(/job may not import push/);
    expect(importViolation('src/textfile/update.ts', 'src/cli/io.ts')).toMatch(/textfile may not import cli/);
    expect(importViolation('src/index.ts', 'src/cli/main.ts')).toMatch(/api may not import cli/);
    expect(importViolation('src/cli/main.ts', 'src/format/parse.ts')).toBeUndefined();
    expect(relative(ROOT, join(ROOT, 'src'))).toBe('src');
  });
});
