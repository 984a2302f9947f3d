// set, write, unset, rm: the commands that change one textfile.
import type { Command } from 'commander';
import { ExpositionError, InputError } from '../errors.js';
import { removeFamilies, setSeries, unsetSeries } from '../format/model.js';
import { isBlankInput, parseStreamText, readExpositionText } from './input.js';
import { positiveDuration } from './duration.js';
import { parseLabelOptions, parseSeriesSelector, parseSeriesValues, withLabels } from './series.js';
import { deleteTextfile, updateTextfile } from '../textfile/update.js';
import { hasOtherTextfiles } from '../textfile/neighbours.js';
import { writeExpositionStream } from '../textfile/stream-write.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily, MetricType, Problem } from '../format/types.js';
import {
  addDirCheckOptions,
  addLockOptions,
  addWriteOptions,
  formatOption,
  collect,
  reportNotices,
  targetPath,
  typeOption,
  writeOptions,
  type WriteFlags,
} from './common.js';
import type { CliIo, CommandContext } from './io.js';
import { printReport, reportUpdate, seriesBefore, type OutputFlags } from './report.js';
import { lstat } from 'node:fs/promises';

interface SetFlags extends WriteFlags, OutputFlags {
  type?: MetricType;
  helpText?: string;
  label?: string[];
  replace?: boolean;
  dryRun?: boolean;
}

function extraLabels(flags: { label?: string[] }): Record<string, string> {
  return parseLabelOptions(flags.label);
}

