// The video conference: the meeting list (#/meetings), the form
// (#/meetings/new, #/meeting/ID/edit) and a meeting's page with its live
// roll-call board (#/meeting/ID). Loaded after app.js and built with its
// helpers (el, put, bi, api, ...). The board reads the roster again when
// a "meeting" event names its meeting, and every 20 s (a station's grace
// running out moves it without an event).
"use strict";

const MKINDS = [["training", "培训", "Training"], ["supervision", "督查督办", "Supervision"], ["information", "信息通报", "Information"]];
const MROLES = [["head", "站长", "Station head"], ["officer", "服务专干", "Service officer"], ["grid", "网格员", "Grid worker"]];
const PHASE = {
  upcoming: { sym: "○", zh: "未开始", en: "Upcoming" }, live: { sym: "●", zh: "进行中", en: "Live" },
  ended: { sym: "■", zh: "已结束", en: "Ended" }, cancelled: { sym: "⊘", zh: "已取消", en: "Cancelled" },
};
// Roster statuses: a symbol and words, never colour alone.
const RSTATUS = {
  joined: { sym: "✓", cls: "ok" }, late: { sym: "◔", cls: "warn" }, left_early: { sym: "↘", cls: "warn" },
  absent: { sym: "✕", cls: "bad" }, pending: { sym: "…", cls: "" },
};
const OUTCOMES = [["reached", "已联系", "Reached"], ["no_answer", "无人接听", "No answer"], ["excused", "已说明原因", "Excused"],
  ["rescheduled", "已安排补学", "Catch-up arranged"], ["other", "其他", "Other"]];

function phaseBadge(p) {
  const x = PHASE[p] || { sym: "?", zh: p, en: p };
  return el("span", { class: "badge phase-" + p }, el("span", { "aria-hidden": "true" }, x.sym), " " + x.zh + " ", el("small", null, x.en));
}

function statusBadge(s) {
  const x = RSTATUS[s.status] || { sym: "?", cls: "" };
  return el("span", { class: "badge rs-" + s.status + " " + x.cls, "data-status": s.status },
    el("span", { "aria-hidden": "true" }, x.sym), " " + s.status_zh + " ", el("small", null, s.status_en));
}

function localInput(iso) {
  const d = new Date(iso);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function toISO(v) { return v ? new Date(v).toISOString() : ""; }

// ---------- list ----------

async function pageMeetings(params) {
  const [from, to] = dateInputs(params, 30);
  let r;
  try { r = await api("/api/v1/meetings" + qs({ from: new Date(Date.now() - 30 * 86400e3).toISOString() })); } catch (e) { view(errorBox(e)); return; }
  const rows = r.meetings.map((m) => el("tr", { "data-meeting": m.id },
    el("td", null, dateTime(m.start), " – ", clock(m.end).slice(-8, -3)),
    el("td", null, el("a", { href: "#/meeting/" + m.id }, m.title)),
    el("td", null, m.kind_zh, " ", el("small", null, m.kind_en)),
    el("td", { class: "num" }, String(m.stations.length)),
    el("td", null, phaseBadge(m.phase)),
    el("td", null, m.series_id ? "↻ 系列 series" : "")));
  const query = () => ({ from: from.value, to: isoDay(new Date(Date.parse(to.value) + 86400e3)) });
  const reports = el("section", { class: "card" }, el("h3", null, ...bi("出勤报表", "Attendance reports")),
    el("div", { class: "filters" }, el("label", { for: "f-from" }, "开始日期 From", from), el("label", { for: "f-to" }, "结束日期 To", to)),
    el("p", null, ...bi("各站点出勤", "By station"), " ", exportLinksFn("attendance-stations", query, false)),
    el("p", null, ...bi("各会议各站点", "By meeting and station"), " ", exportLinksFn("attendance", query, false)),
    el("p", null, ...bi("参会人员(脱敏)", "By person (masked)"), " ", exportLinksFn("attendance-people", query, true)));
  view(el("div", null,
    el("div", { class: "head-row" }, el("h2", null, ...bi("视频会议", "Video meetings")),
      r.can_create ? el("a", { class: "button", id: "m-new", href: "#/meetings/new" }, ...bi("新建会议", "New meeting")) : null),
    r.video ? null : el("p", { class: "note" }, ...bi("未配置视频服务地址：会议没有入会链接(hub -video-base)", "No video provider configured: meetings have no room link (hub -video-base)")),
    el("section", { class: "card" }, rows.length ? el("table", { id: "meetings-table" },
      el("thead", null, el("tr", null, ...["时间|Time", "会议|Title", "类型|Kind", "站点数|Stations", "状态|Phase", "|"].map((h) => {
        const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e));
      }))), el("tbody", null, ...rows)) : el("p", { class: "empty" }, ...bi("近期没有会议", "No meetings lately"))),
    reports));
}

