// What `check` looks at, in one call: exposition text, one file alone, or a
// directory (optionally narrowed to one of its files), then, when asked, a
// running node_exporter's scrape to compare with.
import { IoError } from '../errors.js';
import { resolveTarget } from '../textfile/files.js';
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

function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
