// The CoffeeShop page: plain JavaScript over the REST API (the same routes as any client) and its
// live updates (Server-Sent Events from GET /events). No build step, no dependencies.
"use strict";

const $ = (selector) => document.querySelector(selector);
const CANCELABLE = new Set(["Ordered", "StockReserved", "Queued"]);
/// Orders that ended without coffee: their total is not charged.
const NOT_CHARGED = new Set(["Rejected", "Canceled"]);
const VIEWS = {
  customer: ["menu", "orders"],
  barista: ["kitchen"],
  manager: ["kitchen", "stock", "shop"],
  owner: ["chain", "kitchen", "stock", "shop"],
};
const TITLES = { menu: "Menu", orders: "My orders", kitchen: "Kitchen", stock: "Stock & staff", shop: "Shop", chain: "Chain" };
const NEEDS = { menu: "a customer", orders: "a customer", kitchen: "a barista or manager", stock: "a manager", shop: "a manager", chain: "the owner's" };
/// Where the page remembers the shop a customer or the owner picked.
const PICKED_SHOP = "coffeeshop.shop";
/// An order's status as a person says it.
const STATUS_WORDS = {
  Ordered: "Ordered",
  StockReserved: "Stock reserved",
  Queued: "Waiting for a barista",
  Brewing: "Being made",
  Completed: "Ready",
  Rejected: "Rejected",
  Canceled: "Canceled",
};
/// Why an order was rejected or canceled, as a person says it (a reason a person typed is shown as is).
const REASON_WORDS = {
  OutOfStock: "out of stock",
  UnknownProduct: "not on the menu",
  KitchenTimeout: "no barista could take it in time",
};

const state = {
  me: null, // {name, role, shopId}
  shop: "main", // the shop the page shows: a barista's or manager's own, or the one picked
  shops: new Map(), // shopId -> name
  orders: new Map(), // id -> order (a customer's own, or the kitchen board's)
  stock: new Map(), // product -> qty
  prices: new Map(), // product -> price of one unit ("3.50"), for those that have one
  events: null,
  shopPending: null, // a timer: the Shop (or Chain) view reads its figures again when it fires
};

// ---- talking to the API ------------------------------------------------------------------------

class Problem extends Error {
  constructor(detail, status) {
    super(detail);
    this.status = status;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// One request. Reads and keyed commands are retried while the shop answers 503 (busy, or a
/// service restarting) or 429 (a shop's share of new orders taken), after its `Retry-After`,
/// saying so; anything else the API refuses comes back as a Problem whose
/// message is the API's own `detail`. So are an order's commands (cancel, start, complete): the
/// order's state makes a repeat harmless (refused once it is done), and a 503 does not say whether
/// the command was taken — the view may even show its outcome already — so nothing else would
/// send it again.
async function api(method, path, body, { retry = method === "GET", key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch {
      if (retry && attempt < 30) {
        notice("The shop cannot be reached right now. Trying again…");
        await sleep(2000);
        continue;
      }
      throw new Problem("The shop cannot be reached. Check your connection and try again.", 0);
    }
    // 429 comes only from a shop that has had its share of new orders this second.
    if ((response.status === 503 || response.status === 429) && retry && attempt < 30) {
      const wait = Math.min(Number(response.headers.get("Retry-After")) || 2, 10);
      notice(response.status === 429
        ? `This shop is taking as many orders as it can. Trying again in ${wait} s…`
        : `The shop is busy right now. Trying again in ${wait} s…`);
      await sleep(wait * 1000);
      continue;
    }
    notice("");
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.ok) return data;
    if (response.status === 401 && state.me && !path.startsWith("/auth/")) {
      signedOut("Your session has ended. Please sign in again.");
    }
    throw new Problem(inWords(response.status, data, path), response.status);
  }
}

/// What a refusal means, said to a person: never a route, a header or a status code alone.
function inWords(status, data, path) {
  const detail = data && typeof data.detail === "string" ? data.detail : "";
  if (status === 401) return path === "/auth/signin" ? "That name and password do not match." : "Please sign in first.";
  if (status === 403) return "This account may not do that.";
  if (status === 429 && path === "/orders") return "This shop is taking as many orders as it can right now. Please try again in a moment.";
  if (status === 429) return "Too many attempts from here. Please wait a minute and try again.";
  if (status === 503) return "The shop is busy right now. Please try again in a moment.";
  if (status === 408) return "That took too long to send. Please try again.";
  // The API's own explanations of a request it cannot take read as sentences ("the order can no
  // longer be canceled: …"); ones that name the protocol do not.
  if (detail && !/\/[a-z]+\/|Authorization|Bearer|Content-Type|JSON|POST|GET/.test(detail)) {
    return detail.charAt(0).toUpperCase() + detail.slice(1) + (/[.!?]$/.test(detail) ? "" : ".");
  }
  return "The shop could not do that. Please check what you entered and try again.";
}

function notice(text) {
  $("#notice").textContent = text;
  $("#notice").hidden = !text;
}

function showError(text) {
  $("#error").textContent = text;
  $("#error").hidden = !text;
}

/// Runs an action started by a click, showing what went wrong in words.
async function act(action, where) {
  showError("");
  if (where) where.textContent = "";
  try {
    await action();
  } catch (e) {
    const text = e instanceof Problem ? e.message : `Something went wrong: ${e}`;
    if (where) where.textContent = text;
    else showError(text);
  }
}

// ---- small DOM helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== undefined) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const time = (at) => {
  const d = new Date(at);
  return el("time", { datetime: at }, d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
};

/// A date and time, for what may be days old.
const dateTime = (at) => el("time", { datetime: at }, new Date(at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }));

