// See a textfile directory the way node_exporter will: every per-file rule
// of the parser, then the merge of all *.prom files in node_exporter's order
// (format/merge.ts), then what the filesystem adds (modes, symlinks,
// leftovers, age). Rules are those of the profile's node_exporter versions.
import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoOf, IoError, listed, messageOf, PromfileError } from '../errors.js';
import { formatAge, formatMode, listDirectory, readableByNonRoot, type DirectoryEntry } from '../textfile/inventory.js';
import { describeFileKind, readRegularFile, readRegularFileChunks, readRegularFileSync } from '../textfile/files.js';
import { mergeProblems } from '../format/merge.js';
import { countSeries, familyStub } from '../format/model.js';
import { readExposition } from '../format/parse.js';
import { FileScan, scanFile } from '../format/fast-file.js';
import { targetLabelLines, targetLabelsOf } from './target-labels.js';
import { ALL_VERSIONS, type Profile } from '../format/profile.js';
import { escapeLabelValue } from '../format/render.js';
import type { Labels, MetricFamily, Rule, Severity } from '../format/types.js';
import { describeSeries, seriesKey } from '../format/validate.js';

/**
 * The stable ids of what `check` reports: the format's rules, and those about
 * the directory, its entries and a scrape.
 */
export type CheckRule =
  | Rule
  | 'target-label'
  | 'empty-file'
  | 'directory-missing'
  | 'unreadable'
  | 'dangling-symlink'
  | 'symlink'
  | 'untrusted-symlink'
  | 'other-directory'
  | 'not-a-file'
  | 'lock-not-a-file'
  | 'temp-leftover'
  | 'stale-file'
  | 'no-textfile-collector'
  | 'scrape-error'
  | 'missing-from-scrape';

/** One thing `check` found, at a file and (where it can say) a line. */
export interface Finding {
  /** The file's path, `<stdin>`, the directory, or the scraped URL. */
  readonly file: string;
  readonly line?: number;
  readonly severity: Severity;
  readonly rule: CheckRule;
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
  /** Samples in `families` (counted without them when the fast scanner checked the file). */
  readonly series: number;
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
  /** The node_exporter versions whose rules apply; default all known versions. */
  readonly profile?: Profile;
  /** Whose check it is: links owned by root or this uid may be read through; default this process's. */
  readonly uid?: number | undefined;
}

/**
 * Why a link in `dirInfo` may have been planted by another account (it is owned by one, or sits in
 * a directory another can write), or undefined. promfile does not read through such a link: as
 * root, check would quote the first line of any file the link's owner names.
 */
export function untrustedLink(link: Stats, dirInfo: Stats | undefined, uid: number | undefined): string | undefined {
  const trusted = (owner: number): boolean => owner === 0 || owner === uid;
  if (!trusted(link.uid)) return `owned by uid ${link.uid}`;
  if (dirInfo === undefined) return undefined;
  if (!trusted(dirInfo.uid)) return `in a directory owned by uid ${dirInfo.uid}`;
  if ((dirInfo.mode & 0o002) !== 0 || ((dirInfo.mode & 0o020) !== 0 && dirInfo.gid !== 0))
    return `in a directory others can write (mode ${formatMode(dirInfo.mode)})`;
  return undefined;
}

export interface DirectoryReport extends Analysis {
  readonly dir: string;
}

/** Temp files younger than this may belong to a write in progress. */
export const TEMP_GRACE_MS = 60_000;

/** Per-file rules, then node_exporter's merge across the files in the order given. */
export function analyseTextfiles(sources: readonly SourceFile[], profile: Profile = ALL_VERSIONS): Analysis {
  const findings: Finding[] = [];
  const files: ParsedFile[] = [];
  const texts = new Map<string, TextIndex>();
  for (const source of sources) {
    const { families, problems } = readExposition(source.bytes, { profile });
    const accepted = !problems.some((problem) => problem.wholeFile && problem.severity === 'error');
    for (const { severity, rule, message, line } of problems) {
      // HELP/TYPE without samples is how a misspelt name shows (pacman.sh declares one name and emits another).
      findings.push(finding(source.path, rule === 'empty-family' ? 'warning' : severity, rule, message, line));
    }
    if (accepted && families.length === 0) findings.push(emptyFileFinding(source.path));
    files.push({ path: source.path, families, accepted, series: countSeries(families) });
    texts.set(source.path, new TextIndex(source.bytes));
  }
  findings.push(...mergeFindings(files, texts, profile));
  return {
    findings: sortFindings(
      findings,
      sources.map((source) => source.path),
    ),
    files,
  };
}

/** node_exporter's merge over the accepted files, in order, with each problem at its line. */
function mergeFindings(files: readonly ParsedFile[], texts: Map<string, TextIndex>, profile: Profile): Finding[] {
  const accepted = files.filter((file) => file.accepted);
  const findings: Finding[] = [];
  for (const file of accepted) {
    const text = texts.get(file.path) as TextIndex;
    for (const family of file.families)
      for (const { sample, message } of targetLabelsOf(family))
        findings.push(finding(file.path, 'warning', 'target-label', message, text.sampleLine(sample.name, sample.labels)));
  }
  for (const problem of mergeProblems(accepted, profile)) {
    // Lines are looked up only for findings: decoding every file again would double the work.
    const text = texts.get(problem.file) as TextIndex;
    const line = problem.series ? text.sampleLine(problem.series.name, problem.series.labels) : text.familyLine(problem.family);
    findings.push(finding(problem.file, problem.severity, problem.rule, problem.message, line));
  }
  return findings;
}

