// The office page: plain JavaScript, no build step, every asset served by the app.
// Money arrives as decimal strings ("125000.00") and is only ever formatted as text here,
// never turned into a floating-point number.
"use strict";

const KEY_STORE = "dist.apiKey";
const $ = (id) => document.getElementById(id);

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

function headerRow(table, names, numeric = []) {
  const row = table.createTHead().insertRow();
  names.forEach((name, index) => {
    const th = document.createElement("th");
    th.textContent = name;
    if (numeric.includes(index)) th.className = "num";
    row.appendChild(th);
  });
}

class ApiError extends Error {}

async function api(path, options = {}) {
  const headers = { "X-API-Key": sessionStorage.getItem(KEY_STORE) || "", ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let detail = `The service answered ${response.status}.`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new ApiError(detail);
  }
  return response;
}

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

// --- sign in and tabs -------------------------------------------------------------------------

async function signIn(key) {
  sessionStorage.setItem(KEY_STORE, key);
  try {
    const status = await (await api("/tally/status")).json();
    $("who").textContent = `Signed in. Tally ${status.reachable}.`;
    $("signout").hidden = false;
    showError("signin-error", null);
    openTab(document.querySelector("nav [aria-selected=true]").dataset.tab);
  } catch (error) {
    sessionStorage.removeItem(KEY_STORE);
    $("who").textContent = "";
    showError("signin-error", error);
  }
}

function openTab(name) {
  document.querySelectorAll("nav [role=tab]").forEach((tab) => {
    const selected = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(selected));
    $(tab.dataset.tab).hidden = !selected;
  });
  if (!sessionStorage.getItem(KEY_STORE)) return;
  if (name === "report") loadReport();
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
        $("progress-text").textContent = `${run.phase}: ${run.rows_processed.toLocaleString("en-IN")} rows`;
      }
    } catch (_) { /* progress is best effort */ }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

function renderSummary(summary) {
  const box = $("import-summary");
  box.replaceChildren();
  const title = document.createElement("h3");
  title.textContent = summary.status === "dry_run" ? "Checked: nothing was saved" :
    summary.status === "duplicate" ? "Already imported: these exact bytes were the last import" : "Imported";
  const grid = document.createElement("div");
  grid.className = "grid";
  const figures = [["Rows", summary.rows_total], ["Imported", summary.rows_imported], ["Rejected", summary.rows_rejected],
    ["Units in stock", summary.stock_units], ["New activations", summary.activations_new],
    ["New retailers", summary.retailers_created], ["New products", summary.products_created], ["Run", summary.run_id]];
  for (const [label, value] of figures) {
    const item = document.createElement("div");
    item.innerHTML = `<span class="muted"></span><b></b>`;
    item.firstChild.textContent = label;
    item.lastChild.textContent = Number(value).toLocaleString("en-IN");
    item.dataset.figure = label;
    grid.appendChild(item);
  }
  box.append(title, grid);
  if (summary.changes) {
    const changes = document.createElement("p");
    const c = summary.changes;
    changes.textContent = `Would add ${c.new_imeis} IMEIs, move ${c.moved_imeis}, and mark ${c.disappeared_imeis} not seen; ` +
      `stock ${c.stock_units_before} → ${c.stock_units_after} units.`;
    box.appendChild(changes);
  }
  const errors = $("import-errors");
  errors.replaceChildren();
  if (summary.errors_total) {
    const heading = document.createElement("h3");
    heading.textContent = `Row errors (${summary.errors_total})`;
    const button = document.createElement("button");
    button.textContent = "Download errors as Excel";
    button.addEventListener("click", () => download(`/debug/sync-logs/${summary.run_id}/errors.xlsx`, "row_errors.xlsx")
      .catch((error) => showError("import-error", error)));
    const table = document.createElement("table");
    table.id = "row-errors";
    headerRow(table, ["Row", "Column", "Value", "Message"]);
    const body = table.createTBody();
    for (const error of summary.errors) {
      const row = body.insertRow();
      row.append(cell(error.row), cell(error.column), cell(error.value), cell(error.message));
    }
    const scroll = document.createElement("div");
    scroll.className = "scroll";
    scroll.appendChild(table);
    errors.append(heading, button, scroll);
  }
}