// exportLinksFn is exportLinks with a query read when the button is pressed.
function exportLinksFn(kind, query, personal) {
  const wrap = exportLinks(kind, {}, personal);
  for (const b of wrap.querySelectorAll("button")) {
    const format = b.dataset.export.endsWith(".csv") ? "csv" : "xlsx";
    b.onclick = null;
    const nb = b.cloneNode(true);
    nb.addEventListener("click", () => { location.href = "/api/v1/export/" + kind + qs(Object.assign({}, query(), { format })); });
    b.replaceWith(nb);
  }
  return wrap;
}

// ---------- form ----------

async function pageMeetingForm(id) {
  let m = null;
  if (id) { try { m = await api("/api/v1/meetings/" + encodeURIComponent(id)); } catch (e) { view(errorBox(e)); return; } }
  const now = new Date(Date.now() + 3600e3); now.setMinutes(0, 0, 0);
  const title = el("input", { id: "m-title", required: true, maxlength: 100, value: m ? m.title : "" });
  const kind = el("select", { id: "m-kind" }, ...MKINDS.map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  kind.value = m ? m.kind : "training";
  const start = el("input", { id: "m-start", type: "datetime-local", required: true, value: localInput(m ? m.start : now) });
  const end = el("input", { id: "m-end", type: "datetime-local", required: true, value: localInput(m ? m.end : new Date(now.getTime() + 3600e3)) });
  const room = el("input", { id: "m-room", maxlength: 64, value: m ? m.room : "", placeholder: "自动生成 automatic" });
  const levels = LEVELS.map(([k, zh, en]) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "m-level", value: k, checked: m ? m.invite.levels.includes(k) : k === "town" || k === "village" }), zh + " ", el("small", null, en)));
  const under = el("select", { id: "m-under" }, el("option", { value: "" }, "全区 Whole district"), ...stationOptions(false));
  under.value = m ? m.invite.under : "";
  const picked = new Set(m ? m.invite.stations : []);
  const one = el("select", { id: "m-stations", multiple: true, size: 8 }, ...stationOptions(false));
  for (const o of one.options) o.selected = picked.has(o.value);
  const roles = MROLES.map(([k, zh, en]) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "m-role", value: k, checked: m ? m.roles.includes(k) : k === "head" }), zh + " ", el("small", null, en)));
  const veterans = el("input", { id: "m-veterans", type: "checkbox", checked: m ? m.veterans : false });
  const freq = el("select", { id: "m-freq" }, el("option", { value: "" }, "不重复 Once"), el("option", { value: "weekly" }, "每周 Weekly"), el("option", { value: "monthly" }, "每月 Monthly"));
  const count = el("input", { id: "m-count", type: "number", min: 1, max: 104, value: 4 });
  const until = el("input", { id: "m-until", type: "date" });
  const err = el("p", { id: "m-error", class: "bad", role: "alert" });
  const form = el("form", { id: "meeting-form", class: "card form" },
    el("label", { for: "m-title" }, ...bi("会议名称", "Title"), title),
    el("label", { for: "m-kind" }, ...bi("类型", "Kind"), kind),
    el("div", { class: "row" }, el("label", { for: "m-start" }, ...bi("开始", "Start"), start), el("label", { for: "m-end" }, ...bi("结束", "End"), end)),
    el("label", { for: "m-room" }, ...bi("会议室名称", "Room name"), room),
    el("fieldset", null, el("legend", null, ...bi("按层级邀请", "Invite by level")), ...levels,
      el("label", { for: "m-under" }, ...bi("范围(含下级)", "Within (and below)"), under)),
    el("label", { for: "m-stations" }, ...bi("逐个邀请(可多选)", "Invite one by one (multiple)"), one),
    el("fieldset", null, el("legend", null, ...bi("应到岗位", "Expected staff roles")), ...roles),
    el("label", { class: "check", for: "m-veterans" }, veterans, ...bi("退役军人参加(仅培训)", "Veterans attend (trainings only)")),
    id ? null : el("fieldset", null, el("legend", null, ...bi("重复", "Repeat")), freq,
      el("label", { for: "m-count" }, ...bi("次数", "Occurrences"), count), el("label", { for: "m-until" }, ...bi("或截止日期", "or until"), until)),
    err,
    el("div", { class: "actions" }, el("a", { class: "button secondary", href: id ? "#/meeting/" + id : "#/meetings" }, ...bi("返回", "Back")),
      el("button", { type: "submit", id: "m-save" }, ...bi("保存", "Save"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const body = {
      title: title.value, kind: kind.value, start: toISO(start.value), end: toISO(end.value), room: room.value.trim(),
      invite: { levels: [...form.querySelectorAll("input[name=m-level]:checked")].map((x) => x.value), under: under.value,
        stations: [...one.selectedOptions].map((o) => o.value) },
      roles: [...form.querySelectorAll("input[name=m-role]:checked")].map((x) => x.value), veterans: veterans.checked,
    };
    if (!id && freq.value) body.repeat = until.value ? { freq: freq.value, until: until.value } : { freq: freq.value, count: Number(count.value) };
    try {
      if (id) { await api("/api/v1/meetings/" + encodeURIComponent(id), { method: "PUT", body }); location.hash = "#/meeting/" + id; }
      else { const r = await api("/api/v1/meetings", { method: "POST", body }); location.hash = "#/meeting/" + r.meetings[0].id; }
    } catch (e) { err.replaceChildren(errorBox(e)); }
  });
  view(el("div", null, el("h2", null, ...(id ? bi("修改会议", "Change the meeting") : bi("新建会议", "New meeting"))), form));
  title.focus();
}

// ---------- a meeting and its live board ----------

const MB = { id: null, timer: null, pending: null };

function onMeetingEvent(ev) {
  if (!MB.id || ev.id !== MB.id || !document.getElementById("board")) return;
  clearTimeout(MB.pending);
  MB.pending = setTimeout(() => loadBoard(MB.id), 300);
}

function tallyTable(id, rows, keyName) {
  const head = ["" + keyName, "应到|Expected", "已到|Joined", "按时|On time", "迟到|Late", "提前离会|Left early", "缺席|Absent", "待入会|Not yet", "工作人员|Staff", "参会人员|People"];
  return el("table", { id, class: "tally" },
    el("thead", null, el("tr", null, ...head.map((h) => { const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e || "")); }))),
    el("tbody", null, ...rows.map((t) => el("tr", { "data-key": t.key, class: t.absent ? "has-absent" : "" },
      el("th", { scope: "row" }, t.name, " ", el("small", null, t.name_en || "")),
      el("td", { class: "num" }, t.expected), el("td", { class: "num" }, t.joined + " / " + t.expected), el("td", { class: "num" }, t.on_time),
      el("td", { class: "num" + (t.late ? " warn" : "") }, t.late ? "◔ " + t.late : "0"),
      el("td", { class: "num" + (t.left_early ? " warn" : "") }, t.left_early ? "↘ " + t.left_early : "0"),
      el("td", { class: "num" + (t.absent ? " bad" : "") }, t.absent ? "✕ " + t.absent : "0"),
      el("td", { class: "num" }, t.pending), el("td", { class: "num" }, t.staff), el("td", { class: "num" }, t.persons)))));
}

