// See a textfile directory the way node_exporter will: every per-file rule
// of the parser, then the merge of all *.prom files in node_exporter's order
// (sorted names), where the first file to define a metric wins and a later
// family with another HELP or TYPE, a repeated series or a suffix collision
// is dropped; then what the filesystem adds (modes, symlinks, leftovers, age).
import { lstat, readlink, stat } from 'node:fs/promises';
import { basename as baseName } from 'node:path';
import { IoError, PromfileError } from '../errors.js';
import { formatAge, formatMode, listDirectory, readableByNonRoot, type DirectoryEntry } from '../textfile/inventory.js';
import { describeFileKind, readRegularFile } from '../textfile/files.js';
import { readExposition } from '../format/parse.js';
import { escapeLabelValue } from '../format/render.js';
import type { Labels, MetricFamily, MetricType, Severity } from '../format/types.js';
import { describeSeries, seriesKey } from '../format/validate.js';
import { boundLabel, familyShape, splitCompositeSuffix } from '../format/shape.js';

/** One thing `check` found, at a file and (where it can say) a line. */
export interface Finding {
  /** The file's path, `<stdin>`, the directory, or the scraped URL. */
  readonly file: string;
  readonly line?: number;
  readonly severity: Severity;
  readonly rule: string;
  readonly message: string;
}

/** A .prom file's text, under the path node_exporter knows it by. */
export interface SourceFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** A file as parsed; `accepted` is false when node_exporter rejects all of it. */
export interface ParsedFile {
  readonly path: string;
  readonly families: readonly MetricFamily[];
  readonly accepted: boolean;
}

export interface Analysis {
  readonly findings: Finding[];
  readonly files: ParsedFile[];
}

export interface CheckOptions {
  /** Milliseconds since the epoch; default Date.now(). */
  readonly now?: number;
  /** Flag .prom files whose mtime is older than this many milliseconds. */
  readonly maxAgeMs?: number;
}

export interface DirectoryReport extends Analysis {
  readonly dir: string;
}

/** Temp files younger than this may belong to a write in progress. */
export const TEMP_GRACE_MS = 60_000;

/**
 * Metrics node_exporter always exports next to the textfile collector's
 * (so a textfile defining them hides one or the other).
 */
const OWN_METRICS: ReadonlySet<string> = new Set([
  'node_textfile_mtime_seconds',
  'node_textfile_scrape_error',
  'node_scrape_collector_duration_seconds',
  'node_scrape_collector_success',
  'node_exporter_build_info',
]);

const TARGET_LABELS = ['job', 'instance'] as const;

/** The help node_exporter invents for a family without HELP: one text for all files, so they merge. */
const SYNTHETIC_HELP = '\u0000synthetic';

/** Per-file rules, then node_exporter's merge across the files in the order given. */
export function analyseTextfiles(sources: readonly SourceFile[]): Analysis {
  const findings: Finding[] = [];
  const files: ParsedFile[] = [];
  const texts = new Map<string, TextIndex>();
  for (const source of sources) {
    const { families, problems } = readExposition(source.bytes);
    const accepted = !problems.some((problem) => problem.wholeFile && problem.severity === 'error');
    for (const { severity, rule, message, line } of problems) {
      // HELP/TYPE without samples is how a misspelt name shows (pacman.sh declares one name and emits another).
      findings.push(finding(source.path, rule === 'empty-family' ? 'warning' : severity, rule, message, line));
    }
    if (accepted && families.length === 0) {
      findings.push(
        finding(
          source.path,
          'warning',
          'empty-file',
          'no samples: node_exporter exposes nothing from this file (a writer truncated it, or a job wrote nothing)',
        ),
      );
    }
    files.push({ path: source.path, families, accepted });
    texts.set(source.path, new TextIndex(source.bytes));
  }
  findings.push(...mergeFindings(files, texts));
  return {
    findings: sortFindings(
      findings,
      sources.map((source) => source.path),
    ),
    files,
  };
}

interface Registered {
  readonly file: string;
  readonly help: string;
  readonly type: MetricType;
}

