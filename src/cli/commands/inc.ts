// inc: add to a counter under the file's lock; a missing counter starts at the amount.
import { InputError } from '../../errors.js';
import { getSeries, setSeries } from '../../format/model.js';
import { parseGoFloat } from '../../format/number.js';
import { updateTextfile } from '../../textfile/update.js';
import { targetPath, writeOptions, type WriteFlags } from '../common.js';
import type { CliIo, CommandContext } from '../io.js';
import { reportUpdate, seriesBefore, warnTargetLabels, type OutputFlags } from '../report.js';
import { parseLabelOptions, parseSeriesSelector, withLabels } from '../series.js';

export interface IncFlags extends WriteFlags, OutputFlags {
  label?: string[];
  helpText?: string;
}

export async function incAction(
  io: CliIo,
  context: CommandContext,
  seriesText: string,
  amountText: string,
  flags: IncFlags,
): Promise<void> {
  const path = targetPath(flags, io);
  const before = await seriesBefore(flags, path);
  const what = JSON.stringify(seriesText);
  const series = withLabels(parseSeriesSelector(seriesText, what), parseLabelOptions(flags.label), what);
  const amount = parseAmount(amountText);
  const result = await updateTextfile(
    path,
    (current, neighbours) => {
      const value = (getSeries(current, series.name, series.labels)?.value ?? 0) + amount;
      return setSeries(current, [{ ...series, value }], {
        type: 'counter',
        ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
        helpFor: (name) => neighbours.helpOf(name),
      });
    },
    { ...(await writeOptions(flags, io, path)), dryRun: flags.dryRun === true, touches: [series.name] },
  );
  warnTargetLabels(io, path, result.families, [series.name]);
  reportUpdate(io, context, flags, before, result);
}

/** AMOUNT of `inc`: a finite number >= 0 (a counter only goes up). */
function parseAmount(text: string): number {
  const amount = parseGoFloat(text);
  if (amount === undefined || !Number.isFinite(amount) || amount < 0) {
    throw new InputError('ERR_INVALID_ARGUMENT', `amount "${text}": expected a finite number >= 0 (a counter only goes up)`);
  }
  return amount;
}
