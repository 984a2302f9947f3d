// The private directory of a run's $PROMFILE_METRICS file. Its name carries
// the pid of the promfile that made it, so a later run can remove the ones a
// killed promfile left behind (nothing else would: they live in /tmp).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf } from '../errors.js';

const PREFIX = 'promfile-run-';
const STALE_NAME = /^promfile-run-(\d+)-[A-Za-z0-9]{6}$/;

export interface Scratch {
  readonly dir: string;
  readonly file: string;
}

/** Make `<root>/promfile-run-<pid>-XXXXXX/metrics.prom` (mode 0700 directory). */
export async function makeScratch(root: string, pid = process.pid): Promise<Scratch> {
  const dir = await mkdtemp(join(root, `${PREFIX}${pid}-`));
  return { dir, file: join(dir, 'metrics.prom') };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === 'EPERM';
  }
}

/**
 * Remove scratch directories whose promfile is gone: named by a pid that no
 * longer runs, and owned by `uid` (never another user's). Returns their paths.
 */
export async function removeStaleScratch(root: string, uid: number | undefined = process.getuid?.()): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const match = STALE_NAME.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    await rm(path, { recursive: true, force: true }).then(
      () => removed.push(path),
      () => undefined,
    );
  }
  return removed;
}
