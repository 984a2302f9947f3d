// A test-only pause between two steps, so a test can widen a race
// deterministically (stop a writer while it holds a lock, run gc, resume it).
// Nothing in the shipped program turns it on: no flag, no environment
// variable. A test preloads test/helpers/pause-preload.mjs (node --import),
// which puts a function under a global symbol; only code already running in
// the process can do that, and such code can do anything anyway. Without it,
// a pause point is one property lookup.

const HOOK = Symbol.for('promfile.test.pause');

/** A named point between two steps; calls the test's hook, if a test installed one. */
export function pausePoint(name: string): void {
  const hook = (globalThis as Record<symbol, unknown>)[HOOK];
  if (typeof hook === 'function') (hook as (point: string) => void)(name);
}