function emptyFileFinding(path: string): Finding {
  return finding(
    path,
    'warning',
    'empty-file',
    'no samples: node_exporter exposes nothing from this file (a writer truncated it, or a job wrote nothing)',
  );
}

/**
 * One file through the fast scanner (format/fast-scan.ts), read in chunks and
 * never whole. When the scanner vouches for the file (no problem of any kind,
 * every family in one block), what is left to find depends only on the
 * families' names and types and on the first line of each family holding a
 * target label: only those lines are parsed, while the block is at hand.
 * Undefined otherwise, and when a rule across families speaks (its line is
 * looked up in the whole text: quickAnalysis). The file's `families` are read
 * again and parsed if asked for (--against).
 */
async function streamedAnalysis(path: string, profile: Profile): Promise<Analysis | undefined> {
  const findings: Finding[] = [];
  const stubs: MetricFamily[] = [];
  const scan = new FileScan(
    { profile },
    (name, block) => {
      stubs.push(familyStub(name, block.type));
      findings.push(
        ...targetLabelLines(name, block, profile).map(({ message, line }) => finding(path, 'warning', 'target-label', message, line)),
      );
    },
    { reusedChunks: true, checkOnly: true },
  );
  await readRegularFileChunks(path, { follow: true }, (chunk) => scan.push(chunk));
  const scanned = scan.end();
  if (scanned === undefined || mergeProblems([{ path, families: stubs }], profile).length > 0) return undefined;
  if (stubs.length === 0) findings.unshift(emptyFileFinding(path));
  return {
    findings: sortFindings(findings, [path]),
    files: [scannedFile(path, scanned.series, () => readRegularFileSync(path, { follow: true }), profile)],
  };
}

/**
 * quickAnalysis of a file's bytes in memory: as streamedAnalysis, and for
 * the rules across families, with each problem at its line.
 */
function quickAnalysis(source: SourceFile, profile: Profile): Analysis | undefined {
  const scanned = scanFile(source.bytes, { profile });
  if (scanned === undefined) return undefined;
  const { path } = source;
  const findings: Finding[] = scanned.blocks.size === 0 ? [emptyFileFinding(path)] : [];
  for (const [name, block] of scanned.blocks)
    findings.push(
      ...targetLabelLines(name, block, profile).map(({ message, line }) => finding(path, 'warning', 'target-label', message, line)),
    );
  const stubs = [...scanned.blocks].map(([name, block]) => familyStub(name, block.type));
  const text = new TextIndex(source.bytes);
  for (const problem of mergeProblems([{ path, families: stubs }], profile))
    findings.push(finding(path, problem.severity, problem.rule, problem.message, text.familyLine(problem.family)));
  return { findings: sortFindings(findings, [path]), files: [scannedFile(path, scanned.series, () => source.bytes, profile)] };
}