/// The short number a customer sees for an order (the start of its id).
const orderNumber = (id) => id.replaceAll("-", "").slice(0, 8).toUpperCase();

/// An order's status in words, with its reason.
function statusInWords(order) {
  const words = STATUS_WORDS[order.status] || order.status;
  if (!order.reason) return words;
  return `${words}: ${REASON_WORDS[order.reason] || order.reason}`;
}

/// Whether `form`'s fields are valid; if not, says what to fix in `where` (the page's own words,
/// or the browser's for a field without them) and puts the cursor there.
function valid(form, where) {
  const wrong = [...form.elements].find((field) => field.willValidate && !field.checkValidity());
  if (!wrong) return true;
  where.textContent = wrong.dataset.problem || wrong.validationMessage;
  wrong.focus();
  return false;
}

/// Brings `list` to show `items` in order, keyed by `keyOf`: a node is made by `render` only for
/// an item that is new or changed, so nothing a person is typing or clicking is replaced under
/// them by an unrelated update.
function reconcile(list, items, keyOf, render, signatureOf = (item) => JSON.stringify(item)) {
  const existing = new Map([...list.children].map((node) => [node.dataset.key, node]));
  items.forEach((item, i) => {
    const key = keyOf(item);
    const signature = signatureOf(item);
    let node = existing.get(key);
    if (!node || node.dataset.signature !== signature) {
      const fresh = render(item);
      fresh.dataset.key = key;
      fresh.dataset.signature = signature;
      if (node) node.replaceWith(fresh);
      node = fresh;
    }
    existing.delete(key);
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  for (const node of existing.values()) node.remove();
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// ---- signing in and out ------------------------------------------------------------------------

async function start() {
  try {
    state.me = await api("GET", "/auth/me", undefined, { retry: true });
  } catch (e) {
    state.me = null;
    if (e.status !== 401) showError(e.message);
  }
  $("#loading").hidden = true;
  if (state.me) act(signedIn);
  else signedOut();
}

async function signedIn() {
  await loadShops();
  $("#who-name").textContent = `${state.me.name} (${state.me.role}${state.me.shopId ? ` at ${shopName(state.me.shopId)}` : ""})`;
  $("#who").hidden = false;
  const nav = $("#nav");
  nav.replaceChildren(...VIEWS[state.me.role].map((v) => el("a", { href: `#${v}`, "data-view": v }, TITLES[v])));
  nav.hidden = false;
  connectEvents();
  route();
}

function signedOut(why = "") {
  state.me = null;
  $("#shop-pick").hidden = true;
  state.orders.clear();
  if (state.events) state.events.close();
  state.events = null;
  $("#who").hidden = true;
  $("#nav").hidden = true;
  show("signin");
  if (why) showError(why);
}

/// Runs `handle(form, fields)` when the form `selector` is submitted and its fields are valid;
/// what goes wrong is shown in the form itself (see `act`).
function onSubmit(selector, handle) {
  $(selector).addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const where = form.querySelector(".refusal");
    where.textContent = "";
    if (valid(form, where)) act(() => handle(form, formData(form)), where);
  });
}

async function signIn(form, credentials) {
  const signed = await api("POST", "/auth/signin", credentials);
  form.reset();
  state.me = signed.account;
  location.hash = "";
  await signedIn();
}

onSubmit("#signin-form", signIn);

onSubmit("#signup-form", async (form, credentials) => {
  await api("POST", "/auth/signup", credentials);
  await signIn(form, credentials);
});

$("#sign-out").addEventListener("click", () =>
  act(async () => {
    await api("POST", "/auth/signout");
    signedOut();
  }),
);

// ---- which view ----------------------------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route() {
  if (!state.me) return;
  const allowed = VIEWS[state.me.role];
  const wanted = location.hash.slice(1) || allowed[0];
  showError("");
  if (!TITLES[wanted]) {
    location.hash = allowed[0];
    return;
  }
  if (!allowed.includes(wanted)) {
    $("#forbidden-text").textContent =
      `${TITLES[wanted]} needs ${NEEDS[wanted]} account; you are signed in as ${state.me.name} (${state.me.role}).`;
    show("forbidden");
    return;
  }
  show(wanted);
  refresh(wanted);
}

