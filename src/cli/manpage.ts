// promfile(1), rendered from the command definitions through commander's Help: the
// same usage lines, descriptions, option terms and examples that --help prints.
import type { Command, Help } from 'commander';
import { EXAMPLES } from './examples.js';

/** A section below the commands, e.g. EXIT STATUS: paragraphs (strings) and rows of a two-column table. */
export interface ManSection {
  readonly title: string;
  readonly items: readonly (string | readonly [string, string])[];
}

/** Escape text for roff: backslashes, hyphens (so they stay ASCII), and a leading control character. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

/** Lines of text as roff, a `.PP`-free block of filled text. */
function paragraph(text: string): string {
  return roff(text.replace(/\s*\n\s*/g, ' ').trim());
}

function tagged(term: string, description: string): string {
  return `.TP\n.B ${roff(term)}\n${paragraph(description)}`;
}

function exampleBlock(name: string): string[] {
  return ['.RS', '.nf', ...(EXAMPLES[name] ?? []).map(roff), '.fi', '.RE'];
}

function examples(name: string): string[] {
  return EXAMPLES[name] ? ['.PP', 'Examples:', '.PP', ...exampleBlock(name)] : [];
}

function commandSection(help: Help, command: Command): string[] {
  const lines = [`.SS "${roff(help.commandUsage(command)).replace(/"/g, '""')}"`, paragraph(help.commandDescription(command))];
  for (const argument of help.visibleArguments(command)) {
    lines.push(tagged(help.argumentTerm(argument), help.argumentDescription(argument)));
  }
  for (const option of help.visibleOptions(command)) {
    lines.push(tagged(help.optionTerm(option), help.optionDescription(option)));
  }
  lines.push(...examples(command.name()));
  return lines;
}

function extraSection(section: ManSection): string[] {
  const lines = [`.SH ${roff(section.title.toUpperCase())}`];
  for (const item of section.items) lines.push(typeof item === 'string' ? `.PP\n${paragraph(item)}` : tagged(...item));
  return lines;
}

/** The man page of `program` (all commands registered). */
export function renderManPage(program: Command, version: string, sections: readonly ManSection[] = []): string {
  const help = program.createHelp();
  const name = program.name();
  const commands = program.commands.filter((command) => command.name() !== 'help');
  return [
    `.TH ${name.toUpperCase()} 1 "" "${name} ${version}" "User Commands"`,
    '.SH NAME',
    `${name} \\- ${paragraph(help.commandDescription(program))}`,
    '.SH SYNOPSIS',
    `.B ${name}`,
    '.I command',
    '.RI [ options "] [" arguments ]',
    '.br',
    `.B ${name}`,
    '.I command',
    '.B \\-\\-help',
    '.SH OPTIONS',
    ...help.visibleOptions(program).map((option) => tagged(help.optionTerm(option), help.optionDescription(option))),
    '.SH COMMANDS',
    ...commands.flatMap((command) => commandSection(help, command)),
    '.SH EXAMPLES',
    ...exampleBlock(name),
    ...sections.flatMap(extraSection),
    '',
  ].join('\n');
}
