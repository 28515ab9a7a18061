// The hub dashboard: a small single-page application over /api/v1.
// Pages (hash routes): overview (#/), a station (#/station/ID),
// statistics (#/stats), check-ins (#/checkins), alerts (#/alerts), the
// audit log (#/audit), people (#/users) and video meetings (#/meetings,
// #/meeting/ID: meetings.js). Live updates come from
// server-sent events. Everything is built with textContent: no data is
// ever parsed as HTML. What a person may see is decided by the server;
// the page only hides buttons that would be refused.
"use strict";

const S = {
  me: null, csrf: null,
  stations: new Map(), order: [], todayFrom: null, summary: null,
  checkins: [], alerts: [], es: null, live: false,
  filter: { q: "", state: "", level: "", under: "", problems: false },
};
const MAX_CHECKINS = 30;

const STATE = {
  online:     { sym: "●", zh: "在线",     en: "Online" },
  stale:      { sym: "◐", zh: "心跳超时", en: "Stale" },
  offline:    { sym: "✕", zh: "离线",     en: "Offline" },
  never_seen: { sym: "○", zh: "从未连接", en: "Never seen" },
};
const ALERT_SYM = { open: "!", acknowledged: "◔", resolved: "✓" };
const RULES = [["offline", "站点离线", "Station offline"], ["backlog", "待上传积压", "Backlog"], ["reader_fault", "设备故障", "Device fault"],
  ["disk_low", "存储将满", "Disk nearly full"], ["bad_rating", "差评回访", "Bad rating follow-up"]];
const SERVICES = [["employment", "就业服务", "Jobs"], ["entrepreneurship", "创业扶持", "Start-ups"], ["benefits", "优抚待遇", "Pensions & allowances"],
  ["legal_aid", "法律援助", "Legal aid"], ["hardship", "帮扶援助", "Hardship support"], ["honours", "褒扬纪念", "Honours"],
  ["records", "档案查询", "Records"], ["post_services", "驿站服务", "Post services"], ["consultation", "政策咨询", "Policy advice"], ["training", "教育培训", "Training"]];
const LEVELS = [["district", "区级中心", "District"], ["town", "镇(街道)服务站", "Town"], ["village", "村(社区)服务站", "Village"], ["post", "退役军人驿站", "Veteran post"]];

// ---------- helpers ----------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k);
  }
  return e;
}
// put replaces a node's children, skipping null and false.
function put(node, ...kids) { node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false)); }
function bi(zh, en) { return [zh, " ", el("small", null, en)]; }
function pad(n) { return String(n).padStart(2, "0"); }
function clock(iso) {
  if (!iso) return "—";
  const d = new Date(iso), now = new Date();
  const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  return d.toDateString() === now.toDateString() ? t : (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
}
function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}
function day(iso) { const d = new Date(iso); return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
function isoDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
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
function dur(sec) {
  sec = Math.round(sec);
  if (sec < 3600) return Math.round(sec / 60) + " 分钟 min";
  if (sec < 172800) return (sec / 3600).toFixed(1) + " 小时 h";
  return (sec / 86400).toFixed(1) + " 天 days";
}
function svcLabel(k) { const s = SERVICES.find((x) => x[0] === k); return s ? [s[1], s[2]] : [k, k]; }
function station(id) { return S.stations.get(id); }
function stationName(id) { const s = station(id); return s ? s.name : id; }
function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== "" && v !== null && v !== undefined && v !== false) p.set(k, v === true ? "1" : v);
  const s = p.toString();
  return s ? "?" + s : "";
}

class APIError extends Error {
  constructor(status, body) { super((body && body.error && body.error.message) || ("HTTP " + status)); this.status = status; this.body = body; }
  get zh() { return (this.body && this.body.error && this.body.error.message_zh) || "请求失败"; }
}

// routeGen counts route() calls. A read that finishes after the page it was
// made for was left (a slow overview load while the user already opened
// another page) is dropped: it never settles, so its page never writes over
// the current one.
let routeGen = 0;

async function api(path, opts) {
  opts = opts || {};
  const gen = routeGen;
  const read = !opts.method || opts.method === "GET";
  try {
    const r0 = await apiNow(path, opts);
    if (read && gen !== routeGen) return new Promise(() => {});
    return r0;
  } catch (e) {
    if (read && gen !== routeGen) return new Promise(() => {});
    throw e;
  }
}

