// What counts as success from a Pushgateway, and what is printed about its
// URL: a loopback HTTP server answers as a redirecting proxy or a gateway
// behind basic auth would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promfileAsync, tempDir } from '../helpers/cli.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

let server: Server;
let base: string;
let answer: (request: IncomingMessage, response: ServerResponse) => void;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    request.resume();
    request.on('end', () => answer(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => new Promise((resolve) => server.close(resolve)));

const redirect = (_: IncomingMessage, response: ServerResponse): void => {
  response.writeHead(307, { Location: 'https://gw.example:9091/metrics/job/j' }).end();
};

describe('a 3xx answer is not success', () => {
  it.each([
    ['push', ['push', '--job', 'j', 'x_value=1'], 'PUT'],
    ['push --method post', ['push', '--job', 'j', '--method', 'post', 'x_value=1'], 'POST'],
    ['push --delete', ['push', '--job', 'j', '--delete'], 'DELETE'],
  ])('%s: exit 1, naming the status and the Location', async (_, args, method) => {
    answer = redirect;
    const result = await promfileAsync([...args, '--gateway', `http://${base}`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `promfile: ${method} http://${base}/metrics/job/j: the Pushgateway answered HTTP 307: a redirect to https://gw.example:9091/metrics/job/j, which promfile does not follow (use that gateway URL); the ${method} did not take effect\n`,
    );
  });

  it('run --push warns that the end of the job was not recorded, and exits with the job status', async () => {
    answer = redirect;
    const { dir, cleanup } = await tempDir();
    try {
      const result = await promfileAsync(['run', '--dir', dir, '--job', 'svc', '--push', `http://${base}`, '-q', '--', 'true']);
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/cannot record the end of the job in .*HTTP 307: a redirect to https:\/\/gw\.example/);
    } finally {
      await cleanup();
    }
  });
});

describe('credentials in the gateway URL', () => {
  it('are sent, but never printed: not in errors, not in the delete reminder', async () => {
    answer = (_, response) => response.writeHead(202).end();
    seen.length = 0;
    const ok = await promfileAsync(['push', '--gateway', `http://user:secret@${base}`, '--job', 'j', 'x_value=1']);
    expect(ok.status).toBe(0);
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
    expect(ok.stderr).toContain(`--gateway 'http://user:***@${base}'`);
    answer = (_, response) => response.writeHead(500).end('boom');
    const failed = await promfileAsync(['push', '--gateway', `http://user:secret@${base}`, '--job', 'j', 'x_value=1']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe(`promfile: PUT http://user:***@${base}/metrics/job/j: the Pushgateway answered HTTP 500: boom\n`);
    for (const output of [ok.stderr, failed.stderr]) expect(output).not.toContain('secret');
  });

  it('a gateway without a scheme means http://', async () => {
    answer = (_, response) => response.writeHead(200).end();
    seen.length = 0;
    const result = await promfileAsync(['push', '--gateway', base, '--job', 'plain', '-q', 'x_value=1']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(seen).toEqual([{ method: 'PUT', url: '/metrics/job/plain', authorization: undefined }]);
  });
});
