// The prices tab: products with an inline price editor, the last changes, and price lists that
// are previewed (a dry run) before they apply: each product old -> new, flagged when the file
// would undo a recent change, then Confirm. Uses the helpers in app.js.
"use strict";

const RECENT_DAYS = 30;  // a change younger than this that the file reverses is flagged as an undo
let pendingPriceList = null;

async function loadProducts() {
  showError("prices-error", null);
  const search = $("price-search").value.trim();
  try {
    const page = await (await api(`/products?limit=100${search ? `&search=${encodeURIComponent(search)}` : ""}`)).json();
    const table = $("price-table");
    table.replaceChildren();
    headerRow(table, ["Goods ID", "Name", "Category", "Price", ""], [3], [2]);
    const body = table.createTBody();
    for (const product of page.items) {
      const row = body.insertRow();
      row.dataset.goods = product.goods_id;
      const action = cell("");
      action.appendChild(button("Edit price", () => editPrice(row, product)));
      row.append(cell(product.goods_id), cell(product.name), cell(say("category", product.category)),
        cell(formatRupees(product.price), "num"), action);
      markWide(row, [2]);
    }
  } catch (error) {
    showError("prices-error", error);
  }
}

function editPrice(row, product) {
  const priceCell = row.cells[3];
  const input = element("input", null, "price-input");
  input.value = product.price ?? "";
  input.inputMode = "decimal";
  input.setAttribute("aria-label", `New price for ${product.goods_id}`);
  const submit = async () => {
    showError("prices-error", null);
    try {
      const result = await (await postJson("/admin/products/prices", {
        updates: [{ goods_id: product.goods_id, price: input.value.trim() }], note: "edited on the page" })).json();
      const change = result.items[0];
      $("prices-ok").textContent = `${change.goods_id}: ${formatRupees(change.old_price)} → ${formatRupees(change.new_price)}`;
      loadProducts();
      loadHistory();
    } catch (error) {
      showError("prices-error", error);
    }
  };
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") submit(); });
  priceCell.replaceChildren(input, button("Save", submit));
  priceCell.classList.add("editing");
  input.focus();
}

async function loadHistory() {
  try {
    const page = await (await api("/debug/price-history?limit=10")).json();
    const table = $("history-table");
    table.replaceChildren();
    const wide = [4, 5];
    headerRow(table, ["When (IST)", "Goods ID", "Old", "New", "By", "How"], [2, 3], wide);
    const body = table.createTBody();
    for (const change of page.items) {
      const row = body.insertRow();
      row.append(cell(istTime(change.changed_at)), cell(change.goods_id), cell(formatRupees(change.old_price), "num"),
        cell(formatRupees(change.new_price), "num"), cell(change.changed_by), cell(say("priceSource", change.source)));
      markWide(row, wide);
    }
  } catch (error) {
    showError("prices-error", error);
  }
}

// A change the file reverses: the new price is what the product had before its last change.
function undoes(item) {
  const last = item.last_change;
  if (!last || item.change !== "updated" || last.old_price !== item.new_price) return null;
  return secondsSince(last.changed_at) < RECENT_DAYS * 86400 ? last : null;
}

function sendPriceList(file, dryRun) {
  const form = new FormData();
  form.append("file", file);
  return api(`/admin/products/prices/upload?dry_run=${dryRun}`, { method: "POST", body: form });
}

async function previewPrices() {
  const file = $("price-file").files[0];
  if (!file) return;
  showError("prices-error", null);
  $("prices-ok").textContent = "";
  const box = $("price-preview");
  box.replaceChildren();
  try {
    const result = await (await sendPriceList(file, true)).json();
    pendingPriceList = file;
    const changed = result.items.filter((item) => item.change !== "unchanged");
    const undone = changed.filter(undoes);
    box.appendChild(element("h3", `${file.name}: ${formatCount(result.updated)} prices change, ` +
      `${formatCount(result.created)} new products, ${formatCount(result.unchanged)} unchanged` +
      `${result.skipped ? `, ${formatCount(result.skipped)} left as they were (blank price)` : ""}. Nothing is saved yet.`));
    if (undone.length) {
      box.appendChild(element("p", `${undone.length === 1 ? "1 change" : `${formatCount(undone.length)} changes`} would undo ` +
        "a recent price change (highlighted). Check them before you confirm.", "badge"));
    }
    const table = element("table");
    table.id = "preview-table";
    const wide = [1];
    headerRow(table, ["Goods ID", "Name", "Now", "After", "Note"], [2, 3], wide);
    const body = table.createTBody();
    for (const item of changed) {
      const row = body.insertRow();
      const last = undoes(item);
      const note = item.change === "created" ? "new product"
        : last ? `undoes the change of ${istTime(last.changed_at)} by ${last.changed_by ?? "—"} (${say("priceSource", last.source)})`
          : "";
      if (last) row.className = "undo";
      row.dataset.goods = item.goods_id;
      row.append(cell(item.goods_id), cell(""), cell(formatRupees(item.old_price), "num"),
        cell(formatRupees(item.new_price), "num"), cell(note));
      markWide(row, wide);
    }
    const scroll = element("div", null, "scroll");
    scroll.appendChild(table);
    const actions = element("div", null, "toolbar");
    actions.append(button(changed.length ? "Confirm: apply this price list" : "Nothing to apply", applyPrices, "confirm"),
      button("Cancel", cancelPrices, "secondary"));
    actions.firstChild.disabled = !changed.length;
    box.append(scroll, actions);
    fillNames(table);
  } catch (error) {
    showError("prices-error", error);
  }
  $("price-file").value = "";
}

// Names help the office check the list; they come from the catalogue, the file may lack them.
async function fillNames(table) {
  for (const row of [...table.tBodies[0].rows].slice(0, 50)) {
    try {
      const product = await (await api(`/products/${encodeURIComponent(row.dataset.goods)}`)).json();
      row.cells[1].textContent = product.name;
    } catch (_) { /* a new product: its name arrives with the file */ }
  }
}

function cancelPrices() {
  pendingPriceList = null;
  $("price-preview").replaceChildren();
  $("prices-ok").textContent = "Price list not applied.";
}

async function applyPrices() {
  if (!pendingPriceList) return;
  showError("prices-error", null);
  try {
    const result = await (await sendPriceList(pendingPriceList, false)).json();
    const changed = result.items.filter((item) => item.change !== "unchanged");
    const named = changed.slice(0, 10).map((item) => `${item.goods_id} ${formatRupees(item.old_price)} → ` +
      `${formatRupees(item.new_price)}`).join(", ");
    $("prices-ok").textContent = `Price list applied: ${formatCount(result.created)} new, ${formatCount(result.updated)} ` +
      `changed, ${formatCount(result.unchanged)} unchanged` +
      `${result.skipped ? `, ${formatCount(result.skipped)} left as they were (blank price)` : ""}.${named ? ` ${named}` : ""}` +
      `${changed.length > 10 ? ` and ${formatCount(changed.length - 10)} more.` : ""}`;
    pendingPriceList = null;
    $("price-preview").replaceChildren();
    loadProducts();
    loadHistory();
  } catch (error) {
    showError("prices-error", error);
  }
}

function wirePrices() {
  let timer;
  $("price-search").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(loadProducts, 250); });
  $("price-file").addEventListener("change", previewPrices);
  $("price-template").addEventListener("click", () => download("/admin/products/prices/template", "price_list.xlsx")
    .catch((error) => showError("prices-error", error)));
}
