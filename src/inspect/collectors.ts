// The metric names node_exporter's own collectors export (loadavg's node_load1,
// uname's node_uname_info, ...). A textfile family of one of those names
// collides with the collector's at every scrape: one of the two is dropped,
// node_exporter logs a gathering error and node_textfile_scrape_error stays 0.
// The running node_exporter's own /metrics is the authority: asked on loopback
// only, within a second, and read up to a bound.
import { resolve } from 'node:path';
import type { CollectorNames, FoundCollectorNames } from '../textfile/neighbours.js';
import { DEFAULT_PROC_ROOT, describeExporter, scanExporters, type DiscoveredExporter } from './discover.js';

/** How long asking node_exporter may take. */
export const SCRAPE_TIMEOUT_MS = 1000;
/** How much of a scrape is read: node_exporter's is some 100 KB; more is not a node_exporter worth asking. */
export const SCRAPE_MAX_BYTES = 16 * 1024 * 1024;

/** The /metrics URL to reach a listen address on loopback; undefined for an address loopback does not reach. */
export function loopbackUrl(address: string, metricsPath = '/metrics'): string | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const path = metricsPath.startsWith('/') ? metricsPath : `/${metricsPath}`;
  // Every address (an empty host, 0.0.0.0, ::) includes loopback; otherwise only a loopback one.
  if (host === '' || host === '0.0.0.0' || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host))
    return `http://${host === '' || host === '0.0.0.0' || host === 'localhost' ? '127.0.0.1' : host}:${match[3]}${path}`;
  if (host === '::' || host === '::1') return `http://[::1]:${match[3]}${path}`;
  return undefined;
}

/** The body of `url` over plain HTTP, or undefined when it does not answer 200 within the time, or exceeds the size. */
export async function scrapeBounded(url: string, timeoutMs = SCRAPE_TIMEOUT_MS, maxBytes = SCRAPE_MAX_BYTES): Promise<string | undefined> {
  // Loaded only here: a write that needs no scrape does not load the network stack.
  const { get } = await import('node:http');
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const request = get(url, { timeout: timeoutMs, headers: { accept: 'text/plain;version=0.0.4' } }, (response) => {
      if (response.statusCode !== 200) return void request.destroy();
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) request.destroy();
        else chunks.push(chunk);
      });
      response.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    });
    const timer = setTimeout(() => request.destroy(), timeoutMs);
    request.on('close', () => {
      clearTimeout(timer);
      done(undefined); // a no-op once `end` settled the promise
    });
    request.on('error', () => done(undefined));
    request.on('timeout', () => request.destroy());
  });
}

/** Every metric name a scrape shows: family names (# TYPE, # HELP) and sample names (a histogram's `_bucket` too). */
export function scrapedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const comment = /^# (?:TYPE|HELP) (\S+)/.exec(line);
    if (comment) names.add(comment[1] as string);
    else if (line !== '' && !line.startsWith('#')) names.add(/^[^{\s]+/.exec(line)?.[0] ?? '');
  }
  names.delete('');
  return names;
}

/** The collectors node_exporter runs, from its node_scrape_collector_success series. */
function enabledCollectors(text: string): string[] {
  return [...text.matchAll(/^node_scrape_collector_success\{collector="([^"\\]+)"\}/gm)].map((match) => match[1] as string);
}

/**
 * The names node_exporter at `url` exports through every collector but the
 * textfile collector: its scrape says which collectors run
 * (node_scrape_collector_success), and a second one asks only those
 * (`collect[]`), so no *.prom file's family is among the names. Both within
 * `timeoutMs` in all; undefined when it cannot be asked.
 */
export async function exporterNames(url: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<Set<string> | undefined> {
  const deadline = Date.now() + timeoutMs;
  const whole = await scrapeBounded(url, timeoutMs);
  if (whole === undefined) return undefined;
  const others = enabledCollectors(whole).filter((name) => name !== 'textfile');
  // Only the textfile collector: what else it exports (node_textfile_*, go_*, ...) the profile's rules know.
  if (others.length === 0) return new Set();
  const query = others.map((name) => `collect[]=${encodeURIComponent(name)}`).join('&');
  const left = deadline - Date.now();
  const filtered = left <= 0 ? undefined : await scrapeBounded(`${url}${url.includes('?') ? '&' : '?'}${query}`, left);
  return filtered === undefined ? undefined : scrapedNames(filtered);
}

export interface CollectorLookup {
  readonly procRoot?: string | undefined;
  readonly uid?: number | undefined;
  /** Ask this /metrics URL rather than the node_exporter found reading the directory. */
  readonly url?: string | undefined;
}

/**
 * The names the running node_exporter that reads `dir` exports itself, found
 * only when called: a trusted node_exporter (discover.ts) whose listen
 * address loopback reaches. Undefined when none reads `dir` or none answers.
 */
export function collectorNamesFor(dir: string, lookup: CollectorLookup = {}): CollectorNames {
  let found: Promise<FoundCollectorNames | undefined> | undefined;
  return () => (found ??= findNames(resolve(dir), lookup));
}

async function findNames(dir: string, lookup: CollectorLookup): Promise<FoundCollectorNames | undefined> {
  if (lookup.url !== undefined) {
    const names = await exporterNames(lookup.url);
    return names === undefined ? undefined : { names, source: `the /metrics of ${lookup.url}` };
  }
  const reads = (exporter: DiscoveredExporter): boolean => exporter.directories.some((path) => resolve(path) === dir);
  for (const exporter of scanExporters(lookup.procRoot ?? DEFAULT_PROC_ROOT, lookup.uid).exporters.filter(reads)) {
    for (const address of exporter.listenAddresses) {
      const url = loopbackUrl(address, exporter.metricsPath);
      const names = url === undefined ? undefined : await exporterNames(url);
      if (names !== undefined) return { names, source: `the /metrics of node_exporter (${describeExporter(exporter)}) at ${url}` };
    }
  }
  return undefined;
}