/** Simulate node_exporter's gather over the accepted files, in order. */
function mergeFindings(files: readonly ParsedFile[], texts: Map<string, TextIndex>): Finding[] {
  const findings: Finding[] = [];
  const accepted = files.filter((file) => file.accepted);
  const filesByName = new Map<string, string[]>();
  for (const file of accepted)
    for (const family of file.families) filesByName.set(family.name, [...(filesByName.get(family.name) ?? []), file.path]);

  const registered = new Map<string, Registered>();
  const conflicted = new Set<string>();
  const seen = new Map<string, { file: string; metric: MetricIdentity }>();
  for (const file of accepted) {
    const text = texts.get(file.path) as TextIndex;
    for (const family of file.families) {
      // Lines are looked up only for findings: decoding every file again would double the work.
      const add = (rule: string, message: string, line = text.familyLine(family.name), severity: Severity = 'error'): void => {
        findings.push(finding(file.path, severity, rule, message, line));
      };
      ownNameFindings(family, add);
      targetLabelFindings(family, text, add);
      const help = family.help ?? SYNTHETIC_HELP;
      const first = registered.get(family.name);
      if (first && first.file !== file.path) {
        if (first.help !== help) {
          conflicted.add(family.name);
          add('help-conflict', helpConflictMessage(family, first, filesByName.get(family.name) ?? []));
          continue;
        }
        if (conflicted.has(family.name)) {
          const crash =
            family.help === undefined ? ', and this file has no HELP for it, which can crash them (nil HELP in the conflict path)' : '';
          add(
            'help-conflict',
            `metric "${family.name}" had a HELP conflict in an earlier file: node_exporter 1.8 and later drop it from every later file, this one too${crash}`,
          );
          continue;
        }
        if (first.type !== family.type) {
          add(
            'type-conflict',
            `metric "${family.name}" is ${article(family.type)} here but ${article(first.type)} in ${baseName(first.file)} (read first): node_exporter drops all of "${family.name}" from this file ("should be a ${capitalize(first.type)}")`,
          );
          continue;
        }
      } else if (!first) {
        const collision = suffixCollision(family, registered, file.path);
        if (collision) {
          add('name-collision', collision);
          continue;
        }
        registered.set(family.name, { file: file.path, help, type: family.type });
      }
      for (const metric of metricsOf(family)) {
        const earlier = seen.get(metric.key);
        if (earlier === undefined) {
          seen.set(metric.key, { file: file.path, metric });
        } else if (earlier.file !== file.path) {
          const line = metric.bound === undefined ? text.sampleLine(metric.name, metric.labels) : text.familyLine(family.name);
          const why =
            exactIdentity(earlier.metric) === exactIdentity(metric)
              ? `node_exporter drops it ("was collected before with the same name and label values")`
              : 'they differ only in empty labels, which Prometheus treats as missing: it stores one and drops the other as a duplicate sample';
          add('duplicate-series', `series ${describeMetric(metric)} is also in ${baseName(earlier.file)} (read first): ${why}`, line);
        }
      }
    }
  }
  return findings;
}

function helpConflictMessage(family: MetricFamily, first: Registered, paths: readonly string[]): string {
  const synthetic = `"Metric read from ${paths.join(', ')}"`;
  const describe = (help: string): string =>
    help === SYNTHETIC_HELP ? `no HELP (node_exporter makes it ${synthetic})` : `HELP ${JSON.stringify(help)}`;
  const mine = describe(family.help ?? SYNTHETIC_HELP);
  return `metric "${family.name}" has ${mine} here but ${describe(first.help)} in ${baseName(first.file)} (read first, so it wins): node_exporter drops all of "${family.name}" from this file; give it the same HELP in every file`;
}

/** client_golang's checkSuffixCollisions against families registered by earlier files. */
function suffixCollision(family: MetricFamily, registered: Map<string, Registered>, file: string): string | undefined {
  const other = (name: string): Registered | undefined => {
    const entry = registered.get(name);
    return entry && entry.file !== file ? entry : undefined;
  };
  const split = splitCompositeSuffix(family.name);
  if (split) {
    const { base } = split;
    const owner = other(base);
    if (owner && familyShape(owner.type)?.collisions.includes(split.suffix)) {
      return `metric "${family.name}" collides with ${owner.type} "${base}" in ${baseName(owner.file)} (read first): node_exporter drops "${family.name}" from this file`;
    }
  }
  for (const s of familyShape(family.type)?.collisions ?? []) {
    const owner = other(family.name + s);
    if (owner)
      return `${family.type} "${family.name}" collides with metric "${family.name}${s}" in ${baseName(owner.file)} (read first): node_exporter drops the ${family.type} from this file`;
  }
  return undefined;
}