async function apiNow(path, opts) {
  const headers = { "Accept": "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.method && opts.method !== "GET" && S.csrf) headers["X-CSRF-Token"] = S.csrf;
  const r = await fetch(path, { method: opts.method || "GET", headers, credentials: "same-origin",
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  let body = null;
  if ((r.headers.get("Content-Type") || "").startsWith("application/json")) body = await r.json();
  if (r.status === 401 && path !== "/api/v1/session") { signedOut(); throw new APIError(401, body); }
  if (!r.ok) throw new APIError(r.status, body);
  return body;
}

function errorBox(e) {
  return el("p", { class: "bad", role: "alert" }, e instanceof APIError ? bi(e.zh, e.message) : bi("出错了", String(e)));
}

function badge(st) {
  const s = STATE[st.state] || { sym: "?", zh: st.state, en: st.state };
  const since = ago(st.state_since);
  return el("div", null,
    el("span", { class: "badge " + st.state, title: st.state_reason || "" }, el("span", { "aria-hidden": "true" }, s.sym), s.zh + " ", el("small", null, s.en)),
    since ? el("span", { class: "since" }, "自 " + since.zh + " · since " + since.en) : null);
}

function alertBadge(a) {
  return el("span", { class: "badge " + a.state }, el("span", { "aria-hidden": "true" }, ALERT_SYM[a.state] || "?"), a.state_zh + " ", el("small", null, a.state_en));
}

// ---------- dialog ----------

function ask(title, text, label, required) {
  const d = document.getElementById("dialog");
  document.getElementById("dialog-title").replaceChildren(...title);
  document.getElementById("dialog-text").replaceChildren(...text);
  document.getElementById("dialog-label").replaceChildren(...label);
  const input = document.getElementById("dialog-input");
  const err = document.getElementById("dialog-error");
  input.value = ""; err.textContent = "";
  return new Promise((resolve) => {
    const form = document.getElementById("dialog-form");
    const done = (v) => { form.onsubmit = null; document.getElementById("dialog-cancel").onclick = null; d.close(); resolve(v); };
    form.onsubmit = (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (required && !v) { err.replaceChildren(...bi("请填写", "Required")); return; }
      done(v);
    };
    document.getElementById("dialog-cancel").onclick = () => done(null);
    d.showModal();
    input.focus();
  });
}

// ---------- session ----------

function signedOut() {
  S.me = null; S.csrf = null;
  if (S.es) { S.es.close(); S.es = null; }
  document.getElementById("nav").hidden = true;
  document.getElementById("me").hidden = true;
  renderSignIn();
}

function renderSignIn(msg) {
  const user = el("input", { id: "signin-user", name: "user", autocomplete: "username", required: true });
  const pw = el("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const err = el("p", { id: "signin-error", class: "bad", role: "alert" }, msg || "");
  const form = el("form", { id: "signin-form" },
    el("label", { for: "signin-user" }, ...bi("用户名", "User name"), user),
    el("label", { for: "signin-password" }, ...bi("密码", "Password"), pw),
    err, el("button", { type: "submit" }, ...bi("登录", "Sign in")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      const r = await api("/api/v1/session", { method: "POST", body: { user: user.value, password: pw.value } });
      await startSession(r);
    } catch (e) { err.replaceChildren(...(e instanceof APIError ? bi(e.zh, e.message) : bi("无法连接", String(e)))); }
  });
  view(el("section", { class: "card signin", "aria-labelledby": "signin-h" },
    el("h2", { id: "signin-h" }, ...bi("登录监控平台", "Sign in to the monitor")), form,
    el("p", { class: "note" }, ...bi("多次输入错误后账号将被暂时锁定", "Repeated failures lock the account for a while"))));
  user.focus();
}

async function startSession(r) {
  S.me = r.user; S.csrf = r.csrf_token;
  document.getElementById("nav").hidden = false;
  document.getElementById("me").hidden = false;
  document.getElementById("me-name").replaceChildren((S.me.display_name || S.me.name) + " · " + S.me.role_zh + " ", el("small", null, S.me.role_en));
  document.getElementById("nav-audit").hidden = !S.me.can_read_audit;
  document.getElementById("nav-users").hidden = !S.me.can_manage_users;
  await loadStations();
  await loadAlerts();
  connect();
  route();
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await api("/api/v1/session", { method: "DELETE" }); } catch (e) { /* signed out anyway */ }
  location.hash = "#/";
  signedOut();
});

// ---------- data ----------

async function loadStations() {
  const s = await apiNow("/api/v1/stations", {}); // shared state: never dropped
  S.stations = new Map(s.stations.map((st) => [st.id, st]));
  S.order = s.stations.map((st) => st.id);
  S.todayFrom = s.today_from;
  S.summary = s.summary;
  const district = s.stations.find((x) => x.level === "district");
  if (district) {
    document.getElementById("district-zh").textContent = district.name;
    document.getElementById("district-en").textContent = district.name_en || "";
  }
}

async function loadAlerts() {
  const a = await apiNow("/api/v1/alerts?state=active&limit=500", {}); // shared state: never dropped
  S.alerts = a.alerts;
  renderNavAlerts();
}

function renderNavAlerts() {
  const n = S.alerts.length, c = document.getElementById("nav-alerts");
  c.hidden = n === 0; c.textContent = String(n);
  c.setAttribute("aria-label", n + " 条待处理告警 open alerts");
}

function setLive(on) {
  S.live = on;
  const p = document.getElementById("live");
  p.className = "live " + (on ? "on" : "off");
  p.querySelector(".text").textContent = on ? "实时 · Live" : "重新连接中 · Reconnecting";
}

function connect() {
  if (S.es) S.es.close();
  const es = new EventSource("/api/v1/events");
  S.es = es;
  let lost = false;
  es.addEventListener("open", () => {
    setLive(true);
    if (lost) Promise.all([loadStations(), loadAlerts()]).then(() => refreshLive()).catch(() => {});
    lost = false;
  });
  es.addEventListener("error", () => { setLive(false); lost = true; });
  es.addEventListener("checkin", (ev) => {
    const c = JSON.parse(ev.data);
    if (S.checkins.some((x) => x.id === c.id)) return;
    S.checkins.unshift(c);
    S.checkins.length = Math.min(S.checkins.length, MAX_CHECKINS);
    const st = station(c.station);
    if (st) {
      if (!S.todayFrom || Date.parse(c.at) >= Date.parse(S.todayFrom)) { st.checkins_today++; S.summary.checkins_today++; }
      st.last_seq = Math.max(st.last_seq, c.seq);
    }
    const body = document.getElementById("checkins");
    if (body) {
      if (body.querySelector(".empty")) body.replaceChildren();
      body.prepend(checkinRow(c, true));
      while (body.children.length > MAX_CHECKINS) body.lastElementChild.remove();
    }
    updateStation(c.station);
  });
  es.addEventListener("presence", (ev) => {
    const p = JSON.parse(ev.data);
    const st = station(p.station);
    if (!st) return;
    const before = st.state;
    for (const k of ["state", "state_zh", "state_en", "state_since", "state_reason", "last_seen", "last_heartbeat",
      "heartbeat_s", "outbox", "readers", "agent", "config_version", "config_current", "uptime_s", "clock_skew_s", "disk"]) st[k] = p[k];
    if (before !== st.state) recount();
    updateStation(p.station);
  });
  es.addEventListener("meeting", (ev) => { if (typeof onMeetingEvent === "function") onMeetingEvent(JSON.parse(ev.data)); });
  es.addEventListener("alert", (ev) => {
    const a = JSON.parse(ev.data);
    S.alerts = S.alerts.filter((x) => x.id !== a.id);
    if (a.state !== "resolved") S.alerts.unshift(a);
    const counts = new Map();
    for (const x of S.alerts) counts.set(x.station, (counts.get(x.station) || 0) + 1);
    for (const st of S.stations.values()) st.alerts_open = counts.get(st.id) || 0;
    recount();
    renderNavAlerts();
    const panel = document.getElementById("alert-panel");
    if (panel) panel.replaceWith(alertPanel());
    updateStation(a.station);
  });
}

function recount() {
  const m = { stations: 0, online: 0, stale: 0, offline: 0, never_seen: 0, backlog: 0, checkins_today: 0, faults: 0, alerts_open: 0 };
  for (const st of S.stations.values()) {
    m.stations++; m[st.state]++;
    if (st.state !== "offline" && st.state !== "never_seen") m.backlog += (st.outbox && st.outbox.depth) || 0;
    m.checkins_today += st.checkins_today || 0;
    if (hasFault(st)) m.faults++;
    m.alerts_open += st.alerts_open || 0;
  }
  S.summary = m;
  const sum = document.getElementById("summary");
  if (sum) sum.replaceWith(summaryTiles());
}

function hasFault(st) { return (st.readers || []).some((r) => r.state === "fault") || (st.disk && st.disk.low); }

// ---------- routing ----------

function view(node) {
  const v = document.getElementById("view");
  v.replaceChildren(node);
}

function route() {
  if (!S.me) return;
  routeGen++;
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] || "overview";
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.route === name || (name === "station" && a.dataset.route === "overview") || (name === "meeting" && a.dataset.route === "meetings"));
  const pages = { overview: pageOverview, station: () => pageStation(decodeURIComponent(parts[1] || "")), stats: pageStats,
    checkins: pageCheckins, alerts: pageAlerts, audit: pageAudit, users: pageUsers,
    meetings: () => (parts[1] === "new" ? pageMeetingForm(null) : pageMeetings(params)),
    meeting: () => (parts[2] === "edit" ? pageMeetingForm(decodeURIComponent(parts[1] || "")) : pageMeeting(decodeURIComponent(parts[1] || ""))) };
  (pages[name] || pageOverview)(params);
}
window.addEventListener("hashchange", route);

function refreshLive() { if ((location.hash || "#/") === "#/" || location.hash.startsWith("#/?")) route(); }

// ---------- overview ----------

function summaryTiles() {
  const m = S.summary || {};
  const tile = (cls, id, n, zh, en) => el("div", { class: "tile " + cls }, el("span", { class: "num", id: id }, String(n ?? "–")), el("span", { class: "lbl" }, ...bi(zh, en)));
  return el("section", { class: "summary", id: "summary", "aria-label": "概况 Summary" },
    tile("online", "sum-online", m.online, "● 在线", "Online"),
    tile("stale", "sum-stale", m.stale, "◐ 心跳超时", "Stale"),
    tile("offline", "sum-offline", m.offline, "✕ 离线", "Offline"),
    tile("never", "sum-never", m.never_seen, "○ 从未连接", "Never seen"),
    tile("", "sum-backlog", m.backlog, "待上传签到", "Backlog"),
    tile("", "sum-today", m.checkins_today, "今日签到", "Check-ins today"),
    tile("offline", "sum-faults", m.faults, "设备故障站点", "Stations with faults"),
    tile("alerts", "sum-alerts", S.alerts.length, "待处理告警", "Open alerts"));
}

