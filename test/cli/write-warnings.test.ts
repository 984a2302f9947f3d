// Writers warn as check does: a series with a `job` or `instance` label was
// written silently, and only a later `check` said Prometheus renames it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/** check's target-label messages for one file. */
function checkSays(file: string): string[] {
  const result = promfile(['check', '--dir', dir, '-f', file, '--node-exporter', '1.9']);
  return [...result.stdout.matchAll(/warning: (label "\w+" of .*)$/gm)].map((match) => match[1] as string);
}

function warnings(stderr: string): string[] {
  return [...stderr.matchAll(/^promfile: warning: .*?(label "\w+" of .*)$/gm)].map((match) => match[1] as string);
}

describe('write-time target-label warnings', () => {
  it.each([
    ['set', ['set', '-f', 'set', 'm{job="x"}', '1'], undefined],
    ['set2', ['set', '-f', 'set2', 'm{instance="x"}', '1'], undefined],
    ['inc', ['inc', '-f', 'inc', 'c_total{instance="x"}'], undefined],
    ['observe', ['observe', '-f', 'observe', 'h_seconds{job="x"}', '1'], undefined],
    ['write', ['write', '-f', 'write'], '# TYPE w gauge\nw{job="x",instance="y"} 1\n'],
    ['dry', ['write', '-f', 'dry', '--format', 'json'], '# TYPE d gauge\nd{job="x"} 1\n'],
  ])('%s prints the warning check gives for the file', (file, args, input) => {
    const result = promfile([...args, '--dir', dir], input === undefined ? {} : { input });
    expect(result.status, result.stderr).toBe(0);
    const said = warnings(result.stderr);
    expect(said.length).toBeGreaterThan(0);
    expect(said).toEqual(checkSays(file));
    expect(result.stderr).toContain(join(dir, `${file}.prom`));
  });

  it('says nothing for series without target labels', () => {
    const result = promfile(['set', '--dir', dir, '-f', 'plain', 'm{shard="x"}', '1']);
    expect(result.stderr).toBe('');
  });
});
