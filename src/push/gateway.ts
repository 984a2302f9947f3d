// Pushing families to a Prometheus Pushgateway, for service-level batch jobs
// (not tied to one machine). node:http does the request (loaded only when
// something is pushed), reading a bounded part of the answer. The guard rails follow the
// Prometheus docs: a job tied to a machine belongs in that machine's textfile
// directory, because pushed series never expire and lose their `instance`.
import { hostname as osHostname } from 'node:os';
import { errnoOf, InputError, IoError } from '../errors.js';
import { renderExposition } from '../format/render.js';
import type { Labels, MetricFamily } from '../format/types.js';
import { assertWritable, describeSeries, labelNameProblem } from '../format/validate.js';

/** One group on the Pushgateway: `/metrics/job/<job>/<label>/<value>...`. */
export interface PushGroup {
  /** Base URL of the Pushgateway, e.g. `http://127.0.0.1:9091`. */
  readonly gateway: string;
  readonly job: string;
  /** Further grouping-key labels (e.g. `{ shard: '3' }`). */
  readonly grouping?: Labels;
}

export interface PushOptions extends PushGroup {
  /** `put` replaces the whole group (default); `post` replaces only the pushed families. */
  readonly method?: 'put' | 'post';
  /** Bound on the whole request, in milliseconds. Default 10 s. */
  readonly timeoutMs?: number;
  /** Push series or a grouping key that name a machine (`instance`, `host`, this hostname...). Default false. */
  readonly allowInstance?: boolean;
  /** This machine's name, for the guard rail; default `os.hostname()`. */
  readonly hostname?: string;
}

export interface PushResult {
  /** The group's URL on the gateway. */
  readonly url: string;
  readonly method: 'PUT' | 'POST' | 'DELETE';
}

export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;

/** Label names that tie a series to one machine. */
export const HOST_LABELS: readonly string[] = ['instance', 'host', 'hostname', 'node', 'machine'];

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const MACHINE_ADVICE =
  'a job tied to one machine belongs in that machine\'s textfile directory ("promfile set"/"write", scraped by its node_exporter), not on the Pushgateway where its series never expire';

/** The gateway URL to use: `http://` is implied when no scheme is given (`host:9091`). */
export function gatewayUrl(gateway: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(gateway) ? gateway : `http://${gateway}`;
}

/** A URL fit for messages: a password in it (`http://user:secret@host`) is masked. */
export function redactUrl(text: string): string {
  return text.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/@:]*:)[^/@]*@/i, '$1***@');
}