function followUpForm(mid, st) {
  const outcome = el("select", { "aria-label": "跟进结果 Outcome", class: "fu-outcome" }, ...OUTCOMES.map(([k, zh, en]) => el("option", { value: k }, zh + " " + en)));
  const note = el("input", { "aria-label": "备注 Note", class: "fu-note", maxlength: 500, placeholder: "备注 note" });
  const msg = el("span", { role: "status" });
  const f = el("form", { class: "followup", "data-station": st.id }, outcome, note, el("button", { type: "submit", class: "secondary" }, ...bi("记录", "Record")), msg);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await api("/api/v1/meetings/" + mid + "/followups", { method: "POST", body: { station: st.id, outcome: outcome.value, note: note.value } }); loadBoard(mid); }
    catch (e) { msg.replaceChildren(errorBox(e)); }
  });
  return f;
}

function stationLine(r, s) {
  const people = s.people.map((p) => el("li", null, clock(p.at), " ",
    p.kind === "staff" ? [p.staff_name || p.staff, " · ", p.role_zh || "", " (", p.method === "badge" ? "工作证 badge" : "密码 PIN", ")"]
      : [p.name || "—", " ", p.id_number, " (", p.method === "card" ? "身份证 ID card" : p.method, ")"],
    p.reported_late ? " · 补报 reported after the end" : ""));
  return el("tr", { "data-station": s.id, class: "rs-" + s.status },
    el("td", null, el("a", { href: "#/station/" + encodeURIComponent(s.id) }, s.name), el("br"), el("small", null, s.town_name || "")),
    el("td", null, statusBadge(s), s.reported_late ? el("div", { class: "note" }, "离线补报 reported offline") : null,
      s.missing_roles.length ? el("div", { class: "note warn" }, "缺岗 missing: " + s.missing_roles.map((k) => (MROLES.find((x) => x[0] === k) || [k, k])[1]).join("、")) : null),
    el("td", null, s.joined_at ? clock(s.joined_at) : "—", s.left_at ? [el("br"), "离开 left " + clock(s.left_at)] : null),
    el("td", null, s.online ? "● 在线 online" : "○ 离线 offline"),
    el("td", { class: "num" }, String(s.staff)), el("td", { class: "num" }, String(s.persons)),
    el("td", null, people.length ? el("details", null, el("summary", null, people.length + " 人 people"), el("ul", null, ...people)) : "—"));
}

