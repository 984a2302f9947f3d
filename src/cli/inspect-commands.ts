// check, ls, gc: look at the whole textfile directory the way node_exporter
// will, and keep it clean. This module declares the commands; each action is
// in commands/<name>.ts, loaded when it runs.
import type { Command, Option } from 'commander';
import { nodeExporterOption } from './common.js';
import type { CliIo, CommandContext, Registers } from './io.js';
import type { CheckFlags } from './commands/check.js';
import type { GcFlags } from './commands/gc.js';
import type { LsFlags } from './commands/ls.js';

function formatOption(program: Command): Option {
  return program.createOption('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

const DIR_HELP =
  'textfile directory (default: $PROMFILE_DIR, else the directory of a running node_exporter, else /var/lib/prometheus/node-exporter)';

function registerCheck(program: Command, io: CliIo, context: CommandContext): void {
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
    .action(async (source: string | undefined, flags: CheckFlags) =>
      (await import('./commands/check.js')).checkAction(io, context, source, flags),
    );
}

function registerLs(program: Command, io: CliIo): void {
  program
    .command('ls')
    .description('list the textfiles: series, families, age, size, owner/mode, and whether node_exporter accepts each')
    .option('--dir <dir>', DIR_HELP)
    .addOption(formatOption(program))
    .action(async (flags: LsFlags) => (await import('./commands/ls.js')).lsAction(io, flags));
}

function registerGc(program: Command, io: CliIo): void {
  program
    .command('gc')
    .description('delete stale .prom files, leftover temp files and old lock files nobody holds; prints each path it deletes')
    .option('--dir <dir>', DIR_HELP)
    .option(
      '--older-than <duration>',
      'delete .prom files not rewritten for this long (e.g. 7d); without it, only temp and lock leftovers go',
    )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .action(async (flags: GcFlags) => (await import('./commands/gc.js')).gcAction(io, flags));
}

/** The commands of this module, in the order help lists them. */
export const INSPECT_COMMANDS: Registers = { check: registerCheck, ls: registerLs, gc: registerGc };
