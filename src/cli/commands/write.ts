// write: exposition text from stdin, or from a generator's stdout, validated
// and written as the whole file.
import { setFlagsFromString } from 'node:v8';
import { ExpositionError, InputError } from '../../errors.js';
import { judgeByProfile, type Profile } from '../../format/profile.js';
import type { MetricFamily, Problem } from '../../format/types.js';
import { writeExpositionStream } from '../../textfile/stream-write.js';
import { updateTextfile } from '../../textfile/update.js';
import { reportNotices, targetPath, writeOptions, type WriteFlags } from '../common.js';
import { positiveDuration } from '../duration.js';
import { isBlankInput, parseStreamText, readExpositionText } from '../input.js';
import type { CliIo, CommandContext } from '../io.js';
import { reportUpdate, seriesBefore, WARNED_AT_MOST, warnSome, warnTargetLabels, type OutputFlags } from '../report.js';
import { targetLabelLines } from '../../inspect/target-labels.js';
import { ALL_VERSIONS } from '../../format/profile.js';
import { NameEscaper, type NameEscaping } from '../../format/name-escaping.js';
import { OpenMetricsConverter, OpenMetricsDetector } from '../../format/openmetrics.js';

export async function writeAction(io: CliIo, context: CommandContext, command: string[], flags: WriteCommandFlags): Promise<void> {
  const path = targetPath(flags, io);
  const before = await seriesBefore(flags, path);
  const options = await writeOptions(flags, io, path);
  const source = command.length > 0 ? (command[0] as string) : '<stdin>';
  const conversion = new InputConversion(flags, source);
  if (command.length === 0 && streamable(flags)) {
    await streamStdin(path, io, flags, options, conversion);
    return;
  }
  const text = command.length > 0 ? await generatorOutput(command, flags, path, io, context, conversion) : await stdinText(io, conversion);
  if (text === undefined) return;
  const notices: Problem[] = [];
  const parse = (profile?: Profile): MetricFamily[] =>
    parseStreamText(text, source, {
      ...(profile ? { profile } : {}),
      stripTimestamps: flags.stripTimestamps === true,
      onNotice: (notice) => notices.push(notice),
    });
  const families = judgeByProfile(options.profile, parse);
  conversion.report(io);
  reportInputNotices(notices, io, source);
  if (isBlankInput(text) && !flags.allowEmpty) throw emptyInput(source);
  const result = await updateTextfile(path, () => families, {
    ...options,
    replace: true,
    prevalidated: true,
    // HELP/TYPE without samples is a collector saying "nothing to report": written, so old series go.
    allowEmpty: true,
    dryRun: flags.dryRun === true,
  });
  warnTargetLabels(io, path, result.families);
  reportUpdate(io, context, flags, before, result);
}

export interface WriteCommandFlags extends WriteFlags, OutputFlags {
  stripTimestamps?: boolean;
  from?: 'text' | 'openmetrics';
  escapeNames?: NameEscaping;
  allowEmpty?: boolean;
  dryRun?: boolean;
  timeout?: string;
  killAfter: string;
}

/**
 * The conversions in front of the grammar: OpenMetrics (--from openmetrics;
 * without it OpenMetrics is refused) and quoted names (--escape-names).
 */
class InputConversion {
  private converter: OpenMetricsConverter | undefined;

  constructor(
    private readonly flags: WriteCommandFlags,
    private readonly source: string,
  ) {}

  /** The input as the grammar reads it. */
  of(input: AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array> {
    let chunks: AsyncIterable<Uint8Array>;
    if (this.flags.from === 'openmetrics') {
      this.converter = new OpenMetricsConverter(this.source);
      chunks = this.converter.convert(input);
    } else chunks = new OpenMetricsDetector(this.source).watch(input);
    const scheme = this.flags.escapeNames;
    return scheme === undefined ? chunks : new NameEscaper(scheme, this.source).convert(chunks);
  }

  /** What the conversion dropped: a line per kind. */
  report(io: CliIo): void {
    for (const notice of this.converter?.notices() ?? []) reportNotices([notice], io, this.source);
  }
}

async function stdinText(io: CliIo, conversion: InputConversion): Promise<string | Uint8Array> {
  if (io.stdin.isTTY)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      'write reads exposition text from stdin; pipe it in (e.g. `script | promfile write -f NAME`), or give `-- COMMAND`',
    );
  return readExpositionText(conversion.of(io.stdin));
}

/**
 * Run the generator and read its stdout. When it fails, the file is kept, the
 * reason is said, and the exit status is the generator's; returns undefined.
 */
