// The demo page: phones that show what the bot sends and send what people do.
// Texts arrive as node trees (see sandbox/view.py) and are built with DOM calls only,
// never innerHTML, so nothing a message contains can run as script.
// The page's own words come from /api/labels (the catalogs' demo_* texts, in the browser's
// language); each phone's 🌐 list sets its person's Telegram app language.
"use strict";

const phonesEl = document.getElementById("phones");
const statusEl = document.getElementById("status");
const scanDialog = document.getElementById("scan-dialog");
const scanChoices = document.getElementById("scan-choices");
const template = document.getElementById("phone-template");
const TAGS = { b: "strong", i: "em", u: "u", s: "s", code: "code", pre: "pre", blockquote: "blockquote" };

let botName = "";
let labels = {}; // key -> template with {placeholders}, in the page's language
let languages = []; // [{ code, name }]: the languages a phone's Telegram can be set to
const phones = new Map(); // id -> { info, el, messages: Map(id -> view) }

// One of the page's texts, its {placeholders} filled in (shown as text, never as HTML).
function label(key, values = {}) {
  const text = labels[key];
  if (text === undefined) {
    console.error(`The page has no text "${key}".`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// Elements that name their text: data-label (text), data-label-aria/-placeholder/-title.
function applyLabels(root) {
  for (const el of root.querySelectorAll("[data-label]")) el.textContent = label(el.dataset.label);
  for (const el of root.querySelectorAll("[data-label-aria]")) el.setAttribute("aria-label", label(el.dataset.labelAria));
  for (const el of root.querySelectorAll("[data-label-placeholder]")) el.placeholder = label(el.dataset.labelPlaceholder);
  for (const el of root.querySelectorAll("[data-label-title]")) el.title = label(el.dataset.labelTitle);
}

async function loadLabels() {
  const response = await fetch("/api/labels");
  const page = await response.json();
  labels = page.labels;
  languages = page.languages;
  document.documentElement.lang = page.language;
  document.documentElement.dir = page.dir;
  document.title = label("title");
  applyLabels(document);
  applyLabels(template.content);
  const hint = document.getElementById("hint");
  hint.replaceChildren();
  renderNodes(page.hint, hint, null);
}

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

async function post(url, body, isForm = false) {
  const options = { method: "POST" };
  if (isForm) {
    options.body = body;
  } else {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body || {});
  }
  try {
    const response = await fetch(url, options);
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      return data.error || label("server_answered", { status: response.status });
    }
    return null;
  } catch (error) {
    return label("server_gone");
  }
}

async function act(phoneId, action, body, isForm = false) {
  const problem = await post(`/api/phones/${phoneId}/${action}`, body, isForm);
  if (problem) showNotice(phoneId, problem, true);
}

function isBotLink(href) {
  return href.startsWith(`https://t.me/${botName}`) &&
    /^https:\/\/t\.me\/[A-Za-z0-9_]+(\?start=[A-Za-z0-9_-]{1,64})?$/.test(href);
}

function renderNodes(nodes, parent, phoneId) {
  for (const node of nodes) {
    if (typeof node === "string") {
      parent.append(document.createTextNode(node));
      continue;
    }
    let el;
    if (node.tag === "a") {
      el = document.createElement("a");
      el.href = node.href;
      if (isBotLink(node.href)) {
        el.addEventListener("click", (event) => {
          event.preventDefault();
          act(phoneId, "open", { url: node.href });
        });
      } else {
        el.target = "_blank";
        el.rel = "noopener noreferrer";
      }
    } else if (node.tag === "command") {
      el = document.createElement("button");
      el.type = "button";
      el.className = "command";
      el.addEventListener("click", () => act(phoneId, "text", { text: flatText(node.children) }));
    } else if (node.tag === "spoiler") {
      el = document.createElement("span");
      el.className = "spoiler";
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", label("spoiler"));
      const reveal = () => { el.classList.add("shown"); el.removeAttribute("aria-label"); };
      el.addEventListener("click", reveal);
      el.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") reveal(); });
    } else {
      el = document.createElement(TAGS[node.tag] || "span");
    }
    renderNodes(node.children || [], el, phoneId);
    parent.append(el);
  }
}

function flatText(nodes) {
  return nodes.map((n) => (typeof n === "string" ? n : flatText(n.children || []))).join("");
}

function renderMessage(phoneId, view) {
  const li = document.createElement("li");
  li.className = `msg ${view.from}`;
  li.dataset.id = view.id;
  if (view.photo) {
    const img = document.createElement("img");
    img.src = view.photo;
    // A picture gets its height only once loaded: keep the newest message in view.
    img.addEventListener("load", () => {
      const chat = li.parentElement;
      if (chat && li === chat.lastElementChild) chat.scrollTop = chat.scrollHeight;
    });
    if (view.scannable) {
      img.alt = label("qr");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "qr";
      button.setAttribute("aria-label", label("qr_scan"));
      button.append(img);
      button.addEventListener("click", () => chooseScanner(phoneId, view.id));
      li.append(button);
    } else {
      img.alt = label(view.from === "user" ? "photo_sent" : "photo_from_bot");
      li.append(img);
    }
  }
  if (view.document) {
    const link = document.createElement("a");
    link.className = "doc";
    link.href = view.document.url;
    link.download = view.document.name;
    link.textContent = `📄 ${view.document.name}`;
    li.append(link);
  }
  if (view.nodes.length) {
    const text = document.createElement("div");
    text.className = "text";
    renderNodes(view.nodes, text, phoneId);
    if (view.edited) {
      const edited = document.createElement("span");
      edited.className = "edited";
      edited.textContent = label("edited");
      text.append(edited);
    }
    li.append(text);
  }
  if (view.buttons.length) {
    const grid = document.createElement("div");
    grid.className = "buttons";
    for (const row of view.buttons) {
      const rowEl = document.createElement("div");
      rowEl.className = "row";
      for (const button of row) {
        const el = document.createElement("button");
        el.type = "button";
        el.textContent = button.text;
        if (button.callback_data !== undefined) {
          el.addEventListener("click", () =>
            act(phoneId, "press", { message_id: view.id, data: button.callback_data }));
        } else if (button.url && isBotLink(button.url)) {
          el.addEventListener("click", () => act(phoneId, "open", { url: button.url }));
        } else if (button.url) {
          el.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        }
        rowEl.append(el);
      }
      grid.append(rowEl);
    }
    li.append(grid);
  }
  return li;
}

function upsertMessage(phone, view) {
  phone.messages.set(view.id, view);
  const chat = phone.el.querySelector(".chat");
  const li = renderMessage(phone.info.id, view);
  const existing = chat.querySelector(`li[data-id="${view.id}"]`);
  if (existing) {
    existing.replaceWith(li);
  } else {
    const later = [...chat.querySelectorAll("li[data-id]")].find((el) => Number(el.dataset.id) > view.id);
    chat.insertBefore(li, later || null);
    chat.scrollTop = chat.scrollHeight;
  }
  refreshControls(phone);
}

function refreshControls(phone) {
  const startArea = phone.el.querySelector(".start-area");
  startArea.hidden = phone.messages.size > 0;
  const keyboardEl = phone.el.querySelector(".keyboard");
  const withKeyboard = [...phone.messages.values()]
    .filter((view) => view.from === "bot" && view.keyboard !== undefined)
    .sort((a, b) => a.id - b.id);
  const rows = withKeyboard.length ? withKeyboard[withKeyboard.length - 1].keyboard : [];
  keyboardEl.replaceChildren();
  keyboardEl.hidden = rows.length === 0;
  keyboardEl.setAttribute("aria-label", label("keyboard_of", { name: phone.info.name }));
  for (const row of rows) {
    const rowEl = document.createElement("div");
    rowEl.className = "row";
    for (const label of row) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.addEventListener("click", () => act(phone.info.id, "text", { text: label }));
      rowEl.append(button);
    }
    keyboardEl.append(rowEl);
  }
}