function ownNameFindings(family: MetricFamily, add: (rule: string, message: string, line?: number, severity?: Severity) => void): void {
  if (OWN_METRICS.has(family.name)) {
    add('node-collision', `metric "${family.name}" is node_exporter's own: one of the two is dropped at every scrape; rename it`);
  } else if (family.name.startsWith('node_')) {
    add(
      'node-prefix',
      `metric "${family.name}" uses node_exporter's "node_" prefix: if a collector exports the same name, one of the two is dropped`,
      undefined,
      'warning',
    );
  }
}

function targetLabelFindings(
  family: MetricFamily,
  text: TextIndex,
  add: (rule: string, message: string, line?: number, severity?: Severity) => void,
): void {
  for (const label of TARGET_LABELS) {
    const sample = family.samples.find((s) => label in s.labels);
    if (!sample) continue;
    add(
      'target-label',
      `label "${label}" of "${family.name}" collides with the "${label}" target label: Prometheus renames it to "exported_${label}" (unless honor_labels is set)`,
      text.sampleLine(sample.name, sample.labels),
      'warning',
    );
  }
}

/** One metric as the gather step counts it; the costly strings are made only for findings. */
interface MetricIdentity {
  /** seriesKey-based: an empty label is the same as a missing one. */
  readonly key: string;
  readonly name: string;
  readonly labels: Labels;
  readonly bound: string | undefined;
  /** The family's label names in this file: node_exporter pads missing ones with "". */
  readonly labelNames: readonly string[];
}

/** Identity as node_exporter hashes it: labels padded to the family's label set, empty ones kept. */
function exactIdentity(metric: MetricIdentity): string {
  return [metric.name, ...metric.labelNames.map((label) => `${label}=${metric.labels[label] ?? ''}`)].join('\u0000');
}

function describeMetric(metric: MetricIdentity): string {
  if (metric.bound === undefined || !(metric.bound in metric.labels)) return describeSeries(metric);
  const { [metric.bound]: _bound, ...labels } = metric.labels;
  return describeSeries({ name: metric.name, labels });
}

/** The metrics of a family: a histogram's or summary's samples make one metric per label set. */
function metricsOf(family: MetricFamily): MetricIdentity[] {
  const bound = boundLabel(family.type);
  const labelNames = new Set<string>();
  for (const sample of family.samples) for (const label in sample.labels) if (label !== bound) labelNames.add(label);
  const sorted = [...labelNames].sort();
  const byKey = new Map<string, MetricIdentity>();
  for (const sample of family.samples) {
    const name = bound ? family.name : sample.name;
    const key = seriesKey(name, sample.labels, bound);
    if (!byKey.has(key)) byKey.set(key, { key, name, labels: sample.labels, bound, labelNames: sorted });
  }
  return [...byKey.values()];
}

/** Lines of a file's text, looked up lazily for cross-file findings. */
class TextIndex {
  private lines: string[] | undefined;

  constructor(private readonly bytes: Uint8Array) {}

  private text(): string[] {
    this.lines ??= Buffer.from(this.bytes).toString('utf8').split('\n');
    return this.lines;
  }

  /** First HELP, TYPE or sample line of a metric. */
  familyLine(name: string): number | undefined {
    const escaped = name.replace(/[:]/g, '\\$&');
    const pattern = new RegExp(`^\\s*(?:#\\s*(?:HELP|TYPE)\\s+)?${escaped}(?:_bucket|_sum|_count)?(?:[\\s{]|$)`);
    const index = this.text().findIndex((line) => pattern.test(line));
    return index === -1 ? undefined : index + 1;
  }

  /** The line of the first sample of this series; only lines that could be it are parsed. */
  sampleLine(name: string, labels: Labels): number | undefined {
    const key = seriesKey(name, labels);
    const values = Object.values(labels)
      .filter((value) => value !== '')
      .map((value) => `"${escapeLabelValue(value)}"`);
    const lines = this.text();
    for (let index = 0; index < lines.length; index++) {
      const line = (lines[index] as string).trimStart();
      if (!line.startsWith(name) || !values.every((value) => line.includes(value))) continue;
      const sample = readExposition(`${line}\n`).families[0]?.samples[0];
      if (sample && seriesKey(sample.name, sample.labels) === key) return index + 1;
    }
    return undefined;
  }
}

/** Check one text alone (stdin, or a file outside the directory): the per-file rules only. */
export function checkText(path: string, bytes: Uint8Array): Analysis {
  return analyseTextfiles([{ path, bytes }]);
}

