// A link planted by another account must not make check or ls quote what it
// points to: a user's z.prom -> /root-only/file made root's check print that
// file's first line.
import { chmod, lchown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';

const SECRET = 'hunter2_secret_line';
const root = process.getuid?.() === 0;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeFile(join(dir, 'secret'), `password ${SECRET}\n`, { mode: 0o600 });
});
afterAll(async () => cleanup?.());

async function textfiles(name: string, mode: number): Promise<string> {
  const textfileDir = join(dir, name);
  await mkdir(textfileDir);
  await chmod(textfileDir, mode);
  await symlink(join(dir, 'secret'), join(textfileDir, 'z.prom'));
  return textfileDir;
}

function looks(textfileDir: string): { check: string; json: string; ls: string; file: string } {
  const run = (args: string[]): string => {
    const result = promfile(args);
    return `${result.stdout}${result.stderr}`;
  };
  return {
    check: run(['check', '--node-exporter', '1.9', '--dir', textfileDir]),
    json: run(['check', '--node-exporter', '1.9', '--format', 'json', '--dir', textfileDir]),
    ls: run(['ls', '--dir', textfileDir]),
    file: run(['check', '--node-exporter', '1.9', '--file-path', join(textfileDir, 'z.prom')]),
  };
}

describe('check and ls over links another account planted', () => {
  it.skipIf(!root)('a link owned by another user is reported, its target never read', async () => {
    const textfileDir = await textfiles('foreign', 0o755);
    await lchown(join(textfileDir, 'z.prom'), 65534, 65534);
    const seen = looks(textfileDir);
    for (const output of Object.values(seen)) expect(output).not.toContain(SECRET);
    expect(seen.check).toMatch(/z\.prom: warning: symbolic link to .*secret, owned by uid 65534.*not read/);
    expect(seen.ls).toMatch(/z\.prom .*untrusted-symlink/);
  });

  it('a link in a directory others can write is reported, its target never read', async () => {
    const textfileDir = await textfiles('open', 0o1777);
    const seen = looks(textfileDir);
    for (const output of Object.values(seen)) expect(output).not.toContain(SECRET);
    expect(seen.check).toMatch(/z\.prom: warning: symbolic link to .*secret, in a directory others can write.*not read/);
    expect(seen.ls).toMatch(/untrusted-symlink/);
  });

  it('a link of our own in a directory only we write is still read', async () => {
    const seen = looks(await textfiles('own', 0o755));
    expect(seen.check).toContain(SECRET);
    expect(seen.file).toContain(SECRET);
  });
});
