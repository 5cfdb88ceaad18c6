// The eventsim dashboard: plain JavaScript, no build step, nothing fetched from elsewhere.
//
// Every view reads the JSON API under /_eventsim/api/ and follows the simulator over one
// EventSource (server-sent events): "attempts" adds entries as they are recorded, "state"
// carries queue depths and the clock, "hello" and "gap" ask for a reload. The page never
// asks on a timer; a view reloads only when the stream says something changed.
"use strict";

const API = "/_eventsim/api";
const OUTCOMES = ["success", "error", "timeout", "crash", "throttled", "dropped", "moved"];
const WINDOWS = [
  ["10 s", 10e3], ["1 min", 60e3], ["5 min", 300e3], ["15 min", 900e3],
  ["1 h", 3600e3], ["6 h", 21600e3], ["1 day", 86400e3],
];
const MAX_BARS = 2000;
const STACK = 6; // sub-rows a timeline lane stacks overlapping bars on

const app = {
  view: null,           // the name of the view shown
  state: null,          // the last "state" message
  overview: null,       // GET /overview
  reloads: new Map(),   // view part -> pending reload timer
  timeline: { span: 60e3, end: null, follow: true, bars: new Map(), truncated: false },
  selected: { function: null, table: null, bucket: null },
};

// --- small helpers ---------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const message = body && body.message ? body.message : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

function post(path, body) {
  const options = { method: "POST" };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  return api(path, options);
}

function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function ms(value) {
  if (value === null || value === undefined) return "—";
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function dollars(value) {
  if (value === 0) return "$0";
  if (value >= 0.01) return `$${value.toFixed(4)}`;
  const digits = Math.min(20, Math.ceil(-Math.log10(value)) + 2); // three significant digits
  return `$${value.toFixed(digits)}`;
}

function outcomeBadge(outcome) {
  return el("span", { class: `badge o-${outcome}` }, outcome);
}

function message(kind, text) {
  return el("p", { class: `note ${kind}` }, text);
}

function failed(where, error) {
  where.replaceChildren(message("error", error.message || String(error)));
}

// A reload of one part of a view, soon: many stream messages in a burst make one request.
function reloadSoon(part, run, delay = 250) {
  if (app.reloads.has(part)) return;
  app.reloads.set(part, setTimeout(() => {
    app.reloads.delete(part);
    run();
  }, delay));
}

// --- the header and the live stream ------------------------------------------------------------

function showState(state) {
  app.state = state;
  document.getElementById("clock").textContent = time(state.now);
  const health = document.getElementById("health");
  health.textContent = state.health;
  health.className = `health h-${state.health}`;
  document.getElementById("inflight").textContent = `${state.in_flight} running`;
  document.getElementById("ledger-size").textContent =
    `${state.ledger.held.toLocaleString()} entries` +
    (state.ledger.evicted ? ` (${state.ledger.evicted.toLocaleString()} evicted)` : "");
  if (app.view === "queues") updateQueueCounts(state.queues);
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource(API + "/stream");
  source.addEventListener("open", () => {
    live.dataset.live = "yes";
    live.textContent = "live";
  });
  source.addEventListener("error", () => {
    live.dataset.live = "no";
    live.textContent = "reconnecting";
  });
  source.addEventListener("hello", () => {
    if (app.greeted) render(); // a reconnect: what is shown may be stale
    app.greeted = true;
  });
  source.addEventListener("gap", () => render());
  source.addEventListener("state", (event) => showState(JSON.parse(event.data)));
  source.addEventListener("attempts", (event) => onAttempts(JSON.parse(event.data)));
  app.source = source;
}

function onAttempts(entries) {
  const view = app.view;
  if (view === "timeline") addBars(entries);
  else if (view === "functions") reloadSoon("functions", () => loadFunctions(false), 1000);
  else if (view === "cost") reloadSoon("cost", renderCostBody);
  else if (view === "tables" && entries.some((e) => e.source.startsWith("dynamodb:"))) {
    reloadSoon("tables", loadTables);
  } else if (view === "buckets") addBucketAttempts(entries);
  else if (view === "queues") reloadSoon("queues", loadQueues, 400);
}

// --- routing -----------------------------------------------------------------------------------

const VIEWS = {
  functions: renderFunctions,
  timeline: renderTimeline,
  queues: renderQueues,
  tables: renderTables,
  buckets: renderBuckets,
  schedules: renderSchedules,
  explain: renderExplain,
  cost: renderCost,
};

function render() {
  const name = (location.hash || "#functions").slice(1).split("/")[0];
  app.view = VIEWS[name] ? name : "functions";
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === app.view);
  }
  const view = document.getElementById("view");
  if (view.dataset.view !== app.view) document.getElementById("detail").hidden = true;
  view.dataset.view = app.view;
  view.replaceChildren();
  VIEWS[app.view](view);
}

// --- the attempt panel -------------------------------------------------------------------------

