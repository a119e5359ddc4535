/* West Midlands health tech network: the Cluster Assistant widget for partner sites.
 *
 *   <script src="https://HOST/widget.js" data-partner="PARTNER_ID" async></script>
 *
 * Plain JS, no framework. Styles live in a shadow root, so the host page's CSS cannot reach in and ours cannot
 * leak out. Everything the server sends is inserted with textContent, never as HTML; links are http(s) only and
 * only those of cited sources. The server checks the page's origin and a short-lived signed token on every call.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__clusterAssistantLoaded) return;
  window.__clusterAssistantLoaded = true;
  var partnerId = script.getAttribute("data-partner") || "";
  var base = new URL(script.src, location.href).origin;
  var state = { token: null, partner: null, consent: null, questions: [], transcript: [], open: false };

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    ".launcher { position: fixed; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 999px;",
    "  padding: 12px 18px; font-size: 16px; font-weight: 600; cursor: pointer;",
    "  background: var(--accent); color: var(--accent-text); box-shadow: 0 2px 10px rgba(0,0,0,.3); }",
    ".right { right: 20px; } .left { left: 20px; }",
    ".panel { position: fixed; bottom: 80px; z-index: 2147483001; width: 380px; max-width: calc(100vw - 24px);",
    "  height: 560px; max-height: calc(100vh - 100px); display: flex; flex-direction: column; background: #fff;",
    "  color: #111827; border: 1px solid #6b7280; border-radius: 12px; box-shadow: 0 6px 24px rgba(0,0,0,.25);",
    "  transition: opacity .15s ease; }",
    ".panel[hidden] { display: none; }",
    "header { display: flex; align-items: center; justify-content: space-between; padding: 10px 12px;",
    "  background: var(--accent); color: var(--accent-text); border-radius: 12px 12px 0 0; }",
    "h2 { font-size: 16px; margin: 0; }",
    "header p { margin: 2px 0 0; font-size: 13px; }",
    "button { font-size: 14px; border-radius: 6px; cursor: pointer; }",
    ".close { background: transparent; color: var(--accent-text); border: 2px solid var(--accent-text);",
    "  padding: 4px 10px; }",
    ".log { flex: 1; overflow-y: auto; padding: 10px 12px; }",
    ".msg { margin: 0 0 10px; padding: 8px 10px; border-radius: 8px; line-height: 1.4; white-space: pre-wrap; }",
    ".user { background: #e5e7eb; margin-left: 40px; }",
    ".bot { background: #f3f4f6; border: 1px solid #d1d5db; margin-right: 20px; }",
    ".note { color: #374151; font-style: italic; }",
    "ol.cards { margin: 6px 0 0; padding-left: 0; list-style: none; }",
    ".card { border: 1px solid #6b7280; border-radius: 6px; padding: 6px 8px; margin-top: 6px; background: #fff; }",
    ".card strong { display: block; } .card .section { color: #374151; font-size: 13px; }",
    ".card blockquote { margin: 4px 0; padding-left: 6px; border-left: 3px solid var(--accent); font-size: 13px; }",
    ".card a { color: #1d4ed8; }",
    ".starters { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; }",
    ".starters button, .secondary { background: #fff; color: #111827; border: 1px solid #4b5563; padding: 6px 8px; }",
    "form.ask { display: flex; gap: 6px; padding: 8px 12px; border-top: 1px solid #d1d5db; }",
    "form.ask input { flex: 1; }",
    "input, textarea { font-size: 15px; padding: 8px; border: 1px solid #4b5563; border-radius: 6px; color: #111827;",
    "  background: #fff; width: 100%; }",
    ".primary { background: var(--accent); color: var(--accent-text); border: 0; padding: 8px 12px; }",
    ".footer { padding: 0 12px 10px; }",
    ".handoff { padding: 8px 12px; border-top: 1px solid #d1d5db; max-height: 50%; overflow-y: auto; }",
    ".handoff[hidden] { display: none; }",
    ".handoff label { display: block; font-size: 13px; margin-top: 6px; }",
    ".row { display: flex; gap: 8px; margin-top: 8px; }",
    ":focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }",
    "@media (max-width: 480px) { .panel { inset: 0; width: 100vw; max-width: 100vw; height: 100vh;",
    "  max-height: 100vh; border-radius: 0; } header { border-radius: 0; } }",
    "@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }",
  ].join("\n");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text; // text only: never HTML from the server
    return node;
  }

  var host = el("div", { "data-cluster-assistant": "" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", {}, CSS));

  var launcher = el("button", {
    class: "launcher right",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": "ca-panel",
  }, "Ask us a question");
  var panel = el("div", { id: "ca-panel", class: "panel right", role: "dialog", "aria-labelledby": "ca-title" });
  panel.hidden = true;
  var header = el("header");
  var titles = el("div");
  titles.appendChild(el("h2", { id: "ca-title" }, "West Midlands health tech assistant"));
  var subtitle = el("p", {}, "Answers from the network's documents, with sources");
  titles.appendChild(subtitle);
  var closeButton = el("button", { class: "close", type: "button", "aria-label": "Close the assistant" }, "Close");
  header.appendChild(titles);
  header.appendChild(closeButton);
  // tabindex: the conversation scrolls, so keyboard users must be able to reach it.
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  var starters = el("div", { class: "starters" });
  var form = el("form", { class: "ask" });
  var label = el("label", { for: "ca-question", class: "sr-only" }, "Your question");
  var input = el("input", { id: "ca-question", type: "text", autocomplete: "off", maxlength: "500" });
  input.setAttribute("placeholder", "Type your question");
  var send = el("button", { class: "primary", type: "submit" }, "Send");
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  var footer = el("div", { class: "footer" });
  var personButton = el("button", { class: "secondary", type: "button" }, "Ask a person");
  footer.appendChild(personButton);
  var handoff = el("div", { class: "handoff", role: "region", "aria-label": "Pass your question to a person" });
  handoff.hidden = true;
  [header, log, starters, form, footer, handoff].forEach(function (part) {
    panel.appendChild(part);
  });
  root.appendChild(launcher);
  root.appendChild(panel);

  function say(role, text, extraClass) {
    var message = el("div", { class: "msg " + role + (extraClass ? " " + extraClass : "") }, text);
    log.appendChild(message);
    log.scrollTop = log.scrollHeight;
    return message;
  }

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December"];

  function spokenDate(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    return parts ? Number(parts[3]) + " " + MONTHS[Number(parts[2]) - 1] + " " + parts[1] : iso;
  }

  function isHttp(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:";
    } catch (e) {
      return false;
    }
  }

  function showAnswer(body) {
    var message = say("bot", body.answer);
    if (body.citations && body.citations.length) {
      var list = el("ol", { class: "cards", "aria-label": "Sources" });
      body.citations.forEach(function (c) {
        var card = el("li", { class: "card" });
        card.appendChild(el("strong", {}, "[" + c.n + "] " + c.title));
        if (c.section) card.appendChild(el("span", { class: "section" }, c.section));
        if (c.date) card.appendChild(el("span", { class: "section" }, "Dated " + spokenDate(c.date)));
        card.appendChild(el("blockquote", {}, c.snippet));
        if (c.url && isHttp(c.url)) {
          var link = el("a", { href: c.url, target: "_blank", rel: "noopener noreferrer" }, "Open the source");
          card.appendChild(link);
        }
        list.appendChild(card);
      });
      message.appendChild(list);
    }
    state.transcript.push({ role: "assistant", content: body.answer });
    // After an abstention, or at once when the visitor asked for a person ("how do I contact you").
    if (body.abstained || body.handoff) offerPerson();
  }

  function post(path, payload) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(base + path, { method: "POST", headers: headers, body: JSON.stringify(payload), mode: "cors" })
      .then(function (response) {
        return response.json().catch(function () {
          return {};
        }).then(function (body) {
          return { status: response.status, body: body, retry: response.headers.get("Retry-After") };
        });
      });
  }

  function unavailable() {
    state.token = null;
    log.textContent = "";
    say("bot", "The assistant is not available on this site.", "note");
    input.disabled = true;
    send.disabled = true;
    personButton.disabled = true;
  }

  function applyPartner(partner) {
    host.style.setProperty("--accent", partner.accent);
    host.style.setProperty("--accent-text", partner.accent_text);
    var side = partner.position === "bottom-left" ? "left" : "right";
    launcher.className = "launcher " + side;
    panel.className = "panel " + side;
    subtitle.textContent = "On " + partner.name + "'s site: answers from the network's documents, with sources";
    input.setAttribute("maxlength", String(partner.max_message_chars));
    log.textContent = "";
    say("bot", partner.greeting);
    starters.textContent = "";
    (partner.starter_questions || []).forEach(function (question) {
      var button = el("button", { type: "button" }, question);
      button.addEventListener("click", function () {
        ask(question);
      });
      starters.appendChild(button);
    });
  }

  function startSession() {
    return post("/api/widget/session", { partner: partnerId }).then(function (reply) {
      if (reply.status !== 200) throw new Error("refused");
      state.token = reply.body.token;
      state.partner = reply.body.partner;
      state.consent = reply.body.consent;
      applyPartner(state.partner);
    });
  }

  function ask(question, retried) {
    question = question.trim();
    if (!question || !state.token) return;
    if (!retried) {
      say("user", question);
      state.transcript.push({ role: "user", content: question });
    }
    var pending = say("bot", "Looking in the documents…", "note");
    post("/api/widget/ask", { question: question, history: state.questions.slice(-10) }).then(function (reply) {
      pending.remove();
      if (reply.status === 200) {
        state.questions.push(question);
        showAnswer(reply.body);
      } else if (reply.status === 429) {
        var wait = reply.retry || "a few";
        say("bot", "You're asking a little fast. Please wait " + wait + " seconds and try again.", "note");
      } else if (reply.status === 401 && !retried) {
        startSession().then(function () {
          ask(question, true);
        }, unavailable);
      } else if (reply.status === 403) {
        unavailable();
      } else {
        say("bot", reply.body.detail || "Something went wrong. Please try again.", "note");
      }
    }, function () {
      pending.remove();
      say("bot", "The assistant could not be reached. Please try again later.", "note");
    });
  }

  function field(labelText, id, type, multiline) {
    var wrap = el("div");
    wrap.appendChild(el("label", { for: id }, labelText));
    var control = multiline ? el("textarea", { id: id, rows: "3" }) : el("input", { id: id, type: type });
    wrap.appendChild(control);
    return { wrap: wrap, control: control };
  }

  function offerPerson() {
    if (!state.consent) return;
    handoff.textContent = "";
    handoff.hidden = false;
    handoff.appendChild(el("strong", {}, "Pass your question to a person?"));
    handoff.appendChild(el("p", {}, state.consent.text));
    handoff.appendChild(el("p", { class: "note" }, "Consent version " + state.consent.version));
    var row = el("div", { class: "row" });
    var agree = el("button", { class: "primary", type: "button" }, "I agree");
    var decline = el("button", { class: "secondary", type: "button" }, "No thanks");
    row.appendChild(agree);
    row.appendChild(decline);
    handoff.appendChild(row);
    agree.focus();
    decline.addEventListener("click", function () {
      handoff.hidden = true;
      say("bot", "No problem: nothing has been shared. You can keep asking questions here.", "note");
      input.focus();
    });
    agree.addEventListener("click", showForm);
  }

  function showForm() {
    handoff.textContent = "";
    var contact = el("form");
    var name = field("Name", "ca-name", "text");
    var email = field("E-mail", "ca-email", "email");
    var organisation = field("Organisation (optional)", "ca-org", "text");
    var message = field("Message", "ca-message", "text", true);
    message.control.value = state.questions.length ? state.questions[state.questions.length - 1] : "";
    [name, email, organisation, message].forEach(function (f) {
      contact.appendChild(f.wrap);
    });
    var submit = el("button", { class: "primary", type: "submit" }, "Send to the team");
    var row = el("div", { class: "row" });
    row.appendChild(submit);
    contact.appendChild(row);
    handoff.appendChild(contact);
    name.control.focus();
    contact.addEventListener("submit", function (event) {
      event.preventDefault();
      post("/api/widget/enquiries", {
        name: name.control.value,
        email: email.control.value,
        organisation: organisation.control.value || null,
        message: message.control.value,
        consent: true,
        consent_version: state.consent.version,
        transcript: state.transcript,
      }).then(function (reply) {
        if (reply.status === 201) {
          handoff.hidden = true;
          say("bot", "Thank you: your enquiry (reference " + reply.body.reference + ") has been passed to the team.");
          input.focus();
        } else if (reply.status === 429) {
          say("bot", "You're asking a little fast. Please wait " + (reply.retry || "a few") + " seconds.", "note");
        } else {
          say("bot", "Please check the form: " + (reply.body.detail || "something is missing") + ".", "note");
        }
      });
    });
  }

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      (input.disabled ? closeButton : input).focus();
    } else {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    setOpen(!state.open);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.stopPropagation();
      setOpen(false);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value;
    input.value = "";
    ask(question);
  });
  personButton.addEventListener("click", offerPerson);

  host.style.setProperty("--accent", "#1d4ed8");
  host.style.setProperty("--accent-text", "#ffffff");
  (document.body || document.documentElement).appendChild(host);
  startSession().catch(unavailable);
})();
