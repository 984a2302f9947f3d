// Types of bench/generate.js, for the reliability tests that reuse its inputs.
export function generateFile(path: string, series: number, families?: number, options?: { shuffled?: boolean }): Promise<number>;
export function generateText(series: number, families?: number): string;
