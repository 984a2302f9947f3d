// Every writer, every input mode, every attack: the one write pipeline means a
// new writer cannot skip a gate. Each case builds Debian's layout (the parent
// belongs to the exporter's account, the textfile directory to root), lets
// that account attack it, then runs the writer as root and checks that
// nothing reached a place the attacker cannot write, no temp file stayed, and
// a dry run ends exactly as the real run does.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateTextfile, writeRegistry, writeTextfile } from '../../src/index.js';
import { promfile, tempDir, type CliResult } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

interface Layout {
  readonly lib: string;
  readonly textfiles: string;
  /** Where the attacker would like root to write: root-only, it must stay as it is. */
  readonly elsewhere: string;
  readonly victim: string;
}

interface Attack {
  readonly name: string;
  /** Whether every writer must refuse (else it must succeed). */
  readonly refused: boolean;
  /** What a writer that checks the directory must say when it succeeds anyway. */
  readonly warns?: RegExp;
  apply(layout: Layout): void;
}

const ATTACKS: readonly Attack[] = [
  { name: "Debian's layout, untouched", refused: false, apply: () => undefined },
  {
    name: 'the textfile directory swapped for a link to a root-only directory',
    refused: true,
    apply: swapTextfileDirectory,
  },
  {
    name: 'a component above swapped for a link to a root-only tree',
    refused: true,
    apply: ({ lib, elsewhere }) => {
      mkdirSync(join(elsewhere, 'node-exporter'));
      renameSync(lib, `${lib}.old`);
      symlinkSync(elsewhere, lib);
    },
  },
  {
    name: 'a FIFO at the lock name',
    refused: true,
    apply: ({ textfiles }) => {
      expect(spawnSync('mkfifo', [join(textfiles, '.job.prom.lock')]).status).toBe(0);
    },
  },
  {
    name: 'a sparse 2 GiB *.prom beside the target',
    refused: false,
    warns: /^promfile: warning: .*huge\.prom was not read for the directory check/m,
    apply: ({ textfiles }) => expect(spawnSync('truncate', ['-s', '2G', join(textfiles, 'huge.prom')]).status).toBe(0),
  },
  {
    name: 'a *.prom whose name is not UTF-8 beside the target',
    refused: false,
    warns: /^promfile: warning: .*whose name is not valid UTF-8/m,
    apply: ({ textfiles }) => writeFileSync(Buffer.from(`${textfiles}/bad\xff.prom`, 'latin1'), 'hostile 1\n'),
  },
  {
    name: 'a textfile directory every user may write, not sticky',
    refused: true,
    apply: ({ textfiles }) => chmodSync(textfiles, 0o777),
  },
];

/** A command line per writer and input mode; `input` is its stdin. */
const WRITERS: ReadonlyArray<{ readonly name: string; readonly args: (dir: string) => string[]; readonly input?: string }> = [
  { name: 'set', args: (dir) => ['set', '--dir', dir, '-f', 'job', 'matrix_value', '1'] },
  { name: 'inc', args: (dir) => ['inc', '--dir', dir, '-f', 'job', 'matrix_total'] },
  { name: 'observe', args: (dir) => ['observe', '--dir', dir, '-f', 'job', 'matrix_seconds', '0.5'] },
  { name: 'unset', args: (dir) => ['unset', '--dir', dir, '-f', 'job', 'matrix_value'] },
  { name: 'rm', args: (dir) => ['rm', '--dir', dir, '-f', 'job'] },
  { name: 'write from stdin', args: (dir) => ['write', '--dir', dir, '-f', 'job'], input: 'matrix_value 1\n' },
  {
    name: 'write --from openmetrics',
    args: (dir) => ['write', '--dir', dir, '-f', 'job', '--from', 'openmetrics'],
    input: '# TYPE matrix_value gauge\nmatrix_value 1\n# EOF\n',
  },
  {
    name: 'write --escape-names',
    args: (dir) => ['write', '--dir', dir, '-f', 'job', '--escape-names', 'underscores'],
    input: '{"matrix.value"} 1\n',
  },
  { name: 'write -- COMMAND', args: (dir) => ['write', '--dir', dir, '-f', 'job', '--', 'printf', 'matrix_value 1\\n'] },
  { name: 'run', args: (dir) => ['run', '--dir', dir, '--job', 'job', '--', 'true'] },
];

/** What the real run and its dry run (where the command has one) did. */
function runBoth(writer: (typeof WRITERS)[number], dir: string): { real: CliResult; dry: CliResult | undefined } {
  const options = writer.input === undefined ? {} : { input: writer.input };
  const args = writer.args(dir);
  const hasDryRun = !['run', 'observe', 'inc'].includes(writer.name);
  const split = args.indexOf('--');
  const dryArgs = split < 0 ? [...args, '--dry-run'] : [...args.slice(0, split), '--dry-run', ...args.slice(split)];
  const dry = hasDryRun ? promfile(dryArgs, options) : undefined;
  return { real: promfile(args, options), dry };
}