window.addEventListener("hashchange", route);

/// Reads a fresh snapshot of what the view shows (on opening it, and whenever the live stream
/// says changes may have been missed).
/// The view the page shows: the one in the address, or the role's first.
const currentView = () => location.hash.slice(1) || VIEWS[state.me.role][0];

function refresh(view = currentView()) {
  const load = { menu: loadMenu, orders: loadOrders, kitchen: loadKitchen, stock: loadStock, shop: loadShop, chain: loadChain }[view];
  if (load && VIEWS[state.me.role].includes(view)) act(load);
}

// ---- the shops ------------------------------------------------------------------------------------

/// The chain's shops; and which one the page shows: a barista's or a manager's own; for a customer
/// or the owner the one they picked last (remembered in this browser), `main` at first.
async function loadShops() {
  const shops = await api("GET", "/shops");
  state.shops = new Map(shops.map((s) => [s.shopId, s.name]));
  const remembered = localStorage.getItem(PICKED_SHOP);
  state.shop = state.me.shopId || (state.shops.has(remembered) ? remembered : "main");
  const picker = $("#shop-select");
  picker.replaceChildren(...shops.map((s) => el("option", { value: s.shopId }, s.name)));
  picker.value = state.shop;
  $("#shop-pick").hidden = Boolean(state.me.shopId);
}

const shopName = (shopId) => state.shops.get(shopId) || shopId;

/// A path of a route that acts on one shop, naming the shop the page shows.
const atShop = (path) => `${path}${path.includes("?") ? "&" : "?"}shopId=${encodeURIComponent(state.shop)}`;

/// Shows `shopId` (a customer's or the owner's pick), remembered for the next visit.
function pickShop(shopId) {
  state.shop = shopId;
  $("#shop-select").value = shopId;
  localStorage.setItem(PICKED_SHOP, shopId);
  state.orders.clear();
  refresh();
}

$("#shop-select").addEventListener("change", (event) => pickShop(event.target.value));

// ---- live updates --------------------------------------------------------------------------------

function connectEvents() {
  if (state.events) state.events.close();
  const events = new EventSource("/events");
  state.events = events;
  events.addEventListener("ready", () => {
    notice("");
    refresh();
  });
  events.addEventListener("resync", () => refresh());
  events.addEventListener("order", (event) => orderChanged(JSON.parse(event.data)));
  events.addEventListener("stock", (event) => stockChanged(JSON.parse(event.data)));
  events.addEventListener("error", () => {
    if (state.events !== events) return;
    // The browser reconnects by itself after a dropped connection; a refused one (503: too many
    // streams, or the API restarting) is closed, so try again a little later.
    // A session that ended is refused too: then the person is asked to sign in again.
    if (events.readyState === EventSource.CLOSED) {
      notice("Live updates paused; reconnecting…");
      setTimeout(async () => {
        if (state.events !== events || !state.me) return;
        try {
          await api("GET", "/auth/me", undefined, { retry: true });
          if (state.events === events) connectEvents();
        } catch (e) {
          if (e.status === 401) signedOut("Your session has ended. Please sign in again.");
          else if (state.events === events) connectEvents();
        }
      }, 3000);
    }
  });
}