function backlogCell(st) {
  if (st.state === "never_seen" || !st.last_heartbeat) return el("div", { class: "meta" }, ...bi("无心跳", "no heartbeat"));
  const o = st.outbox || {};
  const parts = [el("div", { class: o.depth > 0 ? "warn" : "" }, "待传 " + o.depth + " 条 ", el("small", null, "backlog " + o.depth))];
  if (o.depth > 0 && o.oldest_at) { const a = ago(o.oldest_at); parts.push(el("div", null, "最早 " + a.zh + " ", el("small", null, "oldest " + a.en))); }
  if (o.rejected > 0) parts.push(el("div", { class: "bad" }, "被拒 " + o.rejected + " ", el("small", null, "rejected")));
  const hb = ago(st.last_heartbeat);
  parts.push(el("div", null, "心跳 " + hb.zh + " ", el("small", null, "heartbeat " + hb.en)));
  return el("div", { class: "meta" }, ...parts);
}

function countsCell(st) {
  const seq = st.outbox && st.outbox.last_seq ? st.last_seq + "/" + st.outbox.last_seq : String(st.last_seq);
  const kids = [el("div", null, "今日 ", el("b", null, String(st.checkins_today)), " ", el("small", null, "today")),
    el("div", null, "序号 " + seq + " ", el("small", null, "seq hub/station"))];
  const g = st.seq || {};
  if (g.missing > 0) {
    const ranges = (g.gaps || []).map((r) => r.first === r.last ? String(r.first) : r.first + "–" + r.last).join(", ");
    kids.push(el("div", { class: "bad", title: "缺少序号 missing: " + ranges }, "⚠ 缺号 " + g.missing + " ", el("small", null, "missing")));
  }
  if (st.alerts_open > 0) kids.push(el("div", { class: "bad" }, "! 告警 " + st.alerts_open + " ", el("small", null, "alerts")));
  return el("div", { class: "meta" }, ...kids);
}

function deviceCell(st) {
  if (!st.agent) return el("div", { class: "meta" }, "—");
  const readers = st.readers || [];
  const bad = readers.filter((r) => r.state === "fault");
  const kids = [el("div", null, "版本 " + st.agent + " ", el("small", null, "agent"))];
  if (readers.length) {
    kids.push(bad.length
      ? el("div", { class: "bad" }, "✕ 故障 " + bad.map((r) => r.name + (r.kind === "printer" ? "(打印机)" : "")).join(", ") + " ", el("small", null, "device fault"))
      : el("div", { class: "ok" }, "✓ 设备正常 ", el("small", null, "devices ok")));
  }
  kids.push(st.config_current ? el("div", null, "✓ 配置最新 ", el("small", null, "config current"))
    : el("div", { class: "warn" }, "⚠ 配置待更新 ", el("small", null, "config pending")));
  const s = st.clock_skew_s || 0;
  if (Math.abs(s) >= 120) kids.push(el("div", { class: "warn" }, "⚠ 时钟偏差 " + Math.round(s / 60) + " 分钟 ", el("small", null, "clock skew")));
  if (st.disk && st.disk.low) kids.push(el("div", { class: "bad" }, "⚠ 存储将满 ", el("small", null, "disk nearly full")));
  return el("div", { class: "meta" }, ...kids);
}

function stationRow(st) {
  return el("div", { class: "station lvl-" + st.level, id: "st-" + st.id, "data-id": st.id },
    el("div", { class: "name" }, el("a", { href: "#/station/" + encodeURIComponent(st.id) }, st.name),
      el("small", null, (st.name_en || st.id) + " · " + st.level_zh)),
    badge(st), backlogCell(st), countsCell(st), deviceCell(st));
}

function updateStation(id) {
  const st = station(id), old = document.getElementById("st-" + id);
  if (st && old) old.replaceWith(stationRow(st));
}

function matches(st) {
  const f = S.filter;
  if (f.state && st.state !== f.state) return false;
  if (f.level && st.level !== f.level) return false;
  if (f.problems && st.state === "online" && !hasFault(st) && !st.alerts_open) return false;
  if (f.under) { let p = st, ok = false; for (let i = 0; p && i < 10; i++) { if (p.id === f.under) { ok = true; break; } p = station(p.parent); } if (!ok) return false; }
  if (f.q) { const hay = (st.id + " " + st.name + " " + (st.name_en || "")).toLowerCase(); if (!hay.includes(f.q.toLowerCase())) return false; }
  return true;
}

function groupSummary(rows) {
  const n = { online: 0, bad: 0 };
  for (const s of rows) { if (s.state === "online") n.online++; if (s.state === "offline" || s.state === "stale" || hasFault(s) || s.alerts_open) n.bad++; }
  return n;
}

function groupNode(title, titleEN, rows, forceOpen) {
  const n = groupSummary(rows);
  const many = S.order.length > 24;
  const d = el("details", { class: "group", open: forceOpen || !many || n.bad > 0 },
    el("summary", null, el("b", null, title), el("small", null, titleEN),
      el("span", { class: "gsum" }, rows.length + " 站 stations · ● " + n.online + " 在线 online" + (n.bad ? " · ⚠ " + n.bad + " 需关注 attention" : ""))),
    ...rows.map(stationRow));
  return d;
}

function renderTree() {
  const all = S.order.map(station).filter(matches);
  const visible = new Set(S.order);
  const kids = (id) => all.filter((s) => s.parent === id);
  const groups = [], placed = new Set();
  const filtering = S.filter.q || S.filter.state || S.filter.level || S.filter.under || S.filter.problems;
  const roots = S.order.map(station).filter((s) => !visible.has(s.parent));
  for (const r of roots) {
    if (r.level === "district") {
      if (matches(r)) { groups.push(groupNode(r.name, r.name_en || "District centre", [r], true)); placed.add(r.id); }
      const posts = kids(r.id).filter((s) => s.level === "post");
      for (const t of S.order.map(station).filter((s) => s.parent === r.id && s.level !== "post")) {
        const sub = [t, ...kids(t.id)].filter(matches);
        for (const s of kids(t.id)) for (const v of kids(s.id)) sub.push(v);
        if (sub.length) groups.push(groupNode(t.name, t.name_en || t.id, sub, filtering));
        sub.forEach((s) => placed.add(s.id));
      }
      if (posts.length) { groups.push(groupNode("退役军人驿站", "Veteran posts", posts, filtering)); posts.forEach((p) => placed.add(p.id)); }
    } else {
      const sub = [];
      const walk = (s) => { if (matches(s)) sub.push(s); for (const c of S.order.map(station).filter((x) => x.parent === s.id)) walk(c); };
      walk(r);
      if (sub.length) groups.push(groupNode(r.name, r.name_en || r.id, sub, true));
      sub.forEach((s) => placed.add(s.id));
    }
  }
  const rest = all.filter((s) => !placed.has(s.id));
  if (rest.length) groups.push(groupNode("其他站点", "Other stations", rest, true));
  const tree = document.getElementById("tree");
  tree.replaceChildren(...(groups.length ? groups : [el("p", { class: "empty" }, ...bi("没有符合条件的站点", "No station matches"))]));
  document.getElementById("tree-count").textContent = all.length + " / " + S.order.length;
}

