// run and inc: wrap a batch job, and add to a counter that survives across
// runs. This module declares them; each action is in commands/<name>.ts, loaded when it runs.
import type { Command } from 'commander';
import { addDirCheckOptions, addWriteOptions, collect, formatOption } from './common.js';
import { EXIT, type CliIo, type CommandContext, type Registers } from './io.js';
import { addScheduleOptions } from './schedule-options.js';
import type { IncFlags } from './commands/inc.js';
import type { RunFlags } from './commands/run.js';

/** How the job runs and what its series carry: --timeout, --kill-after, --stale-after, --no-overlap, -l (run's, and unit's for the run it writes). */
export function addJobOptions(command: Command): Command {
  return command
    .option('--timeout <duration>', 'send SIGTERM after this long (e.g. 30m, 2h); recorded as "timeout", exit status 124')
    .option('--kill-after <duration>', 'after a timeout, send SIGKILL if the command is still running this much later', '10s')
    .option(
      '--stale-after <duration>',
      "recorded for the rules: the job's file is stale once no run has started for this long (default: two intervals plus grace, or the rules' --stale-after)",
    )
    .option(
      '--no-overlap',
      `if the previous run of this job is still going, skip this one (exit ${EXIT.skipped}) and count it in promfile_job_skipped_total`,
    )
    .option('-l, --label <name=value>', 'add a label to every series (repeatable; not job, instance, job_name or result)', collect);
}

function registerRun(program: Command, io: CliIo, context: CommandContext): void {
  const declared = addDirCheckOptions(
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
  );
  addJobOptions(declared.requiredOption('--job <name>', 'job name: the job_name label, and the file name unless -f/--file-path is given'))
    .option(
      '--push <url>',
      'push the metrics to this Pushgateway (POST to job/<job>) instead of writing the textfile; for service-level jobs only',
    )
    .option('--grouping <name=value>', 'with --push: further grouping-key label (repeatable)', collect)
    .option('--allow-instance', 'with --push: allow an instance/host label or this hostname')
    .option('-q, --quiet', 'with --push: do not print the reminder that pushed series never expire')
    .addOption(formatOption(program))
    .action(async (command: string[], flags: RunFlags) => (await import('./commands/run.js')).runAction(io, context, command, flags));
}

function registerInc(program: Command, io: CliIo, context: CommandContext): void {
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
    .action(async (seriesText: string, amountText: string, flags: IncFlags) =>
      (await import('./commands/inc.js')).incAction(io, context, seriesText, amountText, flags),
    );
}

/** The commands of this module, in the order help lists them. */
export const RUN_COMMANDS: Registers = { run: registerRun, inc: registerInc };
