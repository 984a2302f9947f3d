// Every ```sh block of README.md and docs/*.md runs, as written, through the built
// promfile: one sandbox per document (its blocks run in order, as a reader would type
// them), PROMFILE_DIR pointed at a temp directory, each block under a time limit. A
// block that cannot run says why in a `<!-- not run: WHY -->` comment just before it;
// one that shows a failure says `<!-- exit N: WHY -->`. The README's first block must
// also work as root with no flag and no variable on Debian's layout: under CI, as root,
// it runs against the real /var/lib/prometheus/node-exporter, with Debian's node_exporter
// running over it as its own account, and the directory is restored afterwards.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_EXPORTER, PROMTOOL } from '../helpers/binaries.js';
import { BIN, NODE, ROOT, tempDir } from '../helpers/cli.js';
import { allBlocks, DOC_FILES, fencedBlocks, type FencedBlock } from '../helpers/docs.js';

const DEBIAN_DIR = '/var/lib/prometheus/node-exporter';
const BLOCK_SECONDS = 20;

interface Plan {
  readonly skip?: string;
  readonly exit: number;
}

/** What the comment before a block asks: skip it (with the reason), or expect an exit status. */
function planOf(block: FencedBlock): Plan {
  const note = block.note ?? '';
  const skip = /^not run:(.*)$/s.exec(note);
  if (skip) return { skip: (skip[1] as string).trim(), exit: 0 };
  const exit = /^exit (\d+):/.exec(note);
  return { exit: exit ? Number(exit[1]) : 0 };
}

/**
 * What a block runs that a developer's machine may lack (promtool, Debian's collector scripts):
 * outside CI such a block is skipped, under CI a missing one fails (as test/helpers/binaries.ts does).
 */
function missingFor(block: FencedBlock): string[] {
  const missing = /^promtool /m.test(block.code) && !PROMTOOL ? ['promtool'] : [];
  const scripts = block.code.match(/\/usr\/share\/prometheus-node-exporter-collectors\/[\w.-]+/g) ?? [];
  const lacking = [...missing, ...scripts.filter((path) => !existsSync(path))];
  if (lacking.length > 0 && process.env['CI'] === 'true')
    throw new Error(`${block.file}:${block.line} needs ${lacking.join(', ')} (see .ci/run)`);
  return lacking;
}

const shellBlocks = (file: string): FencedBlock[] => fencedBlocks(file).filter((block) => block.language === 'sh');