/** Check every *.prom file of a directory together, plus the directory's own state. */
export async function checkDirectory(dir: string, options: CheckOptions = {}): Promise<DirectoryReport> {
  const now = options.now ?? Date.now();
  const dirInfo = await stat(dir).catch((error: unknown) => error as NodeJS.ErrnoException);
  if (dirInfo instanceof Error) {
    const what = dirInfo.code === 'ENOENT' ? 'does not exist' : `cannot be read (${dirInfo.code ?? dirInfo.message})`;
    return {
      dir,
      findings: [
        finding(
          dir,
          'error',
          'directory-missing',
          `the textfile directory ${what}: node_exporter reports node_textfile_scrape_error 1 and exposes no textfile metric`,
        ),
      ],
      files: [],
    };
  }
  if (!dirInfo.isDirectory()) return { dir, findings: [finding(dir, 'error', 'directory-missing', 'not a directory')], files: [] };
  const findings: Finding[] = [];
  if (!readableByNonRoot(dirInfo, 'rx')) {
    findings.push(
      finding(
        dir,
        'error',
        'unreadable',
        `directory mode ${formatMode(dirInfo.mode)}, owner uid ${dirInfo.uid}: a node_exporter running as a non-root user cannot list it; chmod 0755`,
      ),
    );
  }
  const entries = await listDirectory(dir).catch((error: unknown) => {
    throw new IoError('ERR_READ_FAILED', `cannot list ${dir}: ${(error as Error).message}`, { cause: error });
  });
  const sources: SourceFile[] = [];
  for (const entry of entries) {
    const source = await inspectEntry(entry, now, options, findings);
    if (source) sources.push(source);
  }
  const analysis = analyseTextfiles(sources);
  const order = entries.map((entry) => entry.path);
  return { dir, findings: sortFindings([...findings, ...analysis.findings], [dir, ...order]), files: analysis.files };
}

/** Check one .prom file by path: its own rules and its filesystem state, without the rest of its directory. */
export async function checkFile(path: string, options: CheckOptions = {}): Promise<Analysis> {
  const now = options.now ?? Date.now();
  const link = await lstat(path).catch(() => undefined);
  if (!link) throw new IoError('ERR_READ_FAILED', `${path} does not exist`);
  const symlink = link.isSymbolicLink();
  const target = symlink ? await stat(path).catch(() => undefined) : link;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const findings: Finding[] = [];
  const source = await inspectEntry({ name, path, kind: 'textfile', link, target, symlink }, now, options, findings);
  const analysis = source ? analyseTextfiles([source]) : { findings: [], files: [] };
  return { findings: sortFindings([...findings, ...analysis.findings], [path]), files: analysis.files };
}

/** Filesystem findings of one entry; the source to parse when it is a readable .prom file. */
async function inspectEntry(
  entry: DirectoryEntry,
  now: number,
  options: CheckOptions,
  findings: Finding[],
): Promise<SourceFile | undefined> {
  const add = (severity: Severity, rule: string, message: string): void => void findings.push(finding(entry.path, severity, rule, message));
  if (entry.kind === 'temp') {
    const age = now - entry.link.mtimeMs;
    if (age > TEMP_GRACE_MS)
      add(
        'warning',
        'temp-leftover',
        `leftover temp file, ${formatAge(age)} old (a writer died before renaming it): node_exporter ignores it; "promfile gc" removes it`,
      );
    return undefined;
  }
  if (entry.kind === 'lock') {
    // A lock file is harmless whether held or not; only one promfile cannot lock is worth a word.
    if (!entry.link.isFile())
      add(
        'warning',
        'lock-not-a-file',
        `${describeFileKind(entry.link)} at a lock name: promfile refuses to lock it, so writes to its .prom file fail; remove it`,
      );
    return undefined;
  }
  if (entry.kind !== 'textfile') return undefined;
  if (entry.symlink) {
    const to = await readlink(entry.path).catch(() => '?');
    if (!entry.target) {
      add(
        'error',
        'dangling-symlink',
        `symbolic link to ${to}, which does not exist: node_exporter fails to open it (node_textfile_scrape_error 1)`,
      );
      return undefined;
    }
    add(
      'warning',
      'symlink',
      `symbolic link to ${to}: node_exporter reads the target (and its mtime), but promfile will not write through a link`,
    );
  }
  const target = entry.target as NonNullable<DirectoryEntry['target']>;
  if (!target.isFile()) {
    add('error', 'not-a-file', 'not a regular file: node_exporter fails to read it (node_textfile_scrape_error 1)');
    return undefined;
  }
  if (!readableByNonRoot(target)) {
    add(
      'error',
      'unreadable',
      `mode ${formatMode(target.mode)}, owner uid ${target.uid} gid ${target.gid}: a node_exporter running as a non-root user cannot read it, and drops it (node_textfile_scrape_error 1); chmod 0644`,
    );
  }
  if (options.maxAgeMs !== undefined && now - target.mtimeMs > options.maxAgeMs) {
    add(
      'error',
      'stale-file',
      `not rewritten for ${formatAge(now - target.mtimeMs)} (more than --max-age ${formatAge(options.maxAgeMs)}): node_exporter keeps exporting its old values; did the job stop running?`,
    );
  }
  try {
    // Never blocks: the entry may have become a FIFO since it was listed.
    return { path: entry.path, bytes: await readRegularFile(entry.path, { follow: true }) };
  } catch (error) {
    const why = error instanceof PromfileError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    add('error', 'unreadable', `cannot read it: ${why}`);
    return undefined;
  }
}

