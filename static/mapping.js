// The mapping tab: which Tally ledger belongs to which PRM retailer. Unmatched retailers come
// with the service's suggestions; one click confirms one, a tick list confirms many, and the
// ledger picker searches Tally's ledgers by part of the name. Uses the helpers in app.js.
"use strict";

const MAPPING_PAGE = 200;
let pickerFor = null;  // the retailer the ledger picker is choosing for

async function loadMapping() {
  showError("mapping-error", null);
  const how = $("mapping-show").value;
  try {
    const page = await (await api(`/admin/ledger-mapping?limit=${MAPPING_PAGE}${how ? `&how=${how}` : ""}`)).json();
    renderMapping(page, how);
  } catch (error) {
    showError("mapping-error", error);
  }
}

function renderMapping(page, how) {
  const shown = page.items.length < page.total ? ` (the first ${formatCount(page.items.length)} shown)` : "";
  $("mapping-head").textContent = how === "unmatched"
    ? `${formatCount(page.total)} retailers have no Tally ledger yet${shown}; Tally's debtors group has ` +
      `${formatCount(page.ledgers_known)} ledgers.`
    : `${formatCount(page.total)} retailers${shown}.`;
  const table = $("mapping-table");
  table.replaceChildren();
  const wide = [1];
  headerRow(table, ["", "Code", "Retailer", "Tally ledger", ""], [], wide);
  const tickAll = element("input");
  tickAll.type = "checkbox";
  tickAll.setAttribute("aria-label", "Tick every suggestion");
  tickAll.addEventListener("change", () => table.querySelectorAll("tbody input[type=checkbox]").forEach((box) => {
    box.checked = tickAll.checked;
  }));
  table.tHead.rows[0].cells[0].appendChild(tickAll);
  const body = table.createTBody();
  for (const mapping of page.items) {
    const row = body.insertRow();
    row.dataset.code = mapping.retailer_code;
    const tick = cell("");
    const ledger = cell("");
    const actions = cell("", "actions");
    if (mapping.how === "unmatched" && mapping.suggestions.length) {
      const box = element("input");
      box.type = "checkbox";
      box.setAttribute("aria-label", `Confirm the suggestion for ${mapping.retailer_code}`);
      tick.appendChild(box);
      const choice = element("select");
      choice.setAttribute("aria-label", `Suggested ledger for ${mapping.retailer_code}`);
      for (const name of mapping.suggestions) choice.appendChild(new Option(name, name));
      ledger.append(choice, element("span", " suggested", "muted"));
      actions.appendChild(button("Confirm", () => setLedger(mapping.retailer_code, choice.value), "confirm"));
    } else if (mapping.how === "unmatched") {
      ledger.appendChild(element("span", "no ledger found by name or code", "muted"));
    } else {
      ledger.append(element("span", mapping.ledger_name), element("span", ` ${say("how", mapping.how)}`, "muted"));
    }
    actions.appendChild(button(mapping.how === "unmatched" ? "Choose…" : "Change…",
      () => openPicker(mapping), "secondary"));
    row.append(tick, cell(mapping.retailer_code), cell(mapping.retailer_name), ledger, actions);
    markWide(row, wide);
  }
}

async function setLedger(code, ledgerName) {
  showError("mapping-error", null);
  try {
    const mapping = await (await postJson(`/admin/retailers/${codePath(code)}/ledger`,
      { ledger_name: ledgerName }, "PUT")).json();
    $("mapping-ok").textContent = `${mapping.retailer_code} ${mapping.retailer_name} → ${mapping.ledger_name}.`;
    $("mapping-picker").hidden = true;
    loadMapping();
  } catch (error) {
    showError("mapping-error", error);
  }
}

async function confirmTicked() {
  showError("mapping-error", null);
  const mappings = [...$("mapping-table").querySelectorAll("tbody tr")]
    .filter((row) => row.querySelector("input[type=checkbox]")?.checked)
    .map((row) => ({ retailer_code: row.dataset.code, ledger_name: row.querySelector("select").value }));
  if (!mappings.length) { $("mapping-error").textContent = "Tick the suggestions to confirm first."; return; }
  try {
    const result = await (await postJson("/admin/ledger-mapping", { mappings })).json();
    $("mapping-ok").textContent = `Saved ${formatCount(result.updated)} ledgers` +
      (result.unchanged ? `; ${formatCount(result.unchanged)} were already set.` : ".");
    loadMapping();
  } catch (error) {
    showError("mapping-error", error);
  }
}

function openPicker(mapping) {
  pickerFor = mapping;
  $("picker-title").textContent = `Tally ledger for ${mapping.retailer_code} ${mapping.retailer_name}`;
  $("ledger-search").value = mapping.suggestions[0] ? "" : mapping.retailer_name.split(" ")[0];
  $("mapping-picker").hidden = false;
  $("ledger-search").focus();
  searchLedgers();
}

async function searchLedgers() {
  const text = $("ledger-search").value.trim();
  const list = $("ledger-results");
  try {
    const page = await (await api(`/tally/ledgers?limit=20${text ? `&search=${encodeURIComponent(text)}` : ""}`)).json();
    list.replaceChildren();
    for (const ledger of page.items) {
      const item = element("li");
      item.appendChild(button(ledger.ledger, () => setLedger(pickerFor.retailer_code, ledger.ledger), "pick"));
      item.appendChild(element("span", ` ${formatRupees(ledger.closing_balance)}`, "muted"));
      list.appendChild(item);
    }
    $("picker-note").textContent = page.total > page.items.length
      ? `${formatCount(page.total)} ledgers match; type more of the name to narrow them.`
      : page.total ? "" : "No ledger in Tally's debtors group has that in its name.";
  } catch (error) {
    showError("mapping-error", error);
  }
}

async function uploadMapping() {
  const file = $("mapping-file").files[0];
  if (!file) return;
  showError("mapping-error", null);
  const form = new FormData();
  form.append("file", file);
  try {
    const result = await (await api("/admin/ledger-mapping/upload", { method: "POST", body: form })).json();
    $("mapping-ok").textContent = `Mapping sheet applied: ${formatCount(result.updated)} ledgers set, ` +
      `${formatCount(result.unchanged)} unchanged.`;
    loadMapping();
  } catch (error) {
    showError("mapping-error", error);
  }
  $("mapping-file").value = "";
}

function wireMapping() {
  $("mapping-show").addEventListener("change", loadMapping);
  $("mapping-bulk").addEventListener("click", confirmTicked);
  $("mapping-sheet").addEventListener("click", () => download("/admin/ledger-mapping/sheet", "ledger_mapping.xlsx")
    .catch((error) => showError("mapping-error", error)));
  $("mapping-file").addEventListener("change", uploadMapping);
  let timer;
  $("ledger-search").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(searchLedgers, 250); });
  $("picker-close").addEventListener("click", () => { $("mapping-picker").hidden = true; });
}
