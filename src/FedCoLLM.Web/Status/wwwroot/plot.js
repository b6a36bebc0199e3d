// Line plots as inline SVG: a value per round for each series, drawn from the API's points as they come in. Small on
// purpose (axes, grid, lines, points with tooltips, a legend); a plotting library would need a build step or a CDN.
import { h, s } from "./dom.js";

const PALETTE = ["#2f6fdf", "#e07b24", "#1f9d55", "#8e44ad", "#c7362f", "#0f9bb3", "#b58900", "#6c7a89"];
const W = 560, H = 250, M = { left: 52, right: 16, top: 14, bottom: 38 };

/** Distinct colours in series order; fixed per name where the name has a meaning (SLM blue, LLM orange). */
export function colorOf(name, index) {
  if (name === "SLM") return PALETTE[0];
  if (name === "LLM") return PALETTE[1];
  return PALETTE[(index + 2) % PALETTE.length];
}

/** Round numbers for the y axis: about five ticks covering [lo, hi]. */
function ticks(lo, hi) {
  const raw = (hi - lo) / 5 || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(m => m >= raw);
  const first = Math.ceil(lo / step - 1e-9) * step;
  const out = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

/**
 * plot({ series: [{ name, points: [{ round, value }] }], xMax, percent, empty })
 * percent: values are fractions shown as %, on a range padded to tenths; otherwise the range starts at 0.
 */
export function plot({ series, xMax, percent, empty }) {
  const all = series.flatMap(x => x.points.map(p => p.value));
  let lo = percent ? Math.max(0, Math.floor(Math.min(...all) * 10) / 10) : 0;
  let hi = percent ? Math.min(1, Math.ceil(Math.max(...all) * 10) / 10) : Math.max(...all) * 1.1;
  if (!all.length) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) hi = lo + (percent ? 0.1 : 1);
  const yTicks = ticks(lo, hi);
  lo = Math.min(lo, yTicks[0]);
  hi = Math.max(hi, yTicks[yTicks.length - 1]);
  const x = r => M.left + (r / xMax) * (W - M.left - M.right);
  const y = v => H - M.bottom - ((v - lo) / (hi - lo)) * (H - M.top - M.bottom);
  const fmt = v => percent ? `${(v * 100).toFixed(0)}%` : (hi < 10 ? v.toFixed(hi < 1 ? 2 : 1) : v.toFixed(0));
  const tip = v => percent ? `${(v * 100).toFixed(1)} %` : v.toFixed(4);
  const xStep = Math.max(1, Math.ceil(xMax / 12));

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  for (const t of yTicks) {
    svg.append(s("line", { class: "grid", x1: M.left, x2: W - M.right, y1: y(t), y2: y(t) }));
    svg.append(s("text", { x: M.left - 6, y: y(t) + 4, "text-anchor": "end" }, fmt(t)));
  }
  for (let r = 0; r <= xMax; r += xStep)
    svg.append(s("text", { x: x(r), y: H - M.bottom + 16, "text-anchor": "middle" }, r));
  svg.append(s("text", { x: (M.left + W - M.right) / 2, y: H - 4, "text-anchor": "middle" }, "round"));
  svg.append(s("line", { class: "axis", x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
  svg.append(s("line", { class: "axis", x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom }));

  series.forEach((line, i) => {
    const color = colorOf(line.name, i);
    const points = [...line.points].sort((a, b) => a.round - b.round);
    if (points.length > 1)
      svg.append(s("polyline", {
        fill: "none", stroke: color, "stroke-width": 2, "stroke-linejoin": "round",
        points: points.map(p => `${x(p.round).toFixed(1)},${y(p.value).toFixed(1)}`).join(" "),
      }));
    for (const p of points)
      svg.append(s("circle", { cx: x(p.round), cy: y(p.value), r: 3.5, fill: color },
        s("title", {}, `${line.name} · round ${p.round}: ${tip(p.value)}`)));
  });
  if (!all.length)
    svg.append(s("text", { class: "empty", x: (M.left + W - M.right) / 2, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle" }, empty));

  // Colours go in through CSSOM: the page's CSP refuses style attributes.
  const legend = h("div", { class: "legend" }, series.map((line, i) => {
    const entry = h("span", {}, line.name);
    entry.style.setProperty("--swatch", colorOf(line.name, i));
    return entry;
  }));
  return h("div", { class: "plot" }, svg, legend);
}
