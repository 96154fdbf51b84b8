// The office page: plain JavaScript, no build step, every asset served by the app.
// Money arrives as decimal strings ("125000.00") and is only ever formatted as text here,
// never turned into a floating-point number. The API's field values stay as they are
// (by_name, stale_cache, admin_api); this page says them in office words (see WORDS).
// mapping.js and prices.js hold those two tabs; this file holds the rest and the wiring.
"use strict";

const KEY_STORE = "dist.apiKey";
const $ = (id) => document.getElementById(id);

const WORDS = {
  how: { explicit: "set by hand", by_name: "matched by name", by_code: "matched by code", unmatched: "no ledger yet" },
  priceSource: { admin_api: "set by hand", price_upload: "from price list" },
  category: { eco: "Ecosystem (chargers, home)" },
  reachable: { reachable: "answering", unreachable: "not answering", busy: "busy reading" },
  field: { price: "Price", goods_id: "Goods ID", name: "Name", category: "Category", ledger_name: "Tally ledger",
           retailer_code: "Retailer code", file: "File", note: "Note" },
  source: { live: "read from Tally just now", cache: "from the saved copy", stale_cache: "from the saved copy (Tally not answering)" },
  bucket: { not_due: "not due", overdue_1_30: "1-30 days", overdue_31_60: "31-60 days", overdue_61_90: "61-90 days",
            overdue_90_plus: "over 90 days" },
  phase: { reading: "Reading the file", validating: "Checking rows", comparing: "Comparing with the last import and saving",
           writing: "Saving", snapshot: "Saving stock", done: "Done" },
};

const say = (group, value) => (value === null || value === undefined ? "—" : WORDS[group][value] ?? String(value));

function formatCount(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-IN");
}

function formatRupees(text) {
  if (text === null || text === undefined) return "—";
  const negative = String(text).startsWith("-");
  const [whole, paise = "00"] = String(text).replace("-", "").split(".");
  let grouped = whole;
  if (whole.length > 3) {
    const head = whole.slice(0, -3);
    grouped = head.replace(/\B(?=(\d{2})+(?!\d))/g, ",") + "," + whole.slice(-3);
  }
  return (negative ? "-₹" : "₹") + grouped + "." + paise.padEnd(2, "0").slice(0, 2);
}

function formatAge(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

const secondsSince = (iso) => Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));

// "from Tally just now" / "from saved copy, 3 h old" (stale: Tally could not be asked again).
function balanceWords(source, asOf) {
  if (source === "live") return "from Tally just now";
  if (!source) return "no balance";
  const age = asOf ? `, ${formatAge(secondsSince(asOf))} old` : "";
  return source === "stale_cache" ? `from saved copy${age} (Tally not answering)` : `from saved copy${age}`;
}

function istTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-IN", { timeZone: "Asia/Kolkata", dateStyle: "medium", timeStyle: "short" });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(text, onClick, className) {
  const node = element("button", text, className);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

// Columns in `wide` are hidden on a phone (app.css), so the key ones stay on screen.
function headerRow(table, names, numeric = [], wide = []) {
  const row = table.createTHead().insertRow();
  names.forEach((name, index) => {
    const th = document.createElement("th");
    th.textContent = name;
    th.className = [numeric.includes(index) ? "num" : "", wide.includes(index) ? "wide" : ""].join(" ").trim();
    row.appendChild(th);
  });
}

function markWide(row, wide) {
  wide.forEach((index) => row.cells[index]?.classList.add("wide"));
}

class ApiError extends Error {
  constructor(status, body) {
    super(officeMessage(status, body));
    this.status = status;
    this.body = body;
  }
}

// One error item in office words: "Price must be more than 0 (row 2)", not "updates[0].price".
function itemWords(item, count) {
  const loc = item.loc || [];
  const message = String(item.msg || "").replace("greater than", "more than");
  if (loc[0] === "row") {
    const column = loc[2] && !message.toLowerCase().startsWith(String(loc[2]).toLowerCase()) ? `${loc[2]}: ` : "";
    return `${column}${message} (row ${loc[1]})`;
  }
  const field = loc[loc.length - 1];
  const label = WORDS.field[field] ?? "";
  const index = loc.find((part) => typeof part === "number");
  const line = index !== undefined && count > 1 ? ` (line ${index + 1})` : "";
  return `${label ? `${label} ` : ""}${message}${line}`;
}

