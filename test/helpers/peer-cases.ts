// The peer corpus: other projects' parser tests, one directory per case,
// read from ../shared/peer-cases at test time (never copied into the project).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** $PROMFILE_PEER_CASES, else ../shared/peer-cases beside the checkout (or its worktree root); undefined when absent. */
export const PEER_CASES = [
  process.env['PROMFILE_PEER_CASES'],
  join(ROOT, '..', 'shared', 'peer-cases'),
  join(ROOT, '..', '..', 'shared', 'peer-cases'),
]
  .filter((dir): dir is string => dir !== undefined)
  .find((dir) => existsSync(dir));

/** One case: its name (prefixed) and its directory. */
export interface Case {
  readonly name: string;
  readonly dir: string;
}

/** The case directories under `root`, sorted, their names prefixed with `prefix`. */
export function casesIn(root: string | undefined, prefix: string): Case[] {
  if (root === undefined) return [];
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((name) => ({ name: `${prefix}${name}`, dir: join(root, name) }));
}
