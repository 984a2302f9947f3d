// Below the supported Node.js, promfile says so in one line and exits 1, instead of
// failing somewhere later (Node 18.18 lacks nothing we know of; the floor is what we test).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, NODE, ROOT } from '../helpers/cli.js';

const PRETEND = join(ROOT, 'test', 'fixtures', 'node-floor', 'pretend-version.cjs');
const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

function runAs(version: string, args: string[], entry = BIN): SpawnSyncReturns<string> {
  return spawnSync(NODE, ['--require', PRETEND, entry, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PRETEND_NODE_VERSION: version },
  });
}

describe('the Node.js floor', () => {
  it('is the one package.json declares', () => {
    expect(engines).toBe('>=18.19');
  });

  it.each(['18.18.2', '16.20.2', '12.22.12'])('Node %s: one line on stderr, exit 1, nothing run', (version) => {
    const result = runAs(version, ['set', '--dry-run', '--file-path', '/nonexistent/x.prom', 'm', '1']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`promfile: needs Node.js 18.19 or newer; this is v${version}\n`);
    expect(result.status).toBe(1);
  });

  it.each(['18.19.0', '20.0.0', '22.1.0'])('Node %s passes the check', (version) => {
    const result = runAs(version, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.status).toBe(0);
  });

  it('the one-file build run on its own checks too', () => {
    const result = runAs('16.20.2', ['--version'], join(ROOT, 'dist', 'promfile.cjs'));
    expect(result.stderr).toBe('promfile: needs Node.js 18.19 or newer; this is v16.20.2\n');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(1);
    expect(runAs('18.19.0', ['--version'], join(ROOT, 'dist', 'promfile.cjs')).status).toBe(0);
  });
});
