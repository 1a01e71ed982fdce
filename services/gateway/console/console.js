// The store associate console (API.md: Store console). Plain DOM, no build
// step; every call goes to this gateway's REST API with the associate's token,
// and every refusal shows the problem+json detail the gateway answered.

const TOKEN_KEY = "omni-console-token";
const POLL_MS = 4000;
const BACKGROUND_POLL_MS = 15000;
const state = {
  token: "",
  claims: null,
  store: null, // the associate's location (GET /v1/locations)
  page: "tasks",
  taskType: "",
  cards: new Map(), // task key -> {signature, node}
  pollTimer: 0,
  customers: {}, // picker name -> chosen customer
  till: { lines: [], quote: null },
  aisle: { quote: null },
};

// ---------------------------------------------------------------- helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

const $ = (id) => document.getElementById(id);

// replaceChildren without the null/undefined/false that conditionals leave
// (the DOM would print them as text).
function put(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

function money(value) {
  if (!value) return "";
  const amount = (value.amount_minor / 100).toFixed(2);
  return (value.currency === "USD" ? "$" : value.currency + " ") + amount;
}

function parseMinor(text) {
  const cleaned = String(text || "").replace(/[^0-9.]/g, "");
  if (!cleaned) return null;
  const value = Math.round(Number(cleaned) * 100);
  return Number.isFinite(value) ? value : null;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function show(kind, text) {
  const box = $("message");
  put(box, text ? el("div", { class: kind, text }) : "");
  if (text && kind === "error") box.scrollIntoView({ block: "nearest" });
}

class ApiError extends Error {
  constructor(status, problem) {
    const fields = (problem.errors || []).map((e) => `\n  ${e.field}: ${e.message}`).join("");
    const title = problem.title || `HTTP ${status}`;
    super(`${title}: ${problem.detail || "the gateway refused this"}${fields}`);
    this.status = status;
    this.problem = problem;
  }
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// One call to the gateway. `key` is the action's Idempotency-Key: a retried
// click of the same action reuses it, so nothing is done twice.
async function api(method, path, body, key) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Idempotency-Key"] = key || newKey();
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    const lost = new Error("The gateway cannot be reached (" + error.message + "). Check the network and try again.");
    lost.retryable = true;
    throw lost;
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && state.token) {
      signOut();
      throw new ApiError(401, { ...data, detail: (data.detail || "token refused") + ". Sign in again." });
    }
    const refused = new ApiError(response.status, data);
    // "Try again" answers are not kept for the key: the same request may be sent again.
    refused.retryable = response.status >= 500 || response.status === 429 || response.headers.has("Retry-After");
    throw refused;
  }
  return data;
}

// A sale, order or return sent with one Idempotency-Key while its body stays
// the same and its outcome is unknown (lost answer, 429, 503): pressing again
// is the same request. A definite answer, or a changed body, takes a new key.
async function submitOnce(holder, path, body) {
  const text = JSON.stringify(body);
  if (!holder.key || holder.keyBody !== text) {
    holder.key = newKey();
    holder.keyBody = text;
  }
  try {
    const answer = await api("POST", path, body, holder.key);
    holder.key = null;
    return answer;
  } catch (error) {
    if (!error.retryable) holder.key = null;
    throw error;
  }
}

// Runs a button's action: the button is disabled while it runs (no double
// submit) and the outcome is always shown.
async function act(button, label, work) {
  if (button) button.disabled = true;
  try {
    const outcome = await work();
    if (label) show("ok", typeof label === "function" ? label(outcome) : label);
    return outcome;
  } catch (error) {
    show("error", error.message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function onSubmit(form, handler) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handler(event.submitter || form.querySelector("button[type=submit]"));
  });
}

function table(headings, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { class: h.num ? "num" : "", text: h.text ?? h })))),
    el("tbody", {}, rows));
}

function totalsRows(totals) {
  return ["subtotal", "discount", "shipping", "tax", "total"]
    .filter((name) => totals[name] && (name !== "shipping" || totals[name].amount_minor) && (name !== "discount" || totals[name].amount_minor))
    .map((name) => el("tr", { class: name === "total" ? "totals" : "" },
      el("td", { text: name[0].toUpperCase() + name.slice(1) }), el("td", { class: "num", "data-total": name, text: money(totals[name]) })));
}

// ---------------------------------------------------------------- sign-in

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
  } catch (error) {
    return null;
  }
}

async function startDevSignIn() {
  let choices;
  try {
    choices = await api("GET", "/console/sign-in");
  } catch (error) {
    return; // not a development gateway: paste a token
  }
  const stores = $("sign-in-store");
  put(stores, ...choices.stores.map((s) =>
    el("option", { value: s.location_id, text: `${s.location_id} · ${s.name}${s.kind === "warehouse" ? " (warehouse)" : ""}` })));
  const fill = () => {
    const mine = choices.associates.filter((a) => a.store_id === stores.value);
    put($("sign-in-associate"), 
      el("option", { value: "", text: "development associate" }),
      ...mine.map((a) => el("option", { value: a.associate_id, text: `${a.name} (${a.associate_id})` })));
  };
  stores.addEventListener("change", fill);
  fill();
  $("dev-sign-in").hidden = false;
}

async function devSignIn(button) {
  const body = { store_id: $("sign-in-store").value, associate_id: $("sign-in-associate").value };
  const answer = await act(button, null, () => api("POST", "/console/sign-in", body));
  if (answer) await useToken(answer.token);
}

