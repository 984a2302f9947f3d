// What a start loads, counted rather than timed (times live in bench/cold-start.js): the
// Node.js internals a command pulls in beyond bare `node -e 0` are most of its start-up cost.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, NODE, ROOT, tempDir } from '../helpers/cli.js';

const RECORD = join(ROOT, 'test', 'fixtures', 'node-floor', 'record-modules.cjs');

describe('cold start: Node.js modules loaded beyond node -e 0', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let count = 0;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup?.());

  function loaded(args: string[]): string[] {
    const out = join(dir, `modules-${(count += 1)}`);
    const result = spawnSync(NODE, ['--require', RECORD, ...args], {
      env: { ...process.env, RECORD_MODULES: out },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    expect(result.status, String(result.stderr)).toBe(0);
    return readFileSync(out, 'utf8').split('\n').filter(Boolean);
  }

  function extra(args: string[]): string[] {
    const bare = new Set(loaded(['-e', '0']));
    return loaded([BIN, ...args]).filter((name) => !bare.has(name));
  }

  it('set loads child_process for its kernel lock (flock(1)), and little else', () => {
    // Since locks are flock(2) taken by util-linux flock(1), every write spawns it: child_process
    // (with the net and dgram modules it requires) is part of set's start now.
    const modules = extra(['set', '--dir', dir, '-f', 'x', 'm', '1']);
    expect(modules).toContain('NativeModule child_process');
    // set never reads stdin: its stream (fs.ReadStream for /dev/null) is not created.
    expect(modules).not.toContain('NativeModule internal/fs/streams');
    expect(modules.length).toBeLessThan(60);
  });

  it('--version loads nothing beyond node itself: answered before the CLI is evaluated', () => {
    expect(extra(['--version'])).toEqual([]);
  });

  it("printing creates no stdout stream (Node's stream modules), and nothing loads the ESM loader", () => {
    const printed = extra(['set', '--dry-run', '--file-path', join(dir, 'printed.prom'), 'printed', '1']);
    expect(printed).not.toContain('NativeModule internal/fs/sync_write_stream');
    const written = extra(['set', '--dir', dir, '-f', 'y', 'written', '1']);
    expect([...printed, ...written].filter((name) => name.includes('modules/esm'))).toEqual([]);
  });

  it('--version loads no command module (nothing of the file layer: fs/promises, os)', () => {
    const modules = extra(['--version']);
    expect(modules).not.toContain('NativeModule fs/promises');
    expect(modules).not.toContain('NativeModule os');
    expect(modules).not.toContain('NativeModule child_process');
  });
});
