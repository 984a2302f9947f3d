// Options shared by the commands that address one textfile.
import type { Command, Option } from 'commander';
import { InputError } from '../errors.js';
import { chooseDirectory } from '../inspect/discover.js';
import { parseDuration } from './duration.js';
import { resolveOwner } from './owner.js';
import type { Problem } from '../format/types.js';
import { DEFAULT_TEXTFILE_DIR, resolveTarget } from '../textfile/files.js';
import type { UpdateOptions } from '../textfile/update.js';
import type { CliIo } from './io.js';

export interface TargetFlags {
  dir?: string;
  file?: string;
  filePath?: string;
}

export interface WriteFlags extends TargetFlags {
  mkdir?: boolean;
  mode?: string;
  owner?: string;
  lockTimeout?: string;
}

export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '--dir <dir>',
      `textfile directory (default: $PROMFILE_DIR, else a running node_exporter's textfile directory, else ${DEFAULT_TEXTFILE_DIR})`,
    )
    .option('-f, --file <name>', 'write <dir>/<name>.prom')
    .option('--file-path <path>', 'write this .prom path instead of --dir/--file');
}

/** Options of the commands that change or remove an existing file (unset, rm): where, and the lock. */
export function addLockOptions(command: Command): Command {
  return addTargetOptions(command).option('--lock-timeout <duration>', 'how long to wait for the file lock', '30s');
}

/** Options of the commands that create files: also the directory, mode and owner. */
export function addWriteOptions(command: Command): Command {
  return addLockOptions(
    command
      .option('--mkdir', 'create the directory if it is missing')
      .option('--mode <octal>', 'file mode (node_exporter running as another user needs o+r)', '0644')
      .option('--owner <user:group>', 'chown the file (root only)'),
  );
}

export function formatOption(program: Command): Option {
  return program
    .createOption('--format <format>', 'json: print one object (file, changed as series, written, warnings) on stdout')
    .choices(['text', 'json'])
    .default('text');
}

export function typeOption(program: Command): Option {
  return program
    .createOption('--type <type>', 'metric type of new families (default: counter for *_total, else gauge)')
    .choices(['gauge', 'counter', 'untyped']);
}

/**
 * The textfile directory: --dir, then $PROMFILE_DIR, then the directory a
 * running node_exporter reads (/proc/<pid>/cmdline), then the Debian default.
 */
export function resolveDirectory(flags: TargetFlags, io: CliIo): string {
  return chooseDirectory({ flag: flags.dir, env: io.env, uid: io.uid }).dir;
}

/** The target path from -f or --file-path (exactly one). */
export function targetPath(flags: TargetFlags, io: CliIo): string {
  if (flags.file !== undefined && flags.filePath !== undefined)
    throw new InputError('ERR_INVALID_ARGUMENT', '-f/--file and --file-path cannot be used together');
  if (flags.filePath !== undefined) return resolveTarget({ path: flags.filePath });
  if (flags.file === undefined)
    throw new InputError('ERR_INVALID_ARGUMENT', 'which file? give -f NAME (for <dir>/NAME.prom) or --file-path PATH');
  return resolveTarget({ dir: resolveDirectory(flags, io), name: flags.file });
}

/** Library options from the write flags. */
export async function writeOptions(flags: WriteFlags, io: CliIo): Promise<UpdateOptions> {
  const mode = flags.mode ?? '0644';
  if (!/^0?[0-7]{3}$/.test(mode)) throw new InputError('ERR_INVALID_ARGUMENT', `--mode "${mode}": expected an octal mode such as 0644`);
  let owner;
  if (flags.owner !== undefined) {
    if (io.uid !== 0) throw new InputError('ERR_INVALID_ARGUMENT', '--owner needs root (only root can give a file to another user)');
    owner = await resolveOwner(flags.owner);
  }
  // node_exporter runs as its own user (Debian: prometheus): without o+r it reads the file only through --owner.
  if ((parseInt(mode, 8) & 0o004) === 0 && owner === undefined)
    io.stderr.write(
      `promfile: warning: --mode ${mode}: node_exporter running as another user cannot read the file (it needs o+r, or --owner)\n`,
    );
  return {
    mode: parseInt(mode, 8),
    mkdir: flags.mkdir === true,
    lockTimeoutMs: parseDuration(flags.lockTimeout ?? '30s', '--lock-timeout'),
    ...(owner ? { owner } : {}),
  };
}

/** Collect repeated `-l k=v` values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Print notices once per rule, with a count, so a million stripped timestamps make one line. */
export function reportNotices(problems: readonly Problem[], io: CliIo, source: string): void {
  const byRule = new Map<string, { first: Problem; count: number }>();
  for (const problem of problems) {
    const entry = byRule.get(problem.rule);
    if (entry) entry.count++;
    else byRule.set(problem.rule, { first: problem, count: 1 });
  }
  for (const { first, count } of byRule.values()) {
    const where = first.line === undefined ? '' : `line ${first.line}: `;
    const more = count > 1 ? ` (and ${count - 1} more like it)` : '';
    io.stderr.write(`promfile: warning: ${source}: ${where}${first.message}${more}\n`);
  }
}
