// The golden corpus: valid and invalid exposition files under test/fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface InvalidCase {
  rule: string;
  line: number;
  nodeExporter: 'rejects-file' | 'drops-series' | 'crashes' | 'accepts';
  write: 'refuses' | 'fixes';
}

export function fixtureNames(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(FIXTURES, kind))
    .filter((name) => name.endsWith('.prom'))
    .sort();
}

export function readFixture(kind: 'valid' | 'invalid', name: string): Buffer {
  return readFileSync(join(FIXTURES, kind, name));
}

export function invalidCases(): Array<[string, InvalidCase]> {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'invalid', 'expected.json'), 'utf8')) as Record<string, InvalidCase | string>;
  const cases = Object.entries(manifest).filter((entry): entry is [string, InvalidCase] => typeof entry[1] !== 'string');
  const listed = new Set(cases.map(([name]) => name));
  for (const name of fixtureNames('invalid'))
    if (!listed.has(name)) throw new Error(`fixture invalid/${name} is missing from expected.json`);
  return cases;
}
