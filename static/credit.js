// The credit tab: ageing of Tally's open bills (a bar chart of the buckets, the table, a click
// through to a retailer's bills), the hold list with Release, a line of OD and overdue over
// time, and who changed since last week. Charts are Chart.js, served from /ui/vendor/.
"use strict";

const REASON_WORDS = { over_limit: "over the credit limit", overdue: "bill overdue too long", uncovered: "owes more than stock" };
const CHANGE_WORDS = { entered_od: "came into the OD list", left_od: "left the OD list", entered_hold: "went on hold",
  left_hold: "came off hold", worse: "got worse", better: "got better" };
const BUCKETS = ["not_due", "overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_90_plus"];
const charts = {};

const rupees = (text) => Number(text);  // for the charts' scale only; every shown amount stays text
const isoDay = (date) => date.toISOString().slice(0, 10);
const dayWords = (iso) => (iso ? iso.split("-").reverse().join("-") : "—");  // 2026-12-09 -> 09-12-2026

function clearCreditCharts() {
  for (const name of Object.keys(charts)) { charts[name].destroy(); delete charts[name]; }
}

function drawChart(id, config) {
  if (typeof Chart === "undefined") return;  // the page still works as tables
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), { ...config, options: { animation: false, maintainAspectRatio: false, ...config.options } });
}

const rupeeTicks = { ticks: { callback: (value) => formatRupees(Number(value).toFixed(2)).replace(".00", "") } };

async function loadCredit() {
  showError("credit-error", null);
  const min = $("credit-min").value.trim();
  try {
    const report = await (await api(`/reports/ageing${min ? `?min_overdue=${encodeURIComponent(min)}` : ""}`)).json();
    renderAgeing(report);
    const [holds, history, changes] = await Promise.all([
      api("/credit/holds").then((r) => r.json()),
      api(`/reports/history?from=${isoDay(new Date(Date.now() - 90 * 86400000))}`).then((r) => r.json()),
      api(`/reports/changes?since=${isoDay(new Date(Date.now() - 7 * 86400000))}`).then((r) => r.json())]);
    renderHolds(holds);
    renderTrend(history);
    renderChanges(changes);
  } catch (error) {
    showError("credit-error", error);
  }
}

function renderAgeing(report) {
  const t = report.totals;
  $("credit-head").replaceChildren(element("p",
    `Retailers in the report: ${formatCount(t.rows)}, owing ${formatRupees(t.balance)}, of which ` +
    `${formatRupees(t.overdue_total)} is overdue; on hold: ${formatCount(t.on_hold)}. Bills ${say("source", report.bills_source)}` +
    (report.bills_age_seconds !== null ? `, ${formatAge(report.bills_age_seconds)} old` : "") + "."));
  for (const warning of report.warnings) $("credit-head").appendChild(element("p", warning, "warning"));
  drawChart("credit-buckets", { type: "bar", data: { labels: report.bucket_labels, datasets: [{
    label: "Outstanding", data: BUCKETS.map((name) => rupees(t[name])),
    backgroundColor: ["#7aa874", "#e0b84c", "#e08a3c", "#d0603a", "#a8322d"] }] },
    options: { plugins: { legend: { display: false } }, scales: { y: rupeeTicks } } });
  const table = $("credit-table");
  table.replaceChildren();
  headerRow(table, ["Code", "Retailer", "Balance", "Overdue", "Oldest", "Limit used", "OD", "Hold"], [2, 3, 4, 5, 6], [1]);
  const body = table.createTBody();
  for (const row of report.rows) {
    const tr = body.insertRow();
    tr.tabIndex = 0;
    tr.dataset.code = row.retailer_codes[0];
    tr.append(cell(row.retailer_codes.join(", ")), cell(row.retailer_name), cell(formatRupees(row.balance), "num"),
      cell(formatRupees(row.overdue_total), "num"),
      cell(row.oldest_overdue_days === null ? "—" : `${formatCount(row.oldest_overdue_days)} days`, "num"),
      cell(row.limit_used_pct === null ? "no limit" : `${row.limit_used_pct.replace(/\.00$/, "")}%`, "num"),
      cell(formatRupees(row.od_amount), "num"),
      cell(row.hold_reasons.map((r) => REASON_WORDS[r] ?? r).join(", ") || "—", row.hold_reasons.length ? "stale" : ""));
    const open = () => openBills(row.retailer_codes[0]);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
    markWide(tr, [1]);
  }
}