async function showAttempt(seq) {
  const panel = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  panel.hidden = false;
  panel.dataset.seq = seq;
  body.replaceChildren(message("info", "loading…"));
  let entry;
  try {
    entry = await api(`/attempts/${seq}`);
  } catch (error) {
    failed(body, error);
    return;
  }
  document.getElementById("detail-title").textContent =
    `${entry.function || "(no function)"} · attempt ${entry.attempt}`;
  const facts = [
    ["outcome", outcomeBadge(entry.outcome)],
    ["source", entry.source],
    ["request id", entry.request_id],
    ["invocation", entry.invocation_type],
    ["started", time(entry.at)],
    ["duration", ms(entry.duration_ms)],
    ["billed", `${entry.billed_ms} ms`],
    ["init (cold start)", entry.init_ms === null ? "warm" : ms(entry.init_ms)],
    ["code", entry.code || "—"],
    ["reason", entry.reason || "—"],
    ["error type", entry.error_type || "—"],
  ];
  const records = entry.record_outcomes.length
    ? el("table", { class: "grid records" },
      el("thead", {}, el("tr", {}, el("th", {}, "record"), el("th", {}, "outcome"), el("th", {}, "attempt"))),
      el("tbody", {}, entry.record_outcomes.map((r) =>
        el("tr", {}, el("td", { class: "mono" }, r.id), el("td", {}, r.outcome), el("td", {}, r.attempt)))))
    : null;
  body.replaceChildren(...[
    el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    records ? el("h3", {}, "Records") : null, records,
    el("h3", {}, "Event"), el("pre", { class: "json event" }, json(entry.event)),
    el("h3", {}, "Result"), el("pre", { class: "json result" }, json(entry.payload)),
    el("h3", {}, "Log"), el("pre", { class: "log" }, entry.log || "(no log)"),
  ].filter(Boolean));
}

function attemptList(entries, { empty = "nothing yet" } = {}) {
  if (!entries.length) return message("info", empty);
  return el("table", { class: "grid attempts" },
    el("thead", {}, el("tr", {}, ["#", "function", "source", "attempt", "outcome", "duration", "started", "reason"]
      .map((h) => el("th", {}, h)))),
    el("tbody", {}, entries.map(attemptRow)));
}

function attemptRow(e) {
  const records = Object.entries(e.records || {}).map(([k, v]) => `${v} ${k}`).join(", ");
  return el("tr", { class: "attempt clickable", dataset: { seq: e.seq, outcome: e.outcome },
    onclick: () => showAttempt(e.seq) },
  el("td", { class: "mono" }, e.seq),
  el("td", {}, e.function || "(none)"),
  el("td", {}, e.source),
  el("td", {}, e.attempt),
  el("td", {}, outcomeBadge(e.outcome), e.record ? ` record ${e.record.outcome}` : ""),
  el("td", { class: "num" }, e.duration_ms ? ms(e.duration_ms) : "—"),
  el("td", {}, time(e.at)),
  el("td", { class: "reason" }, [e.reason || e.error_type || "", records ? ` [${records}]` : ""].join("")));
}

// --- functions ---------------------------------------------------------------------------------

function renderFunctions(view) {
  view.append(
    el("h1", {}, "Functions"),
    el("div", { id: "functions-table" }, message("info", "loading…")),
    el("div", { id: "function-detail" }),
  );
  loadFunctions(true);
}

async function loadFunctions(withDetail) {
  const where = document.getElementById("functions-table");
  if (!where) return;
  let functions;
  try {
    functions = await api("/functions");
  } catch (error) {
    failed(where, error);
    return;
  }
  const headers = ["function", "triggers", "invocations", "errors", "throttles", "cold starts",
    "p50", "p99", "concurrency now / peak", "last"];
  where.replaceChildren(el("table", { class: "grid functions" },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, functions.map((f) => el("tr", {
      class: "clickable" + (app.selected.function === f.name ? " selected" : ""),
      dataset: { function: f.name },
      onclick: () => selectFunction(f.name),
    },
    el("td", { class: "name" }, f.name),
    el("td", { class: "triggers" }, f.triggers.join(", ") || "—"),
    el("td", { class: "num invocations" }, f.invocations),
    el("td", { class: "num errors" + (f.errors ? " bad" : "") }, f.errors),
    el("td", { class: "num throttles" }, f.throttles),
    el("td", { class: "num cold" }, f.cold_starts),
    el("td", { class: "num p50" }, ms(f.p50_ms)),
    el("td", { class: "num p99" }, ms(f.p99_ms)),
    el("td", { class: "num concurrency", title: "environments running a request now / the most at once since start" },
      `${f.concurrency_now} / ${f.peak_concurrency}`),
    el("td", {}, time(f.last)))))));
  if (!app.selected.function && functions.length) app.selected.function = functions[0].name;
  if (withDetail) loadFunction();
  else reloadSoon("function-detail", () => loadFunction(true), 50);
}

