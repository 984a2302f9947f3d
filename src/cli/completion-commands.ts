// completion: print the shell completion script for the commands defined.
import type { Command } from 'commander';
import { completionScript, SHELLS, type Shell } from './completion.js';
import type { CliIo } from './io.js';

export function registerCompletionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .description('print the bash or zsh completion script for promfile')
    .addArgument(program.createArgument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });
}