async function runImport(event) {
  event.preventDefault();
  showError("import-error", null);
  const file = $("import-file").files[0];
  if (!file) { $("import-error").textContent = "Choose the .xlsx file first."; return; }
  const form = new FormData();
  form.append("file", file);
  const stop = { done: false };
  $("import-progress").hidden = false;
  $("progress-bar").value = 2;
  $("progress-text").textContent = "uploading";
  $("import-button").disabled = true;
  pollProgress(stop);
  try {
    const query = $("dry-run").checked ? "?dry_run=true" : "";
    const summary = await (await api(`/run/prm-sync${query}`, { method: "POST", body: form })).json();
    $("progress-bar").value = 100;
    $("progress-text").textContent = "done";
    renderSummary(summary);
  } catch (error) {
    $("import-progress").hidden = true;
    showError("import-error", error);
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
  const line = document.createElement("p");
  line.textContent = `As of ${istTime(report.as_of)}; stock from import run ${report.prm_run_id ?? "—"} ` +
    `(${istTime(report.prm_run_at)}). ${report.rows.length === 1 ? "1 retailer owes" : `${report.rows.length} retailers owe`} ` +
    "more than their stock is worth.";
  head.appendChild(line);
  for (const warning of report.warnings) {
    const note = document.createElement("p");
    note.className = "badge";
    note.textContent = warning;
    head.appendChild(note);
  }
  const table = $("report-table");
  table.replaceChildren();
  headerRow(table, ["Code", "Retailer", "Owed", "Units", "Stock value", "OD", "Balance"], [2, 3, 4, 5]);
  const body = table.createTBody();
  for (const row of report.rows) {
    const tr = body.insertRow();
    tr.className = "clickable";
    tr.tabIndex = 0;
    const source = cell("");
    if (row.balance_source === "stale_cache") {
      const age = Math.round((Date.now() - new Date(row.balance_as_of).getTime()) / 1000);
      source.innerHTML = `<span class="badge"></span>`;
      source.firstChild.textContent = `stale · ${formatAge(age)}`;
    } else {
      source.textContent = row.balance_source;
    }
    tr.append(cell(row.retailer_codes.join(", ")), cell(row.retailer_name), cell(formatRupees(row.closing_balance), "num"),
      cell(row.stock_units + (row.valuation_complete ? "" : " *"), "num"), cell(formatRupees(row.stock_value), "num"),
      cell(formatRupees(row.od_amount), "num"), source);
    const open = () => openDrill(row.retailer_codes[0]);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } });
  }
  const foot = table.createTFoot().insertRow();
  foot.append(cell("Total"), cell(""), cell(formatRupees(report.totals.closing_balance), "num"), cell(""),
    cell(formatRupees(report.totals.stock_value), "num"), cell(formatRupees(report.totals.od_amount), "num"), cell(""));

  const why = $("report-why");
  why.replaceChildren();
  const heading = document.createElement("h3");
  heading.textContent = "Not in this report, and why";
  why.appendChild(heading);
  const lists = [
    ["No Tally ledger", report.unmatched_retailers.map((r) => `${r.retailer_code} ${r.retailer_name} (${r.stock_units} units): ${r.reason}`)],
    ["Balance unavailable", report.balance_unavailable.map((r) => `${r.retailer_codes.join(", ")} ${r.ledger_name}: ${r.reason}`)],
    ["Credit balance (we owe them)", report.credit_balances.map((r) => `${r.retailer_codes.join(", ")} ${r.ledger_name}: ${formatRupees(r.closing_balance)}`)],
    ["Goods without a price", report.unpriced_goods.map((g) => `${g.goods_id} ${g.name}: ${g.units} units`)],
  ];
  for (const [title, items] of lists) {
    const block = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${title}: ${items.length}`;
    const list = document.createElement("ul");
    for (const text of items) {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    }
    block.append(summary, list);
    why.appendChild(block);
  }
}

async function openDrill(code) {
  const box = $("drill");
  try {
    const drill = await (await api(`/reports/negative/${encodeURIComponent(code)}`)).json();
    box.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = `${drill.retailer_codes.join(", ")} · ${drill.retailer_name}`;
    const facts = document.createElement("p");
    facts.textContent = `Ledger ${drill.ledger_name ?? "—"} (${drill.mapping}); owes ${formatRupees(drill.closing_balance)} ` +
      `(${drill.balance_source ?? "no balance"}, ${drill.balance_age_seconds === null ? "—" : formatAge(drill.balance_age_seconds)} old); ` +
      `stock ${formatRupees(drill.stock_value)}; OD ${formatRupees(drill.od_amount)}.`;
    const table = document.createElement("table");
    table.id = "drill-table";
    headerRow(table, ["Goods", "Name", "Units", "Unit price", "Value"], [2, 3, 4]);
    const body = table.createTBody();
    for (const goods of drill.goods) {
      const row = body.insertRow();
      row.append(cell(goods.goods_id), cell(goods.name), cell(goods.units, "num"),
        cell(goods.unit_price === null ? "no price" : formatRupees(goods.unit_price), "num"), cell(formatRupees(goods.value), "num"));
    }
    const close = document.createElement("button");
    close.textContent = "Close";
    close.addEventListener("click", () => { box.hidden = true; });
    box.append(title, facts, table, close);
    box.hidden = false;
    close.focus();
  } catch (error) {
    showError("report-error", error);
  }
}

// --- prices -----------------------------------------------------------------------------------

async function loadProducts() {
  showError("prices-error", null);
  const search = $("price-search").value.trim();
  try {
    const page = await (await api(`/products?limit=100${search ? `&search=${encodeURIComponent(search)}` : ""}`)).json();
    const table = $("price-table");
    table.replaceChildren();
    headerRow(table, ["Goods ID", "Name", "Category", "Price", ""], [3]);
    const body = table.createTBody();
    for (const product of page.items) {
      const row = body.insertRow();
      row.dataset.goods = product.goods_id;
      const edit = document.createElement("button");
      edit.textContent = "Edit price";
      edit.addEventListener("click", () => editPrice(row, product));
      const action = cell("");
      action.appendChild(edit);
      row.append(cell(product.goods_id), cell(product.name), cell(product.category), cell(formatRupees(product.price), "num"), action);
    }
  } catch (error) {
    showError("prices-error", error);
  }
}

function editPrice(row, product) {
  const priceCell = row.cells[3];
  const input = document.createElement("input");
  input.value = product.price ?? "";
  input.inputMode = "decimal";
  input.setAttribute("aria-label", `New price for ${product.goods_id}`);
  const save = document.createElement("button");
  save.textContent = "Save";
  const submit = async () => {
    showError("prices-error", null);
    try {
      const result = await (await api("/admin/products/prices", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ updates: [{ goods_id: product.goods_id, price: input.value.trim() }], note: "edited on the page" }),
      })).json();
      const change = result.items[0];
      $("prices-ok").textContent = `${change.goods_id}: ${formatRupees(change.old_price)} → ${formatRupees(change.new_price)}`;
      loadProducts();
      loadHistory();
    } catch (error) {
      showError("prices-error", error);
    }
  };
  save.addEventListener("click", submit);
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") submit(); });
  priceCell.replaceChildren(input, save);
  input.focus();
}

async function loadHistory() {
  try {
    const page = await (await api("/debug/price-history?limit=10")).json();
    const table = $("history-table");
    table.replaceChildren();
    headerRow(table, ["When (IST)", "Goods ID", "Old", "New", "By", "Source"], [2, 3]);
    const body = table.createTBody();
    for (const change of page.items) {
      const row = body.insertRow();
      row.append(cell(istTime(change.changed_at)), cell(change.goods_id), cell(formatRupees(change.old_price), "num"),
        cell(formatRupees(change.new_price), "num"), cell(change.changed_by), cell(change.source));
    }
  } catch (error) {
    showError("prices-error", error);
  }
}

async function uploadPrices() {
  const file = $("price-file").files[0];
  if (!file) return;
  showError("prices-error", null);
  const form = new FormData();
  form.append("file", file);
  try {
    const result = await (await api("/admin/products/prices/upload", { method: "POST", body: form })).json();
    $("prices-ok").textContent = `Price list applied: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged` +
      (result.skipped ? `, ${result.skipped} skipped (blank price).` : ".");
    loadProducts();
    loadHistory();
  } catch (error) {
    showError("prices-error", error);
  }
  $("price-file").value = "";
}

// --- Tally ------------------------------------------------------------------------------------

async function loadTally() {
  showError("tally-error", null);
  try {
    const status = await (await api("/tally/status")).json();
    const list = $("tally-status");
    list.replaceChildren();
    const facts = [["Tally", `${status.reachable} at ${status.host}`], ["Company", status.company || "(the active one)"],
      ["Last success", istTime(status.last_success_at)], ["Last error", status.last_error || "none"],
      ["Cached balances", status.cache_entries],
      ["Oldest balance", status.oldest_entry_age_seconds === null ? "—" : formatAge(status.oldest_entry_age_seconds)]];
    for (const [term, value] of facts) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
  } catch (error) {
    showError("tally-error", error);
  }
}

async function refreshTally() {
  showError("tally-error", null);
  $("tally-ok").textContent = "";
  try {
    const result = await (await api("/admin/tally/refresh", { method: "POST" })).json();
    $("tally-ok").textContent = `Read ${result.ledgers} ledgers from Tally in ${result.duration_ms} ms.`;
    loadTally();
  } catch (error) {
    showError("tally-error", error);
  }
}

// --- wiring -----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    $("who").textContent = "";
    $("signout").hidden = true;
  });
  document.querySelectorAll("nav [role=tab]").forEach((tab) => tab.addEventListener("click", () => openTab(tab.dataset.tab)));
  $("import-form").addEventListener("submit", runImport);
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
  let searchTimer;
  $("price-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadProducts, 250); });
  $("price-file").addEventListener("change", uploadPrices);
  $("tally-refresh").addEventListener("click", refreshTally);
  if (sessionStorage.getItem(KEY_STORE)) signIn(sessionStorage.getItem(KEY_STORE));
});
