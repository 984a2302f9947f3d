// One fixture directory per finding of `promfile check`, each judged by the
// real node_exporter: it really drops or hides the data (scrape and log), and
// check reports exactly that; the clean directory is exposed whole by both.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readExposition } from '../../src/format/parse.js';
import { seriesKey } from '../../src/format/validate.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfileAsync, tempDir } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { freePort, samplesOf, scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

interface Case {
  fixture: string;
  /** Prepare what git cannot carry: modes, links, mtimes, locks. `outside` is a sibling of the textfile dir. */
  setup?: (dir: string, outside: string) => Promise<void>;
  /** Run node_exporter as nobody (as packaged), to see what a non-root reader loses. */
  asNobody?: boolean;
  checkArgs?: string[];
  exit: 0 | 1;
  /** `FILE SEVERITY RULE` of every error and warning check reports. */
  findings: string[];
  /** Series node_exporter must not expose, and series it must. */
  hidden: string[];
  exposed: string[];
  scrapeError?: 0 | 1;
  /** What node_exporter logs about it. */
  log?: RegExp;
  /** Files `check --against` finds series missing from the scrape in. */
  missing?: string[];
  also?: (scrape: string, dir: string) => void;
}

const DAY = 86_400;

const CASES: Case[] = [
  {
    fixture: 'clean',
    exit: 0,
    findings: ['apt.prom warning node-prefix'],
    hidden: [],
    exposed: [
      'apt_upgrades_pending{origin="Debian:bookworm-security",arch="amd64"}',
      'node_reboot_required',
      'cron_last_success_timestamp_seconds{task="backup"}',
      'cron_last_success_timestamp_seconds{task="rotate"}',
      'backup_duration_seconds_bucket{le="60"}',
      'backup_duration_seconds_bucket{le="+Inf"}',
      'backup_duration_seconds_sum',
      'backup_duration_seconds_count',
      'role{role="application_server"}',
    ],
    scrapeError: 0,
  },
  {
    fixture: 'help-conflict',
    exit: 1,
    findings: ['b.prom error help-conflict'],
    hidden: ['job_success{task="b"}'],
    exposed: ['job_success{task="a"}'],
    log: /has help \\?"1 if the last run succeeded.\\?" but should have \\?"Whether the job succeeded.|inconsistent metric help text/,
    missing: ['b.prom'],
  },
  {
    fixture: 'help-missing',
    exit: 1,
    findings: ['b.prom error help-conflict'],
    hidden: ['job_success{task="b"}'],
    exposed: ['job_success{task="a"}'],
    log: /has help \\?"Metric read from .* but should have|inconsistent metric help text/,
    missing: ['b.prom'],
  },
  {
    fixture: 'type-conflict',
    exit: 1,
    findings: ['b.prom error type-conflict'],
    hidden: ['job_runs{task="b"}'],
    exposed: ['job_runs{task="a"}'],
    log: /should be a Gauge/,
    missing: ['b.prom'],
    scrapeError: 0,
  },
  {
    fixture: 'duplicate-series',
    exit: 1,
    findings: ['b.prom error duplicate-series'],
    hidden: [],
    exposed: ['reboot_required', 'kernel_version_mismatch'],
    log: /was collected before with the same name and label values/,
    scrapeError: 0,
    // The first file's value wins; b.prom's `reboot_required 1` is lost.
    also: (scrape) => expect(samplesOf(scrape, 'reboot_required')).toEqual(['reboot_required 0']),
  },
  {
    fixture: 'suffix-collision',
    exit: 1,
    findings: ['b.prom error name-collision'],
    hidden: ['backup_seconds_count{host="b"}'],
    exposed: ['backup_seconds_count', 'backup_seconds_sum', 'backup_seconds_bucket{le="+Inf"}'],
    log: /collides with previously collected histogram named/,
    missing: ['b.prom'],
    scrapeError: 0,
  },
  {
    fixture: 'node-collision',
    exit: 1,
    findings: ['a.prom error node-collision'],
    // node_exporter's own flag is the one that goes: nobody can see its scrape errors any more.
    hidden: ['node_textfile_scrape_error'],
    exposed: ['node_textfile_scrape_error{job_name="a"}'],
    log: /collected metric node_textfile_scrape_error .* has help .* but should have/,
  },
  {
    fixture: 'target-label',
    exit: 0,
    findings: ['a.prom warning target-label', 'a.prom warning target-label'],
    hidden: [],
    // node_exporter passes them on; Prometheus then renames them to exported_job/exported_instance.
    exposed: ['batch_success{job="nightly",instance="db1"}'],
    scrapeError: 0,
  },
  {
    fixture: 'parse-error',
    exit: 1,
    findings: ['a.prom error value'],
    hidden: ['good_metric'],
    exposed: ['other_metric'],
    scrapeError: 1,
    log: /failed to parse textfile data from .*a\.prom/,
  },
  {
    fixture: 'timestamp',
    exit: 1,
    findings: ['a.prom error timestamp'],
    hidden: ['normal_metric', 'stamped_metric'],
    exposed: [],
    scrapeError: 1,
    log: /contains unsupported client-side timestamps, skipping entire file/,
    missing: ['a.prom'],
  },
  {
    fixture: 'missing-final-newline',
    exit: 1,
    findings: ['a.prom error missing-final-newline'],
    hidden: ['unterminated_metric'],
    exposed: [],
    scrapeError: 1,
    log: /unexpected end of input stream/,
    missing: ['a.prom'],
  },
  {
    fixture: 'duplicate-in-file',
    exit: 1,
    findings: ['a.prom error duplicate-series'],
    hidden: [],
    exposed: ['disk_free_bytes{mount="/"}', 'disk_free_bytes{mount="/home"}'],
    scrapeError: 0,
    log: /was collected before with the same name and label values/,
    also: (scrape) => expect(samplesOf(scrape, 'disk_free_bytes')).toContain('disk_free_bytes{mount="/"} 100'),
  },
  {
    fixture: 'empty-file',
    exit: 0,
    findings: ['a.prom warning empty-file'],
    hidden: [],
    exposed: ['present_metric'],
    scrapeError: 0,
  },
  {
    // pacman.sh's bug: HELP/TYPE for one name, samples under another, which loses its HELP and TYPE.
    fixture: 'help-without-samples',
    exit: 0,
    findings: ['pacman.prom warning empty-family'],
    hidden: [],
    exposed: ['pacman_updates_pending'],
    scrapeError: 0,
    also: (scrape) => {
      expect(scrape).toContain('# TYPE pacman_updates_pending untyped\n');
      expect(scrape).not.toContain('updates_pending Packages with pending updates.');
    },
  },
  {
    fixture: 'unreadable',
    setup: async (dir) => {
      await chmod(join(dir, 'a.prom'), 0o600);
    },
    asNobody: true,
    exit: 1,
    findings: ['a.prom error unreadable'],
    hidden: ['secret_metric'],
    exposed: ['public_metric'],
    scrapeError: 1,
    log: /a\.prom.*permission denied/,
    missing: ['a.prom'],
  },
  {
    fixture: 'unreadable-directory',
    setup: async (dir) => {
      await chmod(dir, 0o700);
    },
    asNobody: true,
    exit: 1,
    findings: ['textfiles error unreadable'],
    hidden: ['hidden_metric'],
    exposed: [],
    scrapeError: 1,
    log: /failed to read textfile collector directory/,
    missing: ['a.prom'],
  },
  {
    fixture: 'dangling-symlink',
    setup: async (dir) => {
      await symlink('/nonexistent/promfile-check/a.prom', join(dir, 'a.prom'));
    },
    exit: 1,
    findings: ['a.prom error dangling-symlink'],
    hidden: [],
    exposed: ['survivor_metric'],
    scrapeError: 1,
    log: /failed to open textfile data file .*a\.prom.*no such file or directory/,
  },
  {
    fixture: 'symlink',
    setup: async (dir, outside) => {
      await writeFile(
        join(outside, 'linked.prom'),
        '# HELP linked_metric Read through a link.\n# TYPE linked_metric gauge\nlinked_metric 1\n',
      );
      await symlink(join(outside, 'linked.prom'), join(dir, 'a.prom'));
    },
    exit: 0,
    findings: ['a.prom warning symlink'],
    hidden: [],
    exposed: ['linked_metric'],
    scrapeError: 0,
  },
  {
    fixture: 'temp-leftover',
    setup: async (dir) => {
      const old = Date.now() / 1000 - 300;
      await utimes(join(dir, 'apt.prom.1234567'), old, old);
      await utimes(join(dir, 'smart.prom.tmp'), old, old);
      // A temp file younger than the grace period belongs to a write in progress: not reported.
      await writeFile(join(dir, 'fresh.prom.7654321'), 'in_flight 1\n');
    },
    exit: 0,
    findings: ['apt.prom.1234567 warning temp-leftover', 'smart.prom.tmp warning temp-leftover'],
    hidden: ['orphan_metric', 'orphan_tmp_metric', 'in_flight'],
    exposed: ['real_metric'],
    scrapeError: 0,
  },
  {
    fixture: 'lock-files',
    setup: async (dir) => {
      // Lock files are harmless, held or not, even with a pid an old version wrote (99999999 is above pid_max).
      await writeFile(join(dir, '.a.prom.lock'), `99999999 ${hostname()} 0123abcd\n`);
      // A FIFO at a lock name: reported (from lstat alone), never opened.
      spawnSync('mkfifo', [join(dir, '.b.prom.lock')]);
    },
    exit: 0,
    findings: ['.b.prom.lock warning lock-not-a-file'],
    hidden: [],
    exposed: ['locked_metric'],
    scrapeError: 0,
  },
  {
    fixture: 'stale-file',
    setup: async (dir) => {
      const old = Math.floor(Date.now() / 1000) - 2 * DAY;
      await utimes(join(dir, 'old.prom'), old, old);
    },
    checkArgs: ['--max-age', '26h'],
    exit: 1,
    findings: ['old.prom error stale-file'],
    hidden: [],
    // node_exporter exports a stale file forever; only its mtime tells.
    exposed: ['old_job_success', 'new_job_success'],
    scrapeError: 0,
    also: (scrape, dir) => {
      const [line] = samplesOf(scrape, 'node_textfile_mtime_seconds').filter((l) => l.includes(join(dir, 'old.prom')));
      expect(Date.now() / 1000 - Number(line?.split(' ')[1])).toBeGreaterThan(2 * DAY - 60);
    },
  },
];