function selectFunction(name) {
  app.selected.function = name;
  for (const row of document.querySelectorAll("table.functions tbody tr")) {
    row.classList.toggle("selected", row.dataset.function === name);
  }
  loadFunction();
}

async function loadFunction(keepForm = false) {
  const where = document.getElementById("function-detail");
  const name = app.selected.function;
  if (!where || !name) return;
  let f;
  try {
    f = await api(`/functions/${encodeURIComponent(name)}`);
  } catch (error) {
    failed(where, error);
    return;
  }
  const logs = el("pre", { class: "log", id: "function-log" }, f.log.join("\n") || "(no log yet)");
  const recent = el("div", { id: "function-recent" }, attemptList(f.recent));
  const existing = document.getElementById("invoke-form");
  if (keepForm && existing && existing.dataset.function === name) {
    document.getElementById("function-log").replaceWith(logs);
    document.getElementById("function-recent").replaceWith(recent);
    return;
  }
  where.replaceChildren(
    el("h2", {}, name, el("span", { class: "sub" }, ` ${f.handler} · ${f.memory_mb} MB · ${f.timeout_s} s · ${f.isolation}`)),
    el("div", { class: "columns" },
      el("div", {}, el("h3", {}, "Last log lines"), logs,
        el("h3", {}, "Recent attempts"), recent, olderButton(name)),
      invokeForm(name, f.sample)),
  );
}

function olderButton(name) {
  const holder = el("div", { class: "older" });
  let cursor = null;
  const button = el("button", { type: "button", onclick: async () => {
    const recent = document.querySelectorAll("#function-recent tr.attempt");
    const last = recent.length ? Number(recent[recent.length - 1].dataset.seq) : null;
    cursor = cursor === null ? last : cursor;
    try {
      const page = await api("/attempts" + query({ function: name, before: cursor, limit: 50 }));
      const body = document.querySelector("#function-recent tbody");
      if (body) for (const e of page.entries) body.append(attemptRow(e));
      cursor = page.next;
      if (page.next === null) button.replaceWith(message("info", "that is all the ledger holds"));
    } catch (error) {
      holder.append(message("error", error.message));
    }
  } }, "older attempts");
  holder.append(button);
  return holder;
}

function invokeForm(name, sample) {
  const event = el("textarea", { id: "invoke-event", rows: 14, spellcheck: "false" }, json(sample.event));
  const type = el("select", { id: "invoke-type" },
    el("option", { value: "RequestResponse" }, "RequestResponse (wait for the result)"),
    el("option", { value: "Event" }, "Event (asynchronous)"));
  const result = el("pre", { id: "invoke-result", class: "json" });
  const form = el("form", { id: "invoke-form", class: "panel", dataset: { function: name },
    onsubmit: async (e) => {
      e.preventDefault();
      let parsed;
      try {
        parsed = JSON.parse(event.value || "{}");
      } catch (error) {
        result.textContent = `not JSON: ${error.message}`;
        result.className = "json bad";
        return;
      }
      result.textContent = "invoking…";
      result.className = "json";
      try {
        const answer = await post(`/functions/${encodeURIComponent(name)}/invoke`,
          { event: parsed, invocation_type: type.value });
        result.className = answer.function_error ? "json bad" : "json good";
        result.textContent = answer.status_code === 202
          ? `queued (202): request ${answer.request_id}`
          : json(answer.payload);
        result.dataset.requestId = answer.request_id;
      } catch (error) {
        result.className = "json bad";
        result.textContent = error.message;
      }
    } },
  el("h3", {}, "Invoke"),
  el("label", {}, `Event (a sample ${sample.kind} event from eventsim's event builders)`), event,
  el("div", { class: "row" }, type, el("button", { type: "submit", id: "invoke-button" }, "Invoke")),
  result);
  return form;
}

// --- the timeline ------------------------------------------------------------------------------

function renderTimeline(view) {
  const t = app.timeline;
  const span = el("select", { id: "timeline-span", onchange: (e) => {
    t.span = Number(e.target.value);
    loadTimeline();
  } }, WINDOWS.map(([label, value]) => el("option", { value, selected: value === t.span }, label)));
  const follow = el("input", { type: "checkbox", id: "timeline-follow", checked: t.follow,
    onchange: (e) => { t.follow = e.target.checked; if (t.follow) { t.end = null; loadTimeline(); } } });
  const move = (direction) => () => {
    t.follow = false;
    follow.checked = false;
    t.end = (t.end || Date.now()) + direction * t.span / 2;
    loadTimeline();
  };
  view.append(
    el("h1", {}, "Timeline"),
    el("div", { class: "toolbar" },
      el("label", {}, "window ", span),
      el("button", { type: "button", id: "timeline-older", onclick: move(-1) }, "◀ older"),
      el("button", { type: "button", id: "timeline-newer", onclick: move(1) }, "newer ▶"),
      el("label", {}, follow, " follow live"),
      el("span", { class: "legend" }, OUTCOMES.map((o) => el("span", { class: `swatch o-${o}` }, o)),
        el("span", { class: "swatch partial", title: "a batch some of whose records failed" }, "partial batch"))),
    el("div", { id: "timeline-axis", class: "axis" }),
    el("div", { id: "timeline" }, message("info", "loading…")),
    el("p", { id: "timeline-note", class: "note info" }),
  );
  loadTimeline();
}