function stationOptions(withAll) {
  const opts = withAll ? [el("option", { value: "" }, "全部 All")] : [];
  for (const id of S.order) {
    const s = station(id);
    const indent = s.level === "village" || s.level === "post" ? "　" : "";
    opts.push(el("option", { value: id }, indent + s.name));
  }
  return opts;
}

function filterBar() {
  const f = S.filter;
  const q = el("input", { id: "f-q", type: "search", value: f.q, placeholder: "名称或编号 name or ID" });
  const state = el("select", { id: "f-state" }, el("option", { value: "" }, "全部 All"),
    ...Object.entries(STATE).map(([k, v]) => el("option", { value: k, selected: f.state === k }, v.sym + " " + v.zh + " " + v.en)));
  const level = el("select", { id: "f-level" }, el("option", { value: "" }, "全部 All"),
    ...LEVELS.map(([k, zh, en]) => el("option", { value: k, selected: f.level === k }, zh + " " + en)));
  const under = el("select", { id: "f-under" }, ...stationOptions(true));
  under.value = f.under;
  const problems = el("input", { id: "f-problems", type: "checkbox", checked: f.problems });
  const apply = () => { f.q = q.value.trim(); f.state = state.value; f.level = level.value; f.under = under.value; f.problems = problems.checked; renderTree(); };
  for (const x of [state, level, under, problems]) x.addEventListener("change", apply);
  q.addEventListener("input", apply);
  return el("div", { class: "filters", role: "search" },
    el("label", { for: "f-q" }, "搜索 Search", q), el("label", { for: "f-state" }, "状态 State", state),
    el("label", { for: "f-level" }, "级别 Level", level), el("label", { for: "f-under" }, "所属 Under", under),
    el("label", { class: "check", for: "f-problems" }, problems, ...bi("只看需关注", "Needs attention only")));
}

function alertRow(a, withStation) {
  const acts = el("div", { class: "acts" });
  if (S.me.can_write && a.state !== "resolved") {
    if (a.state === "open") acts.append(el("button", { type: "button", class: "secondary", "data-ack": a.id, onclick: () => alertAction(a, "ack") }, ...bi("确认", "Ack")));
    acts.append(el("button", { type: "button", "data-resolve": a.id, onclick: () => alertAction(a, "resolve") }, ...bi("解决", "Resolve")));
  }
  const due = a.due ? el("div", { class: a.overdue ? "overdue" : "meta" }, (a.overdue ? "⚠ 已逾期 overdue · " : "回访期限 due ") + day(a.due)) : null;
  return el("div", { class: "alert-row", "data-alert": a.id },
    el("div", null, alertBadge(a), el("div", { class: "meta" }, dateTime(a.opened_at))),
    el("div", { class: "what" },
      el("div", null, el("span", { class: "rule" }, a.rule_zh), " ", el("small", null, a.rule_en),
        withStation ? [" · ", el("a", { href: "#/station/" + encodeURIComponent(a.station) }, a.station_name || a.station)] : null),
      el("div", null, a.message_zh), el("div", null, el("small", null, a.message_en)), due,
      a.ack_by ? el("div", { class: "meta" }, "确认 ack: " + a.ack_by + " " + dateTime(a.ack_at) + (a.ack_comment ? " — " + a.ack_comment : "")) : null,
      a.resolved_by ? el("div", { class: "meta" }, "解决 resolved: " + a.resolved_by + " " + dateTime(a.resolved_at) + (a.resolved_comment ? " — " + a.resolved_comment : "")) : null),
    acts);
}

async function alertAction(a, what) {
  const resolve = what === "resolve";
  const comment = await ask(resolve ? bi("解决告警", "Resolve alert") : bi("确认告警", "Acknowledge alert"),
    [a.station_name + " · " + a.rule_zh + ": " + a.message_zh],
    resolve ? bi("处理说明(必填)", "What was done (required)") : bi("说明(可选)", "Comment (optional)"), resolve);
  if (comment === null) return;
  try {
    await api("/api/v1/alerts/" + a.id + "/" + what, { method: "POST", body: { comment } });
    await loadAlerts();
    route();
  } catch (e) { alert(e instanceof APIError ? e.zh + " / " + e.message : String(e)); }
}

function alertPanel() {
  const list = S.alerts.slice(0, 12);
  return el("section", { class: "card", id: "alert-panel", "aria-labelledby": "alerts-h" },
    el("h3", { id: "alerts-h" }, el("span", null, ...bi("待处理告警", "Open alerts"), " (" + S.alerts.length + ")"), el("a", { href: "#/alerts" }, ...bi("全部", "All"))),
    list.length ? el("div", null, ...list.map((a) => alertRow(a, true))) : el("p", { class: "empty" }, ...bi("✓ 没有待处理告警", "No open alerts")));
}

function checkinRow(c, fresh, unmaskable, noStation) {
  const nameCell = el("td", null, c.name || "—"), idCell = el("td", { class: "mono" }, c.id_number);
  const row = el("tr", { class: fresh ? "new" : "", "data-id": c.id },
    el("td", null, clock(c.at)),
    noStation ? null : el("td", { title: c.station_name_en || c.station }, c.station_name || c.station),
    el("td", null, c.service_zh || c.service, el("br"), el("small", null, c.service_en || "")),
    el("td", { class: "mono" }, c.queue_no || "—"), nameCell, idCell);
  if (unmaskable) {
    row.append(el("td", null, S.me.can_unmask ? el("button", { type: "button", class: "link", "data-unmask": c.id, title: "查看完整信息 show in full",
      onclick: () => unmask(c, nameCell, idCell) }, "查看 ", el("small", null, "unmask")) : null));
  }
  return row;
}

async function unmask(c, nameCell, idCell) {
  const reason = await ask(bi("查看完整信息", "Show personal data"),
    bi("此操作将记入审计日志(人员、时间、事由)。", "This is written to the audit log (who, when, why)."), bi("事由(必填)", "Reason (required)"), true);
  if (!reason) return;
  try {
    const r = await api("/api/v1/checkins/" + encodeURIComponent(c.id) + "/unmask", { method: "POST", body: { reason } });
    nameCell.replaceChildren(el("span", { class: "unmasked" }, r.name || "—"));
    idCell.replaceChildren(el("span", { class: "unmasked" }, r.id_number));
  } catch (e) { alert(e instanceof APIError ? e.zh + " / " + e.message : String(e)); }
}

function checkinTable(id, rows, unmaskable, noStation) {
  const head = ["时间|Time", "站点|Station", "服务|Service", "排队号|Ticket", "姓名|Name", "证件号|ID number"];
  if (noStation) head.splice(1, 1);
  if (unmaskable) head.push("|");
  return el("table", null, el("thead", null, el("tr", null, ...head.map((h) => { const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e)); }))),
    el("tbody", { id }, ...(rows.length ? rows.map((c) => checkinRow(c, false, unmaskable, noStation)) : [el("tr", null, el("td", { colspan: head.length, class: "empty" }, ...bi("暂无签到", "No check-ins")))])));
}

