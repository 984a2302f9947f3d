// rm: delete one textfile under its lock (the lock file goes with it), or,
// for a dry run, only say whether there is one to delete.
import { lstat } from 'node:fs/promises';
import { deleteTextfile, type UpdateOptions } from './update.js';

/** Is there a file (or a link: it would be removed, not followed) at `path`? */
export async function textfileExists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** Delete the textfile under its lock; true when there was one (a dry run deletes nothing). */
export async function removeTextfileLocked(path: string, options: UpdateOptions = {}): Promise<boolean> {
  return options.dryRun ? textfileExists(path) : deleteTextfile(path, options);
}