async function loadTimeline() {
  const t = app.timeline;
  const where = document.getElementById("timeline");
  if (!where) return;
  let answer;
  try {
    const params = t.end === null ? { limit: MAX_BARS } : { to: Math.round(t.end), from: Math.round(t.end - t.span), limit: MAX_BARS };
    if (t.end === null) {
      // Follow: end at the newest entry or the clock, whichever is later.
      const probe = await api("/timeline" + query({ limit: 1 }));
      const end = Math.max(probe.now, probe.newest || 0) + t.span * 0.05;
      params.to = Math.round(end);
      params.from = Math.round(end - t.span);
    }
    answer = await api("/timeline" + query(params));
  } catch (error) {
    failed(where, error);
    return;
  }
  t.start = answer.from;
  t.end = answer.to;
  t.rows = answer.rows;
  t.truncated = answer.truncated;
  t.bars = new Map(answer.bars.map((b) => [b.seq, b]));
  drawTimeline();
}

function addBars(entries) {
  const t = app.timeline;
  if (t.start === undefined) return;
  let moved = false;
  for (const entry of entries) {
    if (t.follow && entry.t > t.end) {
      t.end = entry.t + t.span * 0.05;
      t.start = t.end - t.span;
      moved = true;
    }
    if (entry.t >= t.start && entry.t <= t.end) t.bars.set(entry.seq, entry);
    if (entry.function && !t.rows.includes(entry.function)) t.rows = [...t.rows, entry.function].sort();
  }
  if (moved) for (const [seq, bar] of t.bars) if (bar.t < t.start) t.bars.delete(seq);
  while (t.bars.size > MAX_BARS) {
    t.bars.delete(Math.min(...t.bars.keys()));
    t.truncated = true;
  }
  drawTimeline();
}

function drawTimeline() {
  const t = app.timeline;
  const where = document.getElementById("timeline");
  if (!where) return;
  const width = t.end - t.start;
  const rows = new Map(t.rows.map((name) => [name, []]));
  for (const bar of t.bars.values()) {
    const row = bar.function || "(no function)";
    if (!rows.has(row)) rows.set(row, []);
    rows.get(row).push(bar);
  }
  // Bars that would overlap go on stacked sub-rows (at most STACK), so each can be clicked
  // and the stack's height shows how many ran at once.
  const trackPx = Math.max(where.clientWidth - 160, 200);
  const minimum = (6 / trackPx) * 100;
  where.replaceChildren(...[...rows.entries()].map(([name, bars]) => {
    const ends = [];
    const placed = bars.sort((a, b) => a.t - b.t || a.seq - b.seq).map((bar) => {
      const left = ((bar.t - t.start) / width) * 100;
      const size = Math.max((bar.duration_ms / width) * 100, minimum);
      let row = ends.findIndex((end) => end <= left);
      if (row < 0) row = ends.length < STACK ? ends.length : ends.indexOf(Math.min(...ends));
      ends[row] = left + size;
      const partial = (bar.records.failed || 0) + (bar.records.retried || 0) + (bar.records.discarded || 0);
      return el("div", {
        class: `bar o-${bar.outcome}` + (partial ? " partial" : ""),
        style: { left: `${left.toFixed(3)}%`, width: `${size.toFixed(3)}%`, top: `${4 + row * 14}px` },
        title: `${bar.function || "(none)"} · ${bar.source} · attempt ${bar.attempt} · ${bar.outcome}` +
          (bar.reason ? ` · ${bar.reason}` : "") + (partial ? ` · ${partial} record(s) failed` : "") +
          ` · ${time(bar.at)}`,
        dataset: { seq: bar.seq, outcome: bar.outcome },
        onclick: () => showAttempt(bar.seq),
      });
    });
    return el("div", { class: "lane", dataset: { function: name }, style: { height: `${Math.max(1, ends.length) * 14 + 8}px` } },
      el("div", { class: "lane-name", title: name }, name),
      el("div", { class: "track" }, placed));
  }));
  const axis = document.getElementById("timeline-axis");
  axis.replaceChildren(...[0, 1, 2, 3, 4].map((i) =>
    el("span", {}, time(new Date(t.start + (width * i) / 4).toISOString()))));
  const note = document.getElementById("timeline-note");
  note.textContent = `${t.bars.size} attempt(s) in this window` +
    (t.truncated ? ` — more than ${MAX_BARS} started in it: the newest are shown; choose a shorter window` : "");
}

// --- queues ------------------------------------------------------------------------------------

