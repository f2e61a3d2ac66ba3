import { n0 } from './format.js';

/** A minimal line chart: x and y linear or log, one polyline per series, axis ticks labelled. */
export function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: Array<{ name: string; color: string; points: Array<[number, number]> }>;
}): string {
  const W = 640;
  const H = 380;
  const L = 70;
  const R = 40;
  const T = 40;
  const B = 50;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1]));
  const fx = (x: number) => (opts.logX ? Math.log10(x) : x);
  const [x0, x1] = [Math.min(...xs.map(fx)), Math.max(...xs.map(fx))];
  const y1 = Math.max(...ys) * 1.1 || 1;
  // Log-log: a straight line of slope 1 is time growing linearly with size.
  const ly0 = Math.floor(Math.log10(Math.min(...ys)));
  const ly1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x: number) => L + ((fx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => (opts.logY ? H - B - ((Math.log10(y) - ly0) / (ly1 - ly0 || 1)) * (H - T - B) : H - B - (y / y1) * (H - T - B));
  const ticksX = [...new Set(xs)].sort((a, b) => a - b);
  const ticksY = opts.logY
    ? Array.from({ length: ly1 - ly0 + 1 }, (_, i) => 10 ** (ly0 + i))
    : Array.from({ length: 5 }, (_, i) => (y1 / 5) * (i + 1));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    ...ticksX.map((x) => `<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${n0(x)}</text>`),
    ...ticksY.map(
      (y) =>
        `<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#eee"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 100 ? n0(y) : y >= 1 ? y.toFixed(1) : String(y)}</text>`,
    ),
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(opts.yLabel)}</text>`,
  ];
  opts.series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${s.color}"/>`);
    parts.push(
      `<rect x="${L + 10}" y="${T + 6 + i * 18}" width="12" height="12" fill="${s.color}"/><text x="${L + 28}" y="${T + 16 + i * 18}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