function officeMessage(status, body) {
  const items = (body && body.errors) || [];
  const fromFields = items.filter((item) => (item.loc || [])[0] === "body" || (item.loc || [])[0] === "row");
  if (status === 422 && fromFields.length) {
    const shown = fromFields.slice(0, 5).map((item) => itemWords(item, fromFields.length)).join("; ");
    return `Nothing was saved: ${shown}${fromFields.length > 5 ? ` … and ${fromFields.length - 5} more` : ""}.`;
  }
  return (body && body.detail) || `The service answered ${status}.`;
}

// A retailer code as a path part: the service routes codes with {code:path}, so a slash stays a
// slash (JPR/0042) and each piece between slashes is encoded (spaces, #, ?, %).
function codePath(code) {
  return String(code).split("/").map(encodeURIComponent).join("/");
}

async function api(path, options = {}) {
  const headers = { "X-API-Key": sessionStorage.getItem(KEY_STORE) || "", ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, body);
  }
  return response;
}

const postJson = (path, body, method = "POST") => api(path, {
  method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

async function download(path, fallbackName) {
  const response = await api(path);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = match ? match[1] : fallbackName;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function showError(id, error) {
  $(id).textContent = error ? (error instanceof ApiError ? error.message : `Could not reach the service: ${error.message}`) : "";
}

// --- sign in, sign out and tabs ---------------------------------------------------------------

function showSignedIn(signedIn) {
  $("key-label").hidden = signedIn;
  $("key").hidden = signedIn;
  $("signin-button").hidden = signedIn;
  $("signout").hidden = !signedIn;
}

async function signIn(key) {
  sessionStorage.setItem(KEY_STORE, key);
  try {
    const status = await (await api("/tally/status")).json();
    $("who").textContent = `Signed in · Tally ${say("reachable", status.reachable)}`;
    $("key").value = "";
    showSignedIn(true);
    showError("signin-error", null);
    openTab(document.querySelector("nav [aria-selected=true]").dataset.tab);
  } catch (error) {
    sessionStorage.removeItem(KEY_STORE);
    $("who").textContent = "";
    showError("signin-error", error);
  }
}

// Sign out leaves nothing of the last user's data: tables, figures, fields, messages, the key.
function signOut() {
  sessionStorage.removeItem(KEY_STORE);
  document.querySelectorAll("main table").forEach((table) => table.replaceChildren());
  document.querySelectorAll("[data-clear]").forEach((box) => box.replaceChildren());
  document.querySelectorAll(".error, .ok, [role=status]").forEach((line) => { line.textContent = ""; });
  document.querySelectorAll("input").forEach((input) => {
    if (input.type === "checkbox") input.checked = false; else input.value = "";
  });
  $("drill").hidden = true;
  $("import-progress").hidden = true;
  $("mapping-picker").hidden = true;
  $("credit-bills").hidden = true;
  clearCreditCharts();
  pendingPriceList = null;
  showSignedIn(false);
  $("key").focus();
}

function openTab(name) {
  document.querySelectorAll("nav [role=tab]").forEach((tab) => {
    const selected = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(selected));
    $(tab.dataset.tab).hidden = !selected;
  });
  if (!sessionStorage.getItem(KEY_STORE)) return;
  if (name === "report") loadReport();
  if (name === "mapping") loadMapping();
  if (name === "credit") loadCredit();
  if (name === "prices") { loadProducts(); loadHistory(); }
  if (name === "tally") loadTally();
}

// --- import ----------------------------------------------------------------------------------

const PHASE_SHARE = { reading: 5, validating: 10, comparing: 75, writing: 85, snapshot: 95, done: 100 };

async function pollProgress(stop) {
  while (!stop.done) {
    try {
      const runs = (await (await api("/debug/sync-logs?status=running&limit=1")).json()).items;
      if (runs.length) {
        const run = runs[0];
        let share = PHASE_SHARE[run.phase] ?? 5;
        if (run.phase === "validating" && run.rows_total) share = 10 + Math.round(65 * run.rows_processed / run.rows_total);
        $("progress-bar").value = share;
        $("progress-text").textContent = `${say("phase", run.phase)}: ${formatCount(run.rows_processed)} rows`;
      }
    } catch (_) { /* progress is best effort */ }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

function issueTable(id, title, issues, total) {
  const box = element("div", null, "issues");
  const heading = element("h3", `${title} (${formatCount(total)})`);
  const table = element("table");
  table.id = id;
  headerRow(table, ["Row", "Column", "Value", "Message"]);
  const body = table.createTBody();
  for (const issue of issues) {
    const row = body.insertRow();
    row.append(cell(issue.row), cell(issue.column), cell(issue.value), cell(issue.message));
  }
  const scroll = element("div", null, "scroll");
  scroll.appendChild(table);
  box.append(heading, scroll);
  return box;
}

function renderSummary(summary) {
  const box = $("import-summary");
  box.replaceChildren();
  const checking = summary.status === "dry_run";
  const title = element("h3", checking ? "Checked: nothing was saved" :
    summary.status === "duplicate" ? "Already imported: this exact file was the last import, so nothing changed" : "Imported");
  const grid = element("div", null, "grid");
  const figures = [["Rows", summary.rows_total], [checking ? "Would import" : "Imported", summary.rows_imported],
    ["Rejected", summary.rows_rejected], ["Units in stock", summary.stock_units],
    [checking ? "New activations found" : "New activations", summary.activations_new],
    [checking ? "New retailers found" : "New retailers", summary.retailers_created],
    [checking ? "New products found" : "New products", summary.products_created], ["Run", summary.run_id]];
  for (const [label, value] of figures) {
    const item = element("div");
    item.append(element("span", label, "muted"), element("b", label === "Run" ? String(value) : formatCount(value)));
    item.dataset.figure = label;
    grid.appendChild(item);
  }
  box.append(title, grid);
  if (summary.status === "duplicate") {
    box.appendChild(button("Import again", () => runImport({ force: true }), "again"));
  }
  if (summary.changes) {
    const c = summary.changes;
    box.appendChild(element("p", `Would add ${formatCount(c.new_imeis)} IMEIs, move ${formatCount(c.moved_imeis)}, and mark ` +
      `${formatCount(c.disappeared_imeis)} not seen; stock ${formatCount(c.stock_units_before)} → ` +
      `${formatCount(c.stock_units_after)} units.`));
  }
  const issues = $("import-errors");
  issues.replaceChildren();
  if (summary.errors_total) {
    const errors = issueTable("row-errors", "Row errors", summary.errors, summary.errors_total);
    errors.insertBefore(button("Download errors as Excel", () => download(
      `/debug/sync-logs/${summary.run_id}/errors.xlsx`, "row_errors.xlsx").catch((error) => showError("import-error", error))),
    errors.lastChild);
    issues.appendChild(errors);
  }
  if (summary.warnings.length) {
    issues.appendChild(issueTable("row-warnings", "Warnings (imported, but check)", summary.warnings,
      summary.warnings.length));
  }
}

// The service refuses a file that halves the stock; the office can still say "yes, it is real".
function offerShrink(error) {
  const numbers = (error.body?.detail || "").match(/leaves (\d+) units.*? the (\d+) after/);
  const [after, before] = numbers ? [numbers[1], numbers[2]] : [null, null];
  const box = $("import-summary");
  box.replaceChildren();
  $("import-error").textContent = numbers
    ? `This file leaves ${formatCount(after)} units in retailer stock, fewer than half of the ${formatCount(before)} ` +
      "now. It may cover too short a date range. Nothing was imported."
    : error.message;
  box.appendChild(button(numbers ? `Import anyway (stock falls from ${formatCount(before)} to ${formatCount(after)})`
    : "Import anyway", () => runImport({ confirm_shrink: true }), "again"));
}

async function runImport(choices = {}) {
  showError("import-error", null);
  const file = $("import-file").files[0];
  if (!file) { $("import-error").textContent = "Choose the .xlsx file first."; return; }
  const form = new FormData();
  form.append("file", file);
  const stop = { done: false };
  $("import-progress").hidden = false;
  $("progress-bar").value = 2;
  $("progress-text").textContent = "Uploading";
  $("import-button").disabled = true;
  pollProgress(stop);
  try {
    const query = new URLSearchParams({ dry_run: String($("dry-run").checked), ...choices });
    const summary = await (await api(`/run/prm-sync?${query}`, { method: "POST", body: form })).json();
    $("progress-bar").value = 100;
    $("progress-text").textContent = "Done";
    renderSummary(summary);
  } catch (error) {
    $("import-progress").hidden = true;
    if (error instanceof ApiError && error.status === 409 && error.body?.errors?.[0]?.type === "shrink") offerShrink(error);
    else showError("import-error", error);
  } finally {
    stop.done = true;
    $("import-button").disabled = false;
  }
}

// --- OD report --------------------------------------------------------------------------------

async function loadReport() {
  showError("report-error", null);
  try {
    renderReport(await (await api("/reports/negative")).json());
  } catch (error) {
    showError("report-error", error);
  }
}

function renderReport(report) {
  const head = $("report-head");
  head.replaceChildren();
  head.appendChild(element("p", `As of ${istTime(report.as_of)}; stock from import run ${report.prm_run_id ?? "—"} ` +
    `(${istTime(report.prm_run_at)}). ${report.rows.length === 1 ? "1 retailer owes" :
      `${formatCount(report.rows.length)} retailers owe`} more than their stock is worth.`));
  for (const warning of report.warnings) head.appendChild(element("p", warning, "badge"));
  const table = $("report-table");
  table.replaceChildren();
  const wide = [0, 3, 4, 6];
  headerRow(table, ["Code", "Retailer", "Owed", "Units", "Stock value", "OD", "Balance"], [2, 3, 4, 5], wide);
  const body = table.createTBody();
  for (const row of report.rows) {
    const tr = body.insertRow();
    tr.className = "clickable";
    tr.tabIndex = 0;
    const source = cell(balanceWords(row.balance_source, row.balance_as_of));
    if (row.balance_source === "stale_cache") source.className = "stale";
    tr.append(cell(row.retailer_codes.join(", ")), cell(row.retailer_name), cell(formatRupees(row.closing_balance), "num"),
      cell(formatCount(row.stock_units) + (row.valuation_complete ? "" : " *"), "num"), cell(formatRupees(row.stock_value), "num"),
      cell(formatRupees(row.od_amount), "num"), source);
    markWide(tr, wide);
    const open = () => openDrill(row.retailer_codes[0]);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } });
  }
  const foot = table.createTFoot().insertRow();
  foot.append(cell("Total"), cell(""), cell(formatRupees(report.totals.closing_balance), "num"), cell(""),
    cell(formatRupees(report.totals.stock_value), "num"), cell(formatRupees(report.totals.od_amount), "num"), cell(""));
  markWide(foot, wide);
  foot.cells[1].textContent = "Total";

  const why = $("report-why");
  why.replaceChildren();
  why.appendChild(element("h3", "Not in this report, and why"));
  const lists = [
    ["No Tally ledger", report.unmatched_retailers.map((r) =>
      `${r.retailer_code} ${r.retailer_name} (${formatCount(r.stock_units)} units): no Tally ledger found by name or code`)],
    ["Balance unavailable", report.balance_unavailable.map((r) => `${r.retailer_codes.join(", ")} ${r.ledger_name}: ${r.reason}`)],
    ["Credit balance (we owe them)", report.credit_balances.map((r) => `${r.retailer_codes.join(", ")} ${r.ledger_name}: ${formatRupees(r.closing_balance)}`)],
    ["Goods without a price", report.unpriced_goods.map((g) => `${g.goods_id} ${g.name}: ${formatCount(g.units)} units`)],
  ];
  for (const [title, items] of lists) {
    const block = element("details");
    const list = element("ul");
    for (const text of items) list.appendChild(element("li", text));
    block.append(element("summary", `${title}: ${items.length}`), list);
    if (title === "No Tally ledger" && items.length) {
      block.appendChild(button("Set their ledgers on the Mapping tab", () => openTab("mapping")));
    }
    why.appendChild(block);
  }
}

async function openDrill(code) {
  const box = $("drill");
  try {
    const drill = await (await api(`/reports/negative/${codePath(code)}`)).json();
    box.replaceChildren();
    const title = element("h3", `${drill.retailer_codes.join(", ")} · ${drill.retailer_name}`);
    const facts = element("p", `Ledger ${drill.ledger_name ?? "—"} (${say("how", drill.mapping)}); owes ` +
      `${formatRupees(drill.closing_balance)} (${balanceWords(drill.balance_source, drill.balance_as_of)}); stock ${formatRupees(drill.stock_value)}; OD ${formatRupees(drill.od_amount)}.`);
    const table = element("table");
    table.id = "drill-table";
    headerRow(table, ["Goods", "Name", "Units", "Unit price", "Value"], [2, 3, 4], [1]);
    const body = table.createTBody();
    for (const goods of drill.goods) {
      const row = body.insertRow();
      row.append(cell(goods.goods_id), cell(goods.name), cell(formatCount(goods.units), "num"),
        cell(goods.unit_price === null ? "no price" : formatRupees(goods.unit_price), "num"), cell(formatRupees(goods.value), "num"));
      markWide(row, [1]);
    }
    const scroll = element("div", null, "scroll");
    scroll.appendChild(table);
    const close = button("Close", () => { box.hidden = true; });
    box.append(title, facts, scroll, close);
    box.hidden = false;
    close.focus();
  } catch (error) {
    showError("report-error", error);
  }
}

// --- Tally ------------------------------------------------------------------------------------

async function loadTally() {
  showError("tally-error", null);
  try {
    const status = await (await api("/tally/status")).json();
    const list = $("tally-status");
    list.replaceChildren();
    const facts = [["Tally", `${say("reachable", status.reachable)} at ${status.host}`],
      ["Company", status.company || "(the one open in Tally)"], ["Debtors group", status.debtors_group],
      ["Last read", istTime(status.last_success_at)], ["Last problem", status.last_error || "none"],
      ["Saved balances", formatCount(status.cache_entries)],
      ["Oldest saved balance", status.oldest_entry_age_seconds === null ? "—" : `${formatAge(status.oldest_entry_age_seconds)} old`]];
    for (const [term, value] of facts) list.append(element("dt", term), element("dd", value));
  } catch (error) {
    showError("tally-error", error);
  }
}

async function refreshTally() {
  showError("tally-error", null);
  $("tally-ok").textContent = "";
  try {
    const result = await (await api("/admin/tally/refresh", { method: "POST" })).json();
    $("tally-ok").textContent = `Read ${formatCount(result.ledgers)} ledgers from Tally in ${formatCount(result.duration_ms)} ms.`;
    loadTally();
  } catch (error) {
    showError("tally-error", error);
  }
}

// --- wiring -----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
  $("signout").addEventListener("click", signOut);
  document.querySelectorAll("nav [role=tab]").forEach((tab) => tab.addEventListener("click", () => openTab(tab.dataset.tab)));
  $("import-form").addEventListener("submit", (event) => { event.preventDefault(); runImport(); });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    $("import-file").files = event.dataTransfer.files;
  });
  $("report-load").addEventListener("click", loadReport);
  $("report-xlsx").addEventListener("click", () => download("/reports/negative?format=xlsx", "od_report.xlsx")
    .catch((error) => showError("report-error", error)));
  $("report-csv").addEventListener("click", () => download("/reports/negative?format=csv", "od_report.csv")
    .catch((error) => showError("report-error", error)));
  wireMapping();
  wireCredit();
  wirePrices();
  $("tally-refresh").addEventListener("click", refreshTally);
  showSignedIn(false);
  if (sessionStorage.getItem(KEY_STORE)) signIn(sessionStorage.getItem(KEY_STORE));
});
