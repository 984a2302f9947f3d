// rm: delete one textfile under its lock (the lock file goes with it); a dry
// run takes the same steps but the removal, and says whether there was one.
import { deleteTextfile, type UpdateOptions } from './update.js';

/** Delete the textfile under its lock; true when there was one (a dry run deletes nothing). */
export async function removeTextfileLocked(path: string, options: UpdateOptions = {}): Promise<boolean> {
  return deleteTextfile(path, options);
}
