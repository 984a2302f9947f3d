// Every write checks the new file against the other *.prom files of the
// directory, as node_exporter merges them, and refuses what it would drop;
// set adopts the HELP a metric already has there. node_exporter is the judge.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExposition } from '../../src/format/parse.js';
import { writeTextfile } from '../../src/textfile/write.js';
import { NODE_EXPORTERS } from '../helpers/binaries.js';
import { BIN, NODE, promfile } from '../helpers/cli.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { samplesOf, scrapeError, useNodeExporter } from '../helpers/node-exporter.js';

const APT = `# HELP apt_upgrades_pending Apt packages pending updates by origin.
# TYPE apt_upgrades_pending gauge
apt_upgrades_pending{arch="amd64",origin="Debian:bookworm/stable"} 3
`;

describe.each(NODE_EXPORTERS)('writes against the other files of the directory (node_exporter $version)', ({ path: binary }) => {
  const suite = useNodeExporter('promfile-dircheck-', { binary });
  const run = (args: string[], input?: string) =>
    promfile([args[0] as string, '--dir', suite.dir, ...args.slice(1)], input === undefined ? {} : { input });

  it('set adopts the HELP the metric has in another file, so node_exporter exposes both files', async () => {
    await writeFile(join(suite.dir, 'apt.prom'), APT);
    const result = run(['set', '-f', 'custom', 'apt_upgrades_pending', '0', '-l', 'origin=local']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(await readFile(join(suite.dir, 'custom.prom'), 'utf8')).toContain(
      '# HELP apt_upgrades_pending Apt packages pending updates by origin.\n',
    );
    const scrape = await suite.exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'apt_upgrades_pending')).toHaveLength(2);
  });

  it('refuses what node_exporter would drop, naming the other file and the rule; nothing is written', async () => {
    const cases: Array<{ args: string[]; input?: string; file: string; rule: string; other: string }> = [
      {
        args: ['set', '-f', 'other-help', 'apt_upgrades_pending', '1', '-l', 'origin=x', '--help-text', 'Something else.'],
        file: 'other-help',
        rule: 'help-conflict',
        other: 'apt.prom',
      },
      {
        args: ['write', '-f', 'dup'],
        input: 'apt_upgrades_pending{arch="amd64",origin="Debian:bookworm/stable"} 9\n',
        file: 'dup',
        rule: 'help-conflict',
        other: 'apt.prom',
      },
      {
        args: ['write', '-f', 'type'],
        input:
          '# HELP apt_upgrades_pending Apt packages pending updates by origin.\n# TYPE apt_upgrades_pending counter\napt_upgrades_pending{origin="y"} 1\n',
        file: 'type',
        rule: 'type-conflict',
        other: 'apt.prom',
      },
      {
        args: ['write', '-f', 'twin'],
        input:
          '# HELP apt_upgrades_pending Apt packages pending updates by origin.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending{arch="amd64",origin="Debian:bookworm/stable"} 9\n',
        file: 'twin',
        rule: 'duplicate-series',
        other: 'apt.prom',
      },
      { args: ['set', '-f', 'go', 'go_threads', '5'], file: 'go', rule: 'node-collision', other: '' },
      { args: ['set', '-f', 'own', 'node_textfile_scrape_error', '0'], file: 'own', rule: 'node-collision', other: '' },
    ];
    for (const c of cases) {
      const result = run(c.args, c.input);
      expect(result.status, c.args.join(' ')).toBe(2);
      // The CLI adds the flag that skips the check.
      expect(result.stderr).toMatch(new RegExp(`^promfile: .*rule ${c.rule}.*nothing written\\) \\(--no-dir-check writes anyway\\)\\n$`));
      if (c.other) expect(result.stderr).toContain(c.other);
      expect(existsSync(join(suite.dir, `${c.file}.prom`))).toBe(false);
    }
    const scrape = await suite.exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
  });

  it("refuses a file that sorts first and would make node_exporter drop another file's family", async () => {
    const result = run(['set', '-f', '0-first', 'apt_upgrades_pending', '1', '-l', 'origin=z', '--help-text', 'Mine.']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('it would make node_exporter drop from apt.prom');
    expect(existsSync(join(suite.dir, '0-first.prom'))).toBe(false);
  });

  it('--no-dir-check writes anyway, and node_exporter then drops the series, as --help warns', async () => {
    expect(run(['set', '--help']).stdout).toMatch(/--no-dir-check[\s\S]*silently drop/);
    const result = run([
      'set',
      '-f',
      'zz-risky',
      'apt_upgrades_pending',
      '7',
      '-l',
      'origin=risky',
      '--help-text',
      'Other.',
      '--no-dir-check',
    ]);
    expect(result.status).toBe(0);
    const scrape = await suite.exporter.scrape();
    const exposed = readExposition(scrape).families.find((family) => family.name === 'apt_upgrades_pending');
    expect(exposed?.samples.some((sample) => sample.labels['origin'] === 'risky')).toBe(false);
    await writeFile(join(suite.dir, 'zz-risky.prom'), ''); // leave the directory clean for the next test
  });

  it('the library (writeTextfile, and so writeRegistry) refuses the same way', async () => {
    const families = [
      { name: 'go_goroutines', help: 'Mine.', type: 'gauge' as const, samples: [{ name: 'go_goroutines', labels: {}, value: 1 }] },
    ];
    await expect(writeTextfile(suite.dir, families, { name: 'lib' })).rejects.toMatchObject({ code: 'ERR_DIRECTORY_CONFLICT' });
    expect(existsSync(join(suite.dir, 'lib.prom'))).toBe(false);
  });
});