function keyOf(series: string): string {
  const sample = readExposition(`${series} 0\n`).families[0]?.samples[0];
  if (!sample) throw new Error(`bad series in test: ${series}`);
  return seriesKey(sample.name, sample.labels);
}

function scrapedKeys(scrape: string): Set<string> {
  return new Set(
    readExposition(scrape).families.flatMap((family) => family.samples.map((sample) => seriesKey(sample.name, sample.labels))),
  );
}

interface Finding {
  file: string;
  severity: string;
  rule: string;
}

function summarize(findings: Finding[]): string[] {
  return findings
    .filter((f) => f.severity !== 'notice')
    .map((f) => `${basename(f.file)} ${f.severity} ${f.rule}`)
    .sort();
}

/** node_exporter as the packaged service runs it: an unprivileged user. */
async function startAsNobody(dir: string): Promise<NodeExporter> {
  const port = await freePort();
  const child = spawn(
    NODE_EXPORTER as string,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${dir}`,
    ],
    {
      uid: 65534,
      gid: 65534,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}/metrics`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, scrape: async () => (await fetch(url)).text(), log: () => output, alive: () => child.exitCode === null, stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`node_exporter (as nobody) did not start: ${output}`);
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(!NODE_EXPORTER)('each check finding against the real node_exporter', () => {
  for (const c of CASES) {
    const test = c.asNobody && !isRoot ? it.skip : it.concurrent;
    test(c.fixture, async () => {
      const { dir: root, cleanup } = await tempDir('promfile-check-');
      const dir = join(root, 'textfiles');
      const outside = join(root, 'outside');
      let exporter: NodeExporter | undefined;
      try {
        await cp(join(FIXTURES, 'check', c.fixture), dir, { recursive: true });
        await mkdir(outside);
        // A non-root node_exporter must be able to reach the directory itself.
        await chmod(root, 0o755);
        await c.setup?.(dir, outside);
        exporter = c.asNobody ? await startAsNobody(dir) : await startNodeExporter(dir);
        const scrape = await exporter.scrape();

        // node_exporter: what it hides, what it shows, what it says.
        const keys = scrapedKeys(scrape);
        for (const series of c.hidden) expect(keys.has(keyOf(series)), `${series} is hidden`).toBe(false);
        for (const series of c.exposed) expect(keys.has(keyOf(series)), `${series} is exposed`).toBe(true);
        if (c.scrapeError !== undefined) expect(scrapeError(scrape)).toBe(c.scrapeError);
        if (c.log) {
          // Gather errors are logged after the response is written; give the log a moment.
          for (let i = 0; i < 120 && !c.log.test(exporter.log()); i++) await sleep(25);
          expect(exporter.log()).toMatch(c.log);
        }
        c.also?.(scrape, dir);

        // promfile check: the same verdict from the files alone; --against confirms it with the scrape.
        const checked = await promfileAsync(['check', '--dir', dir, '--format', 'json', '--against', exporter.url, ...(c.checkArgs ?? [])]);
        expect(checked.stderr).toMatch(new RegExp(`^promfile: checking ${dir} \\(from --dir\\), judging by node_exporter [^\\n]+\\n$`));
        const report = JSON.parse(checked.stdout) as { ok: boolean; findings: Finding[] };
        const fromScrape = new Set(['missing-from-scrape', 'scrape-error']);
        expect(summarize(report.findings.filter((f) => !fromScrape.has(f.rule)))).toEqual([...c.findings].sort());
        expect(checked.status).toBe(c.exit);
        expect(report.ok).toBe(c.exit === 0);
        expect(report.findings.filter((f) => f.rule === 'missing-from-scrape').map((f) => basename(f.file))).toEqual(c.missing ?? []);
        expect(report.findings.some((f) => f.rule === 'scrape-error')).toBe(scrapeError(scrape) === 1);
      } finally {
        await exporter?.stop();
        await cleanup();
      }
    });
  }
});
