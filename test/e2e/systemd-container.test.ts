// docs/systemd.md's recipes under a real systemd: the Debian 12 root of
// .ci/fetch-bookworm-root.sh booted with systemd as PID 1 (test/helpers/systemd-container.ts),
// promfile installed in it from its .deb (dpkg -i, run by bookworm's own Node 18), and
// bookworm's node_exporter and collector units running in it. The drop-ins are the doc's
// blocks, read from docs/systemd.md and run there as written. The alert over apt_info.py's
// metrics is judged by promtool on the host.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimerShow, TIMER_PROPERTIES } from '../../src/job/timer.js';
import { PROMTOOL } from '../helpers/binaries.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { DOC_FILES, fencedBlocks, type FencedBlock } from '../helpers/docs.js';
import { samplesOf, scrapeError } from '../helpers/node-exporter.js';
import { SYSTEMD_ROOT, bootContainer, type Container } from '../helpers/systemd-container.js';

const DOC = 'docs/systemd.md';
const RUN_HERE = 'not run: runs in test/e2e/systemd-container.test.ts';
const TEXTFILES = '/var/lib/prometheus/node-exporter';
const COLLECTORS = '/usr/share/prometheus-node-exporter-collectors';

/** The doc's one shell block (marked as run here) that writes a drop-in for `unit`. */
function recipe(unit: string): string {
  const blocks = fencedBlocks(DOC).filter((block) => block.note === RUN_HERE && block.code.includes(`/etc/systemd/system/${unit}.d/`));
  expect(blocks, `${DOC}: one block writing a drop-in for ${unit}`).toHaveLength(1);
  return (blocks[0] as FencedBlock).code;
}

/** The doc's `systemctl show` of a timer (marked as run here). */
function showBlock(): string {
  const blocks = fencedBlocks(DOC).filter((block) => block.note === RUN_HERE && /^TZ=UTC LC_ALL=C systemctl show /.test(block.code));
  expect(blocks, `${DOC}: one systemctl show block`).toHaveLength(1);
  return (blocks[0] as FencedBlock).code;
}

/** The one sample of `name{job_name="job"}` in a .prom file or a scrape, as a number. */
function value(text: string, name: string, job: string): number {
  const lines = samplesOf(text, name).filter((line) => line.includes(`job_name="${job}"`));
  expect(lines, `${name}{job_name="${job}"} in:\n${text}`).toHaveLength(1);
  return Number((lines[0] as string).split(' ').pop());
}

/** `systemctl show` KEY=VALUE lines as a map (a key shown twice keeps its first value). */
function showMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0 && !map.has(line.slice(0, equals))) map.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return map;
}

/**
 * A timestamp as systemctl shows it in UTC, as seconds: `@1796537522` (--timestamp=unix, which
 * systemd 252 applies to TimersCalendar and LastTriggerUSec but not to NextElapseUSecRealtime)
 * or `Sat 2026-12-05 12:46:10 UTC`.
 */