function orderChanged(order) {
  shopChanged();
  // The board shows the shop the page is at (the owner hears of every shop's orders).
  if (state.me.role !== "customer" && order.shopId !== state.shop) return;
  const previous = state.orders.get(order.orderId);
  if (previous && previous.updatedAt > order.updatedAt) return;
  state.orders.set(order.orderId, order);
  if (state.me.role === "customer") {
    renderOrders();
    withdrawThanks(order);
  } else renderKitchen();
}

/// The menu's "Thank you! Order … is placed" for an order that then ended without coffee
/// (rejected, or canceled) says so instead.
function withdrawThanks(order) {
  const result = order && $(`#menu .result[data-order="${order.orderId}"]`);
  if (!result || !NOT_CHARGED.has(order.status)) return;
  result.className = "result refusal";
  delete result.dataset.order;
  result.replaceChildren(`Order ${orderNumber(order.orderId)}: ${statusInWords(order)}. Nothing is charged.`);
}

function stockChanged(level) {
  shopChanged();
  if (level.shopId !== state.shop) return;
  state.stock.set(level.productName, level.qty);
  if (level.price) state.prices.set(level.productName, level.price);
  if (state.me.role === "customer") renderMenu();
  else renderStock();
}

// ---- the customer: menu and orders ---------------------------------------------------------------

/// Cents as the shop writes an amount ("3.50").
const money = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const cents = (amount) => Math.round(Number(amount) * 100);

function keepLevels(levels) {
  state.stock = new Map(levels.map((l) => [l.productName, l.qty]));
  state.prices = new Map(levels.filter((l) => l.price).map((l) => [l.productName, l.price]));
}

async function loadMenu() {
  keepLevels(await api("GET", atShop("/stocks")));
  $("#menu-title").textContent = `Menu at ${shopName(state.shop)}`;
  renderMenu();
}

/// What `qty` of `product` costs, in words ("Total 7.00"), or nothing while it has no price.
function totalFor(product, qty) {
  const price = state.prices.get(product);
  if (!price || !(qty >= 1 && qty <= 100)) return "";
  return `Total ${money(cents(price) * qty)}`;
}

function renderMenu() {
  const items = [...state.stock.entries()].sort(([a], [b]) => a.localeCompare(b));
  // A product's card is made once; a new level only changes its text and whether it can be
  // ordered (a quantity being typed stays).
  reconcile($("#menu"), items, ([product]) => product, ([product]) => menuItem(product), ([product]) => product);
  for (const [product, qty] of items) {
    const item = [...$("#menu").children].find((node) => node.dataset.key === product);
    const soldOut = qty <= 0;
    item.classList.toggle("sold-out", soldOut);
    item.querySelector(".stock").textContent = soldOut ? "Sold out" : `${qty} in stock`;
    item.querySelector(".price").textContent = state.prices.get(product) || "";
    item.querySelector(".total").textContent = totalFor(product, Number(item.querySelector("input").value));
    item.querySelector("input").disabled = soldOut;
    item.querySelector("button").disabled = soldOut;
    item.querySelector("button").textContent = soldOut ? "Sold out" : "Order";
  }
  $("#menu-empty").hidden = items.length > 0;
}

