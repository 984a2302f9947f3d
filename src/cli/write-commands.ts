// set, write, unset, rm: the commands that change one textfile.
import type { Command } from 'commander';
import { ExpositionError, InputError } from '../errors.js';
import { removeFamilies, setSeries, unsetSeries } from '../format/model.js';
import { readExpositionText } from './input.js';
import { parseExposition } from '../format/parse.js';
import { parseLabelOption, parseSeriesSelector, parseSeriesValues, withLabels } from './series.js';
import { deleteTextfile, updateTextfile } from '../textfile/update.js';
import { hasOtherTextfiles } from '../textfile/neighbours.js';
import { writeExpositionStream } from '../textfile/stream-write.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily, MetricType, Problem } from '../format/types.js';
import {
  addDirCheckOptions,
  addWriteOptions,
  collect,
  reportNotices,
  targetPath,
  typeOption,
  writeOptions,
  type WriteFlags,
} from './common.js';
import type { CliIo } from './io.js';

interface SetFlags extends WriteFlags {
  type?: MetricType;
  helpText?: string;
  label?: string[];
  replace?: boolean;
  dryRun?: boolean;
}

function extraLabels(flags: { label?: string[] }): Record<string, string> {
  return Object.fromEntries((flags.label ?? []).map(parseLabelOption));
}

/** Print the would-be file for --dry-run. */
function emit(io: CliIo, content: string): void {
  io.stdout.write(content);
}

export function registerWriteCommands(program: Command, io: CliIo): void {
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
    .option('--help-text <text>', 'HELP text of the metrics set (default: the HELP the metric has in the file, else in the directory)')
    .option('-l, --label <name=value>', 'add a label to every series (repeatable)', collect)
    .option('--replace', 'replace the whole file instead of merging into it')
    .option('--dry-run', 'print the resulting file to stdout and write nothing')
    .action(async (args: string[], flags: SetFlags) => {
      const path = targetPath(flags, io);
      const values = parseSeriesValues(args, extraLabels(flags), io.now());
      const result = await updateTextfile(
        path,
        (current, neighbours) =>
          setSeries(current, values, {
            ...(flags.type ? { type: flags.type } : {}),
            ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
            helpFor: (name) => neighbours.helpOf(name),
          }),
        { ...(await writeOptions(flags, io, path)), replace: flags.replace === true, dryRun: flags.dryRun === true },
      );
      reportNotices(result.warnings, io, path);
      if (flags.dryRun) emit(io, result.content ?? '');
    });

  addDirCheckOptions(
    addWriteOptions(program.command('write').description('validate exposition text from stdin and write it as the whole file, atomically')),
    program,
  )
    .option('--strip-timestamps', 'drop sample timestamps (node_exporter rejects files with any) with a warning')
    .option('--allow-empty', 'write even when the input has no samples')
    .option('--dry-run', 'print the normalized file to stdout and write nothing')
    .action(async (flags: WriteFlags & { stripTimestamps?: boolean; allowEmpty?: boolean; dryRun?: boolean }) => {
      const path = targetPath(flags, io);
      if (io.stdin.isTTY)
        throw new InputError(
          'ERR_INVALID_ARGUMENT',
          'write reads exposition text from stdin; pipe it in (e.g. `script | promfile write -f NAME`)',
        );
      const notices: Problem[] = [];
      const options = await writeOptions(flags, io, path);
      const readOptions = {
        source: '<stdin>',
        stripTimestamps: flags.stripTimestamps === true,
        allowMissingFinalNewline: true,
        onNotice: (notice: Problem) => notices.push(notice),
      };
      const report = (): void =>
        reportNotices(
          notices.filter((notice) => notice.rule !== 'missing-final-newline'),
          io,
          '<stdin>',
        );
      // The byte-level streaming writer holds one family at a time, so it cannot
      // judge the new file against the directory's other files: it serves when
      // there is nothing to judge against (--no-dir-check, or no other *.prom file).
      if (!flags.dryRun && !(options.dirCheck === true && (await hasOtherTextfiles(path)))) {
        const { dirCheck: _dirCheck, profile: _profile, ...writeOnly } = options;
        await writeExpositionStream(path, io.stdin, { ...writeOnly, ...readOptions, allowEmpty: flags.allowEmpty === true });
        report();
        return;
      }
      const input = await readExpositionText(io.stdin);
      const parse = (profile?: Profile): MetricFamily[] => parseExposition(input, { ...(profile ? { profile } : {}), ...readOptions });
      const families = parseByProfile(parse, options.profile);
      report();
      const result = await updateTextfile(path, () => families, {
        ...options,
        replace: true,
        prevalidated: true,
        allowEmpty: flags.allowEmpty === true,
        dryRun: flags.dryRun === true,
      });
      reportNotices(result.warnings, io, path);
      if (!flags.dryRun) return;
      emit(io, result.content ?? '');
    });

  addWriteOptions(
    program
      .command('unset')
      .description('remove series (or, with --family, whole metrics) from a textfile')
      .argument('<series...>', 'name or name{label="value",...}, matched exactly'),
  )
    .option('-l, --label <name=value>', 'add a label to every series (repeatable)', collect)
    .option('--family', 'the arguments are metric names: remove all their series')
    .option('--dry-run', 'print the resulting file to stdout and write nothing')
    .action(async (args: string[], flags: WriteFlags & { label?: string[]; family?: boolean; dryRun?: boolean }) => {
      const path = targetPath(flags, io);
      const extra = extraLabels(flags);
      const selectors = args.map((arg, i) => withLabels(parseSeriesSelector(arg, `argument ${i + 1}`), extra, `argument ${i + 1}`));
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
        { ...(await writeOptions(flags, io)), allowEmpty: true, dryRun: flags.dryRun === true },
      );
      if (removed === 0) io.stderr.write(`promfile: warning: nothing matched in ${path}\n`);
      if (flags.dryRun) emit(io, result.content ?? '');
    });

  addWriteOptions(program.command('rm').description('delete a textfile (stale-metric clean-up); a missing file is not an error')).action(
    async (flags: WriteFlags) => {
      const path = targetPath(flags, io);
      const options = await writeOptions(flags, io);
      const existed = await deleteTextfile(path, options);
      if (!existed) io.stderr.write(`promfile: warning: ${path} did not exist\n`);
    },
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
