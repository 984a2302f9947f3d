// Options shared by `push` and `run --push`: the grouping key, and the
// reminder of how to delete what was pushed.
import { InputError } from '../errors.js';
import { redactUrl, type PushGroup } from '../push/gateway.js';
import type { CliIo } from './io.js';
import { parseLabelOption } from './series.js';

/** `--grouping k=v` values as a grouping key; a label given twice is an error. */
export function parseGrouping(values: readonly string[] = []): Record<string, string> {
  const grouping: Record<string, string> = {};
  for (const value of values) {
    const [name, labelValue] = parseLabelOption(value, '--grouping');
    if (Object.hasOwn(grouping, name)) throw new InputError('ERR_INVALID_ARGUMENT', `--grouping ${name} is given twice`);
    grouping[name] = labelValue;
  }
  return grouping;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that removes the group again. */
export function deleteCommandFor(group: PushGroup, allowInstance = false): string {
  const words = ['promfile', 'push', '--gateway', redactUrl(group.gateway), '--job', group.job];
  for (const [name, value] of Object.entries(group.grouping ?? {})) words.push('--grouping', `${name}=${value}`);
  if (allowInstance) words.push('--allow-instance');
  words.push('--delete');
  return words.map(shellQuote).join(' ');
}

/** After a push: pushed series stay on the gateway until deleted; say how. */
export function warnPushPersistence(io: CliIo, group: PushGroup, allowInstance = false): void {
  io.stderr.write(
    `promfile: warning: pushed series stay on the Pushgateway until deleted (they never expire); remove them with: ${deleteCommandFor(group, allowInstance)}\n`,
  );
}
