// What a start loads, counted rather than timed (times live in bench/cold-start.js): the
// Node.js internals a command pulls in beyond bare `node -e 0` are most of its start-up cost.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/main.js';
import { BIN, NODE, ROOT, tempDir } from '../helpers/cli.js';
import { createTestIo } from '../helpers/io.js';

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

describe('cold start: only the named command is declared and loaded', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup?.());

  const { io } = createTestIo();
  async function declared(args: string[]): Promise<string[]> {
    return (await createProgram(io, { exitCode: 0 }, args)).commands.map((command) => command.name());
  }

  it('declares the named command alone, and every command for help, typos and completion', async () => {
    expect(await declared(['set', '-f', 'x', 'm', '1'])).toEqual(['set']);
    expect(await declared(['run', '--job', 'x', '--', 'true'])).toEqual(['run']);
    expect(await declared(['rules'])).toEqual(['rules']);
    const all = ['set', 'write', 'unset', 'rm', 'run', 'inc', 'unit', 'check', 'ls', 'gc', 'push', 'observe', 'rules', 'completion'];
    for (const args of [[], ['--help'], ['sett'], ['completion', 'bash'], ['toString']]) expect(await declared(args)).toEqual(all);
  });

  /** The modules of dist/cli (tsc's ESM output) that `promfile ...args` resolves, recorded by a resolve hook. */
  function cliModules(args: string[]): string[] {
    const record = join(dir, `urls-${args[0]}`);
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(record)}, result.url + '\\n');
  return result;
}`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const entry = join(dir, 'entry.mjs');
    const main = pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href;
    writeFileSync(entry, `import { runCli } from ${JSON.stringify(main)};\nprocess.exitCode = await runCli();\n`);
    // This Node.js, not PROMFILE_TEST_NODE: module.register needs Node 20.6, and what loads what is the same.
    const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, entry, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    expect(result.status, String(result.stderr)).toBe(0);
    const cli = `${pathToFileURL(join(ROOT, 'dist', 'cli')).href}/`;
    const urls = readFileSync(record, 'utf8').split('\n');
    return [...new Set(urls.filter((url) => url.startsWith(cli)).map((url) => url.slice(cli.length)))];
  }

  it("set loads its own declaration and action, no other command's", () => {
    const modules = cliModules(['set', '--dir', dir, '-f', 'x', 'm', '1']);
    expect(modules).toEqual(expect.arrayContaining(['write-commands.js', 'commands/set.js']));
    expect(modules.filter((name) => name.startsWith('commands/'))).toEqual(['commands/set.js']);
    expect(modules.filter((name) => name.endsWith('-commands.js'))).toEqual(['write-commands.js']);
  });

  it("run loads its own declaration and action, not inc's", () => {
    const modules = cliModules(['run', '--dir', dir, '--job', 'j', '--', 'true']);
    expect(modules.filter((name) => name.startsWith('commands/'))).toEqual(['commands/run.js']);
    expect(modules.filter((name) => name.endsWith('-commands.js'))).toEqual(['run-commands.js']);
  });
});
