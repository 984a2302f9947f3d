// Run the built CLI as users do: node bin/promfile.js (which runs the bundle, dist/promfile.cjs).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'promfile.js');
/** The Node.js that runs the CLI: PROMFILE_TEST_NODE (e.g. Debian 12's Node 18 in CI), else this one. */
export const NODE = process.env['PROMFILE_TEST_NODE'] || process.execPath;

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

function environment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PROMFILE_DIR: undefined, ...extra };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** Run promfile synchronously. */
export function promfile(args: string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(NODE, [BIN, ...args], {
    input: options.input ?? '',
    encoding: 'utf8',
    env: environment(options.env),
    cwd: options.cwd ?? ROOT,
    timeout: 60_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Run promfile without blocking the event loop (for concurrency tests). */
export function promfileAsync(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [BIN, ...args], {
      env: environment(options.env),
      cwd: options.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolvePromise({ status, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'promfile-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
