// completion: print the shell completion script for the commands defined.
import type { Command } from 'commander';
import { completionScript, SHELLS, type Shell } from './completion.js';
import type { CliIo, Registers } from './io.js';

function registerCompletion(program: Command, io: CliIo): void {
  program
    .command('completion')
    .description('print the bash or zsh completion script for promfile')
    .addArgument(program.createArgument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });
}

export const COMPLETION_COMMANDS: Registers = { completion: registerCompletion };
