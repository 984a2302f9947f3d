// How node_exporter orders names (metric names, file names): Go compares strings by bytes.

/** Byte order of names, as Go sorts strings. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
