// systemd's own tools in the tests: systemd-analyze as the oracle for
// calendar expressions, and a fake systemctl (first on PATH) that prints a
// recorded `systemctl show` answer, since no systemd runs as PID 1 here.
import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { findBinary } from './binaries.js';

export const SYSTEMD_ANALYZE = findBinary('systemd-analyze');

/**
 * The elapses systemd-analyze itself lists after `base` (ISO, UTC) with TZ=zone,
 * read by the test: each `(in UTC):` line, or the elapse line in a UTC zone.
 */
export function systemdElapses(expression: string, zone: string, base: string, iterations: number): number[] {
  const baseText = `${base.slice(0, 10)} ${base.slice(11, 19)} UTC`;
  const result = spawnSync(SYSTEMD_ANALYZE as string, ['calendar', `--iterations=${iterations}`, `--base-time=${baseText}`, expression], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', TZ: zone },
    timeout: 10_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const times = [...result.stdout.matchAll(/(?:\(in UTC\)|Next elapse|Iter\. #\d+): \w+ (\S+) (\S+) UTC$/gm)];
  // In a UTC zone the elapse line is UTC already; elsewhere only the (in UTC) lines are.
  const utc = zone === 'UTC' ? times : times.filter((match) => match[0].startsWith('(in UTC)'));
  return utc.map((match) => Date.parse(`${match[1]}T${match[2]}Z`));
}

export interface FakeAnswer {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly status?: number;
  /** Seconds to sleep before answering (a systemd that does not answer). */
  readonly sleep?: number;
}

/**
 * Put a fake `systemctl` in `dir` that records its arguments and environment
 * (dir/args, dir/env) and answers as told. Returns the PATH to run with.
 */
export async function fakeSystemctl(dir: string, answer: FakeAnswer): Promise<string> {
  await writeFile(join(dir, 'answer.out'), answer.stdout ?? '');
  await writeFile(join(dir, 'answer.err'), answer.stderr ?? '');
  const script = [
    '#!/bin/sh',
    `printf '%s\\n' "$@" > '${dir}/args'`,
    `env > '${dir}/env'`,
    answer.sleep ? `exec sleep ${answer.sleep}` : '',
    `cat '${dir}/answer.out'`,
    `cat '${dir}/answer.err' >&2`,
    `exit ${answer.status ?? 0}`,
  ].join('\n');
  await writeFile(join(dir, 'systemctl'), `${script}\n`);
  await chmod(join(dir, 'systemctl'), 0o755);
  return `${dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
}

/** `systemctl show` of a calendar timer (properties in systemd's own order), with the values given. */
export function timerShow(values: {
  unit: string;
  calendar: string;
  calendarNext: string;
  next: string;
  lastTrigger: string;
  randomizedDelay?: string;
  accuracy?: string;
  persistent?: boolean;
  active?: string;
}): string {
  return [
    `Id=${values.unit}`,
    `LoadState=loaded`,
    `ActiveState=${values.active ?? 'active'}`,
    `TimersCalendar={ OnCalendar=${values.calendar} ; next_elapse=${values.calendarNext} }`,
    `NextElapseUSecRealtime=${values.next}`,
    `LastTriggerUSec=${values.lastTrigger}`,
    `Persistent=${values.persistent === false ? 'no' : 'yes'}`,
    `AccuracyUSec=${values.accuracy ?? '1min'}`,
    `RandomizedDelayUSec=${values.randomizedDelay ?? '0'}`,
    '',
  ].join('\n');
}