/** A file the scanner vouched for: accepted, its series counted, its families parsed only when asked for. */
function scannedFile(path: string, series: number, bytes: () => Uint8Array, profile: Profile): ParsedFile {
  let families: MetricFamily[] | undefined;
  return {
    path,
    accepted: true,
    series,
    get families(): MetricFamily[] {
      return (families ??= readExposition(bytes(), { profile }).families);
    },
  };
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
export function checkText(path: string, bytes: Uint8Array, profile?: Profile): Analysis {
  return analyseTextfiles([{ path, bytes }], profile);
}

/** Check every *.prom file of a directory together, plus the directory's own state. */
export async function checkDirectory(dir: string, options: CheckOptions = {}): Promise<DirectoryReport> {
  const now = options.now ?? Date.now();
  const dirInfo = await stat(dir).catch((error: unknown) => ({ error }));
  if ('error' in dirInfo) {
    const code = errnoOf(dirInfo.error);
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? messageOf(dirInfo.error)})`;
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
    throw new IoError('ERR_READ_FAILED', `cannot list ${dir}: ${messageOf(error)}`, { cause: error });
  });
  const sources: SourceFile[] = [];
  for (const entry of entries) {
    const source = (await inspectEntry(entry, now, { ...options, dirInfo }, findings)) ? await readSource(entry.path, findings) : undefined;
    if (source) sources.push(source);
  }
  const analysis = analyseTextfiles(sources, options.profile);
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
  const dirInfo = symlink ? await stat(dirname(path)).catch(() => undefined) : undefined;
  const entryOptions = { ...options, ...(dirInfo ? { dirInfo } : {}) };
  const analysis = (await inspectEntry({ name, path, kind: 'textfile', link, target, symlink }, now, entryOptions, findings))
    ? await analyseFile(path, options.profile ?? ALL_VERSIONS, findings)
    : { findings: [], files: [] };
  return { findings: sortFindings([...findings, ...analysis.findings], [path]), files: analysis.files };
}

/** One file alone: streamed through the scanner when it vouches for it, else read whole (quickly, or strictly). */
async function analyseFile(path: string, profile: Profile, findings: Finding[]): Promise<Analysis> {
  const none: Analysis = { findings: [], files: [] };
  try {
    const streamed = await streamedAnalysis(path, profile);
    if (streamed !== undefined) return streamed;
  } catch (error) {
    findings.push(unreadableFinding(path, error));
    return none;
  }
  const source = await readSource(path, findings);
  return source ? (quickAnalysis(source, profile) ?? analyseTextfiles([source], profile)) : none;
}

/** A writer's leftover temp file, or a lock name promfile cannot lock. */
function leftoverFindings(entry: DirectoryEntry, now: number, add: (severity: Severity, rule: CheckRule, message: string) => void): void {
  if (entry.kind === 'temp') {
    const age = now - entry.link.mtimeMs;
    if (age > TEMP_GRACE_MS)
      add(
        'warning',
        'temp-leftover',
        `leftover temp file, ${formatAge(age)} old (a writer died before renaming it): node_exporter ignores it; "promfile gc" removes it`,
      );
    return;
  }
  if (entry.kind === 'lock') {
    // A lock file is harmless whether held or not; only one promfile cannot lock is worth a word.
    if (!entry.link.isFile())
      add(
        'warning',
        'lock-not-a-file',
        `${describeFileKind(entry.link)} at a lock name: promfile refuses to lock it, so writes to its .prom file fail; remove it`,
      );
  }
}

/** A symlink's findings; true when its target may be read (it exists and no other account may have planted the link). */
async function linkReadable(
  entry: DirectoryEntry,
  options: CheckOptions & { readonly dirInfo?: Stats },
  add: (severity: Severity, rule: CheckRule, message: string) => void,
): Promise<boolean> {
  const to = await readlink(entry.path).catch(() => '?');
  if (!entry.target) {
    add(
      'error',
      'dangling-symlink',
      `symbolic link to ${to}, which does not exist: node_exporter fails to open it (node_textfile_scrape_error 1)`,
    );
    return false;
  }
  const why = untrustedLink(entry.link, options.dirInfo, 'uid' in options ? options.uid : process.getuid?.());
  if (why) {
    add(
      'warning',
      'untrusted-symlink',
      `symbolic link to ${to}, ${why}: not read, since another account may have planted it (node_exporter reads the target)`,
    );
    return false;
  }
  add(
    'warning',
    'symlink',
    `symbolic link to ${to}: node_exporter reads the target (and its mtime), but promfile will not write through a link`,
  );
  return true;
}

/** Filesystem findings of one entry; the source to parse when it is a readable .prom file. */
/** An entry's own state (kind, link, mode, age) as findings; true when it is a file to read. */
async function inspectEntry(
  entry: DirectoryEntry,
  now: number,
  options: CheckOptions & { readonly dirInfo?: Stats },
  findings: Finding[],
): Promise<boolean> {
  const add = (severity: Severity, rule: CheckRule, message: string): void =>
    void findings.push(finding(entry.path, severity, rule, message));
  if (entry.kind === 'temp' || entry.kind === 'lock') {
    leftoverFindings(entry, now, add);
    return false;
  }
  if (entry.kind !== 'textfile') return false;
  if (entry.undecodable) {
    add('error', 'invalid-utf8', 'the file name is not valid UTF-8: node_exporter 1.5 fails at every scrape on such a name; rename it');
    return false;
  }
  if (entry.symlink && !(await linkReadable(entry, options, add))) return false;
  const target = entry.target as NonNullable<DirectoryEntry['target']>;
  if (!target.isFile()) {
    add('error', 'not-a-file', 'not a regular file: node_exporter fails to read it (node_textfile_scrape_error 1)');
    return false;
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
  return true;
}

/** The file's bytes, or an `unreadable` finding. */
async function readSource(path: string, findings: Finding[]): Promise<SourceFile | undefined> {
  try {
    // Never blocks: the entry may have become a FIFO since it was listed.
    return { path, bytes: await readRegularFile(path, { follow: true }) };
  } catch (error) {
    findings.push(unreadableFinding(path, error));
    return undefined;
  }
}

function unreadableFinding(path: string, error: unknown): Finding {
  const why = error instanceof PromfileError ? error.message : (errnoOf(error) ?? messageOf(error));
  return finding(path, 'error', 'unreadable', `cannot read it: ${why}`);
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
      const examples = listed(missing, 3);
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
    if (!response.ok) throw new IoError('ERR_NETWORK', `${url}: HTTP ${response.status}`);
    return await response.text();
  } catch (error) {
    if (error instanceof PromfileError) throw error;
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : messageOf(error instanceof Error && error.cause instanceof Error ? error.cause : error);
    throw new IoError('ERR_NETWORK', `cannot fetch ${url}: ${reason}`, { cause: error });
  }
}

function finding(file: string, severity: Severity, rule: CheckRule, message: string, line?: number): Finding {
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
