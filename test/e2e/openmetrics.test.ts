// Input conversions in front of the one grammar, judged by the real
// node_exporter of every version present: OpenMetrics (`write --from
// openmetrics`, here as prom-client really writes it) and the quoted names of
// new clients (`write --escape-names`, and the library's escapeNames). Without
// the option, such input is refused naming it, and the old file is kept.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTextfile } from '../../src/index.js';
import type { MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTERS } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { samplesOf, scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

/** A prom-client registry in OpenMetrics mode: counters with `_total`, exemplars with timestamps, `# EOF`. */
async function promClientOpenMetrics(): Promise<string> {
  const registry = new client.Registry<typeof client.openMetricsContentType>();
  registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  const jobs = new client.Counter<string>({
    name: 'batch_jobs_processed',
    help: 'Jobs "processed"',
    labelNames: ['kind'],
    registers: [registry],
    enableExemplars: true,
  });
  jobs.inc({ labels: { kind: 'mail' }, value: 3, exemplarLabels: { trace_id: 'abc' } });
  new client.Gauge({ name: 'batch_queue_length', help: 'Queue length', registers: [registry] }).set(4);
  const duration = new client.Histogram<string>({
    name: 'batch_duration_seconds',
    help: 'Duration',
    buckets: [0.1, 1],
    registers: [registry],
    enableExemplars: true,
  });
  duration.observe({ value: 0.5, exemplarLabels: { trace_id: 'def' } });
  return registry.metrics();
}

// What the OpenMetrics specification adds beyond prom-client's output: info, stateset, UNIT, _created, seconds timestamps.
const SPEC_OPENMETRICS = [
  '# TYPE backup_build info',
  '# HELP backup_build Build of the backup tool.',
  'backup_build_info{version="2.1"} 1',
  '# TYPE backup_state stateset',
  'backup_state{backup_state="running"} 0',
  'backup_state{backup_state="idle"} 1',
  '# TYPE backup_bytes counter',
  '# UNIT backup_bytes bytes',
  'backup_bytes_total 1024 1700000000.5',
  'backup_bytes_created 1600000000.25',
  '# EOF',
  '',
].join('\n');

// client_golang 1.24 writes names that are not legacy names quoted.
const QUOTED = [
  '# HELP "backup.duration.seconds" Duration of the backup.',
  '# TYPE "backup.duration.seconds" summary',
  '{"backup.duration.seconds","backup.kind"="full",quantile="0.5"} 12',
  '{"backup.duration.seconds_sum","backup.kind"="full"} 30',
  '{"backup.duration.seconds_count","backup.kind"="full"} 2',
  '',
].join('\n');

const KEPT = 'kept_value 1\n';

describe.each(NODE_EXPORTERS)('input conversions, exposed by node_exporter $version', ({ path: binary }) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let exporter: NodeExporter;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    exporter = await startNodeExporter(dir, { binary });
  });
  afterAll(async () => {
    await exporter?.stop();
    await cleanup?.();
  });

  const write = (name: string, args: string[], input: string): ReturnType<typeof promfile> =>
    promfile(['write', '--dir', dir, '-f', name, ...args], { input });

  it("prom-client's OpenMetrics: refused without --from openmetrics (naming it), converted with it", async () => {
    const text = await promClientOpenMetrics();
    expect(text).toMatch(/# \{trace_id="abc"\} 3 \d+\.\d+\n/);
    await writeFile(join(dir, 'om.prom'), KEPT);
    const refused = write('om', [], text);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      'promfile: <stdin>: the input ends with "# EOF": it is OpenMetrics, and node_exporter reads only the text format (--from openmetrics converts it)\n',
    );
    expect(await readFile(join(dir, 'om.prom'), 'utf8')).toBe(KEPT);

    const result = write('om', ['--from', 'openmetrics'], text);
    expect(result.stderr).toMatch(
      /^promfile: warning: <stdin>: line \d+: OpenMetrics input: dropped 2 exemplars, the first here \(the text format has none\)\n$/,
    );
    expect(result.status).toBe(0);
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(scrape).toContain('# TYPE batch_jobs_processed_total counter\n');
    expect(samplesOf(scrape, 'batch_jobs_processed_total')).toEqual(['batch_jobs_processed_total{kind="mail"} 3']);
    expect(samplesOf(scrape, 'batch_queue_length')).toEqual(['batch_queue_length 4']);
    expect(samplesOf(scrape, 'batch_duration_seconds_bucket')).toEqual([
      'batch_duration_seconds_bucket{le="0.1"} 0',
      'batch_duration_seconds_bucket{le="1"} 1',
      'batch_duration_seconds_bucket{le="+Inf"} 1',
    ]);
    expect(samplesOf(scrape, 'kept_value')).toEqual([]);
  });

  it('info, stateset, UNIT, _created and timestamps: what the text format carries, the rest said on stderr', async () => {
    const refused = write('spec', ['--from', 'openmetrics'], SPEC_OPENMETRICS);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/line 9: sample has a timestamp.*\(--strip-timestamps drops them\)\n$/);

    const result = write('spec', ['--from', 'openmetrics', '--strip-timestamps'], SPEC_OPENMETRICS);
    expect(result.status).toBe(0);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      'promfile: warning: <stdin>: line 8: OpenMetrics input: dropped 1 "# UNIT" line (the text format has no units)',
      'promfile: warning: <stdin>: line 10: OpenMetrics input: dropped 1 _created sample (the text format has no creation time)',
      'promfile: warning: <stdin>: line 9: timestamp dropped',
    ]);
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(scrape).toContain('# TYPE backup_build_info gauge\n');
    expect(samplesOf(scrape, 'backup_build_info')).toEqual(['backup_build_info{version="2.1"} 1']);
    expect(samplesOf(scrape, 'backup_state')).toEqual(['backup_state{backup_state="idle"} 1', 'backup_state{backup_state="running"} 0']);
    expect(scrape).toContain('# TYPE backup_bytes_total counter\n');
    expect(samplesOf(scrape, 'backup_bytes_total')).toEqual(['backup_bytes_total 1024']);
    expect(samplesOf(scrape, 'backup_bytes_created')).toEqual([]);
  });

  it('info or an exemplar without the option: refused naming --from openmetrics', () => {
    const exemplar = write('info', [], 'b 1 # {trace_id="x"} 1\n');
    expect(exemplar.status).toBe(2);
    expect(exemplar.stderr).toMatch(/line 1: OpenMetrics exemplars .*\(--from openmetrics drops them\)\n$/);
    const result = write('info', [], '# TYPE b info\nb_info{v="1"} 1\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/line 1: unknown metric type "info".*\(it is OpenMetrics: --from openmetrics converts it\)\n$/);
  });

  it("client_golang's quoted names: refused without --escape-names (naming it), exposed with each scheme", async () => {
    await writeFile(join(dir, 'names.prom'), KEPT);
    const refused = write('names', [], QUOTED);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /^promfile: <stdin>: line \d+: .*quoted.*\(--escape-names underscores\|dots\|values rewrites quoted names as legacy names\)\n$/,
    );
    expect(await readFile(join(dir, 'names.prom'), 'utf8')).toBe(KEPT);

    const expected: Record<string, string> = {
      underscores: 'backup_duration_seconds_count{backup_kind="full"} 2',
      dots: 'backup_dot_duration_dot_seconds_count{backup_dot_kind="full"} 2',
      values: 'U__backup_2e_duration_2e_seconds_count{U__backup_2e_kind="full"} 2',
    };
    for (const [scheme, line] of Object.entries(expected)) {
      const result = write('names', ['--escape-names', scheme], QUOTED);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const scrape = await exporter.scrape();
      expect(scrapeError(scrape)).toBe(0);
      const name = line.slice(0, line.indexOf('{'));
      expect(samplesOf(scrape, name)).toEqual([line]);
      expect(scrape).toContain(`# TYPE ${name.replace(/_count$/, '')} summary\n`);
    }
  });

  it("the library's escapeNames: a family with a UTF-8 name written as node_exporter reads it", async () => {
    const family: MetricFamily = {
      name: 'job.items',
      help: 'Items',
      type: 'gauge',
      samples: [{ name: 'job.items', labels: { 'item.kind': 'a' }, value: 5 }],
    };
    await expect(writeTextfile(dir, [family], { name: 'lib' })).rejects.toThrow(/job\.items/);
    await writeTextfile(dir, [family], { name: 'lib', escapeNames: 'underscores' });
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'job_items')).toEqual(['job_items{item_kind="a"} 5']);
  });
});
