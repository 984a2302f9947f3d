// run and inc: wrap a batch job, and add to a counter that survives across runs.
import type { Command } from 'commander';
import { positiveDuration } from './duration.js';
import { InputError } from '../errors.js';
import { getSeries, setSeries } from '../format/model.js';
import { parseGoFloat } from '../format/number.js';
import { parseLabelOptions, parseSeriesSelector, withLabels } from './series.js';
import { updateTextfile } from '../textfile/update.js';
import { resolveTarget } from '../textfile/files.js';
import { addDirCheckOptions, addWriteOptions, collect, formatOption, targetPath, writeOptions, type WriteFlags } from './common.js';
import { printReport, reportUpdate, sameSeries, seriesBefore, seriesOfFile, type OutputFlags } from './report.js';
import type { CliIo, CommandContext } from './io.js';
import { checkPush, groupUrl, pushFamilies, redactUrl, type PushOptions } from '../push/gateway.js';
import type { MetricFamily } from '../format/types.js';
import { startFamilies } from '../job/metrics.js';
import { parseGrouping, warnPushPersistence } from './push-options.js';
import { addScheduleOptions, scheduleSettings, type ScheduleFlags } from './schedule-options.js';

/** Exit status when --no-overlap skips a run (EX_TEMPFAIL: try again later). */
export const EXIT_SKIPPED = 75;

/** Labels `run` refuses: Prometheus' target labels, and the ones run sets itself. */
const RESERVED_LABELS: Readonly<Record<string, string>> = {
  job: 'it collides with the "job" target label Prometheus adds (it would become exported_job)',
  instance: 'it collides with the "instance" target label Prometheus adds (it would become exported_instance)',
  job_name: 'run sets it from --job',
  result: 'run uses it on promfile_job_runs_total',
};

interface RunFlags extends WriteFlags, ScheduleFlags, OutputFlags {
  job: string;
  timeout?: string;
  killAfter: string;
  overlap?: boolean;
  label?: string[];
  push?: string;
  grouping?: string[];
  allowInstance?: boolean;
  quiet?: boolean;
}

interface IncFlags extends WriteFlags, OutputFlags {
  label?: string[];
  helpText?: string;
}

function labelOptions(flags: { label?: string[] }): Record<string, string> {
  return parseLabelOptions(flags.label);
}

function runLabels(flags: RunFlags): Record<string, string> {
  const extra = labelOptions(flags);
  for (const name of Object.keys(extra)) {
    const why = RESERVED_LABELS[name];
    if (why) throw new InputError('ERR_INVALID_ARGUMENT', `-l ${name}=...: label "${name}" is not allowed: ${why}`);
  }
  return { job_name: flags.job, ...extra };
}

/** The job's file: --file-path, else <dir>/<--file or --job>.prom. The job name must be a plain name either way. */
function runTarget(flags: RunFlags, io: CliIo): string {
  try {
    resolveTarget({ dir: '.', name: flags.job });
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError('ERR_INVALID_ARGUMENT', `--job "${flags.job}": use letters, digits, "_", "." and "-", not starting with "."`);
    throw error;
  }
  return targetPath({ ...flags, ...(flags.filePath === undefined ? { file: flags.file ?? flags.job } : {}) }, io);
}

/** AMOUNT of `inc`: a finite number >= 0 (a counter only goes up). */
function parseAmount(text: string): number {
  const amount = parseGoFloat(text);
  if (amount === undefined || !Number.isFinite(amount) || amount < 0) {
    throw new InputError('ERR_INVALID_ARGUMENT', `amount "${text}": expected a finite number >= 0 (a counter only goes up)`);
  }
  return amount;
}