function renderQueues(view) {
  view.append(el("h1", {}, "Queues"), el("div", { id: "queues-table" }, message("info", "loading…")),
    el("div", { id: "queue-panel" }));
  loadQueues();
}

async function loadQueues() {
  const where = document.getElementById("queues-table");
  if (!where) return;
  let queues;
  try {
    queues = await api("/queues");
  } catch (error) {
    failed(where, error);
    return;
  }
  const headers = ["queue", "visible", "in flight", "delayed", "dead-letter queue", "feeds", ""];
  where.replaceChildren(el("table", { class: "grid queues" },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, queues.map((q) => el("tr", { dataset: { queue: q.name } },
      el("td", { class: "name" }, q.name, q.dead_letter_for.length ? el("span", { class: "sub" }, ` DLQ of ${q.dead_letter_for.join(", ")}`) : ""),
      el("td", { class: "num visible" }, q.visible),
      el("td", { class: "num in-flight" }, q.in_flight),
      el("td", { class: "num delayed" }, q.delayed),
      el("td", { class: "dlq", dataset: q.dead_letter ? { dlq: q.dead_letter.name } : {} },
        q.dead_letter ? [q.dead_letter.name, ": ", el("span", { class: "num dlq-depth" }, q.dead_letter.depth)] : "—"),
      el("td", {}, q.functions.join(", ") || "—"),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "peek", onclick: () => peek(q.name) }, "Peek"),
        el("button", { type: "button", class: "send", onclick: () => sendForm(q.name) }, "Send"),
        el("button", { type: "button", class: "purge", onclick: () => purge(q.name) }, "Purge"),
        q.dead_letter_for.length
          ? el("button", { type: "button", class: "redrive", onclick: () => redrive(q.name) }, `Redrive to ${q.dead_letter_for.join(", ")}`)
          : null,
        q.move_task ? el("span", { class: "sub task" }, ` last redrive: ${q.move_task.Status}, ${q.move_task.ApproximateNumberOfMessagesMoved} moved`) : null))))));
  if (app.state) updateQueueCounts(app.state.queues);
}

function updateQueueCounts(counts) {
  for (const row of document.querySelectorAll("table.queues tbody tr")) {
    const known = counts[row.dataset.queue];
    if (!known) continue;
    row.querySelector(".visible").textContent = known[0];
    row.querySelector(".in-flight").textContent = known[1];
    row.querySelector(".delayed").textContent = known[2];
    const dlq = row.querySelector(".dlq");
    const depth = row.querySelector(".dlq-depth");
    if (dlq && depth && counts[dlq.dataset.dlq]) {
      depth.textContent = counts[dlq.dataset.dlq].reduce((a, b) => a + b, 0);
    }
  }
}

function queuePanel(title, ...content) {
  const panel = document.getElementById("queue-panel");
  panel.replaceChildren(el("div", { class: "panel" }, el("h2", {}, title), ...content));
  return panel;
}

async function peek(name) {
  const panel = queuePanel(`${name}: messages (peeked, not received)`, message("info", "loading…"));
  try {
    const found = await api(`/queues/${encodeURIComponent(name)}/messages?limit=50`);
    panel.querySelector(".panel").replaceChildren(el("h2", {}, `${name}: messages (peeked, not received)`),
      ...["visible", "in_flight", "delayed"].map((state) => {
        const { count } = found[state];
        const mine = found.messages.filter((m) => m.state === state);
        return el("div", { class: `peek-state state-${state}` },
          el("h3", {}, `${state.replace("_", " ")}: ${count}`),
          mine.length ? el("ol", { class: "bodies" }, mine.map((m) => el("li", {
            title: `${m.id} — received ${m.receive_count} time(s), sent ${m.sent}` +
              (Object.keys(m.attributes).length ? ` — attributes: ${JSON.stringify(m.attributes)}` : ""),
          }, el("code", {}, m.body)))) : null,
          count > mine.length ? message("info", `and ${count - mine.length} more`) : null);
      }));
  } catch (error) {
    failed(panel, error);
  }
}

function sendForm(name) {
  const body = el("textarea", { id: "send-body", rows: 5, spellcheck: "false" }, '{"id": 1}');
  const delay = el("input", { id: "send-delay", type: "number", min: 0, max: 900, value: 0 });
  const result = el("p", { id: "send-result", class: "note" });
  queuePanel(`Send to ${name}`, el("form", { onsubmit: async (e) => {
    e.preventDefault();
    try {
      const sent = await post(`/queues/${encodeURIComponent(name)}/send`,
        { body: body.value, delay_seconds: Number(delay.value) || undefined });
      result.className = "note good";
      result.textContent = `sent: ${sent.message_id}`;
    } catch (error) {
      result.className = "note error";
      result.textContent = error.message;
    }
  } }, el("label", {}, "Body"), body, el("label", {}, "Delay (s) ", delay),
  el("div", { class: "row" }, el("button", { type: "submit", id: "send-button" }, "Send")), result));
}