/** Check the job name and grouping key; returns the grouping as prom-client path segments. */
function groupingSegments(group: PushGroup): Record<string, string> {
  if (group.job === '') throw new InputError('ERR_INVALID_ARGUMENT', 'the job name must not be empty');
  if (group.job.includes('/'))
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `job name "${group.job}" must not contain "/" (it is a path segment of the Pushgateway URL)`,
    );
  let url: URL;
  try {
    url = new URL(gatewayUrl(group.gateway));
  } catch {
    throw new InputError('ERR_INVALID_ARGUMENT', `gateway "${redactUrl(group.gateway)}" is not a URL (e.g. http://127.0.0.1:9091)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError('ERR_INVALID_ARGUMENT', `gateway "${redactUrl(group.gateway)}" must be an http:// or https:// URL`);
  const segments: Record<string, string> = {};
  for (const [name, value] of Object.entries(group.grouping ?? {})) {
    const problem = labelNameProblem(name);
    if (problem) throw new InputError('ERR_INVALID_ARGUMENT', `grouping key: ${problem}`);
    if (name === 'job')
      throw new InputError('ERR_INVALID_ARGUMENT', 'grouping key: "job" is given by the job name, not as a grouping label');
    // The gateway decodes the path before splitting it, so "/" (and the empty
    // value) must travel base64url-encoded, as its API defines.
    if (value === '' || value.includes('/')) segments[`${name}@base64`] = value === '' ? '=' : Buffer.from(value).toString('base64url');
    else segments[name] = value;
  }
  return segments;
}

/** The group's URL, as the gateway's API documents it (for messages: a password is masked). */
export function groupUrl(group: PushGroup): string {
  const segments = groupingSegments(group);
  const base = redactUrl(gatewayUrl(group.gateway)).replace(/\/+$/, '');
  return `${base}/metrics/job/${encodeURIComponent(group.job)}${Object.entries(segments)
    .map(([name, value]) => `/${name}/${encodeURIComponent(value)}`)
    .join('')}`;
}

/** Why a label ties a series to this machine, or undefined. */
function machineLabel(name: string, value: string, names: ReadonlySet<string>): string | undefined {
  if (HOST_LABELS.includes(name)) return `label "${name}"`;
  if (value !== '' && names.has(value.toLowerCase())) return `label ${name}="${value}" (this machine's hostname)`;
  return undefined;
}

/** This machine's names as a label value would carry them: full and short, lower case. */
function hostNames(hostname: string): Set<string> {
  const full = hostname.toLowerCase();
  return new Set([full, full.split('.')[0] as string].filter((name) => name !== ''));
}

/**
 * The guard rails, checked before anything is sent: no series carries `job`
 * or contradicts the grouping key (the gateway would silently overwrite
 * them), and unless `allowInstance`, nothing names a machine.
 */
export function checkPush(families: readonly MetricFamily[], options: PushOptions): void {
  groupingSegments(options);
  const grouping = options.grouping ?? {};
  const names = hostNames(options.hostname ?? osHostname());
  if (!options.allowInstance) {
    if (names.has(options.job.toLowerCase()))
      throw new InputError('ERR_MACHINE_LABEL', `refusing to push: job "${options.job}" is this machine's hostname; ${MACHINE_ADVICE}`);
    for (const [name, value] of Object.entries(grouping)) {
      const why = machineLabel(name, value, names);
      if (why) throw new InputError('ERR_MACHINE_LABEL', `refusing to push: the grouping key has ${why}; ${MACHINE_ADVICE}`);
    }
  }
  for (const family of families) {
    for (const sample of family.samples) {
      for (const [name, value] of Object.entries(sample.labels)) {
        if (name === 'job') {
          throw new InputError(
            'ERR_INVALID_ARGUMENT',
            `${describeSeries(sample)}: the Pushgateway replaces the "job" label with the job name "${options.job}"; drop the label`,
          );
        }
        const keyed = grouping[name];
        if (keyed !== undefined && keyed !== value) {
          throw new InputError(
            'ERR_INVALID_ARGUMENT',
            `${describeSeries(sample)}: label ${name}="${value}" contradicts the grouping key ${name}="${keyed}", which the Pushgateway would put in its place`,
          );
        }
        const why = options.allowInstance ? undefined : machineLabel(name, value, names);
        if (why) throw new InputError('ERR_MACHINE_LABEL', `refusing to push ${describeSeries(sample)}: it has ${why}; ${MACHINE_ADVICE}`);
      }
    }
  }
}

/**
 * Push families to the gateway: validated like a textfile, checked by the
 * guard rails, then sent with PUT (replace the group) or POST (replace only
 * these families). The gateway records `push_time_seconds` for the group on
 * every successful push, which is what staleness alerts should watch.
 */
export async function pushFamilies(families: readonly MetricFamily[], options: PushOptions): Promise<PushResult> {
  checkPush(families, options);
  const withSamples = families.filter((family) => family.samples.length > 0);
  assertWritable(withSamples, 'push');
  if (withSamples.length === 0) throw new InputError('ERR_EMPTY_INPUT', 'nothing to push: no samples (use delete to remove a group)');
  const body = renderExposition(withSamples);
  const method = options.method === 'post' ? 'POST' : 'PUT';
  await send(options, method, body);
  return { url: groupUrl(options), method };
}

/** Delete the group from the gateway (its series never expire otherwise). A missing group is not an error. */
export async function deletePushGroup(group: PushGroup & { readonly timeoutMs?: number }): Promise<PushResult> {
  groupingSegments(group);
  await send(group, 'DELETE', '');
  return { url: groupUrl(group), method: 'DELETE' };
}

/** How much of the gateway's answer is read: any message it gives fits, an endless body is cut off. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** How much of a refusal's body a message quotes. */
const QUOTED_ANSWER_CHARS = 300;

/** The gateway's answer: its status, headers and at most MAX_ANSWER_BYTES of its body. */
interface GatewayAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly text: string;
}