async function pageOverview() {
  const gen = routeGen;
  try {
    await loadStations();
    const c = await api("/api/v1/checkins?limit=" + MAX_CHECKINS);
    S.checkins = c.checkins;
  } catch (e) { if (gen === routeGen) view(errorBox(e)); return; }
  if (gen !== routeGen) return; // another page was opened meanwhile
  view(el("div", null,
    summaryTiles(),
    el("div", { class: "grid2" },
      el("section", { "aria-labelledby": "stations-h" },
        el("h2", { id: "stations-h" }, ...bi("服务站点", "Stations"), " ", el("small", { id: "tree-count" })),
        filterBar(), el("div", { id: "tree" })),
      el("div", null, alertPanel(),
        el("section", { class: "card", "aria-labelledby": "checkins-h" },
          el("h3", { id: "checkins-h" }, el("span", null, ...bi("实时签到", "Live check-ins")), el("a", { href: "#/checkins" }, ...bi("查询", "Search"))),
          el("p", { class: "note" }, ...bi("身份证号与姓名已脱敏", "ID numbers and names are masked")),
          checkinTable("checkins", S.checkins, false))))));
  renderTree();
}

// ---------- station page ----------

async function pageStation(id) {
  let d, cs;
  try {
    [d, cs] = await Promise.all([api("/api/v1/stations/" + encodeURIComponent(id) + "?days=14"),
      api("/api/v1/checkins?station=" + encodeURIComponent(id) + "&limit=15")]);
  } catch (e) { view(el("div", null, el("p", { class: "crumbs" }, el("a", { href: "#/" }, "← 总览 Overview")), errorBox(e))); return; }
  const st = d.station;
  const parent = station(st.parent);
  const o = st.outbox || {};
  const kv = (zh, en, v) => [el("dt", null, zh, " ", el("small", null, en)), el("dd", null, v)];
  const details = el("dl", { class: "kv" },
    kv("编号", "ID", st.id), kv("级别", "Level", st.level_zh + " · " + st.level_en),
    kv("地址", "Address", d.address || "—"), kv("联系电话", "Contact", d.contact || "—"),
    kv("最后心跳", "Last heartbeat", st.last_heartbeat ? dateTime(st.last_heartbeat) + " (" + ago(st.last_heartbeat).zh + ")" : "—"),
    kv("心跳间隔", "Interval", st.heartbeat_s ? st.heartbeat_s + " 秒 s" : "—"),
    kv("待上传", "Backlog", o.depth + " 条" + (o.depth && o.oldest_at ? ",最早 " + dateTime(o.oldest_at) : "") + (o.rejected ? ",被拒 " + o.rejected : "")),
    kv("序号", "Seq hub/station", st.last_seq + " / " + (o.last_seq || 0) + (st.seq && st.seq.missing ? "(缺 " + st.seq.missing + ")" : "")),
    kv("软件版本", "Agent", st.agent || "—"),
    kv("配置版本", "Config", (st.config_version || "—") + (st.config_current ? " ✓ 最新 current" : " ⚠ 待更新 pending")),
    kv("时钟偏差", "Clock skew", (st.clock_skew_s || 0).toFixed(1) + " 秒 s"),
    kv("存储", "Disk", st.disk && st.disk.free_bytes ? (st.disk.free_bytes / 1e9).toFixed(1) + " GB 可用 free" + (st.disk.low ? " ⚠ 将满 nearly full" : "") : "—"),
    kv("14 天在线率", "Uptime 14 days", (d.uptime * 100).toFixed(1) + "%"));
  const readers = el("table", null, el("thead", null, el("tr", null, el("th", null, ...bi("设备", "Device")), el("th", null, ...bi("类型", "Kind")), el("th", null, ...bi("状态", "State")))),
    el("tbody", null, ...((st.readers || []).length ? st.readers.map((r) => el("tr", null, el("td", null, r.name), el("td", null, r.kind),
      el("td", { class: r.state === "ok" ? "ok" : r.state === "fault" ? "bad" : "warn" }, r.state === "ok" ? "✓ 正常 ok" : r.state === "fault" ? "✕ 故障 fault" + (r.detail ? ": " + r.detail : "") : "○ 未接 absent")))
      : [el("tr", null, el("td", { colspan: 3, class: "empty" }, ...bi("无设备信息", "No device data")))])));

  const days = d.days.map((x) => x.day.slice(5));
  const every = d.days.length > 16 ? Math.ceil(d.days.length / 8) : 1;
  const uptime = stacked(d.days.map((x, i) => ({ label: days[i], parts: [
    { cls: "s-online", value: x.online_s, title: "在线 online " + dur(x.online_s) },
    { cls: "s-stale", value: x.stale_s, title: "超时 stale " + dur(x.stale_s) },
    { cls: "s-offline", value: x.offline_s, title: "离线 offline " + dur(x.offline_s) },
    { cls: "s-unknown", value: x.unknown_s, title: "无数据 no data " + dur(x.unknown_s) }] })), { percent: true, labelEvery: every, label: "每日在线 uptime per day" });
  const perDay = vbars(d.days.map((x, i) => ({ label: days[i], value: x.checkins, title: x.day })), { height: 170, labelEvery: every, label: "每日签到 check-ins per day" });

  // Fault timeline: presence, then each device, then the disk.
  const from = new Date(d.days[0].day + "T00:00:00"), to = new Date(Date.now());
  const rowsBy = new Map([["presence/", { label: "连接 Connection", spans: [] }]]);
  for (const f of d.faults) {
    const key = f.kind + "/" + f.subject;
    if (!rowsBy.has(key)) rowsBy.set(key, { label: f.kind === "disk" ? "存储 Disk" : f.subject, spans: [] });
    const cls = f.state === "stale" ? "s-stale" : "s-offline";
    rowsBy.get(key).spans.push({ from: new Date(f.from), to: f.to ? new Date(f.to) : to, cls,
      title: f.state + " " + dateTime(f.from) + " – " + (f.to ? dateTime(f.to) : "至今 now") + (f.detail ? " " + f.detail : "") });
  }
  const ticks = [];
  for (let i = 0; i < d.days.length; i += Math.max(1, Math.ceil(d.days.length / 7))) ticks.push({ at: new Date(d.days[i].day + "T00:00:00"), label: days[i] });
  const tl = timeline([...rowsBy.values()], from, to, { ticks, width: 1400, labelWidth: 170, label: "故障时间线 fault timeline" });
  const faultTable = el("table", null, el("thead", null, el("tr", null, el("th", null, ...bi("类型", "Kind")), el("th", null, ...bi("开始", "From")), el("th", null, ...bi("结束", "To")), el("th", null, ...bi("说明", "Detail")))),
    el("tbody", null, ...(d.faults.length ? d.faults.slice(0, 20).map((f) => el("tr", null,
      el("td", { class: "bad" }, ({ stale: "◐ 心跳超时 stale", offline: "✕ 离线 offline", fault: "✕ 故障 fault " + f.subject, low: "⚠ 存储将满 disk low", absent: "○ 未接 absent" })[f.state] || f.state),
      el("td", null, dateTime(f.from)), el("td", null, f.to ? dateTime(f.to) : "进行中 ongoing"), el("td", null, f.detail || "")))
      : [el("tr", null, el("td", { colspan: 4, class: "empty" }, ...bi("✓ 期间无故障", "No faults in the period")))])));

  view(el("div", null,
    el("p", { class: "crumbs" }, el("a", { href: "#/" }, "← 总览 Overview"), parent ? [" / ", el("a", { href: "#/station/" + encodeURIComponent(parent.id) }, parent.name)] : null),
    el("div", { class: "page-head" }, el("h2", { id: "station-name" }, st.name, " ", el("small", null, st.name_en || st.id)), badge(st),
      el("a", { href: "#/stats?under=" + encodeURIComponent(st.id) }, ...bi("统计", "Statistics")),
      el("a", { href: "#/checkins?station=" + encodeURIComponent(st.id) }, ...bi("签到记录", "Check-ins"))),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("站点状态", "Station"))), details),
      el("div", null,
        el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("设备健康", "Devices"))), readers),
        el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("提供服务(近 14 天签到)", "Services (check-ins, 14 days)"))),
          el("table", null, el("tbody", null, ...d.services.map((s) => el("tr", null, el("td", null, s.zh, " ", el("small", null, s.en)), el("td", { class: "num" }, String(s.n))))))))),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("每日在线情况", "Uptime per day"))), uptime,
        el("div", { class: "legend" }, el("span", null, el("i", { class: "s-online" }), "在线 online"), el("span", null, el("i", { class: "s-stale" }), "心跳超时 stale"),
          el("span", null, el("i", { class: "s-offline" }), "离线 offline"), el("span", null, el("i", { class: "s-unknown" }), "无数据 no data"))),
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("每日签到", "Check-ins per day"))), perDay)),
    el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("故障时间线(近 14 天)", "Fault timeline (14 days)"))), tl, faultTable),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("告警与回访", "Alerts and follow-ups"))),
        d.alerts.length ? el("div", null, ...d.alerts.map((a) => alertRow(a, false))) : el("p", { class: "empty" }, ...bi("没有告警", "No alerts"))),
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("最近签到", "Recent check-ins"))),
        checkinTable("station-checkins", cs.checkins, true, true)))));
}

