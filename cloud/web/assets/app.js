// The hub dashboard: stations grouped district → town → village plus
// posts, and the latest check-ins, kept live by server-sent events.
// Everything is built with textContent: no data is ever parsed as HTML.
"use strict";

const state = { stations: new Map(), order: [], todayFrom: null, checkins: [] };
const MAX_CHECKINS = 50;

const STATE = {
  online:     { sym: "●", zh: "在线",     en: "Online" },
  stale:      { sym: "◐", zh: "心跳超时", en: "Stale" },
  offline:    { sym: "✕", zh: "离线",     en: "Offline" },
  never_seen: { sym: "○", zh: "从未连接", en: "Never seen" },
};

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.append(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k);
  }
  return e;
}

function bi(zh, en) { return [zh, " ", el("small", null, en)]; }

function ago(iso) {
  if (!iso) return null;
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return { zh: s + "秒前", en: s + " s ago" };
  const m = Math.round(s / 60);
  if (m < 60) return { zh: m + "分钟前", en: m + " min ago" };
  const h = Math.round(m / 60);
  if (h < 48) return { zh: h + "小时前", en: h + " h ago" };
  const d = Math.round(h / 24);
  return { zh: d + "天前", en: d + " days ago" };
}

function clock(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return t;
  return (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
}

function badge(st) {
  const s = STATE[st.state] || { sym: "?", zh: st.state, en: st.state };
  const b = el("span", { class: "badge " + st.state, title: st.state_reason || "" },
    el("span", { class: "sym", "aria-hidden": "true" }, s.sym), s.zh + " ", el("small", null, s.en));
  const since = ago(st.state_since);
  return el("div", null, b, since ? el("span", { class: "since", "data-since": st.state_since }, "自 " + since.zh + " · since " + since.en) : null);
}

function backlog(st) {
  if (st.state === "never_seen" || !st.last_heartbeat) return el("div", { class: "meta" }, ...bi("无心跳", "no heartbeat"));
  const o = st.outbox || {};
  const parts = [el("div", { class: o.depth > 0 ? "warn" : "" }, "待传 " + o.depth + " 条 ", el("small", null, "backlog " + o.depth))];
  if (o.depth > 0 && o.oldest_at) {
    const a = ago(o.oldest_at);
    parts.push(el("div", { class: "meta" }, "最早 " + a.zh + " ", el("small", null, "oldest " + a.en)));
  }
  if (o.rejected > 0) parts.push(el("div", { class: "bad" }, "被拒 " + o.rejected + " ", el("small", null, "rejected")));
  return el("div", { class: "meta" }, ...parts);
}

function counts(st) {
  const seq = st.outbox && st.outbox.last_seq ? st.last_seq + "/" + st.outbox.last_seq : String(st.last_seq);
  const kids = [
    el("div", null, "今日 ", el("b", null, String(st.checkins_today)), " ", el("small", null, "today")),
    el("div", null, "序号 " + seq + " ", el("small", null, "seq hub/station"))];
  const g = st.seq || {};
  if (g.missing > 0) {
    const ranges = (g.gaps || []).map((r) => r.first === r.last ? String(r.first) : r.first + "–" + r.last).join(", ");
    kids.push(el("div", { class: "bad", title: "缺少序号 missing: " + ranges },
      "⚠ 缺号 " + g.missing + " ", el("small", null, g.missing + " missing (" + ranges + ")")));
  }
  return el("div", { class: "meta" }, ...kids);
}

// skew describes a station clock that is off by two minutes or more.
function skew(st) {
  const s = st.clock_skew_s || 0;
  if (Math.abs(s) < 120) return null;
  const sign = s > 0 ? "+" : "−";
  const a = Math.abs(s);
  const [zh, en] = a >= 3600 ? [(a / 3600).toFixed(1) + " 小时", (a / 3600).toFixed(1) + " h"] : [Math.round(a / 60) + " 分钟", Math.round(a / 60) + " min"];
  return el("div", { class: "warn", title: "站点时钟与中心相差 station clock minus hub clock" },
    "⚠ 时钟偏差 " + sign + zh + " ", el("small", null, "clock " + sign + en));
}

function device(st) {
  if (!st.agent) return el("div", { class: "meta" }, "—");
  const readers = st.readers || [];
  const bad = readers.filter((r) => r.state !== "ok");
  const kids = [el("div", null, "版本 " + st.agent + " ", el("small", null, "agent"))];
  if (readers.length) {
    kids.push(bad.length
      ? el("div", { class: "bad" }, "读卡器异常 " + bad.map((r) => r.name).join(", ") + " ", el("small", null, "reader fault"))
      : el("div", null, "读卡器正常 ", el("small", null, "readers ok")));
  }
  kids.push(st.config_current
    ? el("div", null, "✓ 配置最新 ", el("small", null, "config current"))
    : el("div", { class: "warn" }, "⚠ 配置待更新 ", el("small", null, "config pending")));
  const sk = skew(st);
  if (sk) kids.push(sk);
  if (st.disk && st.disk.low) kids.push(el("div", { class: "bad" }, "⚠ 存储将满，暂停登记 ", el("small", null, "disk nearly full: check-ins paused")));
  return el("div", { class: "meta" }, ...kids);
}

function stationRow(st) {
  return el("div", { class: "station lvl-" + st.level, id: "st-" + st.id, "data-id": st.id },
    el("div", { class: "name" }, st.name, el("small", null, (st.name_en || st.id) + " · " + st.level_zh + " " + st.level_en)),
    badge(st), backlog(st), counts(st), device(st));
}

function group(titleZH, titleEN, rows) {
  return el("div", { class: "group" }, el("h3", null, ...bi(titleZH, titleEN)), ...rows);
}

function renderTree() {
  const tree = document.getElementById("tree");
  const all = state.order.map((id) => state.stations.get(id));
  const children = (id) => all.filter((s) => s.parent === id);
  const groups = [];
  const placed = new Set();
  for (const d of all.filter((s) => s.level === "district")) {
    groups.push(group(d.name, d.name_en || d.id, [stationRow(d)]));
    placed.add(d.id);
    const posts = children(d.id).filter((s) => s.level === "post");
    for (const t of children(d.id).filter((s) => s.level === "town")) {
      const villages = children(t.id).filter((s) => s.level === "village");
      posts.push(...children(t.id).filter((s) => s.level === "post"));
      groups.push(group(t.name, t.name_en || t.id, [stationRow(t), ...villages.map(stationRow)]));
      placed.add(t.id);
      villages.forEach((v) => placed.add(v.id));
    }
    if (posts.length) groups.push(group("退役军人驿站", "Veteran posts", posts.map(stationRow)));
    posts.forEach((p) => placed.add(p.id));
  }
  const rest = all.filter((s) => !placed.has(s.id));
  if (rest.length) groups.push(group("其他站点", "Other stations", rest.map(stationRow)));
  tree.replaceChildren(...(groups.length ? groups : [el("p", { class: "empty" }, ...bi("没有登记的站点", "No stations registered"))]));
  const district = all.find((s) => s.level === "district");
  if (district) {
    document.getElementById("district-zh").textContent = district.name;
    document.getElementById("district-en").textContent = district.name_en || "";
  }
  renderSummary();
}

function updateStation(id) {
  const st = state.stations.get(id);
  const old = document.getElementById("st-" + id);
  if (st && old) old.replaceWith(stationRow(st));
  renderSummary();
}

function renderSummary() {
  const n = { online: 0, stale: 0, offline: 0, never_seen: 0 };
  let backlog = 0, today = 0;
  for (const st of state.stations.values()) {
    n[st.state] = (n[st.state] || 0) + 1;
    if (st.state !== "offline" && st.state !== "never_seen") backlog += (st.outbox && st.outbox.depth) || 0;
    today += st.checkins_today || 0;
  }
  const set = (id, v) => { document.getElementById(id).textContent = String(v); };
  set("sum-online", n.online); set("sum-stale", n.stale); set("sum-offline", n.offline);
  set("sum-never", n.never_seen); set("sum-backlog", backlog); set("sum-today", today);
}

function checkinRow(c, fresh) {
  return el("tr", { class: fresh ? "new" : "", "data-id": c.id },
    el("td", null, clock(c.at)),
    el("td", { title: c.station_name_en || c.station }, c.station_name || c.station),
    el("td", null, c.service_zh || c.service, el("br"), el("small", null, c.service_en || "")),
    el("td", { class: "mono" }, c.queue_no || "—"),
    el("td", null, c.name || "—"),
    el("td", { class: "mono" }, c.id_number));
}

function renderCheckins() {
  const body = document.getElementById("checkins");
  if (!state.checkins.length) {
    body.replaceChildren(el("tr", null, el("td", { colspan: "6", class: "empty" }, ...bi("暂无签到", "No check-ins yet"))));
    return;
  }
  body.replaceChildren(...state.checkins.map((c) => checkinRow(c, false)));
}

async function load() {
  const [sr, cr] = await Promise.all([fetch("/api/v1/stations"), fetch("/api/v1/checkins?limit=" + MAX_CHECKINS)]);
  if (!sr.ok || !cr.ok) throw new Error("load failed");
  const s = await sr.json(), c = await cr.json();
  state.stations = new Map(s.stations.map((st) => [st.id, st]));
  state.order = s.stations.map((st) => st.id);
  state.todayFrom = s.today_from;
  state.checkins = c.checkins;
  renderTree();
  renderCheckins();
}

function setLive(on) {
  const p = document.getElementById("live");
  p.className = "live " + (on ? "on" : "off");
  p.querySelector(".text").textContent = on ? "实时更新 · Live" : "重新连接中 · Reconnecting";
}

function connect() {
  const es = new EventSource("/api/v1/events");
  let lost = false;
  es.addEventListener("open", () => {
    setLive(true);
    if (lost) load().catch(() => {}); // events were missed while away
    lost = false;
  });
  es.addEventListener("error", () => { setLive(false); lost = true; });
  es.addEventListener("checkin", (ev) => {
    const c = JSON.parse(ev.data);
    if (state.checkins.some((x) => x.id === c.id)) return;
    state.checkins.unshift(c);
    state.checkins.length = Math.min(state.checkins.length, MAX_CHECKINS);
    const body = document.getElementById("checkins");
    if (body.querySelector(".empty")) body.replaceChildren();
    body.prepend(checkinRow(c, true));
    while (body.children.length > MAX_CHECKINS) body.lastElementChild.remove();
    const st = state.stations.get(c.station);
    if (st) {
      if (!state.todayFrom || Date.parse(c.at) >= Date.parse(state.todayFrom)) st.checkins_today++;
      st.last_seq = Math.max(st.last_seq, c.seq);
      updateStation(c.station);
    }
  });
  es.addEventListener("presence", (ev) => {
    const p = JSON.parse(ev.data);
    const st = state.stations.get(p.station);
    if (!st) return;
    for (const k of ["state", "state_zh", "state_en", "state_since", "state_reason", "last_seen", "last_heartbeat",
      "heartbeat_s", "outbox", "readers", "agent", "config_version", "config_current", "uptime_s", "clock_skew_s", "disk"]) st[k] = p[k];
    updateStation(p.station);
  });
}

// Relative times age without events; sequence gaps are not in the live
// events, so the station list is read again now and then.
setInterval(() => { if (state.order.length) renderTree(); }, 15000);
setInterval(async () => {
  try {
    const r = await fetch("/api/v1/stations");
    if (!r.ok) return;
    for (const fresh of (await r.json()).stations) {
      const st = state.stations.get(fresh.id);
      if (st) { st.seq = fresh.seq; st.last_seq = Math.max(st.last_seq, fresh.last_seq); }
    }
    renderTree();
  } catch (e) { /* the event stream shows the connection state */ }
}, 30000);

load().catch(() => setLive(false)).finally(connect);