function renderMenu(phone) {
  const menu = phone.el.querySelector(".menu");
  const toggle = phone.el.querySelector(".menu-button");
  menu.replaceChildren();
  for (const command of phone.info.menu) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.append(document.createTextNode(`/${command.command}`));
    const desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = command.description;
    button.append(desc);
    button.addEventListener("click", () => {
      menu.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      act(phone.info.id, "text", { text: `/${command.command}` });
    });
    item.append(button);
    menu.append(item);
  }
  toggle.disabled = phone.info.menu.length === 0;
}

function showNotice(phoneId, text, isAlert = false) {
  const phone = phones.get(phoneId);
  if (!phone) {
    setStatus(text, true);
    return;
  }
  const notice = phone.el.querySelector(".notice");
  notice.textContent = text;
  notice.classList.toggle("alert", isAlert);
  notice.hidden = false;
  clearTimeout(phone.noticeTimer);
  phone.noticeTimer = setTimeout(() => { notice.hidden = true; }, isAlert ? 8000 : 4000);
}

function showRejection(event) {
  const text = label("rejected", { method: event.method, code: event.code, description: event.description });
  const phone = phones.get(event.phone);
  if (!phone) {
    setStatus(text, true);
    return;
  }
  const li = document.createElement("li");
  li.className = "msg rejected";
  li.setAttribute("role", "alert");
  li.textContent = text;
  const chat = phone.el.querySelector(".chat");
  chat.append(li);
  chat.scrollTop = chat.scrollHeight;
}