async function loadBoard(id) {
  const board = document.getElementById("board");
  if (!board) return;
  let r;
  try { r = await api("/api/v1/meetings/" + encodeURIComponent(id) + "/roster"); } catch (e) { put(board, errorBox(e)); return; }
  const t = r.total;
  const absent = r.stations.filter((s) => s.status === "absent");
  put(board,
    el("div", { class: "tiles", id: "board-total" },
      el("div", { class: "tile" }, el("b", { id: "b-joined" }, t.joined + " / " + t.expected), el("span", null, ...bi("已入会 / 应到", "Joined / expected"))),
      el("div", { class: "tile" + (t.late ? " warn" : "") }, el("b", { id: "b-late" }, "◔ " + t.late), el("span", null, ...bi("迟到", "Late"))),
      el("div", { class: "tile" + (t.left_early ? " warn" : "") }, el("b", null, "↘ " + t.left_early), el("span", null, ...bi("提前离会", "Left early"))),
      el("div", { class: "tile" + (t.absent ? " bad" : "") }, el("b", { id: "b-absent" }, "✕ " + t.absent), el("span", null, ...bi("缺席", "Absent"))),
      el("div", { class: "tile" }, el("b", { id: "b-people" }, t.staff + " + " + t.persons), el("span", null, ...bi("工作人员 + 参会人员", "Staff + people")))),
    el("p", { class: "note" }, phaseBadge(r.phase), " ", ...bi("更新于 " + clock(r.at) + " · 宽限 " + Math.round(r.grace_s / 60) + " 分钟", "as of " + clock(r.at) + " · grace " + Math.round(r.grace_s / 60) + " min")),
    el("h3", null, ...bi("按层级", "By level")), tallyTable("by-level", r.by_level, "层级|Level"),
    el("h3", null, ...bi("按镇街", "By town")), tallyTable("by-town", r.by_town, "镇街|Town"),
    el("h3", null, ...bi("各站点", "Stations")),
    el("table", { id: "roster-table" },
      el("thead", null, el("tr", null, ...["站点|Station", "出勤|Status", "入会|Joined", "连接|Link", "工作人员|Staff", "参会人员|People", "签到名单|Roll-call"].map((h) => {
        const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e));
      }))), el("tbody", null, ...r.stations.map((s) => stationLine(r, s)))),
    el("h3", { id: "callback-h" }, ...bi("缺席站点回访", "Call back absent stations"), " (" + absent.length + ")"),
    absent.length ? el("table", { id: "callback" },
      el("thead", null, el("tr", null, ...["站点|Station", "联系电话|Contact", "跟进记录|Follow-ups", "|"].map((h) => { const [z, e] = h.split("|"); return el("th", null, z, el("br"), el("small", null, e || "")); }))),
      el("tbody", null, ...absent.map((s) => el("tr", { "data-station": s.id },
        el("td", null, "✕ ", s.name), el("td", null, s.contact || "—"),
        el("td", null, s.followups.length ? el("ul", null, ...s.followups.map((f) => el("li", null, clock(f.at), " ", f.by, ": ", f.outcome_zh, " ", el("small", null, f.outcome_en), f.note ? " — " + f.note : ""))) : "—"),
        el("td", null, S.me.can_write ? followUpForm(r.meeting.id, s) : null)))))
      : el("p", { class: "empty" }, ...bi("没有缺席站点", "No absent stations")));
}