// ---------- statistics ----------

function dateInputs(params, defDays) {
  const today = new Date();
  const from = params.get("from") || isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (defDays - 1)));
  const to = params.get("to") || isoDay(today);
  return [el("input", { type: "date", id: "f-from", value: from }), el("input", { type: "date", id: "f-to", value: to })];
}

function exportLinks(kind, query, personal) {
  const wrap = el("span", { class: "exports" });
  const go = async (format) => {
    let q = Object.assign({}, query, { format });
    if (personal && S.me.can_unmask && document.getElementById("x-unmasked") && document.getElementById("x-unmasked").checked) {
      const reason = await ask(bi("导出完整信息", "Export unmasked"), bi("导出包含完整身份证号与姓名，将记入审计日志。", "The file holds full ID numbers and names; this is audited."),
        bi("事由(必填)", "Reason (required)"), true);
      if (!reason) return;
      q = Object.assign(q, { unmasked: "1", reason });
    }
    location.href = "/api/v1/export/" + kind + qs(q);
  };
  wrap.append(el("button", { type: "button", class: "secondary", "data-export": kind + ".csv", onclick: () => go("csv") }, "↓ CSV"), " ",
    el("button", { type: "button", class: "secondary", "data-export": kind + ".xlsx", onclick: () => go("xlsx") }, "↓ Excel"));
  if (personal && S.me.can_unmask) wrap.append(" ", el("label", { class: "check", for: "x-unmasked" }, el("input", { type: "checkbox", id: "x-unmasked" }), ...bi("含完整信息", "unmasked")));
  return wrap;
}

async function pageStats(params) {
  const [from, to] = dateInputs(params, 30);
  const under = el("select", { id: "f-under" }, ...stationOptions(true)); under.value = params.get("under") || "";
  const svc = el("select", { id: "f-service" }, el("option", { value: "" }, "全部 All"), ...SERVICES.map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  svc.value = params.get("service") || "";
  const query = { from: from.value, to: to.value, under: under.value, service: svc.value };
  const apply = el("button", { type: "button", id: "f-apply", onclick: () => { location.hash = "#/stats" + qs({ from: from.value, to: to.value, under: under.value, service: svc.value }); } }, ...bi("查询", "Apply"));
  const bar = el("div", { class: "filters" }, el("label", { for: "f-from" }, "开始 From", from), el("label", { for: "f-to" }, "结束 To", to),
    el("label", { for: "f-under" }, "站点(含下级) Station and below", under), el("label", { for: "f-service" }, "服务 Service", svc), apply, el("span", { class: "spacer" }),
    el("span", null, "签到 Check-ins ", exportLinks("checkins", query, true)), el("span", null, "评价 Ratings ", exportLinks("feedback", query, false)));
  view(el("div", null, el("h2", null, ...bi("统计分析", "Statistics")), bar, el("div", { id: "stats-body" }, el("p", { class: "empty" }, "加载中… Loading…"))));
  let d;
  try { d = await api("/api/v1/stats" + qs(query)); } catch (e) { document.getElementById("stats-body").replaceChildren(errorBox(e)); return; }
  const nd = d.by_day.length, avg = nd ? d.total / nd : 0;
  const topHours = [...d.by_hour].sort((a, b) => b.n - a.n).slice(0, 3).filter((h) => h.n > 0).map((h) => h.hour);
  const every = nd > 20 ? Math.ceil(nd / 10) : 1;
  const r = d.ratings;
  const ratingTable = (groups, zh, en) => el("table", null,
    el("thead", null, el("tr", null, el("th", null, ...bi(zh, en)), el("th", { class: "num" }, ...bi("评价数", "Ratings")), el("th", { class: "num" }, ...bi("平均分", "Average")),
      el("th", { class: "num" }, ...bi("差评", "Bad")), el("th", null, ...bi("分布 1→5", "Distribution")))),
    el("tbody", null, ...(groups.length ? groups.slice(0, 15).map((g) => el("tr", null, el("td", null, g.zh || g.key, " ", el("small", null, g.en || "")), el("td", { class: "num" }, String(g.n)),
      el("td", { class: "num " + (g.average < 3.5 ? "bad" : "") }, g.average.toFixed(2)), el("td", { class: "num " + (g.bad ? "bad" : "") }, String(g.bad)), el("td", null, ratingBar(g.dist))))
      : [el("tr", null, el("td", { colspan: 5, class: "empty" }, ...bi("无评价", "No ratings")))])));
  const legend = el("div", { class: "legend" }, ...[1, 2, 3, 4, 5].map((i) => el("span", null, el("i", { class: "r" + i }), i + " 分")));
  document.getElementById("stats-body").replaceChildren(
    el("section", { class: "summary" },
      el("div", { class: "tile" }, el("span", { class: "num", id: "stat-total" }, fmtNum(d.total)), el("span", null, ...bi("签到总数", "Check-ins"))),
      el("div", { class: "tile" }, el("span", { class: "num" }, avg.toFixed(1)), el("span", null, ...bi("日均", "Per day"))),
      el("div", { class: "tile" }, el("span", { class: "num" }, topHours.length ? topHours[0] + ":00" : "—"), el("span", null, ...bi("最忙时段", "Busiest hour"))),
      el("div", { class: "tile" }, el("span", { class: "num" }, fmtNum(r.n)), el("span", null, ...bi("评价数", "Ratings"))),
      el("div", { class: "tile" }, el("span", { class: "num" }, r.n ? r.average.toFixed(2) : "—"), el("span", null, ...bi("平均满意度(5分制)", "Average (of 5)"))),
      el("div", { class: "tile offline" }, el("span", { class: "num" }, fmtNum(r.bad)), el("span", null, ...bi("差评", "Bad ratings")))),
    el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("每日签到", "Check-ins by day"), " ", el("small", null, d.from + " – " + d.to))),
      vbars(d.by_day.map((x) => ({ label: x.day.slice(5), value: x.n, title: x.day })), { labelEvery: every, height: 200, width: 1100, label: "每日签到 check-ins by day" })),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("繁忙时段", "Busiest hours"))),
        vbars(d.by_hour.map((h) => ({ label: String(h.hour), value: h.n, cls: topHours.includes(h.hour) ? "hi" : "", title: h.hour + ":00–" + (h.hour + 1) + ":00" })), { height: 200, label: "时段 hours" }),
        el("p", { class: "note" }, ...bi("橙色为最繁忙的三个时段", "Orange: the three busiest hours"))),
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("按服务", "By service"))),
        hbars(d.by_service.filter((s) => s.n > 0 || d.total === 0).map((s) => ({ label: s.zh, value: s.n, title: s.zh + " " + s.en })), { label: "按服务 by service" }))),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("按站点(前 15)", "By station (top 15)"))),
        hbars(d.by_station.slice(0, 15).map((s) => ({ label: s.name, value: s.n, title: s.name + " " + s.station })), { label: "按站点 by station" })),
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("按级别", "By level"))),
        el("table", null, el("thead", null, el("tr", null, el("th", null, ...bi("级别", "Level")), el("th", { class: "num" }, ...bi("站点数", "Stations")),
          el("th", { class: "num" }, ...bi("签到", "Check-ins")), el("th", { class: "num" }, ...bi("站均", "Per station")))),
          el("tbody", null, ...d.by_level.filter((l) => l.stations > 0).map((l) => el("tr", null, el("td", null, l.zh, " ", el("small", null, l.en)),
            el("td", { class: "num" }, String(l.stations)), el("td", { class: "num" }, fmtNum(l.n)), el("td", { class: "num" }, (l.n / l.stations).toFixed(1)))))))),
    el("div", { class: "grid2e" },
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("满意度 · 按站点(低分在前)", "Satisfaction by station (lowest first)"))), ratingTable(r.by_station, "站点", "Station"), legend),
      el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("满意度 · 按服务", "Satisfaction by service"))), ratingTable(r.by_service, "服务", "Service"), legend.cloneNode(true))));
}

