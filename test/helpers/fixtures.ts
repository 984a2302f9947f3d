// The golden corpus: valid and invalid exposition files under test/fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures');

export type NodeExporterOutcome = 'rejects-file' | 'drops-series' | 'crashes' | 'accepts';

/** What node_exporter `minor` (e.g. `1.9`) does with an invalid fixture: 1.11 as 1.9 unless the manifest says otherwise. */
export function outcomeFor(expected: InvalidCase, minor: string): NodeExporterOutcome {
  if (minor === '1.11') return expected.nodeExporter111 ?? expected.nodeExporter19 ?? expected.nodeExporter;
  return minor === '1.9' ? (expected.nodeExporter19 ?? expected.nodeExporter) : expected.nodeExporter;
}

export interface InvalidCase {
  rule: string;
  line: number;
  /** What node_exporter 1.5.0 does with the file. */
  nodeExporter: NodeExporterOutcome;
  /** What 1.9.0 does, where it differs. */
  nodeExporter19?: NodeExporterOutcome;
  /** What 1.11.1 does, where it differs from 1.9.0. */
  nodeExporter111?: NodeExporterOutcome;
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
