// systemd itself as the judge of unit files, offline: `systemd --test` loads units
// with the manager's own parser (load-fragment.c) and dumps them, each ExecStart=
// as the argv it parsed; `systemd-analyze verify` checks a unit as `systemctl` would
// load it. Neither needs a running systemd.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';

/** The manager binary, which `--test` runs as a dry run (not as root: it refuses). */
const MANAGER = ['/lib/systemd/systemd', '/usr/lib/systemd/systemd'].find((path) => existsSync(path));
if (!MANAGER && process.env['CI'] === 'true') throw new Error('/lib/systemd/systemd is missing, and CI=true makes that a failure');
export const SYSTEMD_MANAGER = MANAGER;
export const SYSTEMD_ANALYZE = requireBinary('systemd-analyze');

/** What the manager loaded of one unit: its load state, its `Key: value` lines, and each command line's words. */
export interface LoadedUnit {
  readonly loadState: string | undefined;
  readonly fields: ReadonlyMap<string, string>;
  readonly commandLines: readonly (readonly string[])[];
}

const NAMED: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/**
 * The words of a dumped `Command Line:` (quote_command_line: a word with anything
 * special in double quotes, `\`-escaping `"`, `\`, `` ` `` and `$`, C escapes for
 * control characters), as bytes decoded to UTF-8.
 */
export function dumpedWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    const bytes: number[] = [];
    const quoted = line[i] === '"';
    if (quoted) i++;
    while (i < line.length && (quoted ? line[i] !== '"' : line[i] !== ' ')) {
      const char = String.fromCodePoint(line.codePointAt(i) as number);
      if (char !== '\\') {
        bytes.push(...Buffer.from(char));
        i += char.length;
        continue;
      }
      const next = line[i + 1] as string;
      const octal = /^[0-7]{3}/.exec(line.slice(i + 1));
      const hex = /^x([0-9a-fA-F]{2})/.exec(line.slice(i + 1));
      if (octal) bytes.push(parseInt(octal[0], 8));
      else if (hex) bytes.push(parseInt(hex[1] as string, 16));
      else if (NAMED[next] !== undefined) bytes.push(NAMED[next]);
      else bytes.push(...Buffer.from(next));
      i += 2 + (octal ? 2 : hex ? 2 : 0);
    }
    if (quoted) i++;
    words.push(Buffer.from(bytes).toString('utf8'));
  }
  return words;
}

/** The argv systemd runs from parsed words: `$$` becomes `$` when it starts the service (replace_env_argv). */
export function execArgv(words: readonly string[]): string[] {
  return words.map((word) => word.replace(/\$\$/g, '$'));
}

function parseDump(dump: string): Map<string, LoadedUnit> {
  const units = new Map<string, { loadState: string | undefined; fields: Map<string, string>; commandLines: string[][] }>();
  let current: { loadState: string | undefined; fields: Map<string, string>; commandLines: string[][] } | undefined;
  for (const line of dump.split('\n')) {
    const unit = /^\t-> Unit (.+):$/.exec(line);
    if (unit) {
      current = { loadState: undefined, fields: new Map(), commandLines: [] };
      units.set(unit[1] as string, current);
      continue;
    }
    const command = /^\t\t\tCommand Line: (.*)$/.exec(line);
    if (command && current) current.commandLines.push(dumpedWords(command[1] as string));
    const field = /^\t\t([^\t:][^:]*): (.*)$/.exec(line);
    if (field && current) {
      if (field[1] === 'Unit Load State') current.loadState = field[2];
      if (!current.fields.has(field[1] as string)) current.fields.set(field[1] as string, field[2] as string);
    }
  }
  return units;
}

/**
 * Load unit files (name → text) with the real manager in test mode and return what
 * it made of each. A target that wants them all is the unit it starts, so each is
 * loaded. As root the manager runs as nobody (test mode refuses root).
 */
export function loadUnits(files: Readonly<Record<string, string>>): Map<string, LoadedUnit> {
  if (!MANAGER) throw new Error('no systemd manager binary');
  const dir = mkdtempSync(join(tmpdir(), 'promfile-units-'));
  try {
    chmodSync(dir, 0o755);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
    writeFileSync(join(dir, 'promfile-test.target'), `[Unit]\nWants=${Object.keys(files).join(' ')}\n`, { mode: 0o644 });
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const argv = [
      ...asNobody,
      'env',
      `SYSTEMD_UNIT_PATH=${dir}:`,
      MANAGER,
      '--test',
      '--system',
      '--no-pager',
      '--unit=promfile-test.target',
    ];
    const result = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    if (result.status !== 0) throw new Error(`systemd --test exited ${result.status}: ${result.stderr}`);
    return parseDump(result.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `systemd-analyze verify` over unit files on disk: its exit status and everything it printed. */
export function verifyUnits(paths: readonly string[]): { status: number | null; output: string } {
  if (!SYSTEMD_ANALYZE) throw new Error('no systemd-analyze');
  const result = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', ...paths], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
