// observe and rules: histograms built one observation at a time, and the
// alerting rules for the jobs `promfile run` records.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { observeHistogram, parseBuckets } from '../format/histogram.js';
import { parseGoFloat } from '../format/number.js';
import { updateTextfile } from '../textfile/update.js';
import { addDirCheckOptions, addWriteOptions, collect, reportNotices, targetPath, writeOptions, type WriteFlags } from './common.js';
import { parseDuration } from './duration.js';
import type { CliIo, Registers } from './io.js';
import { parseLabelOptions, parseSeriesSelector, withLabels } from './series.js';

interface ObserveFlags extends WriteFlags {
  buckets?: string;
  label?: string[];
  helpText?: string;
}

interface RulesFlags {
  format: string;
  job?: string[];
  timeout?: string;
  slowFactor: string;
  slowFloor: string;
  staleAfter: string;
  for?: string;
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
  const rules = program.command('rules');
  rules
    .description(
      'print Prometheus alerting rules for the jobs promfile run records: the same file for every host and every job, since each job records its own thresholds',
    )
    .option('--format <format>', 'prometheus (a rule file) or prometheus-operator (a PrometheusRule)', 'prometheus')
    .option('--job <name>', 'rules for this job only (repeatable; default every job on every host)', collect)
    .option(
      '--timeout <duration>',
      'for runs without their own --timeout: alert on runs longer than this (default: longer than --slow-factor × the median run)',
    )
    .option('--slow-factor <k>', 'without either --timeout: alert on runs this many times longer than the median run', '3')
    .option('--slow-floor <duration>', 'without either --timeout: but never on runs shorter than this', '10m')
    .option(
      '--stale-after <duration>',
      'stale threshold for jobs whose runs record none (no run --stale-after and no --schedule/--on-calendar/--timer/--every)',
      '2d',
    )
    .option('--for <duration>', "the for: of every alert (default each alert's own: 1m, 10m for a stale file, 5m for a scrape error)")
    .option('--runbook-url <url>', 'add runbook_url annotations: URL#<alert name in lower case>')
    // Earlier versions read the directory for its jobs; the rules no longer depend on it.
    .addOption(rules.createOption('--dir <dir>', 'no longer read: the rules are the same for every directory').hideHelp())
    .action(async (flags: RulesFlags) => {
      if (flags.format !== 'prometheus' && flags.format !== 'prometheus-operator')
        throw new InputError('ERR_INVALID_ARGUMENT', `--format "${flags.format}": expected prometheus or prometheus-operator`);
      const slowFactor = finite(flags.slowFactor, '--slow-factor');
      if (slowFactor <= 0) throw new InputError('ERR_INVALID_ARGUMENT', `--slow-factor "${flags.slowFactor}" must be more than 0`);
      const { alertRules, renderRules } = await import('../job/rules.js');
      const seconds = (text: string, what: string): number => parseDuration(text, what) / 1000;
      const printed = alertRules({
        ...(flags.job ? { jobs: flags.job } : {}),
        slowFactor,
        slowFloorSeconds: seconds(flags.slowFloor, '--slow-floor'),
        staleAfterSeconds: seconds(flags.staleAfter, '--stale-after'),
        ...(flags.timeout !== undefined ? { timeoutSeconds: seconds(flags.timeout, '--timeout') } : {}),
        ...(flags.for !== undefined ? { forSeconds: seconds(flags.for, '--for') } : {}),
        ...(flags.runbookUrl !== undefined ? { runbookUrl: flags.runbookUrl } : {}),
      });
      io.stdout.write(renderRules(printed, flags.format));
    });
}

/** The commands of this module, in the order help lists them. */
export const ALERT_COMMANDS: Registers = { observe: registerObserve, rules: registerRules };