describe.each(NODE_EXPORTERS)('the directory as it is at the rename (node_exporter $version)', ({ path: binary }) => {
  const suite = useNodeExporter('promfile-recheck-', { binary });

  /** Start a stdin `write` and feed it `head`; it has read the other files once it holds its lock and a moment has passed. */
  async function slowWrite(head: string): Promise<{ end(tail: string): void; result: Promise<{ status: number | null; stderr: string }> }> {
    const child = spawn(NODE, [BIN, 'write', '--dir', suite.dir, '-f', 'custom'], {
      env: { ...process.env, PROMFILE_DIR: '' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const result = new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
    child.stdin.write(head);
    for (let waited = 0; !existsSync(join(suite.dir, '.custom.prom.lock')) && waited < 30_000; waited += 20) await sleep(20);
    await sleep(1000);
    return { end: (tail) => child.stdin.end(tail), result };
  }

  it('a neighbour rewritten with another HELP while stdin was written is judged as it is now: refused, nothing written', async () => {
    await writeFile(
      join(suite.dir, 'apt.prom'),
      APT.replace('apt_upgrades_pending{', 'apt_other{').replaceAll('apt_upgrades_pending', 'apt_other'),
    );
    const mine = APT.replace('{arch="amd64",origin="Debian:bookworm/stable"} 3', '{origin="local"} 0');
    const write = await slowWrite(mine.slice(0, 20));
    await writeFile(join(suite.dir, 'apt.prom'), APT.replace('Apt packages pending updates by origin.', 'Something else.'));
    write.end(mine.slice(20));
    const { status, stderr } = await write.result;
    expect(status).toBe(2);
    expect(stderr).toMatch(/^promfile: .*custom\.prom: .*HELP.*apt\.prom.*\(rule help-conflict/);
    expect(existsSync(join(suite.dir, 'custom.prom'))).toBe(false);
    expect((await readdir(suite.dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
    const scrape = await suite.exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'apt_upgrades_pending')).toHaveLength(1);
  });

  it('families that came out of order are judged again from where the reordering put them', async () => {
    const shared = (help: string, value: string): string =>
      `# HELP zz_shared ${help}\n# TYPE zz_shared gauge\nzz_shared{from="${value}"} 1\n`;
    await writeFile(join(suite.dir, 'apt.prom'), shared('Shared.', 'apt'));
    // Out of name order: zz_shared first, then the a_* families the writer must put before it.
    const families = Array.from(
      { length: 40 },
      (_, i) => `# TYPE a_${String(i).padStart(2, '0')} gauge\na_${String(i).padStart(2, '0')} ${i}\n`,
    );
    const input = `${shared('Shared.', 'custom')}${families.join('')}`;
    for (const [help, status] of [
      ['Shared.', 0],
      ['Other.', 2],
    ] as const) {
      const write = await slowWrite(input.slice(0, 20));
      await writeFile(join(suite.dir, 'apt.prom'), `${shared(help, 'apt')}# TYPE apt_new gauge\napt_new 1\n`);
      write.end(input.slice(20));
      const result = await write.result;
      expect(result.status, result.stderr).toBe(status);
      if (status === 2) expect(result.stderr).toMatch(/HELP "Shared\." here but HELP "Other\." in apt\.prom/);
    }
    const written = await readFile(join(suite.dir, 'custom.prom'), 'utf8');
    expect(written.indexOf('a_39')).toBeLessThan(written.indexOf('zz_shared'));
    await writeFile(join(suite.dir, 'apt.prom'), shared('Shared.', 'apt')); // the conflict this test made in apt.prom, undone
    const scrape = await suite.exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'a_07')).toEqual(['a_07 7']);
  });
});
