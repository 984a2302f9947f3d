// Durations need a unit: a bare `--timeout 2` was taken as seconds and then
// reported back as "timed out after 2".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration, positiveDuration } from '../../src/cli/duration.js';
import { promfile, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

describe('parseDuration', () => {
  it('reads units and sums them', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses a number without a unit, naming the flag and showing the number with one', () => {
    expect(() => parseDuration('5', '--every')).toThrow(/^--every "5" needs a unit, e.g\. 5s or 5m/);
    expect(() => parseDuration('2.5', '--timeout')).toThrow(/^--timeout "2\.5" needs a unit, e.g\. 2\.5s/);
    expect(() => positiveDuration('10', '--kill-after', true)).toThrow(/--kill-after "10" needs a unit/);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout "soon" is not a duration \(e\.g\. 500ms, 30s/);
  });
});

describe('the commands refuse durations without a unit', () => {
  it.each([
    [['run', '--dir', '.', '--job', 'j', '--every', '5', '--', 'true'], '--every'],
    [['run', '--dir', '.', '--job', 'j', '--timeout', '2', '--', 'true'], '--timeout'],
    [['write', '--dir', '.', '-f', 'w', '--timeout', '2', '--', 'true'], '--timeout'],
    [['set', '--dir', '.', '-f', 'w', '--lock-timeout', '3', 'm', '1'], '--lock-timeout'],
    [['gc', '--dir', '.', '--older-than', '7'], '--older-than'],
  ])('%j', (args, flag) => {
    const result = promfile(args.map((arg) => (arg === '.' ? dir : arg)));
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^promfile: ${flag} "\\d+" needs a unit, e\\.g\\. \\d+s`));
  });
});