async function purge(name) {
  if (!confirm(`Delete every message of ${name}?`)) return;
  try {
    const done = await post(`/queues/${encodeURIComponent(name)}/purge`);
    queuePanel(`Purged ${name}`, message("good", `${done.purged} message(s) deleted`));
  } catch (error) {
    queuePanel(`Purge ${name}`, message("error", error.message));
  }
  loadQueues();
}

async function redrive(name) {
  try {
    const task = await post(`/queues/${encodeURIComponent(name)}/redrive`);
    queuePanel(`Redrive ${name}`, message("good", `moving ${task.to_move} message(s) back to their queue`));
  } catch (error) {
    queuePanel(`Redrive ${name}`, message("error", error.message));
  }
  reloadSoon("queues", loadQueues, 100);
}

// --- tables ------------------------------------------------------------------------------------

function renderTables(view) {
  view.append(el("h1", {}, "Tables"), el("div", { id: "tables-list" }, message("info", "loading…")),
    el("div", { id: "table-items" }));
  loadTables(true);
}

async function loadTables(first) {
  const where = document.getElementById("tables-list");
  if (!where) return;
  let tables;
  try {
    tables = await api("/tables");
  } catch (error) {
    failed(where, error);
    return;
  }
  if (!tables.length) {
    where.replaceChildren(message("info", "no tables in this config"));
    return;
  }
  where.replaceChildren(el("table", { class: "grid tables" },
    el("thead", {}, el("tr", {}, ["table", "key", "items", "stream", "mapping", "checkpoint", "last record", "lag (records)"].map((h) => el("th", {}, h)))),
    el("tbody", {}, tables.flatMap((t) => {
      const mappings = t.mappings.length ? t.mappings : [null];
      return mappings.map((m, i) => el("tr", { class: "clickable", dataset: { table: t.name }, onclick: () => browseTable(t) },
        el("td", { class: "name" }, i ? "" : t.name),
        el("td", {}, i ? "" : [t.partition_key.join(":"), t.sort_key ? ` + ${t.sort_key.join(":")}` : ""].join("")),
        el("td", { class: "num items" }, i ? "" : t.items),
        el("td", {}, i ? "" : t.stream || "—"),
        el("td", {}, m ? `${m.function}${m.enabled ? "" : " (paused)"}` : "—"),
        el("td", { class: "num" }, m ? m.checkpoint ?? "—" : "—"),
        el("td", { class: "num" }, t.last_sequence ?? "—"),
        el("td", { class: "num lag" + (m && m.lag ? " bad" : "") }, m ? m.lag : "—")));
    }))));
  if (first && !app.selected.table) browseTable(tables[0]);
}

function browseTable(table) {
  app.selected.table = table.name;
  const where = document.getElementById("table-items");
  const pk = el("input", { id: "query-pk", placeholder: `${table.partition_key[0]} (empty: scan)` });
  const sk = table.sort_key ? el("input", { id: "query-sk", placeholder: `${table.sort_key[0]} begins with` }) : null;
  const items = el("div", { id: "items" });
  const load = async (cursor) => {
    try {
      const page = await api(`/tables/${encodeURIComponent(table.name)}/items` +
        query({ pk: pk.value, sk_prefix: sk ? sk.value : "", start: cursor, limit: 25 }));
      if (!cursor) items.replaceChildren();
      items.querySelector(".more")?.remove();
      if (!page.items.length && !cursor) items.append(message("info", "no items"));
      for (const item of page.items) items.append(el("pre", { class: "json item" }, json(item)));
      if (page.next) items.append(el("button", { type: "button", class: "more", onclick: () => load(page.next) }, "more"));
    } catch (error) {
      failed(items, error);
    }
  };
  where.replaceChildren(el("div", { class: "panel" }, el("h2", {}, `${table.name}: items`),
    el("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load(null); } },
      pk, sk, el("button", { type: "submit", id: "query-button" }, pk.value ? "Query" : "Scan / Query")),
    items));
  load(null);
}

// --- buckets -----------------------------------------------------------------------------------

function renderBuckets(view) {
  view.append(el("h1", {}, "Buckets"), el("div", { id: "buckets-list" }, message("info", "loading…")),
    el("div", { id: "bucket-panel" }));
  loadBuckets();
}

async function loadBuckets() {
  const where = document.getElementById("buckets-list");
  let buckets;
  try {
    buckets = await api("/buckets");
  } catch (error) {
    failed(where, error);
    return;
  }
  if (!buckets.length) {
    where.replaceChildren(message("info", "no buckets in this config"));
    return;
  }
  where.replaceChildren(el("div", { class: "tabs" }, buckets.map((b) => el("button", {
    type: "button", class: "tab" + (b.name === app.selected.bucket ? " active" : ""),
    dataset: { bucket: b.name }, onclick: () => openBucket(b),
  }, b.name))));
  openBucket(buckets.find((b) => b.name === app.selected.bucket) || buckets[0]);
}