function menuItem(product) {
  const id = `qty-${[...product].map((c) => c.charCodeAt(0).toString(16)).join("")}`;
  const result = el("p", { class: "result", role: "status" });
  const form = el(
    "form",
    {
      class: "order-form",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        result.className = "result refusal";
        result.textContent = "";
        if (!valid(form, result)) return;
        const qtyWanted = Number(form.elements.qty.value);
        act(async () => {
          const order = { productName: product, qty: qtyWanted, shopId: state.shop };
          const placed = await api("POST", "/orders", order, { retry: true, key: crypto.randomUUID() });
          result.className = "result confirmation";
          result.dataset.order = placed.orderId;
          result.replaceChildren(
            `Thank you! Order ${orderNumber(placed.orderId)} is placed at ${shopName(state.shop)}: ${qtyWanted} × ${product}. `,
            el("a", { href: "#orders" }, "Follow it in My orders"),
          );
          orderChanged(await api("GET", `/orders/${placed.orderId}`));
          // The live stream may have told of its end before these thanks were written.
          withdrawThanks(state.orders.get(placed.orderId));
        }, result);
      },
    },
    el("label", { for: id }, "Quantity"),
    el("input", {
      id,
      name: "qty",
      type: "number",
      min: 1,
      max: 100,
      value: 1,
      required: true,
      "data-problem": "Choose a quantity from 1 to 100.",
      oninput: () => (form.parentElement.querySelector(".total").textContent = totalFor(product, Number(form.elements.qty.value))),
    }),
    el("button", { type: "submit" }, "Order"),
    el("span", { class: "total", "aria-live": "polite" }),
  );
  return el(
    "li",
    { class: "card product", "data-product": product },
    el("h3", { class: "name" }, product, " ", el("span", { class: "price" })),
    el("p", { class: "stock" }),
    form,
    result,
  );
}

async function loadOrders() {
  const page = await api("GET", "/orders?limit=50");
  // The list holds each order's latest state; its timeline comes with the order itself.
  const full = await Promise.all(page.items.map((o) => api("GET", `/orders/${o.orderId}`)));
  state.orders = newest(full);
  renderOrders();
}

/// Orders read over REST, keeping any that the live stream delivered newer while the read was
/// in flight (an order's steps can follow each other within milliseconds).
function newest(snapshot) {
  return new Map(
    snapshot.map((o) => {
      const seen = state.orders.get(o.orderId);
      return [o.orderId, seen && seen.updatedAt > o.updatedAt ? seen : o];
    }),
  );
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) => b.placedAt.localeCompare(a.placedAt));
  reconcile($("#my-orders"), orders, (o) => o.orderId, orderCard);
  $("#orders-empty").hidden = orders.length > 0;
}

function orderCard(order) {
  const refusal = el("p", { class: "refusal", role: "alert" });
  const cancel = CANCELABLE.has(order.status)
    ? el(
        "button",
        {
          type: "button",
          class: "cancel",
          onclick: () =>
            act(async () => orderChanged(await api("POST", `/orders/${order.orderId}/cancel`, { reason: "canceled on the web page" }, { retry: true })), refusal),
        },
        "Cancel order",
      )
    : null;
  return el(
    "li",
    { class: "card order", "data-order": order.orderId, "data-status": order.status },
    el("h3", {}, `${order.qty} × ${order.productName} `, el("span", { class: "number" }, `order ${orderNumber(order.orderId)}`)),
    el("p", { class: "meta" }, `Placed at ${shopName(order.shopId)}, `, dateTime(order.placedAt), order.total ? ` · Total ${order.total}${NOT_CHARGED.has(order.status) ? ", nothing charged" : ""}` : ""),
    el("p", { class: "status" }, el("span", { class: `badge ${order.status}` }, statusInWords(order))),
    el(
      "ol",
      { class: "timeline", "aria-label": "Timeline" },
      (order.history || []).map((step) => el("li", { "data-status": step.status }, el("span", {}, STATUS_WORDS[step.status] || step.status), " ", time(step.at))),
    ),
    cancel,
    refusal,
  );
}

// ---- the kitchen -----------------------------------------------------------------------------------

const COLUMNS = ["Queued", "Brewing", "Completed"];

async function loadKitchen() {
  const [queued, brewing, completed] = await Promise.all([
    api("GET", atShop("/kitchen/tickets?status=Queued&limit=100")),
    api("GET", atShop("/kitchen/tickets?status=Brewing&limit=100")),
    api("GET", atShop("/kitchen/tickets?status=Completed&limit=10")),
  ]);
  $("#kitchen-title").textContent = `Kitchen at ${shopName(state.shop)}`;
  state.orders = newest([...queued, ...brewing, ...completed]);
  renderKitchen();
}

