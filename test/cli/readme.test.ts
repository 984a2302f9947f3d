// The README is part of the product: its alert rules must load in Prometheus
// and name metrics promfile really writes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_METRICS } from '../../src/job/metrics.js';
import { PROMTOOL } from '../helpers/binaries.js';
import { ROOT, tempDir } from '../helpers/cli.js';

const COLLECTORS = '/usr/share/prometheus-node-exporter-collectors';
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const ruleFiles = [...readme.matchAll(/```yaml\n(groups:\n[\s\S]*?)```/g)].map((match) => match[1] as string);

describe('README', () => {
  it('has a rule file for the cronjob alerts', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
  });

  it.skipIf(!PROMTOOL)('every rule file in it passes promtool check rules', async () => {
    const { dir, cleanup } = await tempDir('promfile-readme-');
    try {
      ruleFiles.forEach((rules, i) => {
        const file = join(dir, `rules-${i}.yml`);
        writeFileSync(file, rules);
        const result = spawnSync(PROMTOOL as string, ['check', 'rules', file], { encoding: 'utf8' });
        expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      });
    } finally {
      await cleanup();
    }
  });

  it('its cronjob alerts use only metrics promfile run writes', () => {
    const written = new Set<string>(
      Object.values(JOB_METRICS).flatMap((metric: { name: string; type: string }) =>
        metric.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => `${metric.name}${suffix}`) : [metric.name],
      ),
    );
    const used = ruleFiles.flatMap((rules) => rules.match(/promfile_[a-z_]+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(written.has(name), name).toBe(true);
  });

  it.skipIf(!existsSync(COLLECTORS))("names only collector scripts that Debian's package ships", () => {
    const named = [...readme.matchAll(/\/usr\/share\/prometheus-node-exporter-collectors\/[\w.-]+/g)].map((match) => match[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const path of named) expect(existsSync(path), path).toBe(true);
  });
});
