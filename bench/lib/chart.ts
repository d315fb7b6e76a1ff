import type { CellResult } from './phase.ts';

const COLORS: Record<string, string> = {
  ws: '#6b7280',
  socketio: '#2563eb',
  'socketio-redis': '#7c3aed',
  product: '#dc2626',
  'product-nobatch': '#f59e0b',
  'product-redis': '#059669',
};

const PANEL_W = 310;
const PANEL_H = 230;
const MARGIN = { left: 72, right: 16, top: 30, bottom: 40 };

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmtCount = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
const fmtMs = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * An SVG line chart of p99 delivery latency against subscribers (log–log), one panel per comment
 * rate, one line per target. A cell that lost deliveries is drawn as a hollow marker with a cross.
 */
export function renderChart(cells: readonly CellResult[], title: string): string | null {
  const fanout = cells.filter((c) => c.scenario === 'fanout');
  if (fanout.length === 0) return null;
  const rates = [...new Set(fanout.map((c) => c.rate))].sort((a, b) => a - b);
  const counts = [...new Set(fanout.map((c) => c.subscribers))].sort((a, b) => a - b);
  const targets = [...new Map(fanout.map((c) => [c.target, c.label])).entries()];
  const p99s = fanout.map((c) => Math.max(c.delivery.latency.p99, 0.1));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...p99s)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...p99s)));
  const xMin = Math.log10(counts[0]!);
  const xMax = Math.log10(counts.at(-1)!);
  const innerW = PANEL_W - MARGIN.left - MARGIN.right;
  const innerH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const x = (n: number) =>
    MARGIN.left + (xMax === xMin ? innerW / 2 : ((Math.log10(n) - xMin) / (xMax - xMin)) * innerW);
  const y = (ms: number) =>
    MARGIN.top +
    innerH -
    ((Math.log10(Math.max(ms, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * innerH;

  const legendRows = Math.ceil(targets.length / 3);
  const legendH = 18 * legendRows + 10;
  const width = rates.length * PANEL_W + 20;
  const height = 40 + legendH + PANEL_H;
  const svg: string[] = [];
  svg.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  svg.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  svg.push(`<text x="10" y="22" font-size="14" font-weight="600">${escape(title)}</text>`);
  targets.forEach(([name, label], i) => {
    const lx = 10 + (i % 3) * 260;
    const ly = 40 + Math.floor(i / 3) * 18;
    svg.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${COLORS[name] ?? '#000'}" stroke-width="2.5"/>`,
    );
    svg.push(`<circle cx="${lx + 11}" cy="${ly}" r="3" fill="${COLORS[name] ?? '#000'}"/>`);
    svg.push(`<text x="${lx + 28}" y="${ly + 4}">${escape(label)}</text>`);
  });

  rates.forEach((rate, panel) => {
    const ox = 10 + panel * PANEL_W;
    const oy = 30 + legendH;
    svg.push(`<g transform="translate(${ox},${oy})">`);
    svg.push(
      `<text x="${MARGIN.left + innerW / 2}" y="16" text-anchor="middle" font-weight="600">${rate} comment${rate === 1 ? '' : 's'}/s</text>`,
    );
    for (let decade = yMin; decade <= yMax; decade *= 10) {
      const yy = y(decade);
      svg.push(`<line x1="${MARGIN.left}" y1="${yy}" x2="${MARGIN.left + innerW}" y2="${yy}" stroke="#e5e7eb"/>`);
      svg.push(`<text x="${MARGIN.left - 6}" y="${yy + 4}" text-anchor="end" fill="#374151">${fmtMs(decade)}</text>`);
    }
    for (const count of counts) {
      const xx = x(count);
      svg.push(`<line x1="${xx}" y1="${MARGIN.top}" x2="${xx}" y2="${MARGIN.top + innerH}" stroke="#f3f4f6"/>`);
      svg.push(
        `<text x="${xx}" y="${MARGIN.top + innerH + 16}" text-anchor="middle" fill="#374151">${fmtCount(count)}</text>`,
      );
    }
    svg.push(
      `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${innerW}" height="${innerH}" fill="none" stroke="#9ca3af"/>`,
    );
    svg.push(
      `<text x="${MARGIN.left + innerW / 2}" y="${PANEL_H - 4}" text-anchor="middle" fill="#374151">subscribers</text>`,
    );
    if (panel === 0)
      svg.push(
        `<text transform="translate(12,${MARGIN.top + innerH / 2}) rotate(-90)" text-anchor="middle" fill="#374151">p99 latency</text>`,
      );
    for (const [name] of targets) {
      const color = COLORS[name] ?? '#000';
      const points = fanout
        .filter((c) => c.target === name && c.rate === rate)
        .sort((a, b) => a.subscribers - b.subscribers);
      if (points.length === 0) continue;
      const path = points
        .map((c, i) => `${i === 0 ? 'M' : 'L'}${x(c.subscribers).toFixed(1)},${y(c.delivery.latency.p99).toFixed(1)}`)
        .join(' ');
      svg.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const c of points) {
        const cx = x(c.subscribers).toFixed(1);
        const cy = y(c.delivery.latency.p99).toFixed(1);
        const lost = c.delivery.delivered < c.delivery.expected;
        const tip = `${c.label}, ${c.subscribers} subscribers, ${rate}/s: p99 ${c.delivery.latency.p99} ms, delivered ${c.delivery.delivered}/${c.delivery.expected}`;
        if (lost) {
          svg.push(
            `<g><title>${escape(tip)}</title><circle cx="${cx}" cy="${cy}" r="4.5" fill="#fff" stroke="${color}" stroke-width="2"/>`,
          );
          svg.push(
            `<path d="M${Number(cx) - 3},${Number(cy) - 3} L${Number(cx) + 3},${Number(cy) + 3} M${Number(cx) - 3},${Number(cy) + 3} L${Number(cx) + 3},${Number(cy) - 3}" stroke="${color}" stroke-width="1.5"/></g>`,
          );
        } else {
          svg.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"><title>${escape(tip)}</title></circle>`);
        }
      }
    }
    svg.push('</g>');
  });
  svg.push('</svg>');
  return `${svg.join('\n')}\n`;
}
