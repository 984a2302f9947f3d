// promfile push, judged by the real Pushgateway: what is pushed is read back
// from its /metrics, PUT replaces a group and POST merges into it, --delete
// removes it, and the guard rails stop a push before anything is sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, IoError } from '../../src/errors.js';
import { checkPush, deletePushGroup, groupUrl, pushFamilies, type PushOptions } from '../../src/push/gateway.js';
import type { MetricFamily } from '../../src/format/types.js';
import { requireBinary } from '../helpers/binaries.js';
import { promfile, promfileAsync, tempDir } from '../helpers/cli.js';
import { freePort, samplesOf } from '../helpers/node-exporter.js';

const PUSHGATEWAY = requireBinary('prometheus-pushgateway', 'pushgateway');

interface Gateway {
  readonly url: string;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

async function startPushgateway(persistenceFile: string): Promise<Gateway> {
  if (!PUSHGATEWAY) throw new Error('prometheus-pushgateway is not installed');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      PUSHGATEWAY,
      [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${persistenceFile}`, '--log.level=warn'],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      const ready = await fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return { url, scrape: async () => (await fetch(`${url}/metrics`)).text(), stop: () => stop(child) };
      await sleep(50);
    }
    await stop(child);
  }
  throw new Error('the Pushgateway did not start');
}

/** The gateway keeps nothing we need (its persistence file is a temp file): kill it outright. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** The samples of one job's groups on the gateway, without the gateway's own push_* series. */
async function groupSamples(gateway: Gateway, job: string): Promise<string[]> {
  const scrape = await gateway.scrape();
  return scrape
    .split('\n')
    .filter((line) => !line.startsWith('#') && line.includes(`job="${job}"`) && !/^push_(failure_)?time_seconds/.test(line))
    .sort();
}

const HOST = hostname();

describe.skipIf(!PUSHGATEWAY)('promfile push (real Pushgateway)', () => {
  let gateway: Gateway;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const temp = await tempDir('promfile-push-');
    cleanup = temp.cleanup;
    gateway = await startPushgateway(join(temp.dir, 'pushgateway.data'));
  });

  afterAll(async () => {
    await gateway?.stop();
    await cleanup?.();
  });

  it('pushes series from arguments, records push_time_seconds, and prints the exact delete command', async () => {
    const before = Date.now() / 1000;
    const result = promfile([
      'push',
      '--gateway',
      gateway.url,
      '--job',
      'user-cleanup',
      'users_deleted_total=1523',
      'cleanup_last_run_users{realm="eu"}=17',
    ]);
    const after = Date.now() / 1000;
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    const deleteCommand = `promfile push --gateway ${gateway.url} --job user-cleanup --delete`;
    expect(result.stderr).toBe(
      `promfile: warning: pushed series stay on the Pushgateway until deleted (they never expire); remove them with: ${deleteCommand}\n`,
    );

    const scrape = await gateway.scrape();
    expect(samplesOf(scrape, 'users_deleted_total')).toEqual(['users_deleted_total{instance="",job="user-cleanup"} 1523']);
    expect(scrape).toContain('# TYPE users_deleted_total counter');
    expect(samplesOf(scrape, 'cleanup_last_run_users')).toEqual(['cleanup_last_run_users{instance="",job="user-cleanup",realm="eu"} 17']);
    const [pushTime] = samplesOf(scrape, 'push_time_seconds').filter((line) => line.includes('job="user-cleanup"'));
    const pushed = Number(pushTime?.split(' ')[1]);
    expect(pushed).toBeGreaterThanOrEqual(Math.floor(before));
    expect(pushed).toBeLessThanOrEqual(after + 1);

    // The printed command, run as printed, removes the group.
    const words = deleteCommand.split(' ');
    expect(words[0]).toBe('promfile');
    const deleted = promfile(words.slice(1));
    expect(deleted.stderr).toBe('');
    expect(deleted.status).toBe(0);
    expect(await groupSamples(gateway, 'user-cleanup')).toEqual([]);
    expect(samplesOf(await gateway.scrape(), 'push_time_seconds').filter((line) => line.includes('job="user-cleanup"'))).toEqual([]);
  });

  it('pushes exposition text from stdin under a grouping key, histograms intact', async () => {
    const input = [
      '# HELP etl_rows_total Rows loaded.',
      '# TYPE etl_rows_total counter',
      'etl_rows_total{table="users"} 1000',
      '# HELP etl_batch_seconds Batch time.',
      '# TYPE etl_batch_seconds histogram',
      'etl_batch_seconds_bucket{le="1"} 2',
      'etl_batch_seconds_bucket{le="+Inf"} 3',
      'etl_batch_seconds_sum 4.5',
      'etl_batch_seconds_count 3',
      '',
    ].join('\n');
    const result = promfile(['push', '--gateway', gateway.url, '--job', 'nightly-etl', '--grouping', 'shard=3', '--quiet'], { input });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(await groupSamples(gateway, 'nightly-etl')).toEqual([
      'etl_batch_seconds_bucket{instance="",job="nightly-etl",shard="3",le="+Inf"} 3',
      'etl_batch_seconds_bucket{instance="",job="nightly-etl",shard="3",le="1"} 2',
      'etl_batch_seconds_count{instance="",job="nightly-etl",shard="3"} 3',
      'etl_batch_seconds_sum{instance="",job="nightly-etl",shard="3"} 4.5',
      'etl_rows_total{instance="",job="nightly-etl",shard="3",table="users"} 1000',
    ]);
    // Invalid text is refused like `promfile write` refuses it, and nothing is sent.
    const bad = promfile(['push', '--gateway', gateway.url, '--job', 'nightly-etl-bad'], { input: 'etl_rows_total 1,5\n' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^promfile: <stdin>: line 1: .*\n$/);
    expect(await groupSamples(gateway, 'nightly-etl-bad')).toEqual([]);
  });

  it('re-push: PUT replaces the whole group, POST replaces only the families pushed', async () => {
    const push = (...args: string[]): void => {
      const result = promfile(['push', '--gateway', gateway.url, '--job', 'repush', '--quiet', ...args]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    };
    push('a_value=1', 'b_value=2');
    expect(await groupSamples(gateway, 'repush')).toEqual(['a_value{instance="",job="repush"} 1', 'b_value{instance="",job="repush"} 2']);
    push('a_value=5');
    expect(await groupSamples(gateway, 'repush')).toEqual(['a_value{instance="",job="repush"} 5']);
    push('--method', 'post', 'c_value=3');
    expect(await groupSamples(gateway, 'repush')).toEqual(['a_value{instance="",job="repush"} 5', 'c_value{instance="",job="repush"} 3']);
    push('--method', 'post', 'a_value=7');
    expect(await groupSamples(gateway, 'repush')).toEqual(['a_value{instance="",job="repush"} 7', 'c_value{instance="",job="repush"} 3']);
  });

  it('refuses instance and host labels, and this hostname, before anything reaches the gateway', async () => {
    const refused: string[][] = [
      ['batch_done{instance="web-1"}=1'],
      ['batch_done{host="web-1"}=1'],
      ['batch_done{machine="db"}=1'],
      [`batch_done{server="${HOST}"}=1`],
      ['--grouping', 'node=n1', 'batch_done=1'],
      ['--grouping', `box=${HOST.toUpperCase()}`, 'batch_done=1'],
    ];
    for (const args of refused) {
      const result = promfile(['push', '--gateway', gateway.url, '--job', 'guarded', ...args]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^promfile: refusing to push.*textfile directory.*--allow-instance.*\n$/);
    }
    const asHost = promfile(['push', '--gateway', gateway.url, '--job', HOST, 'batch_done=1']);
    expect(asHost.status).toBe(2);
    expect(asHost.stderr).toMatch(/job ".*" is this machine's hostname/);
    // A job label would be overwritten by the gateway: refused too, even with --allow-instance.
    const jobLabel = promfile(['push', '--gateway', gateway.url, '--job', 'guarded', '--allow-instance', 'batch_done{job="other"}=1']);
    expect(jobLabel.status).toBe(2);
    expect(jobLabel.stderr).toMatch(/replaces the "job" label/);
    expect(await groupSamples(gateway, 'guarded')).toEqual([]);
    expect(await groupSamples(gateway, HOST)).toEqual([]);

    const allowed = promfile(['push', '--gateway', gateway.url, '--job', 'guarded', '--allow-instance', 'batch_done{instance="web-1"}=1']);
    expect(allowed.status).toBe(0);
    expect(allowed.stderr).toContain(`promfile push --gateway ${gateway.url} --job guarded --allow-instance --delete`);
    expect(await groupSamples(gateway, 'guarded')).toEqual(['batch_done{instance="web-1",job="guarded"} 1']);
  });

  it('reports the HTTP status and body when the gateway rejects a push', async () => {
    expect(promfile(['push', '--gateway', gateway.url, '--job', 'typed-a', '--quiet', 'shared_metric=1', '--type', 'counter']).status).toBe(
      0,
    );
    const result = promfile(['push', '--gateway', gateway.url, '--job', 'typed-b', '--quiet', 'shared_metric=1', '--type', 'gauge']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^promfile: PUT ${gateway.url}/metrics/job/typed-b: the Pushgateway answered HTTP 400: .*shared_metric.*\\n$`),
    );
  });

  it('encodes grouping values with "/" or nothing in them as the gateway API asks', async () => {
    const result = promfile([
      'push',
      '--gateway',
      gateway.url,
      '--job',
      'paths',
      '--quiet',
      '--grouping',
      'dir=/srv/data',
      '--grouping',
      'empty=',
      'files_seen=4',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(await groupSamples(gateway, 'paths')).toEqual(['files_seen{dir="/srv/data",empty="",instance="",job="paths"} 4']);
    await deletePushGroup({ gateway: gateway.url, job: 'paths', grouping: { dir: '/srv/data', empty: '' } });
    expect(await groupSamples(gateway, 'paths')).toEqual([]);
  });

  it('run --push pushes the job status instead of writing a textfile, and a failed run keeps the last success', async () => {
    const textfiles = await tempDir('promfile-run-push-');
    try {
      const ok = promfile(['run', '--dir', textfiles.dir, '--job', 'nightly-etl', '--push', gateway.url, '--', 'true']);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/promfile: warning: pushed series stay on the Pushgateway/);
      const first = await gateway.scrape();
      const success = samplesOf(first, 'promfile_job_last_success_timestamp_seconds').filter((l) => l.includes('job="nightly-etl"'));
      expect(success).toHaveLength(1);
      expect(samplesOf(first, 'promfile_job_exit_code').filter((l) => l.includes('job="nightly-etl"'))).toEqual([
        'promfile_job_exit_code{instance="",job="nightly-etl",job_name="nightly-etl"} 0',
      ]);
      const failed = promfile([
        'run',
        '--dir',
        textfiles.dir,
        '--job',
        'nightly-etl',
        '--push',
        gateway.url,
        '--quiet',
        '--',
        'sh',
        '-c',
        'exit 3',
      ]);
      expect(failed.status).toBe(3);
      const second = await gateway.scrape();
      expect(samplesOf(second, 'promfile_job_last_success_timestamp_seconds').filter((l) => l.includes('job="nightly-etl"'))).toEqual(
        success,
      );
      expect(samplesOf(second, 'promfile_job_exit_code').filter((l) => l.includes('job="nightly-etl"'))).toEqual([
        'promfile_job_exit_code{instance="",job="nightly-etl",job_name="nightly-etl"} 3',
      ]);
      expect(await readdir(textfiles.dir)).toEqual([]);
    } finally {
      await textfiles.cleanup();
    }
  });

  it('run --push refuses a host label before the job starts', async () => {
    const textfiles = await tempDir('promfile-run-push-');
    try {
      const marker = join(textfiles.dir, 'ran');
      const result = promfile([
        'run',
        '--dir',
        textfiles.dir,
        '--job',
        'etl',
        '--push',
        gateway.url,
        '-l',
        'host=db1',
        '--',
        'touch',
        marker,
      ]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^promfile: refusing to push/);
      expect(await readdir(textfiles.dir)).toEqual([]);
    } finally {
      await textfiles.cleanup();
    }
  });

  it('pushes families from the library (the call `run --push` makes)', async () => {
    const families: MetricFamily[] = [
      { name: 'lib_job_success', help: 'Whether it worked.', type: 'gauge', samples: [{ name: 'lib_job_success', labels: {}, value: 1 }] },
    ];
    const result = await pushFamilies(families, { gateway: `${gateway.url}/`, job: 'lib', grouping: { shard: 'x' } });
    expect(result).toEqual({ url: `${gateway.url}/metrics/job/lib/shard/x`, method: 'PUT' });
    expect(await groupSamples(gateway, 'lib')).toEqual(['lib_job_success{instance="",job="lib",shard="x"} 1']);
  });
});

