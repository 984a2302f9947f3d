// push: send series to a Pushgateway, for service-level batch jobs.
import type { Command } from 'commander';
import { parseDuration } from './duration.js';
import { InputError } from '../errors.js';
import { setSeries } from '../format/model.js';
import { parseStreamText, readExpositionText } from './input.js';
import { deletePushGroup, DEFAULT_PUSH_TIMEOUT_MS, pushFamilies, type PushGroup } from '../push/gateway.js';
import { parseLabelOptions, parseSeriesValues } from './series.js';
import type { MetricFamily, MetricType, Problem } from '../format/types.js';
import { collect, reportNotices, typeOption } from './common.js';
import type { CliIo, CommandContext, Registers } from './io.js';
import { parseGrouping, warnPushPersistence } from './push-options.js';

interface PushFlags {
  gateway: string;
  job: string;
  grouping?: string[];
  method: 'put' | 'post';
  delete?: boolean;
  allowInstance?: boolean;
  timeout: string;
  type?: MetricType;
  helpText?: string;
  label?: string[];
  quiet?: boolean;
}

async function familiesToPush(args: string[], flags: PushFlags, io: CliIo): Promise<MetricFamily[]> {
  if (args.length > 0) {
    const extra = parseLabelOptions(flags.label);
    const values = parseSeriesValues(args, extra, io.now());
    return setSeries([], values, {
      ...(flags.type ? { type: flags.type } : {}),
      ...(flags.helpText !== undefined ? { help: flags.helpText } : {}),
    });
  }
  if (io.stdin.isTTY) {
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      'push needs SERIES=VALUE arguments, or exposition text on stdin (e.g. `producer | promfile push --gateway URL --job NAME`)',
    );
  }
  if (flags.type !== undefined || flags.helpText !== undefined || flags.label !== undefined) {
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      '--type, --help-text and -l apply to SERIES=VALUE arguments, not to exposition text on stdin',
    );
  }
  const notices: Problem[] = [];
  const families = parseStreamText(await readExpositionText(io.stdin), '<stdin>', { onNotice: (notice) => notices.push(notice) });
  reportNotices(notices, io, '<stdin>');
  return families;
}

function registerPush(program: Command, io: CliIo, context: CommandContext): void {
  program
    .command('push')
    .description(
      'push series to a Prometheus Pushgateway (service-level batch jobs only; machine-level jobs belong in the textfile directory)',
    )
    .argument('[series...]', 'SERIES=VALUE or SERIES VALUE, as for set; without them, exposition text is read from stdin')
    .requiredOption('--gateway <url>', 'Pushgateway base URL, e.g. http://127.0.0.1:9091 (http:// when no scheme is given)')
    .requiredOption('--job <name>', 'job name: the group is /metrics/job/<name>')
    .option('--grouping <name=value>', 'further grouping-key label (repeatable)', collect)
    .option('--method <method>', 'put replaces the whole group; post replaces only the families pushed', 'put')
    .option('--delete', 'delete the group from the gateway instead of pushing')
    .option('--allow-instance', 'push even with an instance/host label or this hostname in the series or grouping key')
    .option('--timeout <duration>', 'bound on the whole request', `${DEFAULT_PUSH_TIMEOUT_MS / 1000}s`)
    .addOption(typeOption(program))
    .option('--help-text <text>', 'HELP text of the series given as arguments')
    .option('-l, --label <name=value>', 'add a label to every series given as arguments (repeatable)', collect)
    .option('-q, --quiet', 'do not print the reminder that pushed series persist')
    .action(async (args: string[], flags: PushFlags) => {
      if (flags.method !== 'put' && flags.method !== 'post')
        throw new InputError('ERR_INVALID_ARGUMENT', `--method "${String(flags.method)}": expected put or post`);
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      if (!(timeoutMs > 0)) throw new InputError('ERR_INVALID_ARGUMENT', `--timeout "${flags.timeout}" must be more than 0`);
      const group: PushGroup = { gateway: flags.gateway, job: flags.job, grouping: parseGrouping(flags.grouping) };
      if (flags.delete) {
        if (args.length > 0) throw new InputError('ERR_INVALID_ARGUMENT', '--delete removes the whole group; it takes no series');
        await deletePushGroup({ ...group, timeoutMs });
        return;
      }
      const families = await familiesToPush(args, flags, io);
      await pushFamilies(families, { ...group, method: flags.method, timeoutMs, allowInstance: flags.allowInstance === true });
      if (!flags.quiet) warnPushPersistence(io, group, flags.allowInstance === true);
      void context;
    });
}

export const PUSH_COMMANDS: Registers = { push: registerPush };