function unixSeconds(text: string | undefined): number {
  const unix = /^@(\d+)$/.exec(text ?? '');
  if (unix) return Number(unix[1]);
  const utc = /^\w+ (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC$/.exec(text ?? '');
  return utc ? Date.parse(`${utc[1] as string}T${utc[2] as string}Z`) / 1000 : NaN;
}

// The container runs promfile on its own Node 18 already: a PROMFILE_TEST_NODE run would repeat it.
describe.skipIf(!SYSTEMD_ROOT || process.env['PROMFILE_TEST_NODE'])('docs/systemd.md under a booted systemd (Debian 12)', () => {
  let box: Container;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const scratch = await tempDir('promfile-systemd-deb-');
    cleanup = scratch.cleanup;
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'deb.mjs'), scratch.dir], { encoding: 'utf8', timeout: 120_000 });
    expect(built.status, built.stderr).toBe(0);
    box = await bootContainer(SYSTEMD_ROOT as string);
    copyFileSync(built.stdout.trim(), box.path('/tmp/promfile.deb'));
    box.ok('dpkg -i /tmp/promfile.deb >/dev/null');
    // The collector timers fire at boot: let that run end, and keep them from firing mid-test.
    box.ok(
      'systemctl stop prometheus-node-exporter-apt.timer; ' +
        'for i in $(seq 120); do [ "$(systemctl show -p ActiveState --value prometheus-node-exporter-apt.service)" = activating ] || exit 0; sleep 0.5; done; exit 1',
      70_000,
    );
    box.ok('for i in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:9100/metrics && exit 0; sleep 0.2; done; exit 1');
  }, 180_000);

  afterAll(async () => {
    await box?.stop();
    await cleanup?.();
  }, 60_000);

  const scrape = (): string => box.ok('curl -sf http://127.0.0.1:9100/metrics');

  it('runs promfile from its .deb on Debian 12’s own Node 18', () => {
    expect(box.ok('node --version')).toMatch(/^v18\./);
    expect(box.ok("dpkg-query -W -f '${Status}' promfile")).toBe('install ok installed');
    expect(box.ok('readlink -f "$(command -v promfile)"').trim()).toBe('/usr/bin/promfile');
  });

  it('a timer-driven `run --timer`: next run and grace as systemd holds them, served by node_exporter', async () => {
    const units: Record<string, string> = {
      'tick-exact.timer': '[Timer]\nOnCalendar=*:*:0/10\nAccuracySec=1s\n',
      'tick-random.timer': '[Timer]\nOnCalendar=*:*:0/10\nAccuracySec=1s\nRandomizedDelaySec=4s\n',
    };
    for (const job of ['tick-exact', 'tick-random'])
      units[`${job}.service`] = `[Service]\nType=oneshot\nExecStart=/usr/bin/promfile run --job ${job} --timer -- true\n`;
    for (const [name, text] of Object.entries(units)) writeFileSync(box.path(`/etc/systemd/system/${name}`), text);
    box.ok('systemctl daemon-reload && systemctl start tick-exact.timer tick-random.timer');

    const exact = await firedOnce('tick-exact');
    const random = await firedOnce('tick-random');
    // No random delay: the next run is systemd's own next elapse, to the second.
    expect(value(exact.file, 'promfile_job_next_run_timestamp_seconds', 'tick-exact')).toBe(
      unixSeconds(exact.timer.get('NextElapseUSecRealtime')),
    );
    expect(value(exact.file, 'promfile_job_interval_seconds', 'tick-exact')).toBe(10);
    expect(value(exact.file, 'promfile_job_grace_seconds', 'tick-exact')).toBe(60 + 1);
    // A random delay, drawn by systemd when the service has ended: the next run is the calendar
    // elapse, systemd's next elapse lies within RandomizedDelaySec after it, and the grace covers it.
    const next = value(random.file, 'promfile_job_next_run_timestamp_seconds', 'tick-random');
    const calendarNext = unixSeconds(/next_elapse=(@\d+)/.exec(random.timer.get('TimersCalendar') ?? '')?.[1]);
    expect(next).toBe(calendarNext);
    const elapse = unixSeconds(random.timer.get('NextElapseUSecRealtime'));
    expect(elapse).toBeGreaterThanOrEqual(next);
    expect(elapse).toBeLessThanOrEqual(next + 4);
    expect(value(random.file, 'promfile_job_grace_seconds', 'tick-random')).toBe(60 + 4 + 1);

    const served = scrape();
    expect(scrapeError(served)).toBe(0);
    for (const job of ['tick-exact', 'tick-random'])
      expect(value(served, 'promfile_job_runs_total{job_name="' + job + '",result="success"}', job)).toBeGreaterThanOrEqual(1);
    box.ok('systemctl stop tick-exact.timer tick-random.timer');
  }, 60_000);

  /**
   * Wait (bounded) until the timer has fired, its service has ended and the file holds that run,
   * then read the timer and the file, twice over the timer so that a fire between is seen.
   */
  async function firedOnce(job: string): Promise<{ timer: Map<string, string>; file: string }> {
    const show =
      `TZ=UTC systemctl show ${job}.timer --timestamp=unix -p SubState -p NextElapseUSecRealtime -p LastTriggerUSec -p TimersCalendar; ` +
      `systemctl show ${job}.service -p ActiveState`;
    const deadline = Date.now() + 40_000;
    for (;;) {
      const [before, file, after] = box
        .ok(`${show}; echo ---; cat ${TEXTFILES}/${job}.prom 2>/dev/null || true; echo ---; ${show}`)
        .split('---\n');
      const timer = showMap(before ?? '');
      const lastTrigger = unixSeconds(timer.get('LastTriggerUSec'));
      const ready =
        before === after &&
        timer.get('SubState') === 'waiting' &&
        timer.get('ActiveState') === 'inactive' &&
        Number.isFinite(lastTrigger) &&
        samplesOf(file ?? '', 'promfile_job_last_start_timestamp_seconds').length === 1 &&
        value(file ?? '', 'promfile_job_last_start_timestamp_seconds', job) >= lastTrigger;
      if (ready) return { timer, file: file as string };
      if (Date.now() > deadline) throw new Error(`${job}.timer did not fire and finish within 40s:\n${before}\n${file}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it("the collector drop-in: Debian's unit hides a failing collector, promfile's keeps the old file and fails", () => {
    const script = `${COLLECTORS}/apt_info.py`;
    const file = box.path(`${TEXTFILES}/apt.prom`);
    const partial = '# HELP apt_upgrades_pending Apt packages pending updates by origin.\n# TYPE apt_upgrades_pending gauge\n';
    const failing = `#!/bin/sh\nprintf '${partial.replace(/\n/g, '\\n')}'\necho 'E: the apt cache is locked' >&2\nexit 1\n`;
    box.ok(`cp ${script} /root/apt_info.py.real`);
    const breakCollector = (): string => box.ok(`cat >${script} <<'EOF'\n${failing}EOF\nchmod 755 ${script}`);
    const mendCollector = (): string => box.ok(`cp /root/apt_info.py.real ${script}`);
    const result = (): string => box.ok('systemctl show -p Result --value prometheus-node-exporter-apt.service').trim();

    // Debian's own unit, `bash -c "apt_info.py | sponge apt.prom"`: sponge's status wins.
    breakCollector();
    box.ok('systemctl start prometheus-node-exporter-apt.service');
    expect(result()).toBe('success');
    expect(readFileSync(file, 'utf8')).toBe(partial);

    // The doc's drop-in, as written there: the real collector's output, checked and written.
    mendCollector();
    box.ok(recipe('prometheus-node-exporter-apt.service'));
    expect(box.ok('systemctl show -p ExecStart --value prometheus-node-exporter-apt.service')).toContain('path=/usr/bin/promfile');
    expect(result()).toBe('success');
    const written = readFileSync(file);
    expect(samplesOf(written.toString('utf8'), 'apt_upgrades_pending').length).toBeGreaterThan(0);
    const served = scrape();
    expect(scrapeError(served)).toBe(0);
    expect(samplesOf(served, 'apt_autoremove_pending')).toHaveLength(1);

    // The collector fails: the unit fails, the file stays byte for byte, no temp file is left.
    const names = readdirSync(box.path(TEXTFILES)).sort();
    breakCollector();
    const started = box.sh('systemctl start prometheus-node-exporter-apt.service');
    expect(started.status).not.toBe(0);
    expect(result()).toBe('exit-code');
    expect(box.sh('systemctl is-failed prometheus-node-exporter-apt.service').stdout.trim()).toBe('failed');
    expect(readFileSync(file).equals(written)).toBe(true);
    expect(readdirSync(box.path(TEXTFILES)).sort()).toEqual(names);
    expect(box.ok('journalctl -u prometheus-node-exporter-apt.service -o cat --no-pager')).toMatch(/apt cache is locked/);
    mendCollector();
    box.ok('systemctl reset-failed prometheus-node-exporter-apt.service');
  }, 60_000);

  it("the doc's table of collector units names each unit's own collector and file", () => {
    const rows = [...readFileSync(join(ROOT, DOC), 'utf8').matchAll(/^\| `([\w-]+)` \| `(\/usr\/bin\/promfile write .*)` \|$/gm)];
    expect(rows.map((row) => row[1])).toEqual(['apt', 'smartmon', 'nvme', 'mellanox-hca-temp', 'ipmitool-sensor']);
    for (const [, unit, command] of rows) {
      const own = box.ok(`systemctl cat prometheus-node-exporter-${unit as string}.service`);
      const stock = /^ExecStart=.*\| sponge \/var\/lib\/prometheus\/node-exporter\/(\w+)\.prom"$/m.exec(own);
      expect(stock, own).not.toBeNull();
      expect(/ -f (\w+) /.exec(command as string)?.[1]).toBe(stock?.[1]);
      const scripts = (text: string): string[] => (text.match(new RegExp(`${COLLECTORS}/[\\w.-]+`, 'g')) ?? []).sort();
      expect(scripts(command as string)).toEqual(scripts((stock as RegExpExecArray)[0]));
      for (const path of scripts(command as string)) box.ok(`test -x ${path}`);
    }
    expect(recipe('prometheus-node-exporter-apt.service')).toContain(`ExecStart=${rows[0]?.[2] as string}\n`);
  });

  it('the unattended-upgrades drop-in records a run of apt-daily-upgrade.service', () => {
    const dropIn = recipe('apt-daily-upgrade.service');
    // The command it wraps is the one bookworm's apt runs.
    const own = /^ExecStart=(.*)$/m.exec(box.ok('cat /lib/systemd/system/apt-daily-upgrade.service'))?.[1];
    expect(own).toBe('/usr/lib/apt/apt.systemd.daily install');
    expect(dropIn).toMatch(new RegExp(`^ExecStart=/usr/bin/promfile run .* -- ${own}$`, 'm'));
    box.ok(dropIn);
    // Nothing is upgraded: unattended-upgrades is not installed and APT::Periodic is unset.
    box.ok('systemctl start apt-daily-upgrade.service', 120_000);
    expect(box.ok('systemctl show -p Result --value apt-daily-upgrade.service').trim()).toBe('success');
    const file = readFileSync(box.path(`${TEXTFILES}/unattended-upgrades.prom`), 'utf8');
    expect(value(file, 'promfile_job_runs_total{job_name="unattended-upgrades",result="success"}', 'unattended-upgrades')).toBe(1);
    expect(value(file, 'promfile_job_exit_code', 'unattended-upgrades')).toBe(0);
    // Started by hand, the timer waits: its next elapse (06:00 plus a delay of up to 60 min, which
    // systemd draws again when the service stops) is what promfile recorded, within that hour.
    const timer = showMap(
      box.ok('TZ=UTC systemctl show apt-daily-upgrade.timer --timestamp=unix -p TimersCalendar -p NextElapseUSecRealtime'),
    );
    const calendarNext = unixSeconds(/next_elapse=(@\d+)/.exec(timer.get('TimersCalendar') ?? '')?.[1]);
    const next = value(file, 'promfile_job_next_run_timestamp_seconds', 'unattended-upgrades');
    expect(next).toBeGreaterThanOrEqual(calendarNext);
    expect(next).toBeLessThanOrEqual(calendarNext + 3600);
    expect(value(file, 'promfile_job_interval_seconds', 'unattended-upgrades')).toBe(86_400);
    expect(value(file, 'promfile_job_grace_seconds', 'unattended-upgrades')).toBe(8640 + 3600 + 60);
    const served = scrape();
    expect(scrapeError(served)).toBe(0);
    expect(value(served, 'promfile_job_exit_code', 'unattended-upgrades')).toBe(0);
  }, 150_000);

  it('the `systemctl show` that --timer runs, as the doc gives it, is what promfile reads', () => {
    const block = showBlock();
    expect(block).toContain(
      TIMER_PROPERTIES.map((property) => `-p ${property}`)
        .join(' ')
        .slice(0, 40),
    );
    expect([...block.matchAll(/-p (\w+)/g)].map((match) => match[1])).toEqual([...TIMER_PROPERTIES]);
    const info = parseTimerShow('apt-daily-upgrade.timer', box.ok(block));
    expect(info).toMatchObject({
      unit: 'apt-daily-upgrade.timer',
      activeState: 'active',
      calendars: [{ spec: '*-*-* 06:00:00' }],
      randomizedDelayMs: 3_600_000,
      accuracyMs: 60_000,
      persistent: true,
    });
    // Waiting: the next elapse is the calendar time plus the delay systemd drew.
    const calendarNext = info.calendars[0]?.nextMs as number;
    expect(info.nextElapseMs).toBeGreaterThanOrEqual(calendarNext);
    expect(info.nextElapseMs).toBeLessThanOrEqual(calendarNext + 3_600_000);
  });

  it('every block marked for this test is one it runs', () => {
    const marked = DOC_FILES.flatMap((file) => fencedBlocks(file).filter((block) => block.note === RUN_HERE));
    const ran = [...['prometheus-node-exporter-apt.service', 'apt-daily-upgrade.service'].map(recipe), showBlock()];
    expect(marked.map((block) => block.code).sort()).toEqual(ran.sort());
  });
});

