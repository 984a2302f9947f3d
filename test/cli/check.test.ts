// promfile check as a command: output format, the ways to name what to
// check, exit statuses, colour, and --against's time limit.
import { chmod, cp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, promfileAsync, tempDir } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { startNodeExporter } from '../helpers/node-exporter.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('promfile-check-cli-'));
  // mkdtemp's 0700 would itself be a finding: a non-root node_exporter could not list it.
  await chmod(dir, 0o755);
  // Three files: a HELP conflict (b loses to a), and a file with a target label (warning only).
  await cp(join(FIXTURES, 'check', 'help-conflict'), dir, { recursive: true });
  await cp(join(FIXTURES, 'check', 'target-label', 'a.prom'), join(dir, 'c.prom'));
});

afterAll(async () => {
  await cleanup?.();
});

describe('check text output', () => {
  it('prints FILE:LINE: severity: message grouped by file in node_exporter order, then a summary; exit 1 on data loss', () => {
    const result = promfile(['check', '--dir', dir]);
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${join(dir, 'b.prom')}:1: error: metric "job_success" has HELP "1 if the last run succeeded\\." here but HELP "Whether the job succeeded\\." in a\\.prom \\(read first, so it wins\\)`,
      ),
    );
    expect(lines[1]).toMatch(new RegExp(`^${join(dir, 'c.prom')}:3: warning: label "job" `));
    expect(lines[2]).toMatch(new RegExp(`^${join(dir, 'c.prom')}:3: warning: label "instance" `));
    expect(lines[3]).toBe('3 files, 3 series: 1 error, 2 warnings: node_exporter will lose data');
    // Piped output is plain.
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stderr).toMatch(new RegExp(`^promfile: checking ${dir} \\(from --dir\\), judging by node_exporter [^\\n]+\\n$`));
  });

  it('-f NAME reports only that file, in the context of the whole directory', () => {
    const loser = promfile(['check', '--dir', dir, '-f', 'b']);
    expect(loser.status).toBe(1);
    expect(loser.stdout).toContain(`${join(dir, 'b.prom')}:1: error: metric "job_success"`);
    expect(loser.stdout).not.toContain('c.prom');
    expect(loser.stdout.trimEnd().split('\n').at(-1)).toBe('1 file, 1 series: 1 error, 0 warnings: node_exporter will lose data');
    const winner = promfile(['check', '--dir', dir, '-f', 'a.prom']);
    expect(winner.status).toBe(0);
    expect(winner.stdout).toBe('1 file, 1 series: no problems: node_exporter will expose every series\n');
    const absent = promfile(['check', '--dir', dir, '-f', 'nope']);
    expect(absent.status).toBe(1);
    expect(absent.stderr).toContain(`promfile: ${join(dir, 'nope.prom')} does not exist`);
  });

  it('--file-path checks one file alone; warnings alone exit 0', () => {
    const alone = promfile(['check', '--file-path', join(dir, 'b.prom')]);
    expect(alone.status).toBe(0);
    expect(alone.stdout).toBe('1 file, 1 series: no problems: node_exporter will expose every series\n');
    const warned = promfile(['check', '--file-path', join(dir, 'c.prom')]);
    expect(warned.status).toBe(0);
    expect(warned.stdout).toMatch(/1 file, 1 series: 0 errors, 2 warnings\n$/);
  });

  it('- checks stdin', () => {
    const result = promfile(['check', '-'], { input: '# HELP t T.\n# TYPE t gauge\nt 1 1700000000000\n' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^<stdin>:3: error: sample has a timestamp; node_exporter skips the entire file/);
    const clean = promfile(['check', '-'], { input: '# HELP t T.\n# TYPE t gauge\nt 1\n' });
    expect(clean.status).toBe(0);
  });

  it('--format json gives every finding with file, line, severity, rule and message', () => {
    const result = promfile(['check', '--dir', dir, '--format', 'json']);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as Record<string, unknown> & { findings: Array<Record<string, unknown>> };
    expect(report['directory']).toBe(dir);
    expect(report['ok']).toBe(false);
    expect(report['series']).toBe(3);
    expect(report['summary']).toEqual({ error: 1, warning: 2, notice: 0 });
    expect(report.findings[0]).toMatchObject({ file: join(dir, 'b.prom'), line: 1, severity: 'error', rule: 'help-conflict' });
  });

  it.each([[['check', 'somefile.prom']], [['check', '-', '-f', 'a']], [['check', '--max-age', 'soon']], [['check', '--format', 'xml']]])(
    'usage errors exit 2: %j',
    (args) => {
      const result = promfile([...args, '--dir', dir]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toBe('');
    },
  );
});

function fakeIo(env: Record<string, string>, stdoutIsTty: boolean): { io: CliIo; out: () => string } {
  let out = '';
  const io: CliIo = {
    argv: [],
    env,
    stdin: { async *[Symbol.asyncIterator]() {} },
    stdout: Object.assign({ write: (chunk: string) => (out += chunk) }, { isTTY: stdoutIsTty }),
    stderr: { write: () => true, isTTY: stdoutIsTty },
    now: () => Date.now(),
    uid: process.getuid?.(),
    pid: process.pid,
    onSignal: () => () => undefined,
  };
  return { io, out: () => out };
}

describe('check colour', () => {
  it('colours severities on a terminal, and not with NO_COLOR', async () => {
    const tty = fakeIo({}, true);
    expect(await main(['check', '--dir', dir], tty.io)).toBe(1);
    expect(tty.out()).toContain('\u001b[31merror\u001b[39m');
    expect(tty.out()).toContain('\u001b[33mwarning\u001b[39m');
    const noColor = fakeIo({ NO_COLOR: '1' }, true);
    expect(await main(['check', '--dir', dir], noColor.io)).toBe(1);
    expect(noColor.out()).not.toContain('\u001b[');
    expect(noColor.out()).toContain(': error: ');
  });
});

describe('check --against limits', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers.
    server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up after --timeout and exits 1', async () => {
    await writeFile(join(dir, 'ignored.txt'), 'not a textfile\n');
    const started = Date.now();
    const result = promfile(['check', '--dir', dir, '--against', `http://127.0.0.1:${port}/metrics`, '--timeout', '300ms']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`promfile: cannot fetch http://127.0.0.1:${port}/metrics: no answer within 300 ms`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = promfile(['check', '--dir', dir, '--against', `http://127.0.0.1:${closedPort}/metrics`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^promfile: cannot fetch .*: .*ECONNREFUSED/m);
  });
});

describe.skipIf(!NODE_EXPORTER)('check --against a node_exporter that reads another directory', () => {
  it('says so, and reports every series of the files as missing', async () => {
    const { dir: elsewhere, cleanup: done } = await tempDir('promfile-check-elsewhere-');
    const exporter = await startNodeExporter(elsewhere);
    try {
      const result = await promfileAsync(['check', '--dir', dir, '-f', 'a', '--against', exporter.url]);
      expect(result.status).toBe(1);
      expect(result.stdout).toContain(
        `${join(dir, 'a.prom')}: error: 1 of 1 series are missing from ${exporter.url}: job_success{task="a"}\n`,
      );
      expect(result.stdout).toContain(
        `${exporter.url}: warning: no node_textfile_mtime_seconds for any of these files: this node_exporter may read another directory\n`,
      );
    } finally {
      await exporter.stop();
      await done();
    }
  });
});