async function useToken(token) {
  const claims = claimsOf(token);
  if (!claims || claims.role !== "associate" || !claims.store_id) {
    show("error", "That is not an associate token (it must carry role associate and a store_id).");
    return;
  }
  state.token = token;
  state.claims = claims;
  try {
    // The store's own record (coordinates for the endless aisle); also proves the token works.
    state.store = await findLocation(claims.store_id);
    await api("GET", `/v1/stores/${encodeURIComponent(claims.store_id)}/tasks?limit=1`);
  } catch (error) {
    state.token = "";
    state.claims = null;
    show("error", error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("who").textContent = `${claims.sub} · ${claims.store_id}${state.store ? " · " + state.store.name : ""}`;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  show("", "");
  go(location.hash.slice(1) || "tasks");
  if (state.page !== "tasks") refreshTasks(); // the background count
}

async function findLocation(locationId) {
  let cursor = "";
  for (let page = 0; page < 20; page += 1) {
    const data = await api("GET", "/v1/locations?limit=200" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    const found = data.items.find((l) => l.location_id === locationId);
    if (found || !data.next_cursor) return found || null;
    cursor = data.next_cursor;
  }
  return null;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.claims = null;
  clearTimeout(state.pollTimer);
  state.cards.clear();
  put($("tasks"));
  $("nav").hidden = true;
  $("tasks-count").textContent = "";
  $("sign-out").hidden = true;
  $("who").textContent = "";
  showPage("sign-in");
}

// ---------------------------------------------------------------- pages

const PAGES = ["tasks", "till", "aisle", "returns", "receive"];

function showPage(name) {
  document.querySelectorAll("main > section.page").forEach((s) => { s.hidden = s.id !== "page-" + name; });
  document.querySelectorAll("#nav button").forEach((b) => b.classList.toggle("active", b.dataset.page === name));
  document.querySelectorAll("#nav button").forEach((b) => b.setAttribute("aria-current", b.dataset.page === name ? "page" : "false"));
}

function go(name) {
  if (!state.token) { showPage("sign-in"); return; }
  if (!PAGES.includes(name)) name = "tasks";
  state.page = name;
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  showPage(name);
  show("", "");
  $("receipt").hidden = true;
  // Where the hands go first: the scanner's field at the till, the id fields elsewhere.
  const starts = { till: "#till-sku", aisle: ".customer-query", returns: "#return-order-id", receive: "#receive-id" };
  const first = $("page-" + name).querySelector(starts[name] || "input:not([type=radio]), select, button");
  if (name === "tasks") refreshTasks();
  else if (first) first.focus();
  if (name === "aisle") loadShippingMethods();
}

// ---------------------------------------------------------------- store work

function taskKey(task) {
  return task.type + ":" + (task.fulfillment_id || task.return_id);
}

// Curbside arrivals first, then overdue work, then the oldest first.
function ordered(items) {
  const rank = (t) => (t.arrived_at ? 0 : t.overdue ? 1 : 2);
  return items
    .map((task, index) => ({ task, index }))
    .sort((a, b) => rank(a.task) - rank(b.task) || String(a.task.since || "").localeCompare(String(b.task.since || "")) || a.index - b.index)
    .map((entry) => entry.task);
}

async function loadAllTasks() {
  const items = [];
  let cursor = "";
  const type = state.taskType ? "&type=" + encodeURIComponent(state.taskType) : "";
  for (let page = 0; page < 10; page += 1) {
    const data = await api("GET", `/v1/stores/${encodeURIComponent(state.claims.store_id)}/tasks?limit=200${type}` +
      (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    items.push(...data.items);
    if (!data.next_cursor) break;
    cursor = data.next_cursor;
  }
  return items;
}

// Fetches the store's open work and updates the list in place: cards whose
// task did not change are kept as they are (with what the associate typed).
async function refreshTasks() {
  clearTimeout(state.pollTimer);
  if (!state.token) return;
  try {
    const items = ordered(await loadAllTasks());
    const list = $("tasks");
    const seen = new Set();
    const nodes = items.map((task) => {
      const key = taskKey(task);
      seen.add(key);
      const signature = JSON.stringify(task);
      const known = state.cards.get(key);
      if (known && known.signature === signature) return known.node;
      const node = renderTask(task);
      state.cards.set(key, { signature, node });
      return node;
    });
    for (const key of [...state.cards.keys()]) if (!seen.has(key)) state.cards.delete(key);
    const current = [...list.children];
    if (!nodes.length) {
      if (!$("no-tasks")) put(list, el("p", { class: "muted", id: "no-tasks", text: "No open work. New orders appear here by themselves." }));
    } else if (current.length !== nodes.length || current.some((n, i) => n !== nodes[i])) {
      put(list, ...nodes);
    }
    $("tasks-updated").textContent = `${items.length} open · updated ${new Date().toLocaleTimeString()}`;
    // Seen from every page: how much work is open, and how much is urgent.
    const urgent = items.filter((t) => t.arrived_at || t.overdue).length;
    $("tasks-count").textContent = items.length ? ` (${items.length}${urgent ? `, ${urgent} urgent` : ""})` : "";
    $("tasks-count").className = urgent ? "count urgent" : "count";
  } catch (error) {
    // A hiccup while the associate is at the till is not theirs to read.
    if (state.page === "tasks") show("error", error.message);
  } finally {
    // The list keeps up in the background too, more slowly.
    if (state.token) state.pollTimer = setTimeout(refreshTasks, state.page === "tasks" ? POLL_MS : BACKGROUND_POLL_MS);
  }
}

function linesTable(lines, column) {
  // column: null, or {title, value(line), max(line)}: an editable quantity per line.
  return table(["SKU", { text: "Ordered", num: true }, { text: "Picked", num: true }, ...(column ? [{ text: column.title, num: true }] : [])],
    lines.map((line) => el("tr", {},
      el("td", { text: line.sku }),
      el("td", { class: "num", text: String(line.quantity) }),
      el("td", { class: "num", text: String(line.quantity_picked ?? "") }),
      column ? el("td", { class: "num" }, el("input", {
        type: "number", min: "0", max: String(column.max(line)), value: String(column.value(line)),
        class: "narrow", "data-sku": line.sku, "aria-label": `${column.title} ${line.sku}`,
      })) : null)));
}

function quantities(node) {
  return [...node.querySelectorAll("input[data-sku]")].map((input) => ({ sku: input.dataset.sku, quantity: Number(input.value) }));
}

function taskDone(text) {
  show("ok", text);
  refreshTasks();
}

function rejectRow(task) {
  const reason = el("input", { placeholder: "reason (e.g. damaged, not found)", "aria-label": "Reject reason", class: "reason" });
  const button = el("button", { type: "button", class: "danger", text: "Reject" });
  button.addEventListener("click", async () => {
    if (!reason.value.trim()) { show("error", "Say why the store cannot do it before rejecting."); reason.focus(); return; }
    const done = await act(button, null, () => api("POST", `/v1/fulfillments/${encodeURIComponent(task.fulfillment_id)}/reject`, { reason: reason.value.trim() }));
    if (done) taskDone(`Rejected ${task.fulfillment_id}: it is rerouted or cancelled, and the customer told.`);
  });
  return el("div", { class: "row" }, reason, button);
}

function taskHeader(task, title) {
  return [
    el("h3", {}, title,
      task.arrived_at ? el("span", { class: "badge arrived", text: "customer outside" }) : null,
      task.overdue ? el("span", { class: "badge overdue", text: "overdue" }) : null),
    el("div", { class: "muted", text: `order ${task.order_id} · ${task.status}${task.since ? " · since " + when(task.since) : ""}` }),
    task.arrived_at ? el("div", { class: "ok", text: `Arrived ${when(task.arrived_at)}${task.arrival_note ? ": " + task.arrival_note : ""}` }) : null,
  ].filter(Boolean);
}

function renderTask(task) {
  const card = el("article", { class: "task" + (task.arrived_at || task.overdue ? " urgent" : ""), "data-task": task.fulfillment_id || task.return_id, "data-type": task.type });
  if (task.type === "pick") renderPick(task, card);
  else if (task.type === "pickup") renderPickup(task, card);
  else renderWaitingReturn(task, card);
  return card;
}

function renderPick(task, card) {
  card.append(...taskHeader(task, "Pick " + task.fulfillment_id));
  const body = el("div", {}, el("p", { class: "muted", text: "Loading the order…" }));
  card.append(body);
  // The task does not say pickup or ship; the order does.
  api("GET", "/v1/orders/" + encodeURIComponent(task.order_id)).then((order) => {
    const fulfillment = (order.fulfillments || []).find((f) => f.fulfillment_id === task.fulfillment_id) || {};
    const kind = fulfillment.type || "pickup";
    card.querySelector("h3").firstChild.textContent = (kind === "ship" ? "Ship " : "Pick ") + task.fulfillment_id + " ";
    if (kind === "ship" && task.status !== "pending") {
      put(body, linesTable(task.lines, null), shipRow(task), rejectRow(task));
    } else {
      put(body, el("div", { class: "muted", text: kind === "ship" ? "to ship" : "for pickup" }), pickForm(task), rejectRow(task));
    }
  }).catch((error) => {
    put(body, el("div", { class: "error", text: error.message }), pickForm(task), rejectRow(task));
  });
}

function pickForm(task) {
  const form = el("form", { class: "pick" });
  form.append(linesTable(task.lines, { title: "Picking", value: (l) => l.quantity, max: (l) => l.quantity }),
    el("div", { class: "row" }, el("button", { type: "submit", class: "primary", text: "Picked" })));
  onSubmit(form, async (button) => {
    const lines = quantities(form).map((l) => ({ sku: l.sku, quantity_picked: l.quantity }));
    const short = lines.some((l, i) => l.quantity_picked < task.lines[i].quantity);
    const done = await act(button, null, () => api("POST", `/v1/fulfillments/${encodeURIComponent(task.fulfillment_id)}/pick`, { lines }));
    if (done) taskDone(`Picked ${task.fulfillment_id}${short ? " (short: the rest is rerouted or cancelled)" : ""}.`);
  });
  return form;
}

function shipRow(task) {
  const form = el("form", { class: "row ship" });
  const carrier = el("input", { placeholder: "carrier", "aria-label": "Carrier", required: true });
  const tracking = el("input", { placeholder: "tracking number", "aria-label": "Tracking number", required: true });
  form.append(carrier, tracking, el("button", { type: "submit", class: "primary", text: "Ship" }));
  onSubmit(form, async (button) => {
    const done = await act(button, null, () => api("POST", `/v1/fulfillments/${encodeURIComponent(task.fulfillment_id)}/ship`,
      { carrier: carrier.value.trim(), tracking_number: tracking.value.trim() }));
    if (done) taskDone(`Shipped ${task.fulfillment_id} with ${carrier.value.trim()} ${tracking.value.trim()}.`);
  });
  return form;
}

function renderPickup(task, card) {
  card.append(...taskHeader(task, "Pickup " + task.fulfillment_id));
  const form = el("form", { class: "handover" });
  const code = el("input", { placeholder: "pickup code", "aria-label": "Pickup code", autocomplete: "off", required: true, class: "code" });
  const picked = (l) => l.quantity_picked || l.quantity;
  form.append(linesTable(task.lines, { title: "Taking", value: picked, max: picked }),
    el("div", { class: "row" }, code, el("button", { type: "submit", class: "primary", text: "Hand over" })),
    el("p", { class: "muted", text: "Lower “Taking” for items the customer refuses or that are damaged: they are not charged." }));
  onSubmit(form, async (button) => {
    const taking = quantities(form);
    const partial = taking.some((l, i) => l.quantity !== picked(task.lines[i]));
    const body = { pickup_code: code.value.trim() };
    if (partial) {
      body.lines = taking.filter((l) => l.quantity > 0);
      if (!body.lines.length) { show("error", "Nothing to hand over: the customer takes no item. Reject or let the pickup expire instead."); return; }
    }
    const done = await act(button, null, () => api("POST", `/v1/fulfillments/${encodeURIComponent(task.fulfillment_id)}/handover`, body));
    if (done) taskDone(`Handed over ${task.fulfillment_id}${partial ? " (partly: what was left is not charged)" : ""}.`);
    else { code.select(); }
  });
  card.append(form);
}

function renderWaitingReturn(task, card) {
  card.append(...taskHeader(task, "Return " + task.return_id));
  const form = receiveLinesForm(task.return_id, task.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, condition: "sellable" })),
    (ret) => taskDone(`Received return ${task.return_id}: ${ret.status}.`));
  card.append(form);
}

// ---------------------------------------------------------------- customers

function renderCustomerPicker(container) {
  const name = container.dataset.for;
  const kind = el("select", { "aria-label": "Find customer by" },
    el("option", { value: "email", text: "Email" }), el("option", { value: "phone", text: "Phone" }), el("option", { value: "loyalty_card", text: "Loyalty card" }));
  const value = el("input", { placeholder: "customer email, phone or card", "aria-label": "Customer", autocomplete: "off", class: "customer-query" });
  const chosen = el("div", { class: "chosen muted", text: name === "till" ? "Walk-in (no customer)" : "No customer chosen" });
  const results = el("div", { class: "results" });
  const form = el("form", { class: "row" }, el("strong", { text: "Customer" }), kind, value, el("button", { type: "submit", text: "Find" }),
    el("button", { type: "button", text: "Clear", onclick: () => choose(null) }));
  function choose(customer) {
    state.customers[name] = customer;
    put(results);
    chosen.textContent = customer ? `${customer.name || "(no name)"} · ${customer.email || customer.phone || ""} · ${customer.customer_id}`
      : name === "till" ? "Walk-in (no customer)" : "No customer chosen";
    chosen.className = customer ? "chosen ok" : "chosen muted";
    container.dispatchEvent(new CustomEvent("customer", { detail: customer }));
  }
  onSubmit(form, async (button) => {
    const query = value.value.trim();
    if (!query) { show("error", "Type the customer's email, phone or loyalty card."); return; }
    const found = await act(button, null, () => api("GET", `/v1/customers?${kind.value}=${encodeURIComponent(query)}`));
    if (!found) return;
    if (!found.items.length) {
      put(results, el("p", { class: "error", text: `No customer with ${kind.value.replace("_", " ")} ${query}.` }));
      return;
    }
    if (found.items.length === 1) { choose(found.items[0]); return; }
    put(results, ...found.items.map((c) => el("button", { type: "button", onclick: () => choose(c), text: `${c.name} · ${c.email || c.phone}` })));
  });
  put(container, form, results, chosen);
}

// ---------------------------------------------------------------- till sale

function tillFulfillment() {
  return { type: "carry_out", location_id: state.claims.store_id };
}

function renderBasket() {
  const box = $("till-basket");
  const { lines, quote } = state.till;
  $("till-pay").hidden = !lines.length || !quote;
  if (!lines.length) { put(box, el("p", { class: "muted", text: "Scan or type a SKU to start a sale." })); return; }
  const priced = new Map((quote ? quote.lines : []).map((l) => [l.sku, l]));
  const rows = lines.map((line, index) => {
    const qty = el("input", { type: "number", min: "0", value: String(line.quantity), class: "narrow", "aria-label": "Quantity " + line.sku });
    // What is typed is the basket at once (a re-render keeps it); it is priced on change.
    qty.addEventListener("input", () => {
      const n = Number(qty.value);
      if (n > 0) line.quantity = n;
    });
    qty.addEventListener("change", () => {
      const n = Number(qty.value);
      if (n > 0) line.quantity = n; else lines.splice(index, 1);
      priceTill();
    });
    const p = priced.get(line.sku) || {};
    return el("tr", { "data-sku": line.sku }, el("td", { text: line.sku }), el("td", { class: "num" }, qty),
      el("td", { class: "num", text: money(p.unit_price) }), el("td", { class: "num", text: p.discount && p.discount.amount_minor ? "−" + money(p.discount) : "" }),
      el("td", { class: "num", text: money(p.tax) }), el("td", { class: "num", text: money(p.total) }),
      el("td", {}, el("button", { type: "button", "aria-label": "Remove " + line.sku, text: "✕", onclick: () => { lines.splice(index, 1); priceTill(); } })));
  });
  const below = [
    quote ? el("table", { class: "till-totals" }, el("tbody", {}, totalsRows(quote.totals)))
      : state.till.quoteError ? el("p", { class: "error", text: "Not priced: " + state.till.quoteError }) : el("p", { class: "muted", text: "Pricing…" }),
    quote && quote.promotions_applied && quote.promotions_applied.length
      ? el("p", { class: "muted", text: "Promotions: " + quote.promotions_applied.map((p) => p.name).join(", ") }) : null,
  ].filter(Boolean);
  // A quote that comes back while a quantity is being typed must not replace
  // the field under the associate's fingers (the keystrokes would be lost):
  // the same lines are updated around it, the field itself is kept.
  const typing = box.contains(document.activeElement) && document.activeElement.matches("input[aria-label^='Quantity ']");
  const shown = [...box.querySelectorAll("tr[data-sku]")];
  if (typing && shown.length === rows.length && shown.every((row, i) => row.dataset.sku === lines[i].sku)) {
    shown.forEach((row, i) => [...rows[i].children].forEach((cell, c) => { if (c !== 1) row.replaceChild(cell, row.children[c]); }));
    const basket = shown[0].closest("table");
    while (basket.nextSibling) basket.nextSibling.remove();
    basket.after(...below);
  } else {
    put(box,
      table(["SKU", { text: "Qty", num: true }, { text: "Price", num: true }, { text: "Discount", num: true }, { text: "Tax", num: true }, { text: "Total", num: true }, ""], rows),
      below);
  }
  updateChange();
}

// Only the answer for the basket as it is now is shown: an earlier quote that
// comes back late (a quantity changed meanwhile) is dropped, never displayed.
let tillPricing = 0;

function tillLines() {
  return state.till.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
}

async function priceTill() {
  const till = state.till;
  const asking = ++tillPricing;
  till.quote = null;
  till.quoteError = "";
  renderBasket();
  if (!till.lines.length) return;
  const customer = state.customers.till;
  const lines = tillLines();
  let quote = null;
  let failure = "";
  try {
    quote = await api("POST", "/v1/quotes", {
      customer_id: customer ? customer.customer_id : undefined,
      lines,
      fulfillment: tillFulfillment(),
    });
  } catch (error) {
    failure = error.message;
  }
  if (asking !== tillPricing) return;  // a newer basket is being priced
  if (JSON.stringify(lines) !== JSON.stringify(tillLines())) { priceTill(); return; }
  till.quote = quote;
  till.quoteError = failure;
  show(failure ? "error" : "", failure);
  renderBasket();
}

function tillTender() {
  return document.querySelector("#till-pay input[name=tender]:checked").value;
}

function updateChange() {
  const quote = state.till.quote;
  const tendered = parseMinor($("till-tendered").value);
  const out = $("till-change");
  if (!quote || tendered === null) { out.textContent = ""; return; }
  const change = tendered - quote.totals.total.amount_minor;
  out.textContent = change >= 0 ? "Change: " + money({ amount_minor: change, currency: quote.totals.total.currency })
    : "Short by " + money({ amount_minor: -change, currency: quote.totals.total.currency });
}

async function payTill(button) {
  const quote = state.till.quote;
  if (!quote) { show("error", "The basket is not priced yet."); return; }
  const total = quote.totals.total;
  let tenders;
  if (tillTender() === "cash") {
    const tendered = parseMinor($("till-tendered").value);
    if (tendered !== null && tendered < total.amount_minor) { show("error", `Cash tendered is less than the total ${money(total)}.`); return; }
    // What was handed over (the change is the till's business), or exactly the total.
    tenders = [{ type: "cash", amount_minor: tendered === null ? total.amount_minor : tendered }];
  } else {
    const token = $("till-card-token").value.trim();
    if (!token) { show("error", "Present the card: the card reader's token is missing."); return; }
    tenders = [{ type: "card_present", token }];
  }
  const customer = state.customers.till;
  const body = {
    customer_id: customer ? customer.customer_id : undefined,
    lines: state.till.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    fulfillment: tillFulfillment(),
    payment: { tenders },
  };
  // One key per sale: pressing again after a lost answer is the same sale.
  const order = await act(button, null, () => submitOnce(state.till, "/v1/orders", body));
  if (!order) return;
  const change = $("till-change").textContent;
  show("ok", `Sale ${order.order_id} ${order.status}: ${money(order.totals ? order.totals.total : total)}${change.startsWith("Change") ? " · " + change : ""}.`);
  state.till = { lines: [], quote: null };
  $("till-tendered").value = "";
  $("till-card-token").value = "";
  renderBasket();
  await showReceipt(order.order_id);
}

async function showReceipt(orderId) {
  const box = $("receipt");
  try {
    const receipt = await api("GET", `/v1/orders/${encodeURIComponent(orderId)}/receipt`);
    put(box, 
      el("h3", { text: receipt.store ? `${receipt.store.name || receipt.store.location_id}` : "Receipt" }),
      el("div", { text: `Order ${receipt.order_id}` }),
      el("div", { text: when(receipt.at) }),
      receipt.associate_id ? el("div", { text: `Served by ${receipt.associate_id}` }) : null,
      table(["Item", { text: "Qty", num: true }, { text: "Total", num: true }], receipt.lines.map((l) =>
        el("tr", {}, el("td", { text: l.sku }), el("td", { class: "num", text: String(l.quantity) }), el("td", { class: "num", text: money(l.total || l.unit_price) })))),
      receipt.totals ? el("table", {}, el("tbody", {}, totalsRows(receipt.totals))) : null,
      table(["Paid by", { text: "Amount", num: true }], receipt.tenders.map((t) =>
        el("tr", {}, el("td", { text: t.tender_type.replace("_", " ") + (t.card_last4 ? ` •••• ${t.card_last4}` : "") }), el("td", { class: "num", text: money(t.amount) })))),
      el("div", { class: "row" }, el("button", { type: "button", text: "Print receipt", onclick: () => window.print() })));
    box.hidden = false;
    box.querySelector("button").focus();
  } catch (error) {
    show("error", "The sale is done, but its receipt could not be read: " + error.message);
  }
}

// ---------------------------------------------------------------- endless aisle

let shippingMethods = null;
async function loadShippingMethods() {
  if (shippingMethods) return;
  try {
    const data = await api("GET", "/v1/shipping-methods");
    shippingMethods = data.items || data;
    put($("aisle-method"), ...shippingMethods.map((m) =>
      el("option", { value: m.method_id, text: `${m.name} (${money(m.price)})` })));
  } catch (error) {
    show("error", error.message);
  }
}

async function findElsewhere(button) {
  const sku = $("aisle-sku").value.trim();
  if (!state.store) { show("error", "This store's location is unknown: availability nearby cannot be asked."); return; }
  const near = `${state.store.lat},${state.store.lon}`;
  const data = await act(button, null, () => api("GET", `/v1/availability?skus=${encodeURIComponent(sku)}&near=${near}&radius_km=2000&channel=${encodeURIComponent(state.claims.channel || "pos")}`));
  if (!data) return;
  const item = (data.items || []).find((i) => i.sku === sku);
  const box = $("aisle-availability");
  box.hidden = false;
  if (!item) { put(box, el("p", { class: "error", text: `No product ${sku}.` })); $("aisle-order").hidden = true; return; }
  const wanted = Number($("aisle-qty").value);
  const here = item.locations.find((l) => l.location_id === state.claims.store_id);
  const elsewhere = item.locations.filter((l) => l.location_id !== state.claims.store_id && l.available > 0);
  put(box, 
    el("h3", { text: `${sku}: ${item.online_available} available to ship` }),
    el("p", { class: "muted", text: here ? `Here: ${here.available}` : "Not stocked here." }),
    elsewhere.length ? table(["Location", { text: "Available", num: true }, { text: "Distance", num: true }],
      elsewhere.map((l) => el("tr", {}, el("td", { text: l.location_id }), el("td", { class: "num", text: String(l.available) }), el("td", { class: "num", text: `${l.distance_km.toFixed(1)} km` }))))
      : el("p", { class: "error", text: "No other location has it." }));
  const can = item.online_available >= wanted;
  $("aisle-order").hidden = !can;
  if (!can) box.append(el("p", { class: "error", text: `Only ${item.online_available} can be shipped; ${wanted} asked.` }));
  if (can && !$("aisle-lat").value) { $("aisle-lat").value = state.store.lat; $("aisle-lon").value = state.store.lon; }
  if (can) $("aisle-line1").focus();
}

function aisleBody() {
  const customer = state.customers.aisle;
  if (!customer) throw new Error("Find the customer first: an endless-aisle order ships to a customer.");
  return {
    customer_id: customer.customer_id,
    lines: [{ sku: $("aisle-sku").value.trim(), quantity: Number($("aisle-qty").value) }],
    fulfillment: {
      type: "ship",
      address: {
        line1: $("aisle-line1").value.trim(), city: $("aisle-city").value.trim(), region: $("aisle-region").value.trim(),
        postal_code: $("aisle-postal").value.trim(), country: $("aisle-country").value.trim().toUpperCase(),
        lat: Number($("aisle-lat").value), lon: Number($("aisle-lon").value),
      },
      shipping_method: $("aisle-method").value || undefined,
    },
  };
}

async function priceAisle(button) {
  const quote = await act(button, null, async () => {
    const { customer_id, lines, fulfillment } = aisleBody();
    return api("POST", "/v1/quotes", { customer_id, lines, fulfillment });
  });
  if (quote) put($("aisle-quote"), el("table", {}, el("tbody", {}, totalsRows(quote.totals))));
}

async function placeAisle(button) {
  const order = await act(button, null, () => {
    const body = aisleBody();
    body.payment = { tenders: [{ type: "card", token: $("aisle-card-token").value.trim() }] };
    return submitOnce(state.aisle, "/v1/orders", body);
  });
  if (!order) return;
  const shipFrom = (order.fulfillments || []).map((f) => f.location_id).join(", ");
  show("ok", `Order ${order.order_id} placed: ${money(order.totals ? order.totals.total : order.total)}, ships from ${shipFrom || "the chosen location"}, credited to ${order.credited_associate_id || order.associate_id || "you"}.`);
  put($("aisle-result"), el("div", { class: "card placed", "data-order": order.order_id },
    el("h3", { text: `Order ${order.order_id}` }), el("div", { text: `Status ${order.status} · ships from ${shipFrom}` }),
    el("div", { text: `Credited to ${order.credited_associate_id || ""}` })));
  $("aisle-order").hidden = true;
  $("aisle-availability").hidden = true;
  put($("aisle-quote"));
}

// ---------------------------------------------------------------- returns

async function findReturnOrder(button) {
  const id = $("return-order-id").value.trim();
  const order = await act(button, null, () => api("GET", "/v1/orders/" + encodeURIComponent(id)).catch((error) => {
    // An order with no part at this store is not shown to its associates;
    // its lines can still be taken back from the customer's receipt.
    if (error.status === 404) return { order_id: id, lines: null };
    throw error;
  }));
  if (order) renderReturnForm(order);
}

async function listCustomerOrders(customer) {
  const box = $("return-orders");
  put(box);
  if (!customer) return;
  try {
    const data = await api("GET", `/v1/orders?customer_id=${encodeURIComponent(customer.customer_id)}&limit=50`);
    put(box, el("div", { class: "card" }, el("h3", { text: "Their orders at this store" }),
      data.items.length ? data.items.map((o) => el("div", { class: "row" },
        el("button", { type: "button", text: `Return from ${o.order_id}`, onclick: () => { $("return-order-id").value = o.order_id; findReturnOrder(); } }),
        el("span", { class: "muted", text: `${when(o.created_at)} · ${o.channel} · ${o.status} · ${money(o.totals ? o.totals.total : o.total)}` })))
        : el("p", { class: "muted", text: "None at this store; an online order is found by its id (on the customer's email or receipt)." })));
  } catch (error) {
    show("error", error.message);
  }
}

function conditionSelect(sku, value) {
  const select = el("select", { "aria-label": "Condition " + sku, "data-condition": sku },
    el("option", { value: "sellable", text: "sellable" }), el("option", { value: "damaged", text: "damaged" }));
  select.value = value || "sellable";
  return select;
}

function returnLineRow(line, editableSku) {
  const left = line.quantity - (line.returned_quantity || 0);
  return el("tr", { "data-line": "" },
    el("td", {}, editableSku ? el("input", { class: "line-sku", placeholder: "SKU", "aria-label": "SKU", value: line.sku || "" }) : line.sku),
    el("td", { class: "num", text: editableSku ? "" : `${line.quantity}${line.returned_quantity ? ` (${line.returned_quantity} returned)` : ""}` }),
    el("td", { class: "num" }, el("input", { type: "number", min: "0", max: editableSku ? undefined : String(left), value: editableSku ? "1" : "0", class: "narrow line-qty", "aria-label": "Return quantity " + (line.sku || "") })),
    el("td", {}, conditionSelect(line.sku || "", "sellable")));
}

function renderReturnForm(order) {
  const form = $("return-form");
  form.hidden = false;
  put($("return-result"));
  const manual = !order.lines;
  const rows = el("tbody", {}, manual ? [returnLineRow({ sku: "", quantity: 1 }, true)] : order.lines.map((l) => returnLineRow(l, false)));
  put(form, 
    el("h3", { text: `Return from order ${order.order_id}` }),
    order.channel ? el("p", { class: "muted", text: `${order.channel} order · ${order.status} · paid ${money(order.totals ? order.totals.total : order.total)}` }) : null,
    manual ? el("p", { class: "muted", text: "This order was not handled by this store: enter the items the customer brings, as on their receipt." }) : null,
    el("table", {}, el("thead", {}, el("tr", {}, ["SKU", "Bought", "Returning", "Condition"].map((h) => el("th", { text: h })))), rows),
    manual ? el("button", { type: "button", text: "Add a line", onclick: () => rows.append(returnLineRow({ sku: "", quantity: 1 }, true)) }) : null,
    el("div", { class: "row" }, el("button", { type: "submit", class: "primary", text: "Accept return" })));
  form.dataset.orderId = order.order_id;
  const first = form.querySelector("input");
  if (first) first.focus();
}

const returnSubmission = {};
async function acceptReturn(button) {
  const form = $("return-form");
  const lines = [...form.querySelectorAll("tr[data-line]")].map((row) => {
    const skuInput = row.querySelector(".line-sku");
    return {
      sku: skuInput ? skuInput.value.trim() : row.firstChild.textContent,
      quantity: Number(row.querySelector(".line-qty").value),
      condition: row.querySelector("select").value,
    };
  }).filter((l) => l.sku && l.quantity > 0);
  if (!lines.length) { show("error", "Choose at least one item and how many come back."); return; }
  const created = await act(button, null, () => submitOnce(returnSubmission, "/v1/returns", {
    order_id: form.dataset.orderId, lines, method: "in_store", location_id: state.claims.store_id,
  }));
  if (!created) return;
  form.hidden = true;
  show("ok", `Return ${created.return_id} accepted: refund ${money(created.refund)}.`);
  const box = el("div", { class: "card accepted", "data-return": created.return_id },
    el("h3", { text: `Return ${created.return_id}` }),
    el("div", { class: "status", text: `Status ${created.status} · refund ${money(created.refund)}` }),
    el("div", { class: "refunds muted", text: "Refund on its way to the original tenders…" }));
  put($("return-result"), box);
  followReturn(created.return_id, box);
}

// Shows the refund as the return journey records it.
async function followReturn(returnId, box) {
  for (let i = 0; i < 60; i += 1) {
    let ret;
    try {
      ret = await api("GET", "/v1/returns/" + encodeURIComponent(returnId));
    } catch (error) {
      if (error.status === 404) { box.querySelector(".refunds").textContent = "The refund follows by itself; the customer is told."; return; }
      show("error", error.message);
      return;
    }
    box.querySelector(".status").textContent = `Status ${ret.status} · refund ${money(ret.refund)}`;
    const refunds = (ret.refunds || []).map((r) => `${money(r.amount)} to ${r.tender_type.replace("_", " ")} (${r.status})`).join(", ");
    box.querySelector(".refunds").textContent = refunds ? "Refunded: " + refunds : "Refund pending…";
    if (["refunded", "refund_failed", "rejected", "expired"].includes(ret.status)) {
      if (ret.status === "refund_failed") show("error", `The refund for ${returnId} was refused by the provider: nothing was refunded. Call a manager.`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---------------------------------------------------------------- mail returns

// Lines as the return lists them, or (lines null: a return this store cannot
// read, e.g. a parcel from another region) typed from the parcel's slip.
// "Add a line" also splits one SKU over two conditions.
function receiveRow(line) {
  const sku = line ? line.sku : "";
  return el("tr", { "data-line": "", "data-sku": sku || undefined },
    el("td", {}, line ? sku : el("input", { class: "line-sku", placeholder: "SKU", "aria-label": "SKU", autocomplete: "off" })),
    el("td", { class: "num" }, el("input", { type: "number", min: "0", value: String(line ? line.quantity : 1), class: "narrow line-qty", "aria-label": "Received " + sku })),
    el("td", {}, conditionSelect(sku, line ? line.condition : "sellable")));
}

function receiveLinesForm(returnId, lines, done) {
  const form = el("form", { class: "receive" });
  const rows = el("tbody", {}, lines ? lines.map(receiveRow) : [receiveRow(null)]);
  form.append(
    el("table", {}, el("thead", {}, el("tr", {}, ["SKU", "Quantity", "Condition"].map((h) => el("th", { text: h })))), rows),
    el("div", { class: "row" },
      el("button", { type: "button", text: "Add a line", onclick: () => rows.append(receiveRow(null)) }),
      el("button", { type: "submit", class: "primary", text: "Receive here" })));
  onSubmit(form, async (button) => {
    const received = [...rows.querySelectorAll("tr[data-line]")].map((row) => ({
      sku: row.dataset.sku || row.querySelector(".line-sku").value.trim(),
      quantity: Number(row.querySelector(".line-qty").value),
      condition: row.querySelector("select").value,
    })).filter((l) => l.sku && l.quantity > 0);
    if (!received.length) { show("error", "Nothing received: set which items arrived and how many."); return; }
    const ret = await act(button, null, () => api("POST", `/v1/returns/${encodeURIComponent(returnId)}/receive`,
      { location_id: state.claims.store_id, lines: received }));
    if (ret) done(ret);
  });
  return form;
}

async function findMailReturn(button) {
  const id = $("receive-id").value.trim();
  const ret = await act(button, null, () => api("GET", "/v1/returns/" + encodeURIComponent(id)).catch((error) => {
    // A mail return is not yet any store's: its lines come from the parcel.
    if (error.status === 404) return { return_id: id, lines: null };
    throw error;
  }));
  if (!ret) return;
  const form = receiveLinesForm(ret.return_id, ret.lines, (received) => {
    show("ok", `Received return ${received.return_id}: ${received.status}.`);
    form.hidden = true;
    const box = el("div", { class: "card", "data-return": received.return_id },
      el("div", { class: "status", text: `Status ${received.status}` }), el("div", { class: "refunds muted" }));
    put($("receive-result"), box);
    followReturn(received.return_id, box);
  });
  form.id = "receive-form";
  form.classList.add("card");
  form.prepend(ret.lines
    ? el("h3", { text: `Return ${ret.return_id} · order ${ret.order_id} · ${ret.method} · ${ret.status}` })
    : el("div", {}, el("h3", { text: `Return ${ret.return_id}` }),
      el("p", { class: "muted", text: "This return is not this store's yet: enter what the parcel holds." })));
  put($("receive-result"));
  $("receive-form").replaceWith(form);
  const first = form.querySelector("input");
  if (first) first.focus();
}

// ---------------------------------------------------------------- wiring

function wire() {
  document.querySelector('#nav button[data-page="tasks"] kbd').before(el("span", { id: "tasks-count", class: "count" }));
  onSubmit($("dev-sign-in"), devSignIn);
  onSubmit($("token-sign-in"), () => useToken($("token").value.trim()));
  $("sign-out").addEventListener("click", signOut);
  document.querySelectorAll("#nav button").forEach((b) => b.addEventListener("click", () => go(b.dataset.page)));
  document.querySelectorAll(".filters button[data-type]").forEach((b) => b.addEventListener("click", () => {
    state.taskType = b.dataset.type;
    document.querySelectorAll(".filters button[data-type]").forEach((x) => x.classList.toggle("active", x === b));
    state.cards.clear();
    put($("tasks"));
    refreshTasks();
  }));
  $("refresh").addEventListener("click", refreshTasks);
  document.addEventListener("keydown", (event) => {
    // Alt+1..5 switch pages; Escape clears the message.
    if (event.altKey && /^[1-5]$/.test(event.key) && state.token) { event.preventDefault(); go(PAGES[Number(event.key) - 1]); }
    if (event.key === "Escape") show("", "");
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.page === "tasks") refreshTasks(); });
  window.addEventListener("hashchange", () => { if (state.token && location.hash.slice(1) !== state.page) go(location.hash.slice(1)); });

  document.querySelectorAll(".customer-picker").forEach(renderCustomerPicker);
  document.querySelector(".customer-picker[data-for=till]").addEventListener("customer", () => { if (state.till.lines.length) priceTill(); });
  document.querySelector(".customer-picker[data-for=returns]").addEventListener("customer", (e) => listCustomerOrders(e.detail));

  onSubmit($("till-add"), () => {
    const sku = $("till-sku").value.trim();
    const quantity = Number($("till-qty").value) || 1;
    if (!sku) return;
    const line = state.till.lines.find((l) => l.sku === sku);
    if (line) line.quantity += quantity; else state.till.lines.push({ sku, quantity });
    $("till-sku").value = "";
    $("till-qty").value = "1";
    $("till-sku").focus();
    $("receipt").hidden = true;
    priceTill();
  });
  document.querySelectorAll("#till-pay input[name=tender]").forEach((r) => r.addEventListener("change", () => {
    $("till-cash").hidden = tillTender() !== "cash";
    $("till-card").hidden = tillTender() === "cash";
  }));
  $("till-tendered").addEventListener("input", updateChange);
  onSubmit($("till-pay"), payTill);
  renderBasket();

  onSubmit($("aisle-find"), findElsewhere);
  $("aisle-price").addEventListener("click", (e) => priceAisle(e.currentTarget));
  onSubmit($("aisle-order"), placeAisle);

  onSubmit($("return-find-order"), findReturnOrder);
  onSubmit($("return-form"), acceptReturn);
  onSubmit($("receive-find"), findMailReturn);
}

wire();
startDevSignIn();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) useToken(saved); else showPage("sign-in");
