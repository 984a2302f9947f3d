// observe and rules: histograms built one observation at a time, and the
// alerting rules for the jobs `promfile run` records.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { observeHistogram, parseBuckets } from '../format/histogram.js';
import { parseGoFloat } from '../format/number.js';
import { updateTextfile } from '../textfile/update.js';
import {
  addDirCheckOptions,
  addWriteOptions,
  collect,
  reportNotices,
  resolveDirectory,
  targetPath,
  writeOptions,
  type WriteFlags,
} from './common.js';
import { parseDuration } from './duration.js';
import type { CliIo, Registers } from './io.js';
import { parseLabelOptions, parseSeriesSelector, withLabels } from './series.js';

interface ObserveFlags extends WriteFlags {
  buckets?: string;
  label?: string[];
  helpText?: string;
}

interface RulesFlags {
  dir?: string;
  format: string;
  job?: string[];
  timeout?: string;
  slowFactor: string;
  slowFloor: string;
  staleAfter: string;
  runbookUrl?: string;
}

function finite(text: string, what: string): number {
  const value = parseGoFloat(text);
  if (value === undefined || !Number.isFinite(value))
    throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}": expected a finite number`);
  return value;
}

function registerObserve(program: Command, io: CliIo): void {
  addDirCheckOptions(
    addWriteOptions(
      program
        .command('observe')
        .description('add one observation to a histogram series, creating it if needed; safe under concurrency')
        .argument('<series>', 'name or name{label="value",...}')
        .argument('<value>', 'the observed value'),
    ),
    program,
  )
    .option('--buckets <bound,...>', "upper bounds (default: the series' own, else 0.005,...,10); other bounds restart the series")
    .option('-l, --label <name=value>', 'add a label to the series (repeatable)', collect)
    .option('--help-text <text>', 'HELP text of the histogram')
    .action(async (seriesText: string, valueText: string, flags: ObserveFlags) => {
      const path = targetPath(flags, io);
      const labels = parseLabelOptions(flags.label);
      const series = withLabels(parseSeriesSelector(seriesText, 'argument 1'), labels, 'argument 1');
      const value = finite(valueText, 'value');
      const buckets = flags.buckets === undefined ? undefined : parseBuckets(flags.buckets, '--buckets');
      let reset = false;
      const result = await updateTextfile(
        path,
        (current) => {
          const result = observeHistogram(current, {
            ...series,
            value,
            ...(buckets ? { buckets } : {}),
            ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
          });
          reset = result.reset;
          return result.families;
        },
        { ...(await writeOptions(flags, io, path)), touches: [series.name] },
      );
      reportNotices(result.warnings, io, path);
      const { warnTargetLabels } = await import('./report.js');
      warnTargetLabels(io, path, result.families, [series.name]);
      if (reset) io.stderr.write(`promfile: warning: ${series.name}: the bucket layout changed, so its counts started again from zero\n`);
    });
}

function registerRules(program: Command, io: CliIo): void {
  program
    .command('rules')
    .description('print Prometheus alerting rules for the jobs promfile run records in the textfile directory')
    .option('--dir <dir>', 'textfile directory (default as for set)')
    .option('--format <format>', 'prometheus (a rule file) or prometheus-operator (a PrometheusRule)', 'prometheus')
    .option('--job <name>', 'only this job (repeatable; default every job found)', collect)
    .option('--timeout <duration>', 'alert on runs longer than this (default: longer than --slow-factor × the median run)')
    .option('--slow-factor <k>', 'without --timeout: alert on runs this many times longer than the median run', '3')
    .option('--slow-floor <duration>', 'without --timeout: but never on runs shorter than this', '10m')
    .option('--stale-after <duration>', 'stale-file threshold for jobs without --schedule/--every', '2d')
    .option('--runbook-url <url>', 'add runbook_url annotations: URL#<alert name in lower case>')
    .action(async (flags: RulesFlags) => {
      if (flags.format !== 'prometheus' && flags.format !== 'prometheus-operator')
        throw new InputError('ERR_INVALID_ARGUMENT', `--format "${flags.format}": expected prometheus or prometheus-operator`);
      const slowFactor = finite(flags.slowFactor, '--slow-factor');
      if (slowFactor <= 0) throw new InputError('ERR_INVALID_ARGUMENT', `--slow-factor "${flags.slowFactor}" must be more than 0`);
      const dir = resolveDirectory(flags, io);
      const { alertRules, findJobs, renderRules } = await import('../job/rules.js');
      const found = await findJobs(dir);
      const wanted = flags.job ?? [...new Set(found.map((job) => job.name))];
      if (wanted.length === 0)
        throw new InputError('ERR_INVALID_ARGUMENT', `no jobs recorded by promfile run in ${dir}; name them with --job`);
      const jobs = wanted.flatMap((name) => {
        const matches = found.filter((job) => job.name === name);
        if (matches.length > 0) return matches;
        io.stderr.write(`promfile: warning: job ${name} has no file in ${dir} yet; assuming ${name}.prom\n`);
        return [{ name, file: `${name}.prom` }];
      });
      const seconds = (text: string, what: string): number => parseDuration(text, what) / 1000;
      const rules = alertRules({
        jobs,
        slowFactor,
        slowFloorSeconds: seconds(flags.slowFloor, '--slow-floor'),
        staleAfterSeconds: seconds(flags.staleAfter, '--stale-after'),
        ...(flags.timeout !== undefined ? { timeoutSeconds: seconds(flags.timeout, '--timeout') } : {}),
        ...(flags.runbookUrl !== undefined ? { runbookUrl: flags.runbookUrl } : {}),
      });
      io.stdout.write(renderRules(rules, flags.format));
    });
}

/** The commands of this module, in the order help lists them. */
export const ALERT_COMMANDS: Registers = { observe: registerObserve, rules: registerRules };
