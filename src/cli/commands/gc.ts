// gc: the policy is inspect/gc.ts; this prints each path as it goes.
import { resolve } from 'node:path';
import { collectGarbage } from '../../inspect/gc.js';
import { printable } from '../../errors.js';
import { resolveDirectory } from '../common.js';
import { parseDuration } from '../duration.js';
import type { CliIo } from '../io.js';
import { plural } from '../report.js';

export interface GcFlags {
  dir?: string;
  olderThan?: string;
  dryRun?: boolean;
}

export async function gcAction(io: CliIo, flags: GcFlags): Promise<void> {
  const olderThanMs = flags.olderThan === undefined ? undefined : parseDuration(flags.olderThan, '--older-than');
  const dir = resolve(resolveDirectory(flags, io));
  let count = 0;
  for await (const path of collectGarbage(dir, {
    now: io.now(),
    dryRun: flags.dryRun === true,
    ...(olderThanMs === undefined ? {} : { olderThanMs }),
  })) {
    count++;
    io.stdout.write(`${printable(path)}\n`);
  }
  if (flags.dryRun) io.stderr.write(`promfile: dry run: would delete ${plural(count, 'file')}\n`);
}
