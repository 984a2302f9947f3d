// unset: remove series, or whole families, from a textfile under its lock.
import { InputError } from '../../errors.js';
import { removeFamilies, unsetSeries } from '../../format/model.js';
import { updateTextfile } from '../../textfile/update.js';
import { targetPath, writeOptions, type WriteFlags } from '../common.js';
import type { CliIo, CommandContext } from '../io.js';
import { reportUpdate, seriesBefore, type OutputFlags } from '../report.js';
import { parseLabelOptions, parseSeriesSelector, withLabels } from '../series.js';

export interface UnsetFlags extends WriteFlags, OutputFlags {
  label?: string[];
  family?: boolean;
}

export async function unsetAction(io: CliIo, context: CommandContext, args: string[], flags: UnsetFlags): Promise<void> {
  const path = targetPath(flags, io);
  const before = await seriesBefore(flags, path);
  const extra = parseLabelOptions(flags.label);
  const selectors = args.map((arg) => withLabels(parseSeriesSelector(arg, JSON.stringify(arg)), extra, JSON.stringify(arg)));
  if (flags.family && selectors.some((s) => Object.keys(s.labels).length > 0)) {
    throw new InputError('ERR_INVALID_ARGUMENT', '--family takes metric names without labels');
  }
  let removed = 0;
  const result = await updateTextfile(
    path,
    (current) => {
      const outcome = flags.family
        ? removeFamilies(
            current,
            selectors.map((s) => s.name),
          )
        : unsetSeries(current, selectors);
      removed = outcome.removed;
      return outcome.families;
    },
    { ...(await writeOptions(flags, io)), allowEmpty: true, dryRun: flags.dryRun === true, touches: selectors.map((s) => s.name) },
  );
  if (removed === 0) io.stderr.write(`promfile: warning: nothing matched in ${path}\n`);
  reportUpdate(io, context, flags, before, result);
}
