// Start the real node_exporter on 127.0.0.1 over a textfile directory and
// scrape it: the judge of everything promfile writes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { NODE_EXPORTER, PROMTOOL } from './binaries.js';
import { tempDir } from './cli.js';

export interface NodeExporter {
  readonly url: string;
  /** Raw /metrics text. */
  scrape(): Promise<string>;
  /** Everything node_exporter logged so far. */
  log(): string;
  /** False once the process has exited (node_exporter panics on some inputs). */
  alive(): boolean;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** The node_exporter binary; default the system's. */
  readonly binary?: string | undefined;
  /** More flags, e.g. --web.disable-exporter-metrics. */
  readonly args?: readonly string[];
}

/** Start node_exporter with only the textfile collector, over `dir` (1.5 reads one directory). */
export async function startNodeExporter(dir: string, options: StartOptions = {}): Promise<NodeExporter> {
  const binary = options.binary ?? NODE_EXPORTER;
  if (!binary) throw new Error('node_exporter is not installed');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${dir}`,
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}/metrics`;
    // Readiness on the landing page: a scrape would already run the collector.
    if (await waitReady(`http://127.0.0.1:${port}/`, child)) {
      return {
        url,
        scrape: async () => (await fetch(url)).text(),
        log: () => output,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: () => stop(child),
      };
    }
    await stop(child);
  }
  throw new Error('node_exporter did not start');
}

/** A suite's node_exporter over a fresh temp directory: started before its tests, stopped and removed after. */
export interface SuiteExporter {
  readonly dir: string;
  readonly exporter: NodeExporter;
}

/** Register beforeAll/afterAll that start node_exporter over a fresh temp directory; read the fields inside tests. */
export function useNodeExporter(prefix?: string, options: StartOptions = {}): SuiteExporter {
  let dir: string | undefined;
  let exporter: NodeExporter | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir(prefix));
    exporter = await startNodeExporter(dir, options);
  });
  afterAll(async () => {
    await exporter?.stop();
    await cleanup?.();
  });
  return {
    get dir(): string {
      if (dir === undefined) throw new Error('useNodeExporter: read dir inside a test');
      return dir;
    },
    get exporter(): NodeExporter {
      if (exporter === undefined) throw new Error('useNodeExporter: read exporter inside a test');
      return exporter;
    },
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Lines of a scrape that belong to `name` (samples only, no comments). */
export function samplesOf(scrape: string, name: string): string[] {
  return scrape.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** The value of node_textfile_scrape_error in a scrape. */
export function scrapeError(scrape: string): number | undefined {
  const line = samplesOf(scrape, 'node_textfile_scrape_error')[0];
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** `promtool check metrics` on a text; returns its exit status and output. */
export function promtoolCheck(text: string): { status: number; output: string } {
  if (!PROMTOOL) throw new Error('promtool is not installed');
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