function renderKitchen() {
  // The board keeps what it shows: open tickets and the ten most recently completed.
  const completed = [...state.orders.values()].filter((o) => o.status === "Completed");
  completed.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  for (const order of [...state.orders.values()]) {
    if (!COLUMNS.includes(order.status)) state.orders.delete(order.orderId);
  }
  for (const order of completed.slice(10)) state.orders.delete(order.orderId);
  for (const status of COLUMNS) {
    const tickets = [...state.orders.values()].filter((o) => o.status === status);
    if (status === "Completed") tickets.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    else tickets.sort((a, b) => a.placedAt.localeCompare(b.placedAt));
    reconcile($(`#col-${status}`), tickets, (o) => o.orderId, ticketCard);
  }
}

function ticketCard(order) {
  const refusal = el("p", { class: "refusal", role: "alert" });
  const step = { Queued: ["start", "Start"], Brewing: ["complete", "Complete"] }[order.status];
  const button = step
    ? el(
        "button",
        {
          type: "button",
          onclick: () =>
            act(async () => orderChanged(await api("POST", `/kitchen/tickets/${order.orderId}/${step[0]}`, undefined, { retry: true })), refusal),
        },
        `${step[1]} ${order.productName}`,
      )
    : null;
  const waiting = order.status === "Completed" ? null : el("span", { class: "waited", "data-since": order.placedAt }, waitedFor(order.placedAt));
  return el(
    "li",
    { class: "card ticket", "data-order": order.orderId, "data-status": order.status },
    el("h4", {}, `${order.qty} × ${order.productName} `, el("span", { class: "number" }, `order ${orderNumber(order.orderId)}`)),
    el("p", { class: "meta" }, `for ${order.customerId}, placed `, time(order.placedAt), waiting ? " · " : "", waiting),
    button,
    refusal,
  );
}

/// How long an open ticket's customer has waited, in words ("waiting 3 min").
function waitedFor(since) {
  const minutes = Math.floor((Date.now() - new Date(since).getTime()) / 60000);
  return minutes < 1 ? "waiting under a minute" : `waiting ${minutes} min`;
}

// The open tickets' waiting times move on by themselves.
setInterval(() => {
  for (const waited of document.querySelectorAll("#view-kitchen .waited")) waited.textContent = waitedFor(waited.dataset.since);
}, 15000);

// ---- the manager: stock and staff -------------------------------------------------------------

async function loadStock() {
  const [levels, restocks, staff] = await Promise.all([api("GET", atShop("/stocks")), api("GET", atShop("/stocks/restocks")), api("GET", "/staff")]);
  $("#stock-title").textContent = `Stock at ${shopName(state.shop)}`;
  keepLevels(levels);
  renderStock();
  $("#restocks").replaceChildren(
    ...restocks.items.map((r) => el("li", {}, `${r.qty} × ${r.productName}${r.price ? ` at ${r.price}` : ""}, `, dateTime(r.at))),
  );
  $("#staff").replaceChildren(...staff.map((a) => el("li", {}, `${a.name} (${a.role}${a.shopId ? ` at ${shopName(a.shopId)}` : ""})`)));
}

function renderStock() {
  const items = [...state.stock.entries()].sort(([a], [b]) => a.localeCompare(b));
  reconcile($("#stock-table tbody"), items, ([product]) => product, ([product, qty]) =>
    el("tr", { "data-product": product }, el("th", { scope: "row" }, product), el("td", { class: "num" }, String(qty)), el("td", { class: "num" }, state.prices.get(product) || "–")),
  (item) => JSON.stringify([...item, state.prices.get(item[0])]));
  reconcile($("#product-names"), items, ([product]) => product, ([product]) => el("option", { value: product }), ([p]) => p);
}

onSubmit("#restock-form", async (form, body) => {
  const restock = { shopId: state.shop, productName: body.productName, qty: Number(body.qty) };
  if (body.price) restock.price = body.price;
  await api("POST", "/stocks", restock, { retry: true, key: crypto.randomUUID() });
  form.elements.productName.value = "";
  form.elements.price.value = "";
  await loadStock();
  notice(`Restocked ${body.productName}.`);
});

onSubmit("#staff-form", async (form, fields) => {
  const created = await api("POST", "/staff", { ...fields, shopId: state.shop });
  form.reset();
  await loadStock();
  notice(`Created ${created.name} (${created.role} at ${shopName(created.shopId)}).`);
});