// ---------- check-ins ----------

async function pageCheckins(params) {
  const st = el("select", { id: "c-station" }, ...stationOptions(true));
  st.value = params.get("station") || params.get("under") || "";
  const below = el("input", { type: "checkbox", id: "c-below", checked: !!params.get("under") });
  const svc = el("select", { id: "c-service" }, el("option", { value: "" }, "全部 All"), ...SERVICES.map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  svc.value = params.get("service") || "";
  const from = el("input", { type: "date", id: "c-from", value: params.get("from") || "" });
  const to = el("input", { type: "date", id: "c-to", value: params.get("to") || "" });
  const query = { service: svc.value, from: from.value };
  if (st.value) query[below.checked ? "under" : "station"] = st.value;
  if (to.value) { const t = new Date(to.value + "T00:00:00"); t.setDate(t.getDate() + 1); query.to = isoDay(t); }
  const apply = () => {
    const p = { service: svc.value, from: from.value, to: to.value };
    if (st.value) p[below.checked ? "under" : "station"] = st.value;
    location.hash = "#/checkins" + qs(p);
  };
  const bar = el("div", { class: "filters" },
    el("label", { for: "c-station" }, "站点 Station", st), el("label", { class: "check", for: "c-below" }, below, ...bi("含下级", "and below")),
    el("label", { for: "c-service" }, "服务 Service", svc), el("label", { for: "c-from" }, "开始 From", from), el("label", { for: "c-to" }, "结束 To", to),
    el("button", { type: "button", id: "c-apply", onclick: apply }, ...bi("查询", "Apply")), el("span", { class: "spacer" }), exportLinks("checkins", query, true));
  const body = el("div", { id: "checkins-body" }, el("p", { class: "empty" }, "加载中… Loading…"));
  view(el("div", null, el("h2", null, ...bi("签到记录", "Check-ins")), bar, el("section", { class: "card" }, body)));
  const rows = [];
  const more = async (cursor) => {
    let p;
    try { p = await api("/api/v1/checkins" + qs(Object.assign({}, query, { limit: 50, cursor }))); } catch (e) { body.replaceChildren(errorBox(e)); return; }
    rows.push(...p.checkins);
    put(body, el("p", { class: "note", id: "checkins-total" }, "共 " + fmtNum(p.total) + " 条 · " + fmtNum(p.total) + " matching · 显示 shown " + rows.length),
      checkinTable("checkin-list", rows, true),
      p.next ? el("div", { class: "pager" }, el("button", { type: "button", class: "secondary", onclick: () => more(p.next) }, ...bi("加载更多", "More"))) : null);
  };
  more("");
}

// ---------- alerts ----------

async function pageAlerts(params) {
  const state = el("select", { id: "a-state" }, ...[["active", "待处理", "Active"], ["open", "未确认", "Open"], ["acknowledged", "已确认", "Acknowledged"],
    ["resolved", "已解决", "Resolved"], ["", "全部", "All"]].map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  state.value = params.has("state") ? params.get("state") : "active";
  const rule = el("select", { id: "a-rule" }, el("option", { value: "" }, "全部 All"), ...RULES.map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  rule.value = params.get("rule") || "";
  const st = el("select", { id: "a-under" }, ...stationOptions(true)); st.value = params.get("under") || "";
  const query = { state: state.value, rule: rule.value, under: st.value };
  const apply = () => { location.hash = "#/alerts" + qs({ state: state.value || "all", rule: rule.value, under: st.value }); };
  if (query.state === "all") query.state = "";
  for (const x of [state, rule, st]) x.addEventListener("change", apply);
  const body = el("div", { id: "alerts-body" }, el("p", { class: "empty" }, "加载中… Loading…"));
  view(el("div", null, el("h2", null, ...bi("告警与回访任务", "Alerts and follow-up tasks")),
    el("div", { class: "filters" }, el("label", { for: "a-state" }, "状态 State", state), el("label", { for: "a-rule" }, "规则 Rule", rule),
      el("label", { for: "a-under" }, "站点(含下级) Station and below", st), el("span", { class: "spacer" }), exportLinks("alerts", query, false)),
    el("section", { class: "card" }, body)));
  const list = [];
  const more = async (cursor) => {
    let p;
    try { p = await api("/api/v1/alerts" + qs(Object.assign({}, query, { limit: 50, cursor }))); } catch (e) { body.replaceChildren(errorBox(e)); return; }
    list.push(...p.alerts);
    put(body, ...(list.length ? list.map((a) => alertRow(a, true)) : [el("p", { class: "empty" }, ...bi("没有符合条件的告警", "No alerts match"))]),
      p.next ? el("div", { class: "pager" }, el("button", { type: "button", class: "secondary", onclick: () => more(p.next) }, ...bi("加载更多", "More"))) : null);
  };
  more("");
}

// ---------- audit log ----------

async function pageAudit(params) {
  const user = el("input", { id: "u-user", value: params.get("user") || "", placeholder: "用户名 user" });
  const action = el("select", { id: "u-action" }, el("option", { value: "" }, "全部 All"),
    ...[["unmask", "查看完整信息 Unmask"], ["export", "导出 Export"], ["sign_in", "登录 Sign-in"], ["sign_in_failed", "登录失败 Failed sign-in"],
      ["meeting", "会议安排 Meeting"], ["meeting_followup", "缺席回访 Meeting follow-up"],
      ["alert_ack", "确认告警 Alert ack"], ["alert_resolve", "解决告警 Alert resolve"], ["user_change", "人员变更 User change"], ["denied", "拒绝访问 Denied"], ["sign_out", "退出 Sign-out"]]
      .map(([k, t]) => el("option", { value: k }, t)));
  action.value = params.get("action") || "";
  const apply = () => { location.hash = "#/audit" + qs({ user: user.value.trim(), action: action.value }); };
  action.addEventListener("change", apply);
  user.addEventListener("change", apply);
  const body = el("div", { id: "audit-body" }, el("p", { class: "empty" }, "加载中… Loading…"));
  view(el("div", null, el("h2", null, ...bi("审计日志", "Audit log")),
    el("p", { class: "note" }, ...bi("记录每次查看完整个人信息、每次导出、登录与告警处理;只增不改。", "Every unmasking, export, sign-in and alert action; append-only.")),
    el("div", { class: "filters" }, el("label", { for: "u-user" }, "人员 User", user), el("label", { for: "u-action" }, "操作 Action", action)),
    el("section", { class: "card" }, body)));
  const rows = [];
  const more = async (cursor) => {
    let p;
    try { p = await api("/api/v1/audit" + qs({ user: params.get("user") || "", action: params.get("action") || "", limit: 100, cursor })); } catch (e) { body.replaceChildren(errorBox(e)); return; }
    rows.push(...p.entries);
    put(body, el("div", { class: "scroll" }, el("table", { id: "audit-table" },
      el("thead", null, el("tr", null, ...["时间|Time", "人员|User", "角色|Role", "操作|Action", "对象|Target", "事由|Reason", "详情|Detail", "地址|Address"]
        .map((h) => { const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e)); }))),
      el("tbody", null, ...rows.map((e) => el("tr", { class: e.action === "denied" || e.action === "sign_in_failed" ? "bad" : "" },
        el("td", null, dateTime(e.at)), el("td", null, e.user), el("td", null, e.role_zh || "—"),
        el("td", null, e.action_zh, el("br"), el("small", null, e.action_en)), el("td", { class: "mono" }, e.target), el("td", null, e.reason), el("td", null, e.detail), el("td", { class: "mono" }, e.addr)))))),
      p.next ? el("div", { class: "pager" }, el("button", { type: "button", class: "secondary", onclick: () => more(p.next) }, ...bi("加载更多", "More"))) : null);
  };
  more("");
}

// ---------- people ----------

async function pageUsers() {
  let us;
  try { us = await api("/api/v1/users"); } catch (e) { view(errorBox(e)); return; }
  const name = el("input", { id: "n-name", required: true, autocomplete: "off" });
  const display = el("input", { id: "n-display" });
  const role = el("select", { id: "n-role" }, ...[["town_admin", "镇级管理员 Town administrator"], ["station_staff", "站点工作人员 Station staff"],
    ["auditor", "审计员 Auditor"], ["district_admin", "区级管理员 District administrator"]].map(([k, t]) => el("option", { value: k }, t)));
  const st = el("select", { id: "n-station" }, el("option", { value: "" }, "—"), ...stationOptions(false));
  const pw = el("input", { id: "n-password", type: "password", autocomplete: "new-password", minlength: "10" });
  const msg = el("p", { role: "status" });
  const form = el("form", { class: "form-row", id: "user-form" },
    el("label", { for: "n-name" }, "用户名 User name", name), el("label", { for: "n-display" }, "姓名 Display name", display),
    el("label", { for: "n-role" }, "角色 Role", role), el("label", { for: "n-station" }, "站点 Station", st),
    el("label", { for: "n-password" }, "密码(至少10位) Password", pw), el("button", { type: "submit" }, ...bi("保存", "Save")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("/api/v1/users", { method: "POST", body: { name: name.value.trim(), display_name: display.value.trim(), role: role.value, station: st.value, password: pw.value } });
      pageUsers();
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  view(el("div", null, el("h2", null, ...bi("人员与权限", "People and access")),
    el("section", { class: "card" }, el("table", { id: "users-table" },
      el("thead", null, el("tr", null, ...["用户名|User", "姓名|Name", "角色|Role", "站点|Station", "状态|State"].map((h) => { const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e)); }))),
      el("tbody", null, ...us.users.map((u) => el("tr", null, el("td", null, u.name), el("td", null, u.display_name), el("td", null, u.role_zh, " ", el("small", null, u.role_en)),
        el("td", null, u.station_name || u.station || "全部 all"), el("td", null, u.disabled ? "停用 disabled" : "✓ 启用 active")))))),
    el("section", { class: "card" }, el("h3", null, el("span", null, ...bi("新增或修改人员", "Add or change a person"))), form, msg,
      el("p", { class: "note" }, ...bi("镇级管理员只能看到本镇及其下属村站与驿站;站点工作人员只能看到本站;审计员只读且始终脱敏。",
        "Town administrators see their town and the stations under it; station staff their station; auditors read everything, masked."))),
    personRequests()));
}

// A person's requests (PIPL): export a copy of their data, or erase it.
// The ID number goes in the POST body, never in the address; both are audited.
function personRequests() {
  const idn = el("input", { id: "p-idnumber", autocomplete: "off", maxlength: "18", spellcheck: "false" });
  const reason = el("input", { id: "p-reason", maxlength: "200" });
  const msg = el("p", { role: "status", id: "p-msg" });
  const body = () => ({ id_number: idn.value.trim(), reason: reason.value.trim() });
  const exp = el("button", { type: "button", id: "p-export" }, ...bi("导出个人数据", "Export their data"));
  const era = el("button", { type: "button", id: "p-erase", class: "danger" }, ...bi("删除个人数据", "Erase their data"));
  exp.addEventListener("click", async () => {
    try {
      const r = await api("/api/v1/people/export", { method: "POST", body: body() });
      const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(r, null, 2)], { type: "application/json" })), download: "person-data.json" });
      a.click();
      msg.replaceChildren(...bi("已导出 " + r.checkins.length + " 条签到、" + r.ratings.length + " 条评价", "Exported " + r.checkins.length + " check-ins, " + r.ratings.length + " ratings"));
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  era.addEventListener("click", async () => {
    if (!confirm("删除后无法恢复(统计数字不变)。确定删除? / This cannot be undone (statistics stay). Erase?")) return;
    try {
      const r = await api("/api/v1/people/erase", { method: "POST", body: Object.assign(body(), { confirm: true }) });
      idn.value = "";
      msg.replaceChildren(...bi("已删除 " + r.checkins + " 条签到中的个人信息", "Personal data removed from " + r.checkins + " check-ins"));
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  return el("section", { class: "card", id: "person-requests" }, el("h3", null, el("span", null, ...bi("个人信息查询与删除申请", "A person's data: export or erase"))),
    el("div", { class: "form-row" }, el("label", { for: "p-idnumber" }, "证件号码 ID number", idn), el("label", { for: "p-reason" }, "事由(必填) Reason", reason), exp, era),
    msg, el("p", { class: "note" }, ...bi("仅区级管理员可操作;每次操作均记入审计日志。删除只移除证件号、姓名和评价意见,签到与统计数字保留。",
      "District administrators only; each request is audited. Erasure removes ID numbers, names and rating comments; check-ins and statistics stay.")));
}

// ---------- start ----------

// Relative times age without events.
setInterval(() => { if (S.me && document.getElementById("tree")) { for (const id of S.order) updateStation(id); } }, 30000);

(async () => {
  try {
    const r = await api("/api/v1/session");
    await startSession(r);
  } catch (e) {
    renderSignIn();
  }
})();
