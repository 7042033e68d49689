// A hand-written SVG chart: per scenario, throughput per system (left) and
// latency p50/p90/p99 per system (right). No dependencies; plain shapes and text.
import type { Report } from "./report.js";

const W = 960;
const PANEL_H = 250;
const COLORS: Record<string, string> = {
  switchyard: "#d9480f", uws: "#1971c2", ws: "#2f9e44", socketio: "#9c36b5", "uws-sse": "#1098ad", "http-sse": "#5c940d",
};
const PCT_SHADES = ["#a5d8ff", "#4dabf7", "#1864ab"];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (v: number): string => (v >= 1000 ? Math.round(v).toLocaleString("en-US") : String(Math.round(v * 100) / 100));

function bars(x0: number, y0: number, w: number, h: number, title: string, unit: string, items: Array<{ name: string; values: number[]; colors: string[] }>): string {
  const max = Math.max(1e-9, ...items.flatMap((i) => i.values));
  const out = [`<text x="${x0}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>`];
  out.push(`<line x1="${x0}" y1="${y0 + h}" x2="${x0 + w}" y2="${y0 + h}" stroke="#868e96"/>`);
  const slot = w / Math.max(1, items.length);
  items.forEach((item, i) => {
    const n = item.values.length;
    const bw = Math.min(40, (slot * 0.8) / n);
    item.values.forEach((v, k) => {
      const bh = (v / max) * (h - 16);
      const x = x0 + i * slot + (slot - bw * n) / 2 + k * bw;
      out.push(`<rect x="${x.toFixed(1)}" y="${(y0 + h - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${item.colors[k] ?? "#868e96"}"><title>${esc(`${item.name}: ${num(v)} ${unit}`)}</title></rect>`);
      if (n === 1 || k === n - 1) out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(y0 + h - bh - 3).toFixed(1)}" font-size="10" text-anchor="middle">${esc(num(v))}</text>`);
    });
    out.push(`<text x="${(x0 + i * slot + slot / 2).toFixed(1)}" y="${y0 + h + 14}" font-size="11" text-anchor="middle">${esc(item.name)}</text>`);
  });
  return out.join("\n");
}

export function renderSvg(report: Report): string {
  const panels = report.scenarios.filter((s) => s.results.some((r) => r.status === "ok" && (r.throughput !== undefined || r.latency)));
  const H = 60 + panels.length * PANEL_H;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="16" font-weight="bold">switchyard bench — ${esc(report.startedAt)}</text>`,
    `<text x="20" y="46" font-size="11" fill="#495057">${esc(`${String(report.machine.cpuModel)}, ${String(report.machine.nproc)} cores; ${report.pinning.note}`)}</text>`,
  ];
  panels.forEach((s, i) => {
    const y = 60 + i * PANEL_H;
    const ok = s.results.filter((r) => r.status === "ok");
    out.push(`<text x="20" y="${y + 18}" font-size="14" font-weight="bold">${esc(s.name)}</text>`);
    out.push(`<text x="120" y="${y + 18}" font-size="11" fill="#495057">${esc(s.description)}</text>`);
    const thr = ok.filter((r) => r.throughput !== undefined);
    out.push(bars(30, y + 50, 420, 160, "throughput", "per s", thr.map((r) => ({ name: r.target, values: [r.throughput!], colors: [COLORS[r.target] ?? "#868e96"] }))));
    const lat = ok.filter((r) => r.latency && r.latency.count > 0);
    out.push(bars(510, y + 50, 420, 160, "latency p50 / p90 / p99", "ms", lat.map((r) => ({
      name: r.target, values: [r.latency!.p50 / 1000, r.latency!.p90 / 1000, r.latency!.p99 / 1000], colors: PCT_SHADES,
    }))));
  });
  out.push("</svg>");
  return out.join("\n");
}
