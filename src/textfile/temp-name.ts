/**
 * Twelve hex digits for temp file names and lock tokens. They need to be
 * unique, not secret: temp files are created with O_EXCL, so a guessed name
 * can only make a write fail, never redirect it. (node:crypto would add 3 ms
 * to every cold start.)
 */
export function uniqueSuffix(): string {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0');
}
