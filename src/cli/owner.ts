// `--owner user:group` by name or number, read from /etc/passwd and /etc/group
// (Node has no getpwnam).
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

async function lookup(file: string, name: string): Promise<{ id: number; gid: number } | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) return { id: Number(fields[2]), gid: Number(fields[3] ?? fields[2]) };
  }
  return undefined;
}

/** The largest id: 2^32-1 is (uid_t)-1, which chown(2) reads as "leave unchanged". */
const MAX_ID = 4294967294;

function numericId(text: string, what: 'user' | 'group'): number {
  const id = Number(text);
  if (id > MAX_ID)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `--owner: ${what} id ${text} is out of range (0 to ${MAX_ID}); chown would leave the ${what} unchanged`,
    );
  return id;
}

/** Resolve `user`, `user:group`, `uid:gid` or `:group`. */
export async function resolveOwner(spec: string): Promise<Owner> {
  const [userPart = '', groupPart] = spec.split(':', 2);
  let uid = -1;
  let gid = -1;
  if (userPart !== '') {
    if (/^\d+$/.test(userPart)) uid = numericId(userPart, 'user');
    else {
      const user = await lookup('/etc/passwd', userPart);
      if (!user) throw new InputError('ERR_INVALID_ARGUMENT', `--owner: no user "${userPart}" in /etc/passwd`);
      uid = user.id;
      gid = user.gid;
    }
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = numericId(groupPart, 'group');
    else {
      const group = await lookup('/etc/group', groupPart);
      if (!group) throw new InputError('ERR_INVALID_ARGUMENT', `--owner: no group "${groupPart}" in /etc/group`);
      gid = group.id;
    }
  }
  if (uid === -1 && gid === -1) throw new InputError('ERR_INVALID_ARGUMENT', `--owner "${spec}": expected USER, USER:GROUP or :GROUP`);
  return { uid, gid };
}