export function registerWriteCommands(program: Command, io: CliIo, context: CommandContext): void {
  addDirCheckOptions(
    addWriteOptions(
      program
        .command('set')
        .description('set series in a textfile, keeping everything else in it')
        .argument(
          '<series...>',
          'SERIES=VALUE, or SERIES VALUE; SERIES is name or name{label="value",...}; VALUE is a number, NaN, +Inf, -Inf or now',
        ),
    ),
    program,
  )
    .addOption(typeOption(program))
    .option('--help-text <text>', 'HELP text of the metrics set')
    .option('-l, --label <name=value>', 'add a label to every series (repeatable)', collect)
    .option('--replace', 'replace the whole file instead of merging into it')
    .option('--dry-run', 'print the resulting file to stdout and write nothing')
    .addOption(formatOption(program))
    .action(async (args: string[], flags: SetFlags) => {
      const path = targetPath(flags, io);
      const before = await seriesBefore(flags, path);
      const values = parseSeriesValues(args, extraLabels(flags), io.now());
      const result = await updateTextfile(
        path,
        (current, neighbours) =>
          setSeries(current, values, {
            ...(flags.type ? { type: flags.type } : {}),
            ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
            helpFor: (name) => neighbours.helpOf(name),
          }),
        {
          ...(await writeOptions(flags, io, path)),
          replace: flags.replace === true,
          dryRun: flags.dryRun === true,
          touches: values.map((value) => value.name),
        },
      );
      reportNotices(result.warnings, io, path);
      reportUpdate(io, context, flags, before, result);
    });

  addDirCheckOptions(
    addWriteOptions(
      program
        .command('write')
        .description('validate exposition text from stdin, or from the stdout of COMMAND, and write it as the whole file, atomically')
        .usage('-f NAME [options] [-- COMMAND [ARGS...]]')
        .argument('[command...]', 'a generator to run: the file is written only if it exits 0 with valid output')
        .passThroughOptions(),
    ),
    program,
  )
    .option('--strip-timestamps', 'drop sample timestamps (node_exporter rejects files with any) with a warning')
    .option('--allow-empty', 'write even when the input is empty (zero bytes)')
    .option('--timeout <duration>', 'with COMMAND: send SIGTERM to its process group after this long; exit 124, file kept')
    .option('--kill-after <duration>', 'after a timeout, SIGKILL the group this much later', '10s')
    .option('--dry-run', 'print the normalized file to stdout and write nothing')
    .addOption(formatOption(program))
    .action(async (command: string[], flags: WriteCommandFlags) => {
      const path = targetPath(flags, io);
      const before = await seriesBefore(flags, path);
      const options = await writeOptions(flags, io, path);
      if (command.length === 0 && (await streamable(flags, options, path))) {
        await streamStdin(path, io, flags, options);
        return;
      }
      const text = command.length > 0 ? await generatorOutput(command, flags, path, io, context) : await stdinText(io);
      if (text === undefined) return;
      const source = command.length > 0 ? (command[0] as string) : '<stdin>';
      const notices: Problem[] = [];
      const parse = (profile?: Profile): MetricFamily[] =>
        parseStreamText(text, source, {
          ...(profile ? { profile } : {}),
          stripTimestamps: flags.stripTimestamps === true,
          onNotice: (notice) => notices.push(notice),
        });
      const families = parseByProfile(parse, options.profile);
      // HELP/TYPE without samples is how collectors say "all is well": no warning (cron would mail it every run).
      reportNotices(
        notices.filter((notice) => notice.rule !== 'empty-family'),
        io,
        source,
      );
      if (isBlankInput(text) && !flags.allowEmpty)
        throw new InputError(
          'ERR_EMPTY_INPUT',
          `${source}: the input is empty; nothing was written (pass --allow-empty to write an empty file)`,
        );
      const result = await updateTextfile(path, () => families, {
        ...options,
        replace: true,
        prevalidated: true,
        // HELP/TYPE without samples is a collector saying "nothing to report": written, so old series go.
        allowEmpty: true,
        dryRun: flags.dryRun === true,
      });
      reportUpdate(io, context, flags, before, result);
    });

  addLockOptions(
    program
      .command('unset')
      .description('remove series (or, with --family, whole metrics) from a textfile')
      .argument('<series...>', 'name or name{label="value",...}, matched exactly'),
  )
    .option('-l, --label <name=value>', 'add a label to every series (repeatable)', collect)
    .option('--family', 'the arguments are metric names: remove all their series')
    .option('--dry-run', 'print the resulting file to stdout and write nothing')
    .addOption(formatOption(program))
    .action(async (args: string[], flags: WriteFlags & OutputFlags & { label?: string[]; family?: boolean }) => {
      const path = targetPath(flags, io);
      const before = await seriesBefore(flags, path);
      const extra = extraLabels(flags);
      const selectors = args.map((arg) => withLabels(parseSeriesSelector(arg, JSON.stringify(arg)), extra, JSON.stringify(arg)));
      if (flags.family && selectors.some((s) => Object.keys(s.labels).length > 0)) {
        throw new InputError('ERR_INVALID_ARGUMENT', '--family takes metric names without labels');
      }
      let removed = 0;
      const result = await updateTextfile(
        path,
        (current) => {
          const outcome = flags.family
            ? removeFamilies(
                current,
                selectors.map((s) => s.name),
              )
            : unsetSeries(current, selectors);
          removed = outcome.removed;
          return outcome.families;
        },
        { ...(await writeOptions(flags, io)), allowEmpty: true, dryRun: flags.dryRun === true, touches: selectors.map((s) => s.name) },
      );
      if (removed === 0) io.stderr.write(`promfile: warning: nothing matched in ${path}\n`);
      reportUpdate(io, context, flags, before, result);
    });

  addLockOptions(program.command('rm').description('delete a textfile (stale-metric clean-up); a missing file is not an error'))
    .option('--dry-run', 'say whether the file exists, and delete nothing')
    .addOption(formatOption(program))
    .action(async (flags: WriteFlags & OutputFlags) => {
      const path = targetPath(flags, io);
      const options = await writeOptions(flags, io);
      const existed = flags.dryRun ? await textfileExists(path) : await deleteTextfile(path, options);
      if (!existed) io.stderr.write(`promfile: warning: ${path} did not exist\n`);
      if (flags.format === 'json')
        printReport(io, context, { file: path, changed: existed, written: existed && !flags.dryRun, dryRun: flags.dryRun === true });
    });
}

/** For rm --dry-run: is there a file (or link) to remove? */
async function textfileExists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

interface WriteCommandFlags extends WriteFlags, OutputFlags {
  stripTimestamps?: boolean;
  allowEmpty?: boolean;
  dryRun?: boolean;
  timeout?: string;
  killAfter: string;
}

async function stdinText(io: CliIo): Promise<string | Uint8Array> {
  if (io.stdin.isTTY)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      'write reads exposition text from stdin; pipe it in (e.g. `script | promfile write -f NAME`), or give `-- COMMAND`',
    );
  return readExpositionText(io.stdin);
}

/**
 * Run the generator and read its stdout. When it fails, the file is kept, the
 * reason is said, and the exit status is the generator's; returns undefined.
 */
