import { describe, expect, it } from 'vitest';
import { ExpositionError, InputError, IoError } from '../../src/errors.js';
import { judgeByProfile, profileForVersion, type Profile } from '../../src/format/profile.js';

const only15 = profileForVersion('1.5.0') as Profile;

/** A judge that refuses under the strictest rules (no profile) and accepts under any found one. */
function strictRefuses(seen: (Profile | undefined)[]) {
  return (profile: Profile | undefined): string => {
    seen.push(profile);
    if (profile === undefined) throw new ExpositionError({ rule: 'quoted-name', severity: 'error', message: 'refused', line: 1 });
    return `accepted by ${profile.versions.join(',')}`;
  };
}

describe('judgeByProfile', () => {
  it('judges once by a given profile (or none), and a refusal stands', () => {
    const seen: (Profile | undefined)[] = [];
    expect(() => judgeByProfile(undefined, strictRefuses(seen))).toThrow(ExpositionError);
    expect(judgeByProfile(only15, strictRefuses(seen))).toBe('accepted by 1.5');
    expect(seen).toEqual([undefined, only15]);
  });

  it('with a lazy profile: the strictest rules first, and the profile is not looked up when they accept', () => {
    let lookups = 0;
    const lazy = (): Profile => (lookups++, only15);
    expect(judgeByProfile(lazy, () => 'fine')).toBe('fine');
    expect(lookups).toBe(0);
  });

  it('with a lazy profile: a refusal by the strictest rules is judged again by the found profile', () => {
    const seen: (Profile | undefined)[] = [];
    expect(judgeByProfile(() => only15, strictRefuses(seen))).toBe('accepted by 1.5');
    expect(seen).toEqual([undefined, only15]);
  });

  it('the second judgement may be a different function (one that reads more under the found profile)', () => {
    const refuse = (): string => {
      throw new InputError('ERR_DIRECTORY_CONFLICT', 'dropped');
    };
    expect(
      judgeByProfile(
        () => only15,
        refuse,
        (found) => `again by ${found.versions.join(',')}`,
      ),
    ).toBe('again by 1.5');
  });

  it('an error that is not a refusal of the input is not retried', () => {
    let lookups = 0;
    const failing = (): string => {
      throw new IoError('ERR_READ_FAILED', 'disk');
    };
    expect(() => judgeByProfile(() => (lookups++, only15), failing)).toThrow(IoError);
    expect(lookups).toBe(0);
  });
});
