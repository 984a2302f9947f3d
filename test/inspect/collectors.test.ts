// Names node_exporter's own collectors export: a textfile family of one of
// them collides at every scrape (one of the two is dropped, a gathering error
// is logged, node_textfile_scrape_error stays 0). The real node_exporter,
// found through the real /proc, is the judge of which names those are.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporterNames, loopbackUrl, scrapeBounded, scrapedNames } from '../../src/inspect/collectors.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, promfileAsync } from '../helpers/cli.js';
import { samplesOf, useNodeExporter } from '../helpers/node-exporter.js';

describe('asking a node_exporter', () => {
  it('reaches only loopback: every-address and loopback listen addresses, nothing else', () => {
    expect(loopbackUrl(':9100')).toBe('http://127.0.0.1:9100/metrics');
    expect(loopbackUrl('0.0.0.0:9100', '/m')).toBe('http://127.0.0.1:9100/m');
    expect(loopbackUrl('127.0.0.2:9100')).toBe('http://127.0.0.2:9100/metrics');
    expect(loopbackUrl('[::]:9100')).toBe('http://[::1]:9100/metrics');
    expect(loopbackUrl('[::1]:9100')).toBe('http://[::1]:9100/metrics');
    expect(loopbackUrl('192.0.2.7:9100')).toBeUndefined();
    expect(loopbackUrl('example.org:9100')).toBeUndefined();
    expect(loopbackUrl('nonsense')).toBeUndefined();
  });

  it('names families and samples (a histogram is also its _bucket, _sum and _count)', () => {
    const text = '# HELP h x\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\nnode_load1 0.5\n';
    expect([...scrapedNames(text)].sort()).toEqual(['h', 'h_bucket', 'h_count', 'h_sum', 'node_load1']);
  });

  describe('an answer that never ends', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const line = Buffer.from('endless_metric 1\n'.repeat(4096));
        const pump = (): void => {
          while (!response.destroyed && response.write(line));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/metrics`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('is cut at the size bound, and counts as no answer', async () => {
      expect(await scrapeBounded(url, 5000, 1024 * 1024)).toBeUndefined();
    });

    it('is cut at the time bound', async () => {
      const started = Date.now();
      expect(await scrapeBounded(url, 300, Number.MAX_SAFE_INTEGER)).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  it('nothing listening is no answer', async () => {
    expect(await exporterNames('http://127.0.0.1:9/metrics')).toBeUndefined();
  });
});

describe.skipIf(!NODE_EXPORTER)('names taken by the running node_exporter (loadavg collector on)', () => {
  const running = useNodeExporter('promfile-collectors-', { args: ['--collector.loadavg'] });

  it("its collectors' names exclude the textfile collector's families", async () => {
    await writeFile(join(running.dir, 'mine.prom'), '# HELP mine_total Mine.\n# TYPE mine_total counter\nmine_total 1\n');
    const collectors = await exporterNames(running.exporter.url);
    expect(collectors?.has('node_load1')).toBe(true);
    // In the scrape, but the textfile collector's.
    expect(samplesOf(await running.exporter.scrape(), 'mine_total')).toEqual(['mine_total 1']);
    expect(collectors?.has('mine_total')).toBe(false);
  });

  it('set and write refuse a name a collector exports (exit 2, nothing written); others pass', async () => {
    const set = await promfileAsync(['set', '--dir', running.dir, '-f', 'load', 'node_load1', '7']);
    expect(set.status).toBe(2);
    expect(set.stderr).toMatch(
      new RegExp(
        `^promfile: ${join(running.dir, 'load.prom')}: metric "node_load1" is also exported by node_exporter's own collectors ` +
          `\\(the /metrics of node_exporter \\(pid \\d+, uid 0\\) at ${running.exporter.url.replace(/[.]/g, '\\.')}\\): ` +
          'one of the two is dropped at every scrape; rename it \\(rule node-collision; nothing written\\)',
      ),
    );
    expect(existsSync(join(running.dir, 'load.prom'))).toBe(false);
    const written = await promfileAsync(['write', '--dir', running.dir, '-f', 'load'], { input: 'node_load5 7\n' });
    expect(written.status).toBe(2);
    expect(written.stderr).toContain('metric "node_load5" is also exported by node_exporter\'s own collectors');
    expect(existsSync(join(running.dir, 'load.prom'))).toBe(false);
    // The real load average is still what the scrape shows.
    expect(samplesOf(await running.exporter.scrape(), 'node_load1')).not.toContain('node_load1 7');
    const other = await promfileAsync(['set', '--dir', running.dir, '-f', 'load', 'my_load', '7']);
    expect(other.status).toBe(0);
  });

  it('check flags a file that already has one, with and without --against', async () => {
    await writeFile(join(running.dir, 'clash.prom'), '# HELP node_load15 Mine.\n# TYPE node_load15 gauge\nnode_load15 7\n');
    try {
      const checked = await promfileAsync(['check', '--dir', running.dir]);
      expect(checked.status).toBe(1);
      expect(checked.stdout).toContain(
        `${join(running.dir, 'clash.prom')}: error: metric "node_load15" is also exported by node_exporter's own collectors (the /metrics of node_exporter (pid `,
      );
      const against = promfile(['check', '--dir', running.dir, '--against', running.exporter.url]);
      expect(against.status).toBe(1);
      expect(against.stdout).toContain(
        `${join(running.dir, 'clash.prom')}: error: metric "node_load15" is also exported by node_exporter's own collectors (the /metrics of ${running.exporter.url})`,
      );
    } finally {
      await writeFile(join(running.dir, 'clash.prom'), '');
    }
  });
});