function openBucket(bucket) {
  app.selected.bucket = bucket.name;
  for (const tab of document.querySelectorAll(".tabs .tab")) tab.classList.toggle("active", tab.dataset.bucket === bucket.name);
  const prefix = el("input", { id: "bucket-prefix", placeholder: "key prefix (a folder/)" });
  const status = el("p", { id: "upload-status", class: "note" });
  const picker = el("input", { type: "file", id: "upload-input", multiple: true,
    onchange: (e) => upload(bucket.name, prefix.value, [...e.target.files], status) });
  const zone = el("div", { id: "drop-zone", class: "drop-zone",
    ondragover: (e) => { e.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      upload(bucket.name, prefix.value, [...e.dataTransfer.files], status);
    } },
  el("strong", {}, `Drop files here to upload them to ${bucket.name}`),
  el("span", {}, bucket.functions.length ? ` — fires ${bucket.functions.join(", ")}` : " — no trigger watches this bucket"),
  el("label", { class: "picker" }, " or choose: ", picker));
  const objects = el("div", { id: "objects" });
  document.getElementById("bucket-panel").replaceChildren(el("div", { class: "panel" },
    el("h2", {}, bucket.name, el("span", { class: "sub" }, ` ${bucket.path}`)),
    zone, status,
    el("form", { class: "row", onsubmit: (e) => { e.preventDefault(); listObjects(bucket.name, prefix.value, null); } },
      prefix, el("button", { type: "submit" }, "List")),
    objects,
    el("h3", {}, "Attempts from this bucket (live)"),
    el("div", { id: "bucket-attempts" }, message("info", "none since this page opened"))));
  listObjects(bucket.name, "", null);
}

async function upload(bucket, prefix, files, status) {
  for (const file of files) {
    const key = (prefix || "") + file.name;
    status.className = "note";
    status.textContent = `uploading ${key}…`;
    try {
      const done = await api(`/buckets/${encodeURIComponent(bucket)}/objects` + query({ key }), {
        method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file,
      });
      status.className = "note good";
      status.textContent = `uploaded ${done.key} (${done.size} bytes): ${done.event}`;
    } catch (error) {
      status.className = "note error";
      status.textContent = `${key}: ${error.message}`;
    }
  }
  listObjects(bucket, document.getElementById("bucket-prefix")?.value || "", null);
}