function buildPhone(info) {
  const el = template.content.firstElementChild.cloneNode(true);
  const titleId = `phone-${info.id}-title`;
  el.dataset.phone = info.id;
  el.setAttribute("aria-labelledby", titleId);
  const title = el.querySelector(".phone-name");
  title.id = titleId;
  title.textContent = info.name;
  el.querySelector(".role").textContent = label(`role_${info.role}`);
  el.querySelector(".chat").setAttribute("aria-label", label("chat_of", { name: info.name }));
  el.querySelector(".menu").id = `menu-${info.id}`;
  el.querySelector(".menu-button").setAttribute("aria-controls", `menu-${info.id}`);
  const input = el.querySelector(".text-input");
  input.id = `input-${info.id}`;
  input.setAttribute("aria-label", label("message_from", { name: info.name }));
  buildLanguagePicker(el.querySelector(".language-select"), info);
  el.querySelector(".start").addEventListener("click", () => act(info.id, "text", { text: "/start" }));
  el.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act(info.id, "text", { text });
  });
  el.querySelector(".photo-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("photo", file);
    event.target.value = "";
    act(info.id, "photo", form, true);
  });
  const toggle = el.querySelector(".menu-button");
  toggle.addEventListener("click", () => {
    const menu = el.querySelector(".menu");
    menu.hidden = !menu.hidden;
    toggle.setAttribute("aria-expanded", String(!menu.hidden));
    if (!menu.hidden) menu.querySelector("button")?.focus();
  });
  const phone = { info, el, messages: new Map(), noticeTimer: 0 };
  phones.set(info.id, phone);
  renderMenu(phone);
  for (const view of info.messages) upsertMessage(phone, view);
  refreshControls(phone);
  return el;
}

function chooseScanner(shownOn, messageId) {
  scanChoices.replaceChildren();
  for (const phone of phones.values()) {
    if (phone.info.id === shownOn) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label(`person_${phone.info.role}`, { name: phone.info.name });
    button.addEventListener("click", () => {
      scanDialog.close();
      act(phone.info.id, "scan", { chat_id: shownOn, message_id: messageId });
    });
    scanChoices.append(button);
  }
  scanDialog.showModal();
  scanChoices.querySelector("button")?.focus();
}

// The phone's Telegram app language: the bot reads it from what the person does next.
function buildLanguagePicker(select, info) {
  select.setAttribute("aria-label", label("language_of", { name: info.name }));
  for (const language of languages) {
    const option = document.createElement("option");
    option.value = language.code;
    option.lang = language.code;
    option.textContent = language.name;
    select.append(option);
  }
  select.value = info.language;
  select.addEventListener("change", async () => {
    const chosen = languages.find((language) => language.code === select.value);
    const problem = await post(`/api/phones/${info.id}/language`, { language: select.value });
    if (problem) {
      showNotice(info.id, problem, true);
      select.value = info.language;
    } else {
      showNotice(info.id, label("language_switched", { name: info.name, language: chosen.name }));
    }
  });
}

function applySnapshot(snapshot) {
  botName = snapshot.bot;
  document.getElementById("heading").textContent = label("heading", { cafe: snapshot.cafe });
  phones.clear();
  phonesEl.replaceChildren(...snapshot.phones.map(buildPhone));
  for (const rejection of snapshot.rejections) showRejection(rejection);
  document.body.dataset.ready = "true";
}

function apply(event) {
  if (event.type === "snapshot") {
    applySnapshot(event);
    return;
  }
  const phone = phones.get(event.phone);
  if (event.type === "rejected") {
    showRejection(event);
  } else if (!phone) {
    return;
  } else if (event.type === "message") {
    upsertMessage(phone, event.message);
  } else if (event.type === "remove") {
    phone.messages.delete(event.id);
    phone.el.querySelector(`li[data-id="${event.id}"]`)?.remove();
    refreshControls(phone);
  } else if (event.type === "language") {
    phone.info.language = event.language;
    phone.el.querySelector(".language-select").value = event.language;
  } else if (event.type === "menu") {
    phone.info.menu = event.commands;
    renderMenu(phone);
  } else if (event.type === "toast") {
    showNotice(event.phone, event.text, event.alert);
  }
}

function connect() {
  const source = new EventSource("/events");
  let lost = false;
  source.onmessage = (message) => {
    if (lost) setStatus(label("connected_again"));
    lost = false;
    apply(JSON.parse(message.data));
  };
  source.onerror = () => {
    lost = true;
    setStatus(label("connection_lost"), true);
  };
}

document.getElementById("reset").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  setStatus(label("resetting"));
  const problem = await post("/api/reset");
  button.disabled = false;
  setStatus(problem || label("reset_done"), Boolean(problem));
});

document.getElementById("add-phone").addEventListener("click", async () => {
  const problem = await post("/api/phones");
  setStatus(problem || label("phone_added"), Boolean(problem));
});

loadLabels().then(connect, () => setStatus(label("server_gone"), true));