describe('promfile push without a gateway', () => {
  it('fails fast with exit 1 when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = promfile(['push', '--gateway', `http://127.0.0.1:${port}`, '--job', 'down', 'x_value=1']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `promfile: PUT http://127.0.0.1:${port}/metrics/job/down: cannot reach the Pushgateway: connect ECONNREFUSED 127.0.0.1:${port} (is the Pushgateway running there?)\n`,
    );
  });

  it('gives up after --timeout when the gateway accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      const result = await promfileAsync([
        'push',
        '--gateway',
        `http://127.0.0.1:${port}`,
        '--job',
        'slow',
        '--timeout',
        '500ms',
        'x_value=1',
      ]);
      const elapsed = Date.now() - started;
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`promfile: PUT http://127.0.0.1:${port}/metrics/job/slow: no answer from the Pushgateway within 500ms\n`);
      expect(elapsed).toBeGreaterThanOrEqual(500);
      expect(elapsed).toBeLessThan(10_000);
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reads a bounded part of an endless error answer; run --push still runs the job', async () => {
    // A gateway (or what answers in its place) that sends 500 and then body without end: it stops
    // itself after 64 MiB or when promfile hangs up. prom-client read it all and crashed (RangeError).
    const http = await import('node:http');
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const endless = http.createServer((request, response) => {
      request.resume();
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      let sent = 0;
      const more = (): void => {
        while (sent < 1024 && !response.destroyed) {
          sent++;
          if (!response.write(chunk)) return void response.once('drain', more);
        }
        response.end();
      };
      more();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const address = endless.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const { dir, cleanup } = await tempDir();
    try {
      const pushed = await promfileAsync(['push', '--gateway', url, '--job', 'endless', '--timeout', '20s', 'x_value=1']);
      expect(pushed.status).toBe(1);
      expect(pushed.stderr).toMatch(new RegExp(`^promfile: PUT ${url}/metrics/job/endless: the Pushgateway answered HTTP 500: x+`));
      expect(pushed.stderr.length).toBeLessThan(2048);
      expect(pushed.stderr.split('\n')).toHaveLength(2);
      const marker = join(dir, 'ran');
      const run = await promfileAsync(['run', '--job', 'endless', '--push', url, '--timeout', '20s', '--', 'touch', marker]);
      expect(run.stderr).not.toMatch(/RangeError|internal error/);
      expect(await readdir(dir)).toContain('ran');
      expect(run.stderr.length).toBeLessThan(4096);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
      await cleanup();
    }
  }, 60_000);

  it('refuses bad arguments with exit 2 before connecting', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--gateway', 'not a url', '--job', 'j', 'x=1'], /gateway "not a url" is not a URL/],
      [['--gateway', 'ftp://127.0.0.1', '--job', 'j', 'x=1'], /must be an http:\/\/ or https:\/\/ URL/],
      [['--gateway', 'http://127.0.0.1:1', '--job', 'a/b', 'x=1'], /job name "a\/b" must not contain "\/"/],
      [['--gateway', 'http://127.0.0.1:1', '--job', 'j', '--grouping', 'job=x', 'x=1'], /"job" is given by the job name/],
      [['--gateway', 'http://127.0.0.1:1', '--job', 'j', '--method', 'patch', 'x=1'], /--method "patch": expected put or post/],
      [['--gateway', 'http://127.0.0.1:1', '--job', 'j', '--delete', 'x=1'], /--delete removes the whole group; it takes no series/],
      [['--gateway', 'http://127.0.0.1:1', '--job', 'j', '--timeout', 'soon', 'x=1'], /--timeout "soon" is not a duration/],
      [
        ['--gateway', 'http://127.0.0.1:1', '--job', 'j', 'x{shard="1"}=1', '--grouping', 'shard=2'],
        /contradicts the grouping key shard="2"/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = promfile(['push', ...args]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const empty = promfile(['push', '--gateway', 'http://127.0.0.1:1', '--job', 'j'], { input: '' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toBe('promfile: nothing to push: no samples (use delete to remove a group)\n');
  });
});

describe('checkPush (the guard rails)', () => {
  const base: PushOptions = { gateway: 'http://127.0.0.1:9091', job: 'cleanup', hostname: 'web-7.example.com' };
  const gauge = (labels: Record<string, string>): MetricFamily[] => [
    { name: 'g', help: 'h', type: 'gauge', samples: [{ name: 'g', labels, value: 1 }] },
  ];

  it('refuses what names a machine, in any case, by full or short hostname', () => {
    for (const labels of [{ instance: 'a' }, { hostname: 'a' }, { node: '' }, { target: 'web-7' }, { target: 'WEB-7.example.com' }]) {
      expect(() => checkPush(gauge(labels), base), JSON.stringify(labels)).toThrow(InputError);
      expect(() => checkPush(gauge(labels), { ...base, allowInstance: true })).not.toThrow();
    }
    expect(() => checkPush(gauge({}), { ...base, grouping: { site: 'web-7' } })).toThrow(
      /grouping key has label site="web-7" \(this machine's hostname\)/,
    );
    expect(() => checkPush(gauge({}), { ...base, job: 'Web-7' })).toThrow(/this machine's hostname/);
  });

  it('lets service-level series through', () => {
    expect(() => checkPush(gauge({ realm: 'eu', target: 'web-8' }), { ...base, grouping: { shard: '3' } })).not.toThrow();
    expect(() => checkPush(gauge({ shard: '3' }), { ...base, grouping: { shard: '3' } })).not.toThrow();
  });

  it('builds the group URL the gateway API documents', () => {
    expect(groupUrl({ gateway: 'http://gw:9091/', job: 'a b', grouping: { shard: '3', path: '/x', none: '' } })).toBe(
      `http://gw:9091/metrics/job/a%20b/shard/3/path@base64/${Buffer.from('/x').toString('base64url')}/none@base64/%3D`,
    );
  });

  it('throws IoError for network failures and InputError for refusals, so the CLI exits 1 and 2', async () => {
    await expect(pushFamilies(gauge({ instance: 'x' }), base)).rejects.toBeInstanceOf(InputError);
    await expect(deletePushGroup({ gateway: 'http://127.0.0.1:1', job: 'x', timeoutMs: 2000 })).rejects.toBeInstanceOf(IoError);
  });
});
