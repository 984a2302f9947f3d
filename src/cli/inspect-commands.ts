// check, ls, gc: look at the whole textfile directory the way node_exporter
// will, and keep it clean.
import { readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import {
  checkDirectory,
  checkFile,
  checkText,
  compareWithScrape,
  fetchScrape,
  losesData,
  TEMP_GRACE_MS,
  type Finding,
  type ParsedFile,
} from '../inspect/check.js';
import { chooseDirectory } from '../inspect/discover.js';
import { parseDuration } from './duration.js';
import { InputError, IoError } from '../errors.js';
import { formatAge, formatMode, listDirectory, readableByNonRoot, type DirectoryEntry } from '../textfile/inventory.js';
import { isLockHeld, removeLockIfFree } from '../textfile/lock.js';
import { deleteTextfile } from '../textfile/update.js';
import { pausePoint } from '../textfile/pause.js';
import { readExposition } from '../format/parse.js';
import { describeFileKind, readRegularFile, removeTextfile, resolveTarget } from '../textfile/files.js';
import type { Severity } from '../format/types.js';
import { nodeExporterOption, resolveDirectory, resolveProfile } from './common.js';
import type { CliIo, CommandContext } from './io.js';
import { readAll } from './input.js';

interface CheckFlags {
  dir?: string;
  file?: string;
  filePath?: string;
  maxAge?: string;
  format: 'text' | 'json';
  against?: string;
  timeout: string;
  nodeExporter?: string;
}

function formatOption(program: Command): Option {
  return program.createOption('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

const DIR_HELP =
  'textfile directory (default: $PROMFILE_DIR, else the directory of a running node_exporter, else /var/lib/prometheus/node-exporter)';

export function registerInspectCommands(program: Command, io: CliIo, context: CommandContext): void {
  program
    .command('check')
    .description('report everything node_exporter would drop or hide in the textfile directory (exit 1 when data is lost)')
    .argument('[source]', '"-" to check exposition text from stdin')
    .option('--dir <dir>', DIR_HELP)
    .option('-f, --file <name>', 'check <dir>/<name>.prom (in the context of the whole directory)')
    .option('--file-path <path>', 'check this file alone')
    .option('--max-age <duration>', 'also flag .prom files not rewritten for this long (e.g. 26h)')
    .addOption(formatOption(program))
    .option('--against <url>', "compare with a running node_exporter's /metrics (e.g. http://127.0.0.1:9100/metrics)")
    .option('--timeout <duration>', 'how long to wait for --against', '5s')
    .addOption(nodeExporterOption(program))
    .action(async (source: string | undefined, flags: CheckFlags) => {
      const now = io.now();
      const maxAgeMs = flags.maxAge === undefined ? undefined : parseDuration(flags.maxAge, '--max-age');
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      if (source !== undefined && source !== '-')
        throw new InputError('ERR_INVALID_ARGUMENT', `check "${source}": give "-" for stdin, --file-path PATH for a file, or --dir DIR`);
      const given = [source !== undefined, flags.file !== undefined, flags.filePath !== undefined].filter(Boolean).length;
      if (given > 1) throw new InputError('ERR_INVALID_ARGUMENT', 'give only one of -, -f/--file and --file-path');
      const chosenDir =
        source === undefined && flags.filePath === undefined ? chooseDirectory({ flag: flags.dir, env: io.env, uid: io.uid }) : undefined;
      const { profile, reason: rules } = resolveProfile(flags, io, chosenDir === undefined ? undefined : resolve(chosenDir.dir));
      const options = {
        now,
        profile,
        ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
      };

      let findings: Finding[];
      let files: ParsedFile[];
      let directory: { dir: string; reason: string } | undefined;
      if (source === '-') {
        if (io.stdin.isTTY) throw new InputError('ERR_INVALID_ARGUMENT', 'check - reads exposition text from stdin; pipe it in');
        io.stderr.write(`promfile: judging by ${rules}\n`);
        ({ findings, files } = checkText('<stdin>', await readAll(io.stdin), profile));
      } else if (flags.filePath !== undefined) {
        io.stderr.write(`promfile: judging by ${rules}\n`);
        ({ findings, files } = await checkFile(resolve(flags.filePath), options));
      } else {
        const chosen = chosenDir ?? chooseDirectory({ flag: flags.dir, env: io.env, uid: io.uid });
        directory = { dir: resolve(chosen.dir), reason: chosen.reason };
        io.stderr.write(`promfile: checking ${directory.dir} (${chosen.reason}), judging by ${rules}\n`);
        for (const { pid, reason } of chosen.ignored)
          io.stderr.write(`promfile: warning: not trusting process ${pid} to choose the textfile directory: ${reason}\n`);
        const report = await checkDirectory(directory.dir, options);
        ({ findings, files } = report);
        if (flags.file !== undefined) {
          const path = resolveTarget({ dir: directory.dir, name: flags.file });
          files = files.filter((file) => file.path === path);
          if (files.length === 0 && !findings.some((f) => f.file === path || f.file === directory?.dir)) {
            throw new IoError('ERR_READ_FAILED', `${path} does not exist`);
          }
          findings = findings.filter((f) => f.file === path || f.file === directory?.dir);
        }
      }
      if (flags.against !== undefined)
        findings = [...findings, ...compareWithScrape(files, await fetchScrape(flags.against, timeoutMs), flags.against)];

      const series = files.reduce((sum, file) => sum + file.series, 0);
      const counts = countBySeverity(findings);
      if (flags.format === 'json') {
        const result = {
          ...(directory ? { directory: directory.dir, directoryReason: directory.reason } : {}),
          nodeExporter: { versions: profile.versions, exporterMetrics: profile.exporterMetrics, reason: rules },
          files: files.map((file) => file.path),
          series,
          ok: !losesData(findings),
          summary: counts,
          findings,
        };
        io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        const paint = painter(io);
        for (const f of findings) {
          if (f.severity === 'notice') continue;
          io.stdout.write(
            `${paint.bold(`${f.file}${f.line === undefined ? '' : `:${f.line}`}:`)} ${paint[f.severity](f.severity)}: ${f.message}\n`,
          );
        }
        const what = `${files.length} file${files.length === 1 ? '' : 's'}, ${series} series`;
        const verdict =
          counts.error + counts.warning === 0
            ? 'no problems: node_exporter will expose every series'
            : `${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}${counts.error > 0 ? ': node_exporter will lose data' : ''}`;
        io.stdout.write(`${what}: ${verdict}\n`);
      }
      context.exitCode = losesData(findings) ? 1 : 0;
    });

  program
    .command('ls')
    .description('list the textfiles: series, families, age, size, owner/mode, and whether node_exporter accepts each')
    .option('--dir <dir>', DIR_HELP)
    .addOption(formatOption(program))
    .action(async (flags: { dir?: string; format: 'text' | 'json' }) => {
      const dir = resolve(resolveDirectory(flags, io));
      const now = io.now();
      const entries = await listEntries(dir);
      const rows = await Promise.all(entries.filter((entry) => entry.kind === 'textfile').map((entry) => describeFile(entry, now)));
      const leftovers = entries.filter((entry) => entry.kind === 'temp' && now - entry.link.mtimeMs > TEMP_GRACE_MS).length;
      if (leftovers > 0) io.stderr.write(`promfile: ${plural(leftovers, 'leftover temp file')} in ${dir} ("promfile gc" removes them)\n`);
      if (flags.format === 'json') {
        io.stdout.write(`${JSON.stringify({ directory: dir, files: rows }, null, 2)}\n`);
        return;
      }
      const table = [
        ['FILE', 'SERIES', 'FAMILIES', 'AGE', 'SIZE', 'OWNER', 'MODE', 'STATUS'],
        ...rows.map((row) => [
          row.name,
          String(row.series ?? '-'),
          String(row.families ?? '-'),
          row.ageMs === undefined ? '-' : formatAge(row.ageMs),
          String(row.size ?? '-'),
          row.uid === undefined ? '-' : `${row.uid}:${row.gid}`,
          row.mode ?? '-',
          row.status + (row.problem ? ` (${row.problem})` : '') + (row.symlinkTo ? ` -> ${row.symlinkTo}` : ''),
        ]),
      ];
      const widths = table[0]?.map((_, column) => Math.max(...table.map((cells) => cells[column]?.length ?? 0))) ?? [];
      const numeric = new Set([1, 2, 4]);
      for (const cells of table) {
        const line = cells
          .map((cell, column) =>
            column === cells.length - 1
              ? cell
              : numeric.has(column)
                ? cell.padStart(widths[column] ?? 0)
                : cell.padEnd(widths[column] ?? 0),
          )
          .join('  ');
        io.stdout.write(`${line}\n`);
      }
    });

  program
    .command('gc')
    .description('delete stale .prom files, leftover temp files and old lock files nobody holds; prints each path it deletes')
    .option('--dir <dir>', DIR_HELP)
    .option(
      '--older-than <duration>',
      'delete .prom files not rewritten for this long (e.g. 7d); without it, only temp and lock leftovers go',
    )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .action(async (flags: { dir?: string; olderThan?: string; dryRun?: boolean }) => {
      const olderThanMs = flags.olderThan === undefined ? undefined : parseDuration(flags.olderThan, '--older-than');
      const dir = resolve(resolveDirectory(flags, io));
      const now = io.now();
      let count = 0;
      for (const entry of await listEntries(dir)) {
        const reason = garbageReason(entry, now, olderThanMs);
        if (reason === undefined) continue;
        if (!flags.dryRun || reason === 'lock') {
          if (!(await removeGarbage(entry, reason, now, olderThanMs, flags.dryRun === true))) continue;
        }
        count++;
        io.stdout.write(`${entry.path}\n`);
      }
      if (flags.dryRun) io.stderr.write(`promfile: dry run: would delete ${plural(count, 'file')}\n`);
    });
}

async function listEntries(dir: string): Promise<DirectoryEntry[]> {
  try {
    return await listDirectory(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new IoError('ERR_DIR_MISSING', `textfile directory ${dir} does not exist (choose one with --dir or PROMFILE_DIR)`, {
        cause: error,
      });
    throw new IoError('ERR_READ_FAILED', `cannot list ${dir}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

/** Why gc deletes this entry, or undefined to keep it. Judged from lstat alone: gc opens nothing that can block. */
function garbageReason(entry: DirectoryEntry, now: number, olderThanMs: number | undefined): 'temp' | 'lock' | 'stale' | undefined {
  if (entry.symlink) return undefined; // a link is configuration, not output
  const age = now - entry.link.mtimeMs;
  if (entry.kind === 'temp') return age > TEMP_GRACE_MS ? 'temp' : undefined;
  // A lock file nobody holds is harmless; an old one is tidied away, a held one never (removeGarbage probes).
  if (entry.kind === 'lock') return entry.link.isFile() && age > TEMP_GRACE_MS ? 'lock' : undefined;
  if (entry.kind === 'textfile' && olderThanMs !== undefined && entry.link.isFile() && age > olderThanMs) return 'stale';
  return undefined;
}

/** Remove one piece of garbage; false when it turned out to be in use. A dry run only probes locks. */
async function removeGarbage(
  entry: DirectoryEntry,
  reason: 'temp' | 'lock' | 'stale',
  now: number,
  olderThanMs: number | undefined,
  dryRun: boolean,
): Promise<boolean> {
  pausePoint('gc-judged');
  if (reason === 'lock') {
    // Taken before it is removed, so a writer holding it (or about to) is never cut off.
    if (dryRun) return !(await isLockHeld(entry.path).catch(() => true));
    return removeLockIfFree(entry.path).catch(() => false);
  }
  if (reason === 'stale') return removeIfStillStale(entry.path, now, olderThanMs as number);
  return removeTextfile(entry.path);
}

/** Delete a stale .prom under its lock, unless a writer rewrote it meanwhile. */
async function removeIfStillStale(path: string, now: number, olderThanMs: number): Promise<boolean> {
  try {
    // gc has no --trust-parent: the directory is pinned, but its path is not judged (see README).
    return await deleteTextfile(path, { lockTimeoutMs: 0, trustParent: true }, (info) => now - info.mtimeMs <= olderThanMs);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_LOCK_BUSY') return false; // being written: not stale
    throw error;
  }
}

interface FileRow {
  name: string;
  path: string;
  series?: number;
  families?: number;
  ageMs?: number;
  size?: number;
  uid?: number;
  gid?: number;
  mode?: string;
  status: 'ok' | 'invalid' | 'unreadable' | 'not-a-file' | 'dangling-symlink';
  problem?: string;
  symlinkTo?: string;
}

async function describeFile(entry: DirectoryEntry, now: number): Promise<FileRow> {
  const row: FileRow = { name: entry.name, path: entry.path, status: 'ok' };
  if (entry.symlink) row.symlinkTo = await readlink(entry.path).catch(() => '?');
  const info = entry.target;
  if (!info) return { ...row, status: 'dangling-symlink' };
  Object.assign(row, { ageMs: Math.round(now - info.mtimeMs), size: info.size, uid: info.uid, gid: info.gid, mode: formatMode(info.mode) });
  if (!info.isFile()) return { ...row, status: 'not-a-file', problem: describeFileKind(info) };
  // Never blocks: opened non-blocking and checked on the descriptor (it may have changed since the listing).
  const bytes = await readRegularFile(entry.path, { follow: true }).catch((error: NodeJS.ErrnoException) => error);
  if (bytes instanceof Error) return { ...row, status: 'unreadable', problem: bytes.code ?? bytes.message };
  const { families, problems } = readExposition(bytes);
  row.families = families.length;
  row.series = families.reduce((n, family) => n + family.samples.length, 0);
  const error = problems.find((problem) => problem.severity === 'error');
  if (error) Object.assign(row, { status: 'invalid', problem: `${error.line === undefined ? '' : `line ${error.line}: `}${error.rule}` });
  else if (!readableByNonRoot(info)) Object.assign(row, { status: 'unreadable', problem: 'a non-root node_exporter cannot read it' });
  return row;
}

function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type Paint = Record<Severity | 'bold', (text: string) => string>;

/** ANSI colour on a terminal, unless NO_COLOR is set; plain text otherwise. */
function painter(io: CliIo): Paint {
  const tty = io.stdout.isTTY === true;
  const on = tty && !io.env['NO_COLOR'];
  const code = (open: number, close: number) => (text: string) => (on ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { error: code(31, 39), warning: code(33, 39), notice: code(36, 39), bold: code(1, 22) };
}
