// unit: a new job as a systemd .service + .timer pair, printed (or written) from
// a command line, as systemd-run does for transient units. This module declares
// it; the action is in commands/unit.ts, loaded when it runs.
import type { Command } from 'commander';
import { DEFAULT_DURATION_BUCKETS } from '../job/metrics.js';
import { DEFAULT_UNIT_DIR } from '../job/unit.js';
import { addDirCheckOptions, addWriteOptions } from './common.js';
import type { CliIo, CommandContext, Registers } from './io.js';
import { addJobOptions } from './run-commands.js';
import type { UnitFlags } from './commands/unit.js';

function registerUnit(program: Command, io: CliIo, context: CommandContext): void {
  const declared = program
    .command('unit')
    .description(
      "print a systemd NAME.service and NAME.timer that run the command as promfile job NAME on a calendar (the service runs promfile run --timer NAME.timer, with run's options given here: --timeout, -l, --dir, ...); --write writes them",
    )
    .usage('NAME --on-calendar SPEC [options] -- COMMAND [ARGS...]')
    .argument('<name>', "the units' name (NAME.service, NAME.timer) and the job's name")
    .argument('<command...>', 'the job: its command and arguments, after --')
    .requiredOption(
      '--on-calendar <spec>',
      "when the timer starts the job: its OnCalendar= (e.g. daily, 'Mon..Fri 06:00', '*-*-* 02:30 Europe/Berlin'), checked by systemd-analyze",
    )
    .option('--randomized-delay <duration>', "the timer's RandomizedDelaySec=: start up to this much later, at random (e.g. 15m)")
    .option('--accuracy <duration>', "the timer's AccuracySec= (systemd's default is 1m)")
    .option('--persistent', 'Persistent=true: a run missed while the machine was off happens at the next boot')
    .option('--write [dir]', `write NAME.service and NAME.timer into DIR (default ${DEFAULT_UNIT_DIR}) instead of printing them`)
    .option('--force', 'with --write: replace the units if they exist');
  // The rest are promfile run's options, written into the service's command line as given.
  addJobOptions(addDirCheckOptions(addWriteOptions(declared), program))
    .option('--grace <duration>', 'for the run: how late a run may start (default: a tenth of the interval, at least 1m, plus the delays)')
    .option(
      '--duration-buckets <seconds,...>',
      `for the run: buckets of the run-duration histogram (default ${DEFAULT_DURATION_BUCKETS.join(',')})`,
    )
    .action(async (name: string, command: string[], flags: UnitFlags, self: Command) =>
      (await import('./commands/unit.js')).unitAction(io, context, { name, command, flags, declared: self }),
    );
}

/** The commands of this module. */
export const UNIT_COMMANDS: Registers = { unit: registerUnit };
