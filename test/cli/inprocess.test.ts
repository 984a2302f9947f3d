// The CLI layer in-process, with injected stdio: argument handling and the
// one place where errors become exit codes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor, main } from '../../src/cli/main.js';
import { InputError, IoError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import { createTestIo } from '../helpers/io.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

describe('main', () => {
  it('runs set with the injected clock and environment', async () => {
    const t = createTestIo({ env: { PROMFILE_DIR: dir }, now: 1_700_000_000_500 });
    expect(await main(['set', '-f', 'clock', 'last_run_timestamp_seconds', 'now'], t.io)).toBe(0);
    expect(await readFile(join(dir, 'clock.prom'), 'utf8')).toContain('\nlast_run_timestamp_seconds 1700000000.5\n');
    expect(t.stderr()).toBe('');
  });

  it('write refuses a terminal on stdin instead of waiting for it', async () => {
    const t = createTestIo({ isTTY: true });
    expect(await main(['write', '--dir', dir, '-f', 'tty'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(/^promfile: write reads exposition text from stdin/);
  });

  it('write reads the injected stdin', async () => {
    const t = createTestIo({ stdin: 'injected_metric 4\n' });
    expect(await main(['write', '--dir', dir, '-f', 'injected', '--dry-run'], t.io)).toBe(0);
    expect(t.stdout()).toBe('# TYPE injected_metric untyped\ninjected_metric 4\n');
  });

  it('--owner needs root', async () => {
    const t = createTestIo({ uid: 1000 });
    expect(await main(['set', '--dir', dir, '-f', 'o', '--owner', 'nobody', 'm', '1'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(/--owner needs root/);
  });

  it('commander usage errors exit 2; help exits 0 on stdout', async () => {
    const bad = createTestIo();
    expect(await main(['set', '--no-such-flag'], bad.io)).toBe(2);
    expect(bad.stderr()).toMatch(/unknown option '--no-such-flag'/);
    const help = createTestIo();
    expect(await main(['set', '--help'], help.io)).toBe(0);
    expect(help.stdout()).toMatch(/Usage: promfile set/);
    expect(help.stderr()).toBe('');
  });
});

describe('exitCodeFor', () => {
  it.each([
    [new InputError('ERR_INVALID_ARGUMENT', 'bad'), 2, 'promfile: bad\n'],
    [new IoError('ERR_WRITE_FAILED', 'disk full'), 1, 'promfile: disk full\n'],
    [new TypeError('oops'), 70, 'promfile: internal error: oops\n'],
  ])('%s → %i', (error, code, message) => {
    const t = createTestIo();
    expect(exitCodeFor(error, t.io)).toBe(code);
    expect(t.stderr()).toBe(message);
  });
});
