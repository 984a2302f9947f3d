// rm: delete a textfile under its lock (deleteTextfile, through the one write pipeline).
import { deleteTextfile } from '../../textfile/update.js';
import { targetPath, writeOptions, type WriteFlags } from '../common.js';
import type { CliIo, CommandContext } from '../io.js';
import { printReport, type OutputFlags } from '../report.js';

export async function rmAction(io: CliIo, context: CommandContext, flags: WriteFlags & OutputFlags): Promise<void> {
  const path = targetPath(flags, io);
  const dryRun = flags.dryRun === true;
  const existed = await deleteTextfile(path, { ...(await writeOptions(flags, io)), dryRun });
  if (!existed) io.stderr.write(`promfile: warning: ${path} did not exist\n`);
  if (flags.format === 'json') printReport(io, context, { file: path, changed: existed, written: existed && !dryRun, dryRun });
}