async function listObjects(bucket, prefix, after) {
  const where = document.getElementById("objects");
  if (!where) return;
  try {
    const page = await api(`/buckets/${encodeURIComponent(bucket)}/objects` + query({ prefix, after, limit: 100 }));
    const rows = page.objects.map((o) => el("tr", { dataset: { key: o.key } },
      el("td", { class: "mono key" }, o.key), el("td", { class: "num" }, o.size),
      el("td", { class: "mono" }, o.etag || "—"), el("td", {}, time(o.modified))));
    if (!after) {
      where.replaceChildren(page.objects.length
        ? el("table", { class: "grid objects" }, el("thead", {}, el("tr", {}, ["key", "size", "ETag", "modified"].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
        : message("info", "no objects"));
    } else {
      where.querySelector("tbody").append(...rows);
    }
    where.querySelector(".more")?.remove();
    if (page.next) where.append(el("button", { type: "button", class: "more", onclick: () => listObjects(bucket, prefix, page.next) }, "more"));
  } catch (error) {
    failed(where, error);
  }
}

function addBucketAttempts(entries) {
  const where = document.getElementById("bucket-attempts");
  if (!where) return;
  const mine = entries.filter((e) => e.source === `s3:${app.selected.bucket}`);
  if (!mine.length) return;
  let body = where.querySelector("tbody");
  if (!body) {
    where.replaceChildren(el("table", { class: "grid attempts" },
      el("thead", {}, el("tr", {}, ["#", "function", "source", "attempt", "outcome", "duration", "started", "reason"].map((h) => el("th", {}, h)))),
      el("tbody")));
    body = where.querySelector("tbody");
  }
  for (const entry of mine) {
    const old = body.querySelector(`tr[data-seq="${entry.seq}"]`);
    const row = attemptRow(entry);
    if (old) old.replaceWith(row); else body.prepend(row);
  }
  reloadSoon("objects", () => listObjects(app.selected.bucket, document.getElementById("bucket-prefix")?.value || "", null));
}

// --- schedules ---------------------------------------------------------------------------------

async function renderSchedules(view) {
  const where = el("div", { id: "schedules-table" }, message("info", "loading…"));
  view.append(el("h1", {}, "Schedules"), where, el("p", { id: "fire-result", class: "note" }));
  let schedules;
  try {
    schedules = await api("/schedules?next=5");
  } catch (error) {
    failed(where, error);
    return;
  }
  if (!schedules.length) {
    where.replaceChildren(message("info", "no schedules in this config"));
    return;
  }
  where.replaceChildren(el("table", { class: "grid schedules" },
    el("thead", {}, el("tr", {}, ["schedule", "function", "expression", "time zone", "next fire times (in its time zone)", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, schedules.map((s) => el("tr", { dataset: { schedule: s.name } },
      el("td", { class: "name" }, s.name, s.enabled ? "" : el("span", { class: "sub" }, " (disabled)")),
      el("td", {}, s.function),
      el("td", { class: "mono" }, s.expression),
      el("td", {}, s.timezone),
      el("td", {}, el("ol", { class: "times" }, s.next.map((t) => el("li", { title: `${t.utc.replace(/\.\d+/, "")} UTC` }, t.local.replace("T", " ").replace(/\.\d+/, ""))))),
      el("td", {}, el("button", { type: "button", class: "fire", onclick: () => fire(s.name) }, "Fire now")))))));
}

async function fire(name) {
  const result = document.getElementById("fire-result");
  result.className = "note";
  result.textContent = `firing ${name}…`;
  try {
    const fired = await post(`/schedules/${encodeURIComponent(name)}/fire`);
    result.className = "note good";
    result.textContent = `${name} fired: request ${fired.request_id} queued, as a due firing is (its attempts appear in the timeline)`;
  } catch (error) {
    result.className = "note error";
    result.textContent = error.message;
  }
}

// --- explain -----------------------------------------------------------------------------------

function renderExplain(view) {
  const kind = el("select", { id: "explain-kind" },
    el("option", { value: "message" }, "SQS message id (or body text)"),
    el("option", { value: "key" }, "S3 key"),
    el("option", { value: "item" }, 'DynamoDB item key (JSON, e.g. {"pk": "a"})'));
  const input = el("input", { id: "explain-input", placeholder: "what to follow", size: 50 });
  const result = el("div", { id: "explain-result" });
  view.append(el("h1", {}, "Explain"),
    el("p", { class: "note info" }, "The life of one object, message or item, in time order: every attempt with its outcome, and where it ended."),
    el("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      result.replaceChildren(message("info", "searching…"));
      try {
        const life = await api("/explain" + query({ [kind.value]: input.value.trim() }));
        result.replaceChildren(el("pre", { class: "log explain-text" }, life.text),
          attemptList(life.entries, { empty: "no entries" }));
      } catch (error) {
        failed(result, error);
      }
    } }, kind, input, el("button", { type: "submit", id: "explain-button" }, "Explain")),
    result);
}

// --- cost --------------------------------------------------------------------------------------

function renderCost(view) {
  view.append(el("h1", {}, "Cost"), el("div", { id: "cost-body" }, message("info", "loading…")));
  renderCostBody();
}

async function renderCostBody() {
  const where = document.getElementById("cost-body");
  if (!where) return;
  let cost;
  try {
    cost = await api("/cost");
  } catch (error) {
    failed(where, error);
    return;
  }
  const p = cost.prices;
  where.replaceChildren(
    el("p", { class: "note info" },
      `What these invocations would cost on AWS Lambda (${p.region}, ${p.architecture}): billed duration × memory in GB-seconds × $${p.per_gb_second}, plus $${p.per_million_requests} per million requests. Prices taken ${p.taken} from ${p.source}; the free tier is not applied. Counted over the ${cost.ledger.held.toLocaleString()} entries the ledger holds` +
      (cost.ledger.evicted ? ` (${cost.ledger.evicted.toLocaleString()} older ones were evicted).` : ".")),
    el("table", { class: "grid cost" },
      el("thead", {}, el("tr", {}, ["function", "memory", "requests", "billed duration", "GB-seconds", "requests cost", "duration cost", "total", "per million such requests"].map((h) => el("th", {}, h)))),
      el("tbody", {}, cost.functions.map((f) => el("tr", { dataset: { function: f.function } },
        el("td", { class: "name" }, f.function),
        el("td", { class: "num" }, `${f.memory_mb} MB`),
        el("td", { class: "num requests" }, f.requests),
        el("td", { class: "num" }, ms(f.billed_ms)),
        el("td", { class: "num" }, f.gb_seconds >= 1 ? f.gb_seconds.toFixed(2) : f.gb_seconds.toPrecision(3)),
        el("td", { class: "num" }, dollars(f.request_cost)),
        el("td", { class: "num" }, dollars(f.duration_cost)),
        el("td", { class: "num total" }, dollars(f.total)),
        el("td", { class: "num" }, f.requests ? dollars((f.total / f.requests) * 1e6) : "—")))),
      el("tfoot", {}, el("tr", {}, el("td", { colspan: 7 }, "total"), el("td", { class: "num", id: "cost-total" }, dollars(cost.total)), el("td")))));
}

// --- start -------------------------------------------------------------------------------------

document.getElementById("detail-close").addEventListener("click", () => {
  document.getElementById("detail").hidden = true;
});
window.addEventListener("hashchange", render);
render();
connect();