export function registerRunCommands(program: Command, io: CliIo, context: CommandContext): void {
  addDirCheckOptions(
    addScheduleOptions(
      program
        .command('run')
        .description(
          "run a command and record its start, end, duration, exit status and last success in <dir>/<job>.prom; exits with the command's status",
        )
        .usage('--job NAME [options] -- COMMAND [ARGS...]')
        .argument('<command...>', 'the command and its arguments (options after the command are its own; -- is optional)')
        .passThroughOptions(),
    ),
    program,
  )
    .requiredOption('--job <name>', 'job name: the job_name label, and the file name unless -f/--file-path is given')
    .option('--timeout <duration>', 'send SIGTERM after this long (e.g. 30m, 2h); recorded as "timeout", exit status 124')
    .option('--kill-after <duration>', 'after a timeout, send SIGKILL if the command is still running this much later', '10s')
    .option(
      '--no-overlap',
      `if the previous run of this job is still going, skip this one (exit ${EXIT_SKIPPED}) and count it in promfile_job_skipped_total`,
    )
    .option('-l, --label <name=value>', 'add a label to every series (repeatable; not job, instance, job_name or result)', collect)
    .option(
      '--push <url>',
      'push the metrics to this Pushgateway (POST to job/<job>) instead of writing the textfile; for service-level jobs only',
    )
    .option('--grouping <name=value>', 'with --push: further grouping-key label (repeatable)', collect)
    .option('--allow-instance', 'with --push: allow an instance/host label or this hostname')
    .option('-q, --quiet', 'with --push: do not print the reminder that pushed series never expire')
    .addOption(formatOption(program))
    .action(async (command: string[], flags: RunFlags) => {
      const path = runTarget(flags, io);
      const before = flags.push === undefined ? await seriesBefore(flags, path) : undefined;
      const labels = runLabels(flags);
      const push: PushOptions | undefined =
        flags.push === undefined
          ? undefined
          : { gateway: flags.push, job: flags.job, grouping: parseGrouping(flags.grouping), allowInstance: flags.allowInstance === true };
      // The guard rails stop the run before the job starts, not as a warning after it.
      if (push) checkPush(startFamilies([], labels, 0), push);
      const timeoutMs = flags.timeout === undefined ? undefined : positiveDuration(flags.timeout, '--timeout', false);
      const killAfterMs = positiveDuration(flags.killAfter, '--kill-after', true);
      const write = { ...(await writeOptions(flags, io, path)), allowEmpty: true };
      const scheduling = await scheduleSettings(flags);
      const [executable, ...args] = command as [string, ...string[]];
      // Loaded here, not at start-up: the other commands never need child_process.
      const { pushableFamilies, runJob } = await import('../job/run.js');
      const run = await runJob({
        path,
        labels,
        command: executable,
        args,
        env: io.env,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        killAfterMs,
        noOverlap: flags.overlap === false,
        ...scheduling,
        write,
        ...(push
          ? {
              publish: {
                where: redactUrl(push.gateway),
                send: (families: MetricFamily[], succeeded: boolean) =>
                  pushFamilies(pushableFamilies(families, succeeded), { ...push, method: 'post' }),
              },
            }
          : {}),
        now: () => io.now(),
        onWarning: (message) => io.stderr.write(`promfile: warning: ${message}\n`),
        signals: (forward) => {
          const off = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => io.onSignal(signal, () => forward(signal)));
          return () => off.forEach((unsubscribe) => unsubscribe());
        },
      });
      if (run.skipped) {
        io.stderr.write(`promfile: job ${flags.job} is still running, this run is skipped (--no-overlap): ${run.reason}\n`);
        context.exitCode = EXIT_SKIPPED;
        return;
      }
      const { outcome } = run;
      if (push && !flags.quiet) warnPushPersistence(io, push, push.allowInstance === true);
      if (outcome.detail !== undefined && outcome.result === 'failure') io.stderr.write(`promfile: ${outcome.detail}\n`);
      if (outcome.result === 'timeout') io.stderr.write(`promfile: job ${flags.job} timed out after ${flags.timeout}\n`);
      context.exitCode = outcome.status;
      if (flags.format === 'json') {
        const after = push ? undefined : await seriesOfFile(path);
        printReport(io, context, {
          file: push ? groupUrl(push) : path,
          changed: after === undefined || !sameSeries(before ?? new Set(), after),
          written: true,
          dryRun: false,
          job: flags.job,
          result: outcome.result,
          exitCode: outcome.status,
        });
      }
    });

  addDirCheckOptions(
    addWriteOptions(
      program
        .command('inc')
        .description('add AMOUNT (default 1) to a counter, creating it at AMOUNT; safe under concurrency')
        .argument('<series>', 'name or name{label="value",...}')
        .argument('[amount]', 'a number >= 0', '1'),
    ),
    program,
  )
    .option('-l, --label <name=value>', 'add a label to the series (repeatable)', collect)
    .option('--help-text <text>', 'HELP text of the counter')
    .option('--dry-run', 'print the resulting file to stdout and write nothing')
    .addOption(formatOption(program))
    .action(async (seriesText: string, amountText: string, flags: IncFlags) => {
      const path = targetPath(flags, io);
      const before = await seriesBefore(flags, path);
      const what = JSON.stringify(seriesText);
      const series = withLabels(parseSeriesSelector(seriesText, what), labelOptions(flags), what);
      const amount = parseAmount(amountText);
      const result = await updateTextfile(
        path,
        (current, neighbours) => {
          const value = (getSeries(current, series.name, series.labels)?.value ?? 0) + amount;
          return setSeries(current, [{ ...series, value }], {
            type: 'counter',
            ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
            helpFor: (name) => neighbours.helpOf(name),
          });
        },
        { ...(await writeOptions(flags, io, path)), dryRun: flags.dryRun === true, touches: [series.name] },
      );
      reportUpdate(io, context, flags, before, result);
    });
}