/**
 * Compare the files with what a running node_exporter exposes: series in the
 * files but not in the scrape, and node_textfile_scrape_error.
 */
export function compareWithScrape(files: readonly ParsedFile[], scrapeText: string, source: string): Finding[] {
  const scraped = readExposition(scrapeText).families;
  const exposed = new Set<string>();
  for (const family of scraped) for (const sample of family.samples) exposed.add(seriesKey(sample.name, sample.labels));
  const findings: Finding[] = [];
  const scrapeError = scraped.find((family) => family.name === 'node_textfile_scrape_error')?.samples[0]?.value;
  if (scrapeError === undefined)
    findings.push(
      finding(
        source,
        'warning',
        'no-textfile-collector',
        'the scrape has no node_textfile_scrape_error: is the textfile collector enabled?',
      ),
    );
  else if (scrapeError !== 0)
    findings.push(
      finding(source, 'error', 'scrape-error', 'node_textfile_scrape_error is 1: node_exporter failed to read or parse a textfile'),
    );
  const mtimeFiles = new Set(
    scraped.find((family) => family.name === 'node_textfile_mtime_seconds')?.samples.map((s) => s.labels['file']) ?? [],
  );
  let readsAny = false;
  for (const file of files) {
    if (mtimeFiles.has(file.path)) readsAny = true;
    const missing: string[] = [];
    let total = 0;
    for (const family of file.families) {
      for (const sample of family.samples) {
        total++;
        if (!exposed.has(seriesKey(sample.name, sample.labels))) missing.push(describeSeries(sample));
      }
    }
    if (missing.length > 0) {
      const examples = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', ...' : '');
      findings.push(
        finding(file.path, 'error', 'missing-from-scrape', `${missing.length} of ${total} series are missing from ${source}: ${examples}`),
      );
    }
  }
  // Only files node_exporter accepts get an mtime series; none of them having one means another directory.
  // With a scrape error the directory itself may be unreadable to it: that finding says enough.
  if (scrapeError === 0 && files.some((file) => file.accepted && file.families.length > 0) && !readsAny) {
    findings.push(
      finding(
        source,
        'warning',
        'other-directory',
        `no node_textfile_mtime_seconds for any of these files: this node_exporter may read another directory`,
      ),
    );
  }
  return findings;
}

/** GET a node_exporter's /metrics, giving up after `timeoutMs`. */
export async function fetchScrape(url: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain;version=0.0.4' } });
    if (!response.ok) throw new PromfileError('ERR_NETWORK', `${url}: HTTP ${response.status}`);
    return await response.text();
  } catch (error) {
    if (error instanceof PromfileError) throw error;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : ((error as { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new PromfileError('ERR_NETWORK', `cannot fetch ${url}: ${reason}`, { cause: error });
  }
}

function finding(file: string, severity: Severity, rule: string, message: string, line?: number): Finding {
  return line === undefined ? { file, severity, rule, message } : { file, line, severity, rule, message };
}

/** Group by file in the given order, then by line (file-level findings first). */
function sortFindings(findings: readonly Finding[], order: readonly string[]): Finding[] {
  const rank = new Map(order.map((path, index) => [path, index]));
  return findings
    .map((f, index) => ({ f, index }))
    .sort(
      (a, b) =>
        (rank.get(a.f.file) ?? Infinity) - (rank.get(b.f.file) ?? Infinity) || (a.f.line ?? 0) - (b.f.line ?? 0) || a.index - b.index,
    )
    .map(({ f }) => f);
}

/** True when a finding means node_exporter (or Prometheus) loses data. */
export function losesData(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

function capitalize(type: string): string {
  return type === 'untyped' ? 'Untyped' : type[0]?.toUpperCase() + type.slice(1);
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}
