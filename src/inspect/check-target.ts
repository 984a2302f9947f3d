// What `check` looks at, in one call: exposition text, one file alone, or a
// directory (optionally narrowed to one of its files), then, when asked, a
// running node_exporter's scrape to compare with.
import { IoError } from '../errors.js';
import { resolveTarget } from '../textfile/files.js';
import type { CollectorNames } from '../textfile/neighbours.js';
import type { Severity } from '../format/types.js';
import {
  checkDirectory,
  checkFile,
  checkText,
  compareWithScrape,
  fetchScrape,
  losesData,
  type Analysis,
  type CheckOptions,
  type Finding,
  type ParsedFile,
} from './check.js';

export type CheckTarget =
  /** Exposition text (stdin), shown as `source`. */
  | { readonly kind: 'text'; readonly source: string; readonly bytes: Uint8Array }
  /** One file by path, without the rest of its directory. */
  | { readonly kind: 'file'; readonly path: string }
  /** A whole directory; with `only` (a name as -f takes it), that file's findings (and the directory's own) in its context. */
  | { readonly kind: 'directory'; readonly dir: string; readonly only?: string };

export interface CheckTargetOptions extends CheckOptions {
  /** Compare with this node_exporter's /metrics, waiting at most `timeoutMs`. */
  readonly against?: { readonly url: string; readonly timeoutMs: number };
  /** The names node_exporter's own collectors export (collectors.ts): a file's family of one of them is an error. */
  readonly collectors?: CollectorNames | undefined;
}

export interface CheckResult extends Analysis {
  /** Samples in the files checked. */
  readonly series: number;
  /** False when node_exporter (or Prometheus) loses data. */
  readonly ok: boolean;
  readonly summary: Record<Severity, number>;
}

/** Check the target the way node_exporter will see it. */
export async function checkTarget(target: CheckTarget, options: CheckTargetOptions = {}): Promise<CheckResult> {
  const { findings, files } = await analyse(target, options);
  if (options.against !== undefined) {
    const { url, timeoutMs } = options.against;
    findings.push(...compareWithScrape(files, await fetchScrape(url, timeoutMs), url));
  }
  if (options.collectors !== undefined) findings.push(...(await collectorFindings(files, findings, options.collectors)));
  const series = files.reduce((sum, file) => sum + file.series, 0);
  return { findings, files, series, ok: !losesData(findings), summary: countBySeverity(findings) };
}

async function analyse(target: CheckTarget, options: CheckOptions): Promise<Analysis> {
  if (target.kind === 'text') return checkText(target.source, target.bytes, options.profile);
  if (target.kind === 'file') return checkFile(target.path, options);
  const report = await checkDirectory(target.dir, options);
  if (target.only === undefined) return report;
  const only = resolveTarget({ dir: target.dir, name: target.only });
  const concerns = (finding: Finding): boolean => finding.file === only || finding.file === target.dir;
  const files = report.files.filter((file) => file.path === only);
  if (files.length === 0 && !report.findings.some(concerns)) throw new IoError('ERR_READ_FAILED', `${only} does not exist`);
  return { files, findings: report.findings.filter(concerns) };
}

/** Families named like a metric of node_exporter's own collectors (unless the merge rules flagged them already). */
async function collectorFindings(
  files: readonly ParsedFile[],
  findings: readonly Finding[],
  collectors: CollectorNames,
): Promise<Finding[]> {
  const found = await collectors();
  if (found === undefined) return [];
  const flagged = (file: string, name: string): boolean =>
    findings.some((f) => f.file === file && f.rule === 'node-collision' && f.message.includes(`"${name}"`));
  return files
    .filter((file) => file.accepted)
    .flatMap((file) => file.families.map((family) => ({ file: file.path, name: family.name })))
    .filter(({ file, name }) => found.names.has(name) && !flagged(file, name))
    .map(({ file, name }) => ({
      file,
      severity: 'error' as const,
      rule: 'node-collision' as const,
      message: `metric "${name}" is also exported by node_exporter's own collectors (${found.source}): one of the two is dropped at every scrape; rename it`,
    }));
}

function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