// ---- the manager: the shop's last hour ------------------------------------------------------------

/// SVG's namespace, as the page's own charts have it (the script runs once the page is parsed).
const SVG = $("#chart-outcomes").namespaceURI;
const OUTCOMES = ["completed", "rejected", "canceled"];
/// The charts' drawing size (their viewBox); the page scales them to the column.
const [CHART_W, CHART_H] = [360, 170];
const LINE_COLOURS = ["#7a3e12", "#1f6b3a", "#2f5d9a", "#a12a1f", "#8a5a00"];

/// An SVG element (the charts are drawn by the page itself: no library, nothing fetched).
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const seconds = (ms) => (ms === null || ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`);

async function loadShop() {
  $("#shop-title").textContent = `${shopName(state.shop)}, last hour`;
  renderShop(await api("GET", atShop("/shop")));
}

/// While the Shop or the Chain view is open, a change in the live stream reads its figures again:
/// at most once every two seconds, however busy the shops.
function shopChanged() {
  const figures = () => ({ shop: loadShop, chain: loadChain })[currentView()];
  if (!figures() || !["manager", "owner"].includes(state.me?.role) || state.shopPending) return;
  state.shopPending = setTimeout(() => {
    state.shopPending = null;
    const load = state.me && figures();
    if (load) act(load);
  }, 2000);
}

// ---- the owner: every shop side by side -------------------------------------------------------------

async function loadChain() {
  renderChain(await api("GET", "/chain"));
}

function renderChain(shops) {
  const row = (shop) => {
    const f = shop.finished;
    const t = shop.placedToCompleted;
    const refused = Object.entries(shop.refusals).map(([reason, n]) => `${n} ${REASON_WORDS[reason] || reason}`).join(", ");
    return el(
      "tr",
      { "data-shop": shop.shopId },
      el("th", { scope: "row" }, shop.name),
      el("td", {}, sparkline(shop.perMinute)),
      el("td", { class: "num completed" }, String(f.completed)),
      el("td", { class: "num rejected" }, String(f.rejected)),
      el("td", { class: "num canceled" }, String(f.canceled)),
      el("td", { class: "num waiting" }, `${shop.waiting.queued} queued · ${shop.waiting.brewing} brewing`),
      el("td", { class: "num" }, `${seconds(t.p50Ms)} / ${seconds(t.p95Ms)}`),
      el("td", {}, refused || "–"),
      el("td", {}, el("button", { type: "button", onclick: () => { pickShop(shop.shopId); location.hash = "shop"; } }, `Open ${shop.name}`)),
    );
  };
  reconcile($("#chain-table tbody"), shops, (s) => s.shopId, row);
}

/// A shop's last hour in a line: orders finished each minute, completed above, refused below.
function sparkline(minutes) {
  const [w, h] = [180, 36];
  const most = Math.max(1, ...minutes.map((m) => m.completed + m.rejected + m.canceled));
  const step = w / minutes.length;
  const bars = minutes.flatMap((m, i) => {
    let y = h;
    return OUTCOMES.filter((o) => m[o] > 0).map((o) => {
      const height = (m[o] * h) / most;
      y -= height;
      return svg("rect", { class: o, x: i * step, y, width: Math.max(step - 0.5, 0.5), height }, svg("title", {}, `${clock(m.minute)}: ${m[o]} ${o}`));
    });
  });
  return svg("svg", { class: "sparkline", viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": "orders finished per minute" }, ...bars);
}

function renderShop(shop) {
  const f = shop.finished;
  $("#shop-finished").textContent = `${f.completed} completed · ${f.rejected} rejected · ${f.canceled} canceled`;
  const t = shop.placedToCompleted;
  $("#shop-times").textContent = `p50 ${seconds(t.p50Ms)} · p95 ${seconds(t.p95Ms)} (${t.orders} orders)`;
  $("#shop-waiting").textContent = `${shop.waiting.queued} queued · ${shop.waiting.brewing} brewing`;
  drawOutcomes(shop.perMinute);
  drawRefusals(shop.refusals);
  drawStock(shop.stock, shop.perMinute.map((m) => m.minute));
}

/// A label of the chart's time axis: the minute's local time.
const clock = (minute) => new Date(`${minute}:00Z`).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function drawOutcomes(minutes) {
  const [w, h, top, bottom] = [CHART_W, CHART_H, 16, 16];
  const most = Math.max(1, ...minutes.map((m) => m.completed + m.rejected + m.canceled));
  const scale = (h - top - bottom) / most;
  const step = w / minutes.length;
  const bars = minutes.flatMap((m, i) => {
    let y = h - bottom;
    return OUTCOMES.filter((o) => m[o] > 0).map((o) => {
      y -= m[o] * scale;
      return svg("rect", { class: o, "data-minute": m.minute, "data-outcome": o, "data-orders": m[o], x: i * step + 1, y, width: Math.max(step - 2, 1), height: m[o] * scale },
        svg("title", {}, `${clock(m.minute)}: ${m[o]} ${o}`));
    });
  });
  $("#chart-outcomes").replaceChildren(
    ...bars,
    svg("text", { x: 2, y: 12, class: "axis" }, `${most} a minute`),
    svg("text", { x: 2, y: h - 4, class: "axis" }, clock(minutes[0].minute)),
    svg("text", { x: w - 2, y: h - 4, class: "axis", "text-anchor": "end" }, clock(minutes[minutes.length - 1].minute)),
  );
}

function drawRefusals(refusals) {
  const rows = Object.entries(refusals).sort(([, a], [, b]) => b - a);
  const most = Math.max(1, ...rows.map(([, n]) => n));
  const drawn = rows.slice(0, 6).flatMap(([reason, n], i) => {
    const y = 6 + i * 26;
    const words = REASON_WORDS[reason] || reason;
    const width = Math.max(2, (150 * n) / most);
    return [
      svg("text", { x: 0, y: y + 14, class: "label" }, words),
      svg("rect", { class: "refused", "data-reason": reason, "data-orders": n, x: 170, y, width, height: 20 }),
      svg("text", { x: 175 + width, y: y + 14, class: "label" }, String(n)),
    ];
  });
  $("#chart-refusals").replaceChildren(...(drawn.length ? drawn : [svg("text", { x: 0, y: 24, class: "label" }, "Nothing refused.")]));
}

function drawStock(series, minutes) {
  const [w, h, top, bottom] = [CHART_W, CHART_H, 16, 16];
  const most = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.qty)));
  const x = (minute) => (w * Math.max(0, minutes.indexOf(minute))) / (minutes.length - 1);
  const y = (qty) => h - bottom - ((h - top - bottom) * qty) / most;
  const lines = series.flatMap((s, i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length];
    // A level holds until the next one: steps, carried on to now; a dot where each minute ended.
    const corners = s.points.flatMap((p, j) => (j === 0 ? [[x(p.minute), y(p.qty)]] : [[x(p.minute), y(s.points[j - 1].qty)], [x(p.minute), y(p.qty)]]));
    corners.push([w - 3, y(s.points[s.points.length - 1].qty)]);
    const dots = s.points.map((p) => svg("circle", { cx: Math.min(x(p.minute), w - 3), cy: y(p.qty), r: 3, fill: colour },
      svg("title", {}, `${s.productName}: ${p.qty} at ${clock(p.minute)}`)));
    return [svg("polyline", { class: "level", "data-product": s.productName, stroke: colour, points: corners.map((c) => c.join(",")).join(" ") }), ...dots];
  });
  $("#chart-stock").replaceChildren(
    ...lines,
    svg("text", { x: 2, y: 12, class: "axis" }, String(most)),
    svg("text", { x: 2, y: h - 4, class: "axis" }, clock(minutes[0])),
    svg("text", { x: w - 2, y: h - 4, class: "axis", "text-anchor": "end" }, clock(minutes[minutes.length - 1])),
  );
  $("#stock-legend").replaceChildren(...series.map((s, i) => {
    const key = el("span", { class: "key" }, `${s.productName} ${s.points.length ? s.points[s.points.length - 1].qty : "–"}`);
    // Set through the CSSOM: the page's Content-Security-Policy refuses inline `style` attributes.
    key.style.setProperty("--key", LINE_COLOURS[i % LINE_COLOURS.length]);
    return key;
  }));
}

start();