interface Sandbox {
  readonly work: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A directory to work in, a `promfile` on PATH that runs bin/promfile.js, and a textfile directory. */
async function sandbox(cleanups: (() => Promise<void>)[]): Promise<Sandbox> {
  const { dir, cleanup } = await tempDir('promfile-docblocks-');
  cleanups.push(cleanup);
  const bin = join(dir, 'bin');
  const work = join(dir, 'work');
  const textfile = join(dir, 'textfile');
  for (const path of [bin, work, textfile]) mkdirSync(path);
  writeFileSync(join(bin, 'promfile'), `#!/bin/sh\nexec ${JSON.stringify(NODE)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(join(bin, 'promfile'), 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    PROMFILE_DIR: textfile,
    HOME: work,
    TMPDIR: dir,
    NO_COLOR: '1',
  };
  return { work, env };
}

const BASH = ['bash', '--noprofile', '--norc', '-e', '-o', 'pipefail', '-c'];

/** Run a block with bash -e (the first failing command ends it), bounded; its whole process group is killed at the limit. */
function runBlock(code: string, cwd: string, env: NodeJS.ProcessEnv, prefix: string[] = BASH) {
  const result = spawnSync('timeout', ['-k', '2s', `${BLOCK_SECONDS}s`, ...prefix, code], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: (BLOCK_SECONDS + 5) * 1000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the documentation', () => {
  const blocks = allBlocks();

  it('has shell blocks, and each skipped one says why', () => {
    const shell = blocks.filter((block) => block.language === 'sh');
    expect(shell.length).toBeGreaterThan(15);
    const skipped = shell.filter((block) => planOf(block).skip !== undefined);
    for (const block of skipped) expect(planOf(block).skip, `${block.file}:${block.line}`).toMatch(/\w{3,}.*\w{3,}/);
    // Skips stay rare: most blocks run, here or (`not run: runs in test/FILE`) in a test that runs
    // them where they can run (test/e2e/systemd-container.test.ts: under a booted systemd).
    const elsewhere = skipped.filter((block) => {
      const file = /^runs in (test\/\S+\.test\.ts)$/.exec(planOf(block).skip ?? '')?.[1];
      return file !== undefined && existsSync(join(ROOT, file));
    });
    expect(skipped.length - elsewhere.length).toBeLessThan(shell.length / 3);
    // A comment that reads like a skip or an exit but is not one would be silently ignored.
    for (const block of blocks)
      if (block.note && /^(not run|exit)\b/i.test(block.note)) expect(block.note).toMatch(/^(not run:|exit \d+:)/);
  });

  it('marks every command-line block as sh: none hides as bash, shell, console or an unlabelled block', () => {
    for (const block of blocks) {
      expect(['bash', 'shell', 'console', 'shell-session'], `${block.file}:${block.line}`).not.toContain(block.language);
      if (block.language === '') expect(block.code, `${block.file}:${block.line}`).not.toMatch(/^\s*(\S+ \| )?promfile /m);
    }
  });
});

for (const file of DOC_FILES) {
  const blocks = shellBlocks(file);
  describe.skipIf(blocks.length === 0)(`${file}: its shell blocks`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    let box: Sandbox | undefined;
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    for (const block of blocks) {
      const plan = planOf(block);
      it.skipIf(plan.skip !== undefined || missingFor(block).length > 0)(
        `line ${block.line}${plan.exit ? ` exits ${plan.exit}` : ''}`,
        { timeout: (BLOCK_SECONDS + 10) * 1000 },
        async () => {
          box ??= await sandbox(cleanups);
          const result = runBlock(block.code, box.work, box.env);
          expect(result.status, `${file}:${block.line}\n${block.code}\n${result.output}`).toBe(plan.exit);
        },
      );
    }
  });
}

/** Every entry of a directory: its type and mode, and a regular file's bytes. */
function snapshot(dir: string): Map<string, { mode: number; bytes: Buffer | undefined }> {
  const entries = new Map<string, { mode: number; bytes: Buffer | undefined }>();
  for (const name of readdirSync(dir)) {
    const stat = lstatSync(join(dir, name));
    entries.set(name, { mode: stat.mode, bytes: stat.isFile() ? readFileSync(join(dir, name)) : undefined });
  }
  return entries;
}

/** Put the directory back as the snapshot had it: new entries removed, changed or removed files written again. */
function restore(dir: string, before: Map<string, { mode: number; bytes: Buffer | undefined }>): void {
  for (const [name, was] of before) {
    if (was.bytes && !existsSync(join(dir, name))) {
      writeFileSync(join(dir, name), was.bytes);
      chmodSync(join(dir, name), was.mode & 0o7777);
    }
  }
  for (const name of readdirSync(dir)) {
    const was = before.get(name);
    if (!was) rmSync(join(dir, name), { recursive: true, force: true });
    else if (was.bytes && !readFileSync(join(dir, name)).equals(was.bytes)) {
      writeFileSync(join(dir, name), was.bytes);
      chmodSync(join(dir, name), was.mode & 0o7777);
    }
  }
}

const asRootOnDebian = process.env['CI'] === 'true' && process.getuid?.() === 0 && existsSync(DEBIAN_DIR);

describe.skipIf(!asRootOnDebian)("the README's first block, as root on Debian's layout", () => {
  it(`runs verbatim with no --dir and no $PROMFILE_DIR, writing into ${DEBIAN_DIR}`, { timeout: (BLOCK_SECONDS + 10) * 1000 }, async () => {
    const cleanups: (() => Promise<void>)[] = [];
    const box = await sandbox(cleanups);
    const env = { ...box.env };
    delete env['PROMFILE_DIR'];
    const first = shellBlocks('README.md')[0] as FencedBlock;
    const written = /promfile set -f (\S+) /.exec(first.code)?.[1];
    expect(written).toBeDefined();
    const before = snapshot(DEBIAN_DIR);
    try {
      // Its own PID namespace: the node_exporters other tests start over temp directories
      // are not there to be discovered, as on a host whose only node_exporter is Debian's,
      // which runs beside the block: Debian's binary, as its account, over Debian's directory.
      const exporter = NODE_EXPORTER
        ? `runuser -u prometheus -- ${NODE_EXPORTER} --collector.textfile.directory=${DEBIAN_DIR} ` +
          '--web.listen-address=127.0.0.1:0 --collector.disable-defaults --collector.textfile 2>/dev/null & exporter=$!; ' +
          "trap 'kill $exporter 2>/dev/null; wait' EXIT; " +
          'for i in $(seq 50); do pgrep -u prometheus -f collector.textfile.directory >/dev/null && break; sleep 0.1; done; '
        : '';
      const wrapper = `${exporter}${BASH.map((word) => `'${word}'`).join(' ')} "$1"`;
      const result = runBlock(first.code, box.work, env, [
        'unshare',
        '--pid',
        '--fork',
        '--mount-proc',
        'bash',
        '-c',
        wrapper,
        'first-block',
      ]);
      expect(result.status, result.output).toBe(0);
      expect(readFileSync(join(DEBIAN_DIR, `${written as string}.prom`), 'utf8')).toMatch(/^\w+ \d+(\.\d+)?$/m);
    } finally {
      restore(DEBIAN_DIR, before);
      for (const cleanup of cleanups) await cleanup();
    }
    expect([...snapshot(DEBIAN_DIR).keys()].sort()).toEqual([...before.keys()].sort());
  });
});