async function generatorOutput(
  command: string[],
  flags: WriteCommandFlags,
  path: string,
  io: CliIo,
  context: CommandContext,
  conversion: InputConversion,
): Promise<string | Uint8Array | undefined> {
  const timeoutMs = flags.timeout === undefined ? undefined : positiveDuration(flags.timeout, '--timeout', false);
  const killAfterMs = positiveDuration(flags.killAfter, '--kill-after', true);
  const [executable, ...args] = command as [string, ...string[]];
  const { startChild, DRAIN_AFTER_EXIT_MS } = await import('../../job/spawn.js');
  const generator = startChild(executable, args, {
    env: io.env,
    captureStdout: true,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    killAfterMs,
  });
  const off = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => io.onSignal(signal, () => generator.forward(signal)));
  try {
    // Output refused half-way (invalid UTF-8, too large) is the reason, not the
    // broken pipe the generator then dies of: stop it and report the output.
    const text = readExpositionText(conversion.of(generator.stdout), executable).catch((error: unknown) => {
      generator.forward('SIGTERM');
      return { error };
    });
    const [output, exit] = await Promise.all([text, generator.exit]);
    if (typeof output === 'object' && 'error' in output) throw output.error;
    if (exit.outputHeld)
      io.stderr.write(
        `promfile: warning: ${executable} exited, but a process outside its process group still held its stdout open; stopped reading after ${DRAIN_AFTER_EXIT_MS / 1000}s\n`,
      );
    if (exit.status !== 0) {
      io.stderr.write(`promfile: ${executable} ${generatorFailure(exit, flags.timeout)}; ${path} was not changed\n`);
      context.exitCode = exit.status;
      return undefined;
    }
    return output;
  } finally {
    off.forEach((unsubscribe) => unsubscribe());
  }
}

function generatorFailure(
  exit: { status: number; signal: string | null; spawnError?: string; timedOut: boolean },
  timeout?: string,
): string {
  if (exit.spawnError !== undefined) return `could not be run (${exit.spawnError === 'ENOENT' ? 'command not found' : exit.spawnError})`;
  if (exit.timedOut) return `timed out after ${timeout}`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with status ${exit.status}`;
}

/** The byte-level streaming writer holds one family at a time, so it cannot print the file: it serves stdin unless --dry-run or a JSON report asks for the families. */
function streamable(flags: WriteCommandFlags): boolean {
  return !(flags.dryRun || flags.format === 'json');
}

/**
 * The streaming writer's objects die young (views into stdin chunks, one
 * family's ranges): V8 doubling its young generation for them only raised
 * the peak RSS of a 1M-series write by 4-5 MB (66.5 → 62 MB), at no measured
 * cost in time. The flag is read whenever V8 would grow that space, so it
 * takes effect after start; the CLI owns the process, the library never sets it.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** stdin through the streaming writer, with the same refusals as the whole-input path. */
async function streamStdin(
  path: string,
  io: CliIo,
  flags: WriteCommandFlags,
  options: Awaited<ReturnType<typeof writeOptions>>,
  conversion: InputConversion,
): Promise<void> {
  if (io.stdin.isTTY) await stdinText(io, conversion); // refuses a terminal with the usual message
  keepYoungGenerationSmall();
  const notices: Problem[] = [];
  const targetLabels: { first: string[]; count: number } = { first: [], count: 0 };
  const profile = typeof options.profile === 'function' ? options.profile() : (options.profile ?? ALL_VERSIONS);
  let seen = false;
  const watched = (async function* () {
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!seen && !isBlankInput(bytes)) seen = true;
      yield bytes;
    }
  })();
  try {
    const { warnings } = await writeExpositionStream(path, conversion.of(watched), {
      ...options,
      source: '<stdin>',
      stripTimestamps: flags.stripTimestamps === true,
      onNotice: (notice) => notices.push(notice),
      onBlock: (block) => {
        if (block.name !== undefined)
          for (const { message, line } of targetLabelLines(block.name, block, profile)) {
            if (targetLabels.count++ < WARNED_AT_MOST) targetLabels.first.push(`line ${line}: ${message}`);
          }
      },
      // HELP/TYPE without samples ("nothing to report") is written; only blank input needs --allow-empty.
      get allowEmpty() {
        return flags.allowEmpty === true || seen;
      },
    });
    reportNotices(warnings, io, path);
    warnSome(io, path, targetLabels.first, targetLabels.count);
  } catch (error) {
    if (error instanceof ExpositionError && error.problem.rule === 'missing-final-newline')
      throw new ExpositionError(
        { ...error.problem, message: 'the input ends without a newline, so it may be cut off half-way (truncated); nothing was written' },
        '<stdin>',
      );
    if (error instanceof ExpositionError && error.problem.rule === 'empty') throw emptyInput('<stdin>');
    throw error;
  }
  conversion.report(io);
  reportInputNotices(notices, io, '<stdin>');
}

/** Blank input is refused unless --allow-empty: it is more often a broken generator than a wish. */
function emptyInput(source: string): InputError {
  return new InputError(
    'ERR_EMPTY_INPUT',
    `${source}: the input is empty; nothing was written`, // the CLI's hint names --allow-empty
  );
}

/** The parser's notices, but for HELP/TYPE without samples: how collectors say "all is well" (cron would mail it every run). */
function reportInputNotices(notices: readonly Problem[], io: CliIo, source: string): void {
  reportNotices(
    notices.filter((notice) => notice.rule !== 'empty-family'),
    io,
    source,
  );
}