describe.skipIf(!PROMTOOL)('docs/systemd.md: the pending-security-updates query and alert (promtool)', () => {
  const blocks = fencedBlocks(DOC);
  const rules = blocks.find((block) => block.language === 'yaml' && block.code.startsWith('# /etc/prometheus/rules/apt-security.yml'));
  const query = blocks.filter((block) => block.language === 'promql');

  it('passes promtool check rules, and fires only for security origins pending two days', async () => {
    expect(rules).toBeDefined();
    expect(query).toHaveLength(1);
    const expr = (query[0] as FencedBlock).code.trim();
    expect(rules?.code).toContain(`expr: ${expr} > 0\n`);
    const { dir, cleanup } = await tempDir('promfile-apt-alert-');
    try {
      writeFileSync(join(dir, 'apt-security.yml'), rules?.code ?? '');
      const check = spawnSync(PROMTOOL as string, ['check', 'rules', join(dir, 'apt-security.yml')], { encoding: 'utf8', timeout: 60_000 });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
      const summary = /summary: '(.*)'$/m.exec(rules?.code ?? '')?.[1] ?? '';
      const description = /description: '(.*)'$/m.exec(rules?.code ?? '')?.[1]?.replace(/''/g, "'") ?? '';
      const annotations = (count: number, instance: string): string =>
        JSON.stringify({
          summary: summary.replace('{{ $value }}', String(count)).replace('{{ $labels.instance }}', instance),
          description,
        });
      writeFileSync(join(dir, 'test.yml'), alertTest(expr, annotations));
      const result = spawnSync(PROMTOOL as string, ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

/**
 * A promtool test over apt_info.py's series as it writes them (origin `ORIGIN:CODENAME/ARCHIVE`,
 * joined by commas; `{origin="",arch=""} 0` when nothing is pending), a sample a minute (the
 * values below count hours, as `2x60` for 61 hours of 2): host a
 * has Debian security updates pending throughout, b only other updates, c security updates
 * installed after 30 h, d nothing pending, e an Ubuntu security origin shared with -updates.
 */
function alertTest(expr: string, annotations: (count: number, instance: string) => string): string {
  const hours = (values: string): string => values.replace(/x(\d+)/g, (_, count: string) => `x${Number(count) * 60}`);
  const series = (instance: string, origin: string, values: string): string =>
    `      - series: 'apt_upgrades_pending{instance="${instance}",origin="${origin}",arch="amd64"}'\n        values: '${hours(values)}'\n`;
  const firing = (instance: string, count: number): string =>
    `          - exp_labels: { alertname: SecurityUpdatesPending, severity: warning, instance: "${instance}" }\n` +
    `            exp_annotations: ${annotations(count, instance)}\n`;
  return [
    'rule_files: [apt-security.yml]',
    'evaluation_interval: 1m',
    'tests:',
    '  - interval: 1m',
    '    input_series:',
    series('a', 'Debian:bookworm-security/stable-security', '2x60'),
    series('b', 'Debian:bookworm/stable,Debian:bookworm-updates/stable-updates', '5x60'),
    series('c', 'Debian:bookworm-security/stable-security', '3x29 0x30'),
    series('d', '', '0x60'),
    series('e', 'Ubuntu:jammy-security/jammy-security,Ubuntu:jammy-updates/jammy-updates', '1x60'),
    '    promql_expr_test:',
    `      - expr: '${expr.replace(/'/g, "''")}'`,
    '        eval_time: 10h',
    '        exp_samples:',
    '          - { labels: "{instance=\\"a\\"}", value: 2 }',
    '          - { labels: "{instance=\\"c\\"}", value: 3 }',
    '          - { labels: "{instance=\\"e\\"}", value: 1 }',
    '    alert_rule_test:',
    '      - { alertname: SecurityUpdatesPending, eval_time: 47h, exp_alerts: [] }',
    '      - alertname: SecurityUpdatesPending',
    '        eval_time: 49h',
    '        exp_alerts:',
    firing('a', 2) + firing('e', 1),
  ].join('\n');
}
