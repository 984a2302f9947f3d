// A CliIo for in-process tests: captured output, scripted stdin and env.
import type { CliIo } from '../../src/cli/io.js';

export interface TestIo {
  io: CliIo;
  stdout(): string;
  stderr(): string;
}

export function createTestIo(
  options: { stdin?: string; isTTY?: boolean; env?: Record<string, string>; now?: number; uid?: number; procRoot?: string } = {},
): TestIo {
  let out = '';
  let err = '';
  const input = options.stdin ?? '';
  const stdin = {
    isTTY: options.isTTY ?? false,
    async *[Symbol.asyncIterator]() {
      if (input !== '') yield Buffer.from(input);
    },
  };
  const io: CliIo = {
    argv: [],
    env: options.env ?? {},
    stdin,
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: false },
    now: () => options.now ?? 1_700_000_000_000,
    uid: options.uid ?? 1000,
    pid: 12345,
    ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
    onSignal: () => () => undefined,
  };
  return { io, stdout: () => out, stderr: () => err };
}
