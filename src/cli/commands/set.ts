// set: merge series into a textfile, under its lock.
import { setSeries } from '../../format/model.js';
import type { MetricType } from '../../format/types.js';
import { updateTextfile } from '../../textfile/update.js';
import { targetPath, writeOptions, type WriteFlags } from '../common.js';
import type { CliIo, CommandContext } from '../io.js';
import { reportUpdate, seriesBefore, warnTargetLabels, type OutputFlags } from '../report.js';
import { parseLabelOptions, parseSeriesValues } from '../series.js';

export interface SetFlags extends WriteFlags, OutputFlags {
  type?: MetricType;
  helpText?: string;
  label?: string[];
  replace?: boolean;
  dryRun?: boolean;
}

export async function setAction(io: CliIo, context: CommandContext, args: string[], flags: SetFlags): Promise<void> {
  const path = targetPath(flags, io);
  const before = await seriesBefore(flags, path);
  const values = parseSeriesValues(args, parseLabelOptions(flags.label), io.now());
  const result = await updateTextfile(
    path,
    (current, neighbours) =>
      setSeries(current, values, {
        ...(flags.type ? { type: flags.type } : {}),
        ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
        helpFor: (name) => neighbours.helpOf(name),
      }),
    {
      ...(await writeOptions(flags, io, path)),
      replace: flags.replace === true,
      dryRun: flags.dryRun === true,
      touches: values.map((value) => value.name),
    },
  );
  warnTargetLabels(
    io,
    path,
    result.families,
    values.map((value) => value.name),
  );
  reportUpdate(io, context, flags, before, result);
}
