// Charts drawn as inline SVG: no library, nothing from the internet.
// Every bar carries a <title> (hover and screen readers) and the pages
// put the same numbers in tables or text: a chart is never the only
// place a number is.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const k of kids) if (k !== null && k !== undefined) e.append(typeof k === "string" ? document.createTextNode(k) : k);
  return e;
}

function svgTitle(text) { return svgEl("title", null, text); }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmtNum(n) { return Number(n).toLocaleString("zh-CN"); }

// vbars draws vertical bars: points [{label, value, title, cls}].
function vbars(points, opts) {
  const o = Object.assign({ width: 720, height: 220, labelEvery: 1, left: 44 }, opts || {});
  const W = o.width, H = o.height, L = o.left, B = 26, T = 10, R = 8;
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": o.label || "" });
  const ih = H - T - B, iw = W - L - R;
  for (let i = 0; i <= 4; i++) {
    const y = T + ih - (ih * i) / 4;
    svg.append(svgEl("line", { class: i ? "grid" : "axis", x1: L, x2: W - R, y1: y, y2: y }));
    svg.append(svgEl("text", { x: L - 5, y: y + 4, "text-anchor": "end" }, fmtNum(Math.round((max * i) / 4))));
  }
  const n = Math.max(points.length, 1), slot = iw / n, bw = Math.max(1, Math.min(slot * 0.75, 40));
  points.forEach((p, i) => {
    const h = (ih * p.value) / max;
    const x = L + i * slot + (slot - bw) / 2;
    svg.append(svgEl("rect", { class: "bar " + (p.cls || ""), x: x.toFixed(1), y: (T + ih - h).toFixed(1), width: bw.toFixed(1), height: Math.max(h, 0).toFixed(1) },
      svgTitle((p.title || p.label) + ": " + fmtNum(p.value))));
    if (i % o.labelEvery === 0) svg.append(svgEl("text", { x: (L + i * slot + slot / 2).toFixed(1), y: H - 8, "text-anchor": "middle" }, p.label));
  });
  return svg;
}

// hbars draws horizontal bars: items [{label, value, title, cls, href}].
function hbars(items, opts) {
  const o = Object.assign({ width: 520, row: 22, labelWidth: 170 }, opts || {});
  const W = o.width, LW = o.labelWidth, R = 56, H = Math.max(1, items.length) * o.row + 6;
  const max = niceMax(Math.max(0, ...items.map((p) => p.value)));
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": o.label || "" });
  items.forEach((p, i) => {
    const y = 3 + i * o.row;
    const w = ((W - LW - R) * p.value) / max;
    const label = p.label.length > 14 ? p.label.slice(0, 13) + "…" : p.label;
    svg.append(svgEl("text", { x: LW - 6, y: y + o.row * 0.68, "text-anchor": "end" }, label));
    svg.append(svgEl("rect", { class: "bar " + (p.cls || ""), x: LW, y: y + 3, width: Math.max(w, 0).toFixed(1), height: o.row - 7 },
      svgTitle((p.title || p.label) + ": " + fmtNum(p.value))));
    svg.append(svgEl("text", { x: (LW + w + 4).toFixed(1), y: y + o.row * 0.68 }, fmtNum(p.value)));
  });
  return svg;
}

// stacked draws vertical stacked bars: cols [{label, parts: [{cls, value, title}]}], each column
// scaled to max (or its own total with opts.percent).
function stacked(cols, opts) {
  const o = Object.assign({ width: 720, height: 170, labelEvery: 1, percent: false }, opts || {});
  const W = o.width, H = o.height, L = 40, B = 26, T = 8, R = 8, ih = H - T - B, iw = W - L - R;
  const totals = cols.map((c) => c.parts.reduce((s, p) => s + p.value, 0));
  const max = o.percent ? 1 : niceMax(Math.max(0, ...totals));
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": o.label || "" });
  for (let i = 0; i <= 4; i++) {
    const y = T + ih - (ih * i) / 4;
    svg.append(svgEl("line", { class: i ? "grid" : "axis", x1: L, x2: W - R, y1: y, y2: y }));
    svg.append(svgEl("text", { x: L - 5, y: y + 4, "text-anchor": "end" }, o.percent ? (25 * i) + "%" : fmtNum(Math.round((max * i) / 4))));
  }
  const slot = iw / Math.max(cols.length, 1), bw = Math.max(1, Math.min(slot * 0.75, 40));
  cols.forEach((c, i) => {
    const x = L + i * slot + (slot - bw) / 2;
    const scale = o.percent ? (totals[i] > 0 ? 1 / totals[i] : 0) : 1 / max;
    let y = T + ih;
    for (const p of c.parts) {
      const h = ih * p.value * scale;
      if (h <= 0) continue;
      y -= h;
      svg.append(svgEl("rect", { class: p.cls, x: x.toFixed(1), y: y.toFixed(1), width: bw.toFixed(1), height: h.toFixed(1) },
        svgTitle(c.label + " " + (p.title || p.cls))));
    }
    if (i % o.labelEvery === 0) svg.append(svgEl("text", { x: (L + i * slot + slot / 2).toFixed(1), y: H - 8, "text-anchor": "middle" }, c.label));
  });
  return svg;
}

// timeline draws rows of spans over [from, to): rows [{label, spans: [{from, to, cls, title}]}].
function timeline(rows, from, to, opts) {
  const o = Object.assign({ width: 720, row: 24, labelWidth: 150, ticks: [] }, opts || {});
  const W = o.width, LW = o.labelWidth, R = 8, H = Math.max(1, rows.length) * o.row + 24;
  const t0 = from.getTime(), t1 = to.getTime(), iw = W - LW - R;
  const xOf = (t) => LW + (iw * (Math.min(Math.max(t, t0), t1) - t0)) / (t1 - t0);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": o.label || "" });
  for (const tk of o.ticks) {
    const x = xOf(tk.at.getTime());
    svg.append(svgEl("line", { class: "grid", x1: x, x2: x, y1: 0, y2: H - 18 }));
    svg.append(svgEl("text", { x: x, y: H - 5, "text-anchor": "middle" }, tk.label));
  }
  rows.forEach((r, i) => {
    const y = i * o.row;
    svg.append(svgEl("text", { x: LW - 6, y: y + o.row * 0.66, "text-anchor": "end" }, r.label));
    svg.append(svgEl("rect", { class: "s-unknown", x: LW, y: y + 5, width: iw, height: o.row - 10, opacity: 0.35 }));
    for (const s of r.spans) {
      const x0 = xOf(s.from.getTime()), x1 = xOf(s.to.getTime());
      svg.append(svgEl("rect", { class: s.cls, x: x0.toFixed(1), y: y + 4, width: Math.max(2, x1 - x0).toFixed(1), height: o.row - 8 }, svgTitle(s.title)));
    }
  });
  return svg;
}

// ratingBar is one horizontal bar split by the ratings 1..5.
function ratingBar(dist, opts) {
  const o = Object.assign({ width: 160, height: 14 }, opts || {});
  const total = dist.reduce((a, b) => a + b, 0);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${o.width} ${o.height}`, width: o.width, height: o.height, role: "img",
    "aria-label": dist.map((n, i) => (i + 1) + "分 " + n).join(", ") });
  let x = 0;
  dist.forEach((n, i) => {
    if (!total || !n) return;
    const w = (o.width * n) / total;
    svg.append(svgEl("rect", { class: "r" + (i + 1), x: x.toFixed(1), y: 0, width: w.toFixed(1), height: o.height }, svgTitle((i + 1) + "分 rating " + (i + 1) + ": " + n)));
    x += w;
  });
  return svg;
}
