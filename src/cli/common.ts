// Options shared by the commands that address one textfile.
import { dirname } from 'node:path';
import type { Command, Option } from 'commander';
import { InputError } from '../errors.js';
import { collectorNamesFor } from '../inspect/collectors.js';
import { chooseDirectory, chooseProfile, type ChosenProfile } from '../inspect/discover.js';
import { parseDuration } from './duration.js';
import { resolveOwner } from './owner.js';
import { KNOWN_VERSIONS, type Profile, type ProfileChoice } from '../format/profile.js';
import type { Problem } from '../format/types.js';
import { DEFAULT_MODE, DEFAULT_TEXTFILE_DIR, resolveTarget } from '../textfile/files.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../textfile/lock.js';
import type { UpdateOptions } from '../textfile/update.js';
import type { CliIo } from './io.js';

/** The library's defaults, spelled as the flags take them. */
const MODE_DEFAULT = `0${DEFAULT_MODE.toString(8)}`;
const LOCK_TIMEOUT_DEFAULT = `${DEFAULT_LOCK_TIMEOUT_MS / 1000}s`;

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
  /** --node-exporter: whose rules to judge by. */
  nodeExporter?: string;
  /** false with --no-dir-check; undefined where the command has no directory check. */
  dirCheck?: boolean;
  trustParent?: boolean;
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
  return addTargetOptions(command)
    .option('--lock-timeout <duration>', 'how long to wait for the file lock', LOCK_TIMEOUT_DEFAULT)
    .addOption(command.createOption('--trust-parent', 'no longer needed; does nothing').hideHelp());
}

/** Options of the commands that create files: also the directory, mode and owner. */
export function addWriteOptions(command: Command): Command {
  return addLockOptions(
    command
      .option('--mkdir', 'create the directory if it is missing')
      .option('--mode <octal>', 'file mode (node_exporter running as another user needs o+r)', MODE_DEFAULT)
      .option('--owner <user:group>', 'chown the file (root only)'),
  );
}

/** --node-exporter: the version whose rules `check`, `write` and `set` judge by. */
export function nodeExporterOption(program: Command): Option {
  return program
    .createOption(
      '--node-exporter <version>',
      "judge by this node_exporter version's rules (default: the running node_exporter's version, else the rules of every known version at once)",
    )
    .choices(KNOWN_VERSIONS);
}

/** --node-exporter and --no-dir-check, for the commands that write new series. */
export function addDirCheckOptions(command: Command, program: Command): Command {
  return command
    .addOption(nodeExporterOption(program))
    .option(
      '--no-dir-check',
      "don't check the new file against the other *.prom files of the directory (risk: node_exporter may silently drop its series on a HELP or TYPE conflict, a duplicate series or a name collision, with node_textfile_scrape_error 0)",
    );
}

/**
 * The profile for a write: --node-exporter's, else found only when needed
 * (the rules of every known version refused something): finding the running
 * node_exporter's version reads /proc and runs its binary.
 */
export function judgeBy(flags: { nodeExporter?: string }, io: CliIo, path?: string): ProfileChoice {
  const find = (): Profile => resolveProfile(flags, io, path === undefined ? undefined : dirname(path)).profile;
  if (flags.nodeExporter !== undefined) return find();
  let found: Profile | undefined;
  return () => (found ??= find());
}

/** The profile to judge by: --node-exporter, else the running node_exporter's version, else all known versions. */
export function resolveProfile(flags: { nodeExporter?: string }, io: CliIo, dir?: string): ChosenProfile {
  return chooseProfile({ flag: flags.nodeExporter, ...discovery(io), ...(dir === undefined ? {} : { dir }) });
}

/** What discovery of the running node_exporter takes from the CLI's process: its environment, uid, and (in tests) /proc. */
export function discovery(io: CliIo): { env: CliIo['env']; uid: number | undefined; procRoot?: string } {
  return { env: io.env, uid: io.uid, ...(io.procRoot === undefined ? {} : { procRoot: io.procRoot }) };
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
  return chooseDirectory({ flag: flags.dir, ...discovery(io) }).dir;
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
export async function writeOptions(flags: WriteFlags, io: CliIo, path?: string): Promise<UpdateOptions> {
  const mode = flags.mode ?? MODE_DEFAULT;
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
  if (flags.trustParent === true)
    io.stderr.write(
      'promfile: notice: --trust-parent is no longer needed and does nothing: promfile reaches the directory without following links, ' +
        "so a path that another account owns (Debian's /var/lib/prometheus) cannot redirect the write; remove the flag\n",
    );
  // Only commands that offer --no-dir-check check the directory (commander sets dirCheck: true for them).
  const dirCheck = flags.dirCheck === true;
  return {
    dirCheck,
    profile: judgeBy(flags, io, path),
    // A new family must not take a name the running node_exporter's own collectors export.
    ...(path === undefined ? {} : { collectorNames: collectorNamesFor(dirname(path), discovery(io)) }),
    mode: parseInt(mode, 8),
    mkdir: flags.mkdir === true,
    lockTimeoutMs: parseDuration(flags.lockTimeout ?? LOCK_TIMEOUT_DEFAULT, '--lock-timeout'),
    ...(owner ? { owner } : {}),
  };
}

/** Collect repeated `-l k=v` values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Print notices and warnings once per rule, with a count, so a million stripped timestamps make one line. */
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