async function generatorOutput(
  command: string[],
  flags: WriteCommandFlags,
  path: string,
  io: CliIo,
  context: CommandContext,
): Promise<string | Uint8Array | undefined> {
  const timeoutMs = flags.timeout === undefined ? undefined : positiveDuration(flags.timeout, '--timeout', false);
  const killAfterMs = positiveDuration(flags.killAfter, '--kill-after', true);
  const [executable, ...args] = command as [string, ...string[]];
  const { startGenerator } = await import('../job/generator.js');
  const generator = startGenerator(executable, args, { env: io.env, ...(timeoutMs === undefined ? {} : { timeoutMs }), killAfterMs });
  const off = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => io.onSignal(signal, () => generator.forward(signal)));
  try {
    // Output refused half-way (invalid UTF-8, too large) is the reason, not the
    // broken pipe the generator then dies of: stop it and report the output.
    const text = readExpositionText(generator.stdout, executable).catch((error: unknown) => {
      generator.forward('SIGTERM');
      return { error };
    });
    const [output, exit] = await Promise.all([text, generator.exit]);
    if (typeof output === 'object' && 'error' in output) throw output.error;
    if (exit.status !== 0) {
      io.stderr.write(`promfile: ${executable} ${generatorFailure(exit, flags.timeout)}; ${path} was not changed\n`);
      context.exitCode = exit.status;
      return undefined;
    }
    return output;
  } finally {
    off.forEach((unsubscribe) => unsubscribe());
  }
}

function generatorFailure(
  exit: { status: number; signal: string | null; spawnError?: string; timedOut: boolean },
  timeout?: string,
): string {
  if (exit.spawnError !== undefined) return `could not be run (${exit.spawnError === 'ENOENT' ? 'command not found' : exit.spawnError})`;
  if (exit.timedOut) return `timed out after ${timeout}`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with status ${exit.status}`;
}

/**
 * The byte-level streaming writer holds one family at a time, so it cannot
 * judge the new file against the directory's other files, nor print it: it
 * serves stdin when there is nothing to judge against (--no-dir-check, or no
 * other *.prom file) and nothing to print (no --dry-run, no JSON report).
 */
async function streamable(flags: WriteCommandFlags, options: { dirCheck?: boolean }, path: string): Promise<boolean> {
  if (flags.dryRun || flags.format === 'json') return false;
  return !(options.dirCheck === true && (await hasOtherTextfiles(path)));
}

/** stdin through the streaming writer, with the same refusals as the whole-input path. */
async function streamStdin(
  path: string,
  io: CliIo,
  flags: WriteCommandFlags,
  options: Awaited<ReturnType<typeof writeOptions>>,
): Promise<void> {
  if (io.stdin.isTTY) await stdinText(io); // refuses a terminal with the usual message
  const notices: Problem[] = [];
  let seen = false;
  const watched = (async function* () {
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!seen && !isBlankInput(bytes)) seen = true;
      yield bytes;
    }
  })();
  const { dirCheck: _dirCheck, profile: _profile, ...writeOnly } = options;
  try {
    await writeExpositionStream(path, watched, {
      ...writeOnly,
      source: '<stdin>',
      stripTimestamps: flags.stripTimestamps === true,
      onNotice: (notice) => notices.push(notice),
      // HELP/TYPE without samples ("nothing to report") is written; only blank input needs --allow-empty.
      get allowEmpty() {
        return flags.allowEmpty === true || seen;
      },
    });
  } catch (error) {
    if (error instanceof ExpositionError && error.problem.rule === 'missing-final-newline')
      throw new ExpositionError(
        { ...error.problem, message: 'the input ends without a newline, so it may be cut off half-way (truncated); nothing was written' },
        '<stdin>',
      );
    if (error instanceof ExpositionError && error.problem.rule === 'empty')
      throw new InputError(
        'ERR_EMPTY_INPUT',
        '<stdin>: the input is empty; nothing was written (pass --allow-empty to write an empty file)',
      );
    throw error;
  }
  reportNotices(
    notices.filter((notice) => notice.rule !== 'empty-family'),
    io,
    '<stdin>',
  );
}

/** Parse by the given profile; with a lazy one, by the strictest rules first and only on refusal by the found profile's. */
function parseByProfile(parse: (profile?: Profile) => MetricFamily[], profile: Profile | (() => Profile) | undefined): MetricFamily[] {
  if (typeof profile !== 'function') return parse(profile);
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error;
    return parse(profile());
  }
}