/** Debian's layout under `root`: the parent belongs to the exporter's account, the textfile directory (holding job.prom) to root. */
function debianLayout(root: string): Layout {
  const lib = join(root, 'prometheus');
  const textfiles = join(lib, 'node-exporter');
  const elsewhere = join(root, 'root-only');
  mkdirSync(textfiles, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  mkdirSync(elsewhere, { mode: 0o700 });
  const victim = join(elsewhere, 'job.prom');
  writeFileSync(victim, 'root_only_secret 1\n');
  writeFileSync(join(textfiles, 'job.prom'), '# TYPE matrix_value gauge\nmatrix_value 0\n');
  chownSync(lib, NOBODY, NOBODY);
  return { lib, textfiles, elsewhere, victim };
}

/** What the parent's owner can do between two runs: the textfile directory swapped for a link to a root-only one. */
function swapTextfileDirectory({ textfiles, elsewhere }: Layout): void {
  renameSync(textfiles, `${textfiles}.old`);
  symlinkSync(elsewhere, textfiles);
}

/** Every entry under `dir`, recursively, with the content of each file. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path] = entry.isFile() ? readFileSync(path, 'utf8') : entry.isFIFO() ? 'fifo' : 'dir';
  }
  return out;
}

describe.skipIf(!isRoot)('every writer and input mode against every attack', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let counter = 0;
  beforeAll(async () => ({ dir: base, cleanup } = await tempDir('promfile-matrix-')));
  afterAll(() => cleanup());

  const layout = (): Layout => debianLayout(join(base, `case-${++counter}`));

  for (const attack of ATTACKS)
    for (const writer of WRITERS)
      it(`${writer.name}: ${attack.name}`, () => {
        const place = layout();
        attack.apply(place);
        const before = snapshot(place.elsewhere);
        const { real, dry } = runBoth(writer, place.textfiles);
        expect(real.signal, real.stderr).toBeNull();
        // run records its job whatever happens to its metrics: a refused write is its warning, the job's status its exit.
        if (writer.name === 'run') {
          expect(real.status, real.stderr).toBe(0);
          if (attack.refused) expect(real.stderr).toMatch(/^promfile: warning: .*(symbolic link|FIFO|writable by every user)/m);
          else if (attack.warns) expect(real.stderr).toMatch(attack.warns);
          else expect(real.stderr).toBe('');
        } else if (attack.refused) {
          expect(real.status, real.stderr).toBe(1);
          expect(real.stderr.split('\n')).toHaveLength(2);
        } else {
          expect(real, real.stderr).toMatchObject({ status: 0 });
          // rm and unset only take away, which cannot make node_exporter drop more: they read no other file.
          // Every writer that adds judges the directory and says what it could not.
          if (attack.warns && !['rm', 'unset'].includes(writer.name)) expect(real.stderr).toMatch(attack.warns);
        }
        if (dry) expect({ status: dry.status, stderr: dry.stderr }).toEqual({ status: real.status, stderr: real.stderr });
        expect(snapshot(place.elsewhere)).toEqual(before);
        expect(readFileSync(place.victim, 'utf8')).toBe('root_only_secret 1\n');
        const left = readdirSync(place.lib, { recursive: true }).map(String);
        expect(left.filter((name) => name.includes('.tmp-'))).toEqual([]);
      });
});

describe.skipIf(!isRoot)("the library's writers against the same attacks", () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let counter = 0;
  beforeAll(async () => ({ dir: base, cleanup } = await tempDir('promfile-matrix-lib-')));
  afterAll(() => cleanup());

  const registry = { metrics: () => Promise.resolve('# TYPE matrix_value gauge\nmatrix_value 1\n') };
  const family = {
    name: 'matrix_value',
    type: 'gauge',
    help: undefined,
    samples: [{ name: 'matrix_value', labels: {}, value: 1 }],
  } as const;
  const LIBRARY: ReadonlyArray<{ readonly name: string; write(dir: string): Promise<unknown> }> = [
    { name: 'writeTextfile', write: (dir) => writeTextfile(dir, [family], { name: 'job' }) },
    { name: 'updateTextfile', write: (dir) => updateTextfile(join(dir, 'job.prom'), () => [family]) },
    { name: 'updateTextfile (dry run)', write: (dir) => updateTextfile(join(dir, 'job.prom'), () => [family], { dryRun: true }) },
    { name: 'writeRegistry', write: (dir) => writeRegistry(registry, { dir, name: 'job' }) },
  ];

  for (const attack of ATTACKS)
    for (const writer of LIBRARY)
      it(`${writer.name}: ${attack.name}`, async () => {
        const { textfiles, elsewhere, ...place } = debianLayout(join(base, `case-${++counter}`));
        attack.apply({ textfiles, elsewhere, ...place });
        const before = snapshot(elsewhere);
        const outcome = await writer.write(textfiles).then(
          () => 'written',
          (error: unknown) => (error instanceof Error ? error.constructor.name : 'thrown'),
        );
        expect(outcome).toBe(attack.refused ? 'IoError' : 'written');
        expect(snapshot(elsewhere)).toEqual(before);
      });
});

describe.skipIf(!isRoot)('gc against the same swaps', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: base, cleanup } = await tempDir('promfile-matrix-gc-')));
  afterAll(() => cleanup());

  it('a link swapped in for the textfile directory makes root delete nothing where it points', () => {
    const place = debianLayout(base);
    const { textfiles, elsewhere } = place;
    const old = new Date(Date.now() - 3_600_000);
    for (const name of ['precious.prom.tmp-0123456789abcdef', '.precious.prom.lock', 'precious.prom']) {
      writeFileSync(join(elsewhere, name), 'root_only_secret 1\n');
      utimesSync(join(elsewhere, name), old, old);
    }
    swapTextfileDirectory(place);
    const before = snapshot(elsewhere);
    const result = promfile(['gc', '--dir', textfiles, '--older-than', '1m']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is a symbolic link/);
    expect(snapshot(elsewhere)).toEqual(before);
  });
});
