// Library users branch on error codes, so each refusal's code is part of the contract.
import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { checkPush } from '../../src/push/gateway.js';
import { registryFamilies } from '../../src/textfile/registry.js';
import { setSeries } from '../../src/format/model.js';
import { IoError } from '../../src/errors.js';
import { fetchScrape } from '../../src/inspect/check.js';

const families = setSeries([], [{ name: 'rows_total', labels: {}, value: 1 }]);
const push = { gateway: 'http://127.0.0.1:9', job: 'etl' };

describe('error codes', () => {
  it('ERR_MACHINE_LABEL for host labels and this hostname; allowInstance lets them through', () => {
    const withHost = setSeries([], [{ name: 'rows_total', labels: { host: 'db1' }, value: 1 }]);
    expect(() => checkPush(withHost, push)).toThrow(expect.objectContaining({ code: 'ERR_MACHINE_LABEL' }));
    expect(() => checkPush(families, { ...push, grouping: { shard: hostname() } })).toThrow(
      expect.objectContaining({ code: 'ERR_MACHINE_LABEL' }),
    );
    expect(() => checkPush(withHost, { ...push, allowInstance: true })).not.toThrow();
  });

  it('ERR_DEFAULT_METRICS for a registry holding default metrics', async () => {
    const registry = {
      metrics: async () => '# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\n',
    };
    await expect(registryFamilies(registry)).rejects.toMatchObject({ code: 'ERR_DEFAULT_METRICS' });
  });

  it('ERR_NETWORK from check --against is an IoError (exit 1), like every other network failure', async () => {
    // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    const refused = fetchScrape('http://127.0.0.1:9/metrics', 5000);
    await expect(refused).rejects.toBeInstanceOf(IoError);
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      message: expect.stringMatching(/^cannot fetch http:\/\/127\.0\.0\.1:9\/metrics: /),
    });
  });
});
