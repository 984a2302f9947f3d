// set, write, unset, rm: the commands that change one textfile. This module
// declares them, one register function each, so a start declares only the
// command it runs; each action is in commands/<name>.ts, loaded when it runs.
import type { Command } from 'commander';
import { NAME_ESCAPINGS } from '../format/name-escaping.js';
import { addDirCheckOptions, addLockOptions, addWriteOptions, collect, formatOption, typeOption, type WriteFlags } from './common.js';
import type { CliIo, CommandContext, Registers } from './io.js';
import type { OutputFlags } from './report.js';
import type { SetFlags } from './commands/set.js';
import type { UnsetFlags } from './commands/unset.js';
import type { WriteCommandFlags } from './commands/write.js';

function registerSet(program: Command, io: CliIo, context: CommandContext): void {
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
    .action(async (args: string[], flags: SetFlags) => (await import('./commands/set.js')).setAction(io, context, args, flags));
}

function registerWrite(program: Command, io: CliIo, context: CommandContext): void {
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
    .addOption(
      program
        .createOption('--from <format>', 'the input format; openmetrics: convert to the text format, saying what it drops')
        .choices(['text', 'openmetrics'])
        .default('text'),
    )
    .addOption(
      program
        .createOption(
          '--escape-names <scheme>',
          "rewrite quoted (UTF-8) metric and label names as legacy names by Prometheus' escaping scheme",
        )
        .choices(NAME_ESCAPINGS),
    )
    .option('--allow-empty', 'write even when the input is empty (zero bytes)')
    .option('--timeout <duration>', 'with COMMAND: send SIGTERM to its process group after this long; exit 124, file kept')
    .option('--kill-after <duration>', 'after a timeout, SIGKILL the group this much later', '10s')
    .option('--dry-run', 'print the normalized file to stdout and write nothing')
    .addOption(formatOption(program))
    .action(async (command: string[], flags: WriteCommandFlags) =>
      (await import('./commands/write.js')).writeAction(io, context, command, flags),
    );
}

function registerUnset(program: Command, io: CliIo, context: CommandContext): void {
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
    .action(async (args: string[], flags: UnsetFlags) => (await import('./commands/unset.js')).unsetAction(io, context, args, flags));
}

function registerRm(program: Command, io: CliIo, context: CommandContext): void {
  addLockOptions(program.command('rm').description('delete a textfile (stale-metric clean-up); a missing file is not an error'))
    .option('--dry-run', 'say whether the file exists, and delete nothing')
    .addOption(formatOption(program))
    .action(async (flags: WriteFlags & OutputFlags) => (await import('./commands/rm.js')).rmAction(io, context, flags));
}

/** The commands of this module, in the order help lists them. */
export const WRITE_COMMANDS: Registers = { set: registerSet, write: registerWrite, unset: registerUnset, rm: registerRm };
