// The golden corpus: valid and invalid exposition files under test/fixtures.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** The peer corpus: $PROMFILE_PEER_CASES, else ../shared/peer-cases beside the checkout (or its worktree root). */
export const PEER_CASES = [
  process.env['PROMFILE_PEER_CASES'],
  join(ROOT, '..', 'shared', 'peer-cases'),
  join(ROOT, '..', '..', 'shared', 'peer-cases'),
]
  .filter((dir): dir is string => dir !== undefined)
  .find((dir) => existsSync(dir));

export type NodeExporterOutcome = 'rejects-file' | 'drops-series' | 'crashes' | 'accepts';

/** What node_exporter `minor` (e.g. `1.9`) does with an invalid fixture. */
export function outcomeFor(expected: InvalidCase, minor: string): NodeExporterOutcome {
  return minor === '1.9' ? (expected.nodeExporter19 ?? expected.nodeExporter) : expected.nodeExporter;
}

export interface InvalidCase {
  rule: string;
  line: number;
  /** What node_exporter 1.5.0 does with the file. */
  nodeExporter: NodeExporterOutcome;
  /** What 1.9.0 does, where it differs. */
  nodeExporter19?: NodeExporterOutcome;
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
