// A test-only pause between two steps, so a test can widen a race
// deterministically (stop a writer while it holds a lock, run gc, resume it).
// Inert unless the CLI installs a hook, which it does only when
// PROMFILE_TEST_PAUSE names points (src/cli/main.ts): then the hook stops the
// process itself (SIGSTOP) and the test resumes it (SIGCONT) or kills it.
// Setting that variable grants nothing: whoever sets a process' environment
// can already stop it. With no hook, a pause point is one Set lookup.

let points = new Set<string>();
let pause: () => void = () => undefined;

/** Install the pause (e.g. stop this process) for the named points. */
export function setPausePoints(names: readonly string[], hook: () => void): void {
  points = new Set(names);
  pause = hook;
}

/** A named point between two steps; pauses (the first time it is reached) only when a test asked for it. */
export function pausePoint(name: string): void {
  if (points.delete(name)) pause();
}
