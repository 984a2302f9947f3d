// ls: the rows come from inspect/ls.ts, the table or JSON from report.ts.
import { resolve } from 'node:path';
import { listTextfiles } from '../../inspect/ls.js';
import { resolveDirectory } from '../common.js';
import type { CliIo } from '../io.js';
import { plural, renderListing } from '../report.js';

export interface LsFlags {
  dir?: string;
  format: 'text' | 'json';
}

export async function lsAction(io: CliIo, flags: LsFlags): Promise<void> {
  const dir = resolve(resolveDirectory(flags, io));
  const { rows, leftovers } = await listTextfiles(dir, io.now(), io.uid);
  if (leftovers > 0) io.stderr.write(`promfile: ${plural(leftovers, 'leftover temp file')} in ${dir} ("promfile gc" removes them)\n`);
  renderListing(io, flags.format, dir, rows);
}