/** The group's URL with its credentials, for the request itself (the path as prom-client built it). */
function requestUrl(group: PushGroup): URL {
  const target = new URL(gatewayUrl(group.gateway));
  const segments = Object.entries(groupingSegments(group)).map(
    ([name, value]) => `/${encodeURIComponent(name)}/${encodeURIComponent(value)}`,
  );
  target.pathname = `${target.pathname.replace(/\/+$/, '')}/metrics/job/${encodeURIComponent(group.job)}${segments.join('')}`;
  target.search = '';
  target.hash = '';
  return target;
}

async function send(group: PushGroup & { readonly timeoutMs?: number }, method: 'PUT' | 'POST' | 'DELETE', body: string): Promise<void> {
  const timeoutMs = group.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const url = groupUrl(group);
  const target = requestUrl(group);
  let answer: GatewayAnswer;
  try {
    answer = await exchange(target, method, body, timeoutMs);
  } catch (error) {
    throw networkError(method, url, error, timeoutMs);
  }
  refuseUnsuccessful(method, url, answer);
}

/**
 * One request, bounded in time (the whole exchange) and in what is read of the answer: past
 * MAX_ANSWER_BYTES promfile hangs up. prom-client's client read an endless error body until V8's
 * string limit crashed the process, and `run --push` never started its job.
 */
async function exchange(target: URL, method: string, body: string, timeoutMs: number): Promise<GatewayAnswer> {
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const settle = (finish: () => void): void => (clearTimeout(timer), finish());
    // agent: false, so no kept-alive socket holds a short-lived CLI open.
    const headers = { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) };
    const req = request(target, { method, headers, agent: false, signal: controller.signal }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void =>
        settle(() =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
        size += chunk.length;
        if (size >= MAX_ANSWER_BYTES) {
          done();
          req.destroy();
        }
      });
      response.on('end', done);
      response.on('error', (error) => settle(() => reject(error)));
    });
    req.on('error', (error) => settle(() => reject(error)));
    req.end(body);
  });
}

/**
 * Only 2xx means the gateway stored (or deleted) the group. A redirect is not followed: the
 * request would have to be repeated elsewhere, so it is an error naming where.
 */
function refuseUnsuccessful(method: string, url: string, answer: GatewayAnswer): void {
  const { status } = answer;
  if (status >= 200 && status < 300) return;
  if (status >= 400) {
    const text = answer.text.trim().replace(/\s+/g, ' ');
    const detail = text.length > QUOTED_ANSWER_CHARS ? `${text.slice(0, QUOTED_ANSWER_CHARS)}…` : text;
    throw new IoError('ERR_PUSH_REJECTED', `${method} ${url}: the Pushgateway answered HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
  const location = answer.headers['location'];
  const where =
    typeof location === 'string' ? `: a redirect to ${redactUrl(location)}, which promfile does not follow (use that gateway URL)` : '';
  throw new IoError(
    'ERR_PUSH_REJECTED',
    `${method} ${url}: the Pushgateway answered HTTP ${status}${where}; the ${method} did not take effect`,
  );
}

function networkError(method: string, url: string, error: unknown, timeoutMs: number): IoError {
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out|aborted/i.test(message) || (error instanceof Error && error.name === 'AbortError')) {
    return new IoError('ERR_TIMEOUT', `${method} ${url}: no answer from the Pushgateway within ${formatMs(timeoutMs)}`, { cause: error });
  }
  const code = errnoOf(error);
  const hint = code === 'ECONNREFUSED' ? ' (is the Pushgateway running there?)' : '';
  return new IoError('ERR_NETWORK', `${method} ${url}: cannot reach the Pushgateway: ${message || code}${hint}`, { cause: error });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
