// Preloaded by tests (node --import) into the CLI's process: stops the
// process (SIGSTOP) the first time it reaches each point named in
// PROMFILE_TEST_PAUSE, until the test sends SIGCONT (src/textfile/pause.ts).
// The shipped program reads no such variable; only this preload does.
const points = new Set((process.env.PROMFILE_TEST_PAUSE ?? '').split(',').filter(Boolean));
globalThis[Symbol.for('promfile.test.pause')] = (/** @type {string} */ name) => {
  if (points.delete(name)) process.kill(process.pid, 'SIGSTOP');
};
