/**
 * Figures as JSON the way the repository's formatter (Biome, lines of 140) writes it: indented by two,
 * an array of numbers on one line where it fits. A results file then passes the lint step as written.
 */
export function resultsJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(
    /^( *)("[^"\n]*": )?\[\n((?:\1 {2}-?[\d.e+-]+,?\n)+)\1\]/gm,
    (whole, indent: string, key = '', items: string) => {
      const line = `${indent}${key}[${items
        .split('\n')
        .map((x) => x.trim().replace(/,$/, ''))
        .filter(Boolean)
        .join(', ')}]`;
      return line.length <= 140 ? line : whole;
    },
  );
  return `${text}\n`;
}