async function openBills(code) {
  showError("credit-error", null);
  try {
    const bills = await (await api(`/reports/ageing/${codePath(code)}`)).json();
    const box = $("credit-bills");
    const table = element("table");
    headerRow(table, ["Bill", "Bill date", "Due date", "Amount", "Days overdue", "Age"], [3, 4]);
    const body = table.createTBody();
    for (const bill of bills.bills) {
      body.insertRow().append(cell(bill.ref), cell(dayWords(bill.bill_date)), cell(dayWords(bill.due_date)),
        cell(formatRupees(bill.amount), "num"), cell(formatCount(bill.overdue_days), "num"), cell(say("bucket", bill.bucket)));
    }
    box.replaceChildren(element("h3", `${bills.retailer_name}: open bills in Tally (${bills.ledger_name})`),
      element("p", `Balance ${formatRupees(bills.balance)}; on account (paid or billed outside these bills) ` +
        `${formatRupees(bills.on_account)}.`), element("div", "", "scroll"), button("Close", () => { box.hidden = true; }, "secondary"));
    box.querySelector(".scroll").appendChild(table);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  } catch (error) {
    showError("credit-error", error);
  }
}

function renderHolds(holds) {
  const table = $("holds-table");
  table.replaceChildren();
  headerRow(table, ["Code", "Tally ledger", "Why", "Status", ""], [], [1]);
  const body = table.createTBody();
  for (const item of holds.items) {
    const tr = body.insertRow();
    tr.dataset.code = item.retailer_code;
    const actions = cell("", "actions");
    if (item.active) {
      const until = element("input");
      until.type = "date";
      until.value = isoDay(new Date(Date.now() + 7 * 86400000));
      until.setAttribute("aria-label", `Release ${item.retailer_code} until`);
      const reason = element("input");
      reason.placeholder = "reason, e.g. cheque promised";
      reason.setAttribute("aria-label", `Why ${item.retailer_code} is released`);
      actions.append(until, reason, button("Release", () => release(item.retailer_code, until.value, reason.value), "release"));
    } else {
      actions.appendChild(button("End release", () => endRelease(item.retailer_code), "secondary"));
    }
    const status = item.active ? "on hold" : `released until ${dayWords(item.released_until)} (${item.release_reason})`;
    tr.append(cell(item.retailer_codes.join(", ")), cell(item.ledger_name),
      cell(item.reasons.map((r) => REASON_WORDS[r] ?? r).join(", ")), cell(status), actions);
    markWide(tr, [1]);
  }
}

async function release(code, until, reason) {
  showError("credit-error", null);
  try {
    const done = await (await postJson(`/credit/holds/${codePath(code)}/release`, { until, reason })).json();
    $("credit-ok").textContent = `${done.retailer_code} may buy until ${dayWords(done.until)} (${done.reason}).`;
    loadCredit();
  } catch (error) {
    showError("credit-error", error);
  }
}

async function endRelease(code) {
  showError("credit-error", null);
  try {
    await api(`/credit/holds/${codePath(code)}/release`, { method: "DELETE" });
    $("credit-ok").textContent = `${code} is back on the hold list.`;
    loadCredit();
  } catch (error) {
    showError("credit-error", error);
  }
}

function renderTrend(history) {
  drawChart("credit-trend", { type: "line", data: { labels: history.days.map((d) => dayWords(d.day)), datasets: [
    { label: "OD", data: history.days.map((d) => rupees(d.od_amount)), borderColor: "#a8322d" },
    { label: "Overdue", data: history.days.map((d) => rupees(d.overdue_total)), borderColor: "#e08a3c" }] },
    options: { scales: { y: rupeeTicks } } });
}

function renderChanges(changes) {
  const list = $("credit-changes");
  list.replaceChildren();
  if (!changes.items.length) {
    list.appendChild(element("li", changes.compared_from ? `No change since ${dayWords(changes.compared_from)}.`
      : "Nothing to compare yet: the history starts with today's report.", "muted"));
  }
  for (const change of changes.items) {
    list.appendChild(element("li", `${change.ledger_name} (${change.retailer_codes.join(", ")}) ` +
      `${change.kinds.map((k) => CHANGE_WORDS[k] ?? k).join(", ")}: OD ${formatRupees(change.od_change)}, ` +
      `overdue ${formatRupees(change.overdue_change)}.`));
  }
}

function wireCredit() {
  $("credit-load").addEventListener("click", loadCredit);
  $("credit-xlsx").addEventListener("click", () => download("/reports/ageing?format=xlsx", "ageing.xlsx")
    .catch((error) => showError("credit-error", error)));
  $("credit-min").addEventListener("keydown", (event) => { if (event.key === "Enter") loadCredit(); });
}
