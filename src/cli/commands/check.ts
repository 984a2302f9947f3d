// check: which target, which rules, then inspect/check-target.ts does the work.
import { dirname, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { checkTarget, type CheckTarget } from '../../inspect/check-target.js';
import { collectorNamesFor } from '../../inspect/collectors.js';
import { chooseDirectory, type ChosenDirectory } from '../../inspect/discover.js';
import { discovery, resolveProfile } from '../common.js';
import { parseDuration } from '../duration.js';
import { readAll } from '../input.js';
import type { CliIo, CommandContext } from '../io.js';
import { renderCheck } from '../report.js';

export interface CheckFlags {
  dir?: string;
  file?: string;
  filePath?: string;
  maxAge?: string;
  format: 'text' | 'json';
  against?: string;
  timeout: string;
  nodeExporter?: string;
}

export async function checkAction(io: CliIo, context: CommandContext, source: string | undefined, flags: CheckFlags): Promise<void> {
  const now = io.now();
  const maxAgeMs = flags.maxAge === undefined ? undefined : parseDuration(flags.maxAge, '--max-age');
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  if (source !== undefined && source !== '-')
    throw new InputError('ERR_INVALID_ARGUMENT', `check "${source}": give "-" for stdin, --file-path PATH for a file, or --dir DIR`);
  const given = [source !== undefined, flags.file !== undefined, flags.filePath !== undefined].filter(Boolean).length;
  if (given > 1) throw new InputError('ERR_INVALID_ARGUMENT', 'give only one of -, -f/--file and --file-path');
  const chosen = source === undefined && flags.filePath === undefined ? chooseDirectory({ flag: flags.dir, ...discovery(io) }) : undefined;
  const directory = chosen === undefined ? undefined : { dir: resolve(chosen.dir), reason: chosen.reason };
  const { profile, reason: rules } = resolveProfile(flags, io, directory?.dir);
  const target = await checkedTarget(io, source, flags, chosen, rules);
  const result = await checkTarget(target, {
    now,
    profile,
    uid: io.uid,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(flags.against === undefined ? {} : { against: { url: flags.against, timeoutMs } }),
    // The node_exporter reading the files (or the one --against names) says which names its collectors take.
    ...(target.kind === 'text'
      ? {}
      : {
          collectors: collectorNamesFor(target.kind === 'directory' ? target.dir : dirname(target.path), {
            ...discovery(io),
            url: flags.against,
          }),
        }),
  });
  renderCheck(io, flags.format, result, { ...(directory ? { directory } : {}), profile, rules });
  context.exitCode = result.ok ? 0 : 1;
}

/** The target, saying on stderr what is checked and by which rules (and which processes were not trusted). */
async function checkedTarget(
  io: CliIo,
  source: string | undefined,
  flags: CheckFlags,
  chosen: ChosenDirectory | undefined,
  rules: string,
): Promise<CheckTarget> {
  if (source === '-') {
    if (io.stdin.isTTY) throw new InputError('ERR_INVALID_ARGUMENT', 'check - reads exposition text from stdin; pipe it in');
    io.stderr.write(`promfile: judging by ${rules}\n`);
    return { kind: 'text', source: '<stdin>', bytes: await readAll(io.stdin) };
  }
  if (flags.filePath !== undefined || chosen === undefined) {
    io.stderr.write(`promfile: judging by ${rules}\n`);
    return { kind: 'file', path: resolve(flags.filePath ?? '') };
  }
  const dir = resolve(chosen.dir);
  io.stderr.write(`promfile: checking ${dir} (${chosen.reason}), judging by ${rules}\n`);
  for (const { pid, reason } of chosen.ignored)
    io.stderr.write(`promfile: warning: not trusting process ${pid} to choose the textfile directory: ${reason}\n`);
  return { kind: 'directory', dir, ...(flags.file === undefined ? {} : { only: flags.file }) };
}