async function pageMeeting(id) {
  let m;
  try { m = await api("/api/v1/meetings/" + encodeURIComponent(id)); } catch (e) { view(errorBox(e)); return; }
  MB.id = id;
  clearInterval(MB.timer);
  MB.timer = setInterval(() => { if (document.getElementById("board") && MB.id === id) loadBoard(id); else clearInterval(MB.timer); }, 20000);
  const acts = el("div", { class: "acts" });
  if (m.can_manage && !m.cancelled && m.phase !== "ended") {
    acts.append(el("a", { class: "button secondary", id: "m-edit", href: "#/meeting/" + id + "/edit" }, ...bi("修改", "Edit")), " ");
    const cancel = async (series) => {
      const reason = await ask(bi("取消会议", "Cancel the meeting"), series ? bi("取消本系列所有未结束的会议。", "Cancels every meeting of the series not ended.") : bi("各站点将收到取消通知。", "The stations are told."),
        bi("原因", "Reason"), false);
      if (reason === null) return;
      try { await api("/api/v1/meetings/" + id + "/cancel", { method: "POST", body: { series, reason } }); pageMeeting(id); } catch (e) { acts.append(errorBox(e)); }
    };
    acts.append(el("button", { type: "button", class: "secondary", id: "m-cancel", onclick: () => cancel(false) }, ...bi("取消会议", "Cancel")));
    if (m.series_id) acts.append(" ", el("button", { type: "button", class: "secondary", onclick: () => cancel(true) }, ...bi("取消整个系列", "Cancel the series")));
  }
  const roles = m.roles.map((k) => (MROLES.find((x) => x[0] === k) || [k, k])[1]).join("、") || "—";
  view(el("div", null,
    el("div", { class: "head-row" }, el("h2", { id: "m-h" }, m.title, " ", phaseBadge(m.phase)), acts),
    el("section", { class: "card", id: "meeting-info" }, el("dl", { class: "facts" },
      el("dt", null, ...bi("类型", "Kind")), el("dd", null, m.kind_zh, " ", el("small", null, m.kind_en)),
      el("dt", null, ...bi("时间", "Time")), el("dd", null, dateTime(m.start), " – ", dateTime(m.end)),
      el("dt", null, ...bi("入会链接", "Room link")), el("dd", { id: "m-link" }, m.link ? el("a", { href: m.link, rel: "noopener noreferrer" }, m.link) : ["—", " ", el("small", null, "未配置视频服务 no provider · " + m.room)]),
      el("dt", null, ...bi("受邀站点", "Invited")), el("dd", null, m.stations.length + " 个站点 stations"),
      el("dt", null, ...bi("应到岗位", "Roles")), el("dd", null, roles),
      el("dt", null, ...bi("退役军人参加", "Veterans")), el("dd", null, m.veterans ? "是 yes" : "否 no"),
      m.series_id ? [el("dt", null, ...bi("系列", "Series")), el("dd", null, "↻ " + m.series_id)] : null),
      el("p", null, ...bi("导出本次出勤", "Export this meeting"), " ", exportLinks("attendance", { meeting: id }, false), " · ",
        ...bi("参会人员", "People"), " ", exportLinks("attendance-people", { meeting: id }, true))),
    el("section", { class: "card", "aria-live": "polite" }, el("h3", null, ...bi("实时签到看板", "Live roll-call board")),
      el("div", { id: "board" }, el("p", { class: "empty" }, "加载中… Loading…")))));
  loadBoard(id);
}
