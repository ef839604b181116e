/** What a size looks like: "2g", "512m", "1.5GiB", "1073741824". One grammar for the config schema and the parser. */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)([iI]?[bB])?$/;

/** "2g", "512m", "1.5GiB", "1073741824" → bytes; NaN when it is not a size. Units are powers of 1024. */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) return Number.NaN;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(match[2] ?? "").toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.round(Number(match[1]) * unit);
}
