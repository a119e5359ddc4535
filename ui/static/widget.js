/* West Midlands health tech network: the Cluster Assistant widget for partner sites.
 *
 *   <script src="https://HOST/widget.js" data-partner="PARTNER_ID" async></script>
 *
 * Plain JS, no framework. Styles live in a shadow root, so the host page's CSS cannot reach in and ours cannot
 * leak out. Everything the server sends is inserted with textContent, never as HTML; links are http(s) only (or our
 * own document pages). The server checks the page's origin and a short-lived signed token on every call. Nothing is
 * drawn until the server has agreed to serve this site: on a site that is not allowed, the browser console says why.
 * The conversation lives in sessionStorage, so it follows the visitor from page to page of the partner's site.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__clusterAssistantLoaded) return;
  window.__clusterAssistantLoaded = true;
  var partnerId = script.getAttribute("data-partner") || "";
  var base = new URL(script.src, location.href).origin;
  var KEY = "cluster-assistant:" + base + ":" + partnerId;
  // thread: what the conversation shows ({role, text, body?, note?}); real: questions asked of the documents.
  var state = { token: null, partner: null, consent: null, questions: [], real: [], transcript: [], thread: [],
    open: false };

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
    ".panel[hidden], [hidden] { display: none !important; }",
    "header { display: flex; align-items: center; justify-content: space-between; padding: 10px 12px;",
    "  background: var(--accent); color: var(--accent-text); border-radius: 12px 12px 0 0; }",
    "h2 { font-size: 16px; margin: 0; }",
    "header p { margin: 2px 0 0; font-size: 13px; }",
    "button { font-size: 14px; border-radius: 6px; cursor: pointer; }",
    ".close { background: transparent; color: var(--accent-text); border: 2px solid var(--accent-text);",
    "  padding: 4px 10px; }",
    ".log { flex: 1; min-height: 0; overflow-y: auto; padding: 10px 12px; }",
    ".msg { margin: 0 0 10px; padding: 8px 10px; border-radius: 8px; line-height: 1.4; white-space: pre-wrap; }",
    ".user { background: #e5e7eb; margin-left: 40px; }",
    ".bot { background: #f3f4f6; border: 1px solid #d1d5db; margin-right: 20px; }",
    ".note { color: #374151; font-style: italic; }",
    ".msg a.cite { color: #1d4ed8; }",
    "ol.cards { margin: 6px 0 0; padding-left: 0; list-style: none; white-space: normal; }",
    ".card { border: 1px solid #6b7280; border-radius: 6px; padding: 6px 8px; margin-top: 6px; background: #fff; }",
    ".card strong { display: block; } .card .section { display: block; color: #374151; font-size: 13px; }",
    ".card summary { cursor: pointer; color: #1d4ed8; font-size: 13px; }",
    ".card blockquote { margin: 4px 0; padding-left: 6px; border-left: 3px solid var(--accent); font-size: 13px; }",
    ".card a { color: #1d4ed8; font-size: 13px; margin-right: 8px; }",
    ".card:focus { outline: 3px solid #f59e0b; }",
    ".starters { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; }",
    ".starters button, .secondary { background: #fff; color: #111827; border: 1px solid #4b5563; padding: 6px 8px; }",
    "form.ask { display: flex; gap: 6px; padding: 8px 12px; border-top: 1px solid #d1d5db; }",
    "form.ask input { flex: 1; }",
    "input, textarea { font-size: 15px; padding: 8px; border: 1px solid #4b5563; border-radius: 6px; color: #111827;",
    "  background: #fff; width: 100%; }",
    "[aria-invalid=true] { border: 2px solid #b91c1c; }",
    ".error { color: #b91c1c; font-size: 13px; margin: 2px 0 0; }",
    ".primary { background: var(--accent); color: var(--accent-text); border: 0; padding: 8px 12px; }",
    ".footer { padding: 0 12px 10px; }",
    ".handoff { margin: 4px 0 10px; padding: 8px 10px; border: 1px solid #6b7280; border-radius: 8px; }",
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

  var CLOSED = "Ask us a question";
  var launcher = el("button", {
    class: "launcher right",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": "ca-panel",
  }, CLOSED);
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
  // The hand-off is the last thing in the conversation: the thread stays above it, scrollable, not squeezed.
  var handoff = el("div", { class: "handoff", role: "region", "aria-label": "Pass your question to a person" });
  handoff.hidden = true;
  [header, log, starters, form, footer].forEach(function (part) {
    panel.appendChild(part);
  });
  root.appendChild(launcher);
  root.appendChild(panel);

  function save() {
    try {
      sessionStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) { /* storage full or refused: the conversation lasts this page only */ }
  }

  function say(role, text, extraClass) {
    var message = el("div", { class: "msg " + role + (extraClass ? " " + extraClass : "") }, text);
    log.insertBefore(message, handoff.parentNode === log ? handoff : null);
    log.scrollTop = log.scrollHeight;
    return message;
  }

  function note(text) {
    state.thread.push({ role: "bot", text: text, note: true });
    save();
    return say("bot", text, "note");
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

  function card(c, id) {
    var item = el("li", { class: "card", id: id, tabindex: "-1" });
    item.appendChild(el("strong", {}, "[" + c.n + "] " + c.title));
    var where = [c.section, c.date ? "dated " + spokenDate(c.date) : ""].filter(Boolean).join(" · ");
    if (where) item.appendChild(el("span", { class: "section" }, where));
    var folded = el("details");
    folded.appendChild(el("summary", {}, "Passage quoted"));
    folded.appendChild(el("blockquote", {}, c.snippet));
    item.appendChild(folded);
    if (typeof c.page === "string" && c.page.charAt(0) === "/") {
      item.appendChild(el("a", { href: base + c.page, target: "_blank", rel: "noopener" }, "Read it whole"));
    }
    if (c.url && isHttp(c.url)) {
      item.appendChild(el("a", { href: c.url, target: "_blank", rel: "noopener noreferrer" }, "Open the source"));
    }
    return item;
  }

  function renderAnswer(body, key) {
    var message = say("bot", "");
    // The text, with each [n] a link to its card under it (in the shadow root: moved to by script, not by #).
    body.answer.split(/(\[\d+\])/).forEach(function (piece) {
      var cited = /^\[(\d+)\]$/.exec(piece);
      if (!cited) {
        message.appendChild(document.createTextNode(piece));
        return;
      }
      var link = el("a", { href: "#", class: "cite", "aria-label": "Source " + cited[1] }, piece);
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var target = root.getElementById(key + "-source-" + cited[1]);
        if (target) {
          target.scrollIntoView({ block: "nearest" });
          target.focus();
        }
      });
      message.appendChild(link);
    });
    if (body.citations && body.citations.length) {
      var list = el("ol", { class: "cards", "aria-label": "Sources" });
      body.citations.forEach(function (c) {
        list.appendChild(card(c, key + "-source-" + c.n));
      });
      message.appendChild(list);
    }
  }

  function showAnswer(body) {
    state.thread.push({ role: "bot", body: body });
    state.transcript.push({ role: "assistant", content: body.answer });
    save();
    renderAnswer(body, "a" + state.thread.length);
    // After an abstention, or at once when the visitor asked for a person ("how do I contact you").
    if (body.abstained || body.handoff) offerPerson();
  }

  function post(path, payload, simple) {
    // The session request is a "simple" one (text/plain: no preflight); every other call sends JSON with its token.
    var headers = { "Content-Type": simple ? "text/plain" : "application/json" };
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

  function unavailable(reason) {
    // Not this site (any more): nothing stays on the page, and the console says why for the partner's developer.
    try {
      sessionStorage.removeItem(KEY);
    } catch (e) { /* nothing kept */ }
    if (host.parentNode) host.parentNode.removeChild(host);
    if (window.console) console.warn("Cluster Assistant widget: " + (reason || "not available on this site."));
  }

  function applyPartner(partner) {
    host.style.setProperty("--accent", partner.accent);
    host.style.setProperty("--accent-text", partner.accent_text);
    var side = partner.position === "bottom-left" ? "left" : "right";
    launcher.className = "launcher " + side;
    panel.className = "panel " + side;
    subtitle.textContent = "On " + partner.name + "'s site: answers from the network's documents, with sources";
    input.setAttribute("maxlength", String(partner.max_message_chars));
    starters.textContent = "";
    (partner.starter_questions || []).forEach(function (question) {
      var button = el("button", { type: "button" }, question);
      button.addEventListener("click", function () {
        ask(question);
      });
      starters.appendChild(button);
    });
  }

  function draw() {
    // The thread as kept: the greeting, then every message and answer with its cards.
    log.textContent = "";
    say("bot", state.partner.greeting);
    state.thread.forEach(function (entry, i) {
      if (entry.body) renderAnswer(entry.body, "a" + (i + 1));
      else say(entry.role, entry.text, entry.note ? "note" : "");
    });
    starters.hidden = state.questions.length > 0;
    if (!host.parentNode) (document.body || document.documentElement).appendChild(host);
  }

  function startSession() {
    return post("/api/widget/session", { partner: partnerId }, true).then(function (reply) {
      if (reply.status !== 200) throw new Error(reply.body.detail || "refused (" + reply.status + ")");
      state.token = reply.body.token;
      state.partner = reply.body.partner;
      state.consent = reply.body.consent;
      applyPartner(state.partner);
      save();
    });
  }

  function ask(question, retried) {
    question = question.trim();
    if (!question || !state.token) return;
    if (!retried) {
      state.thread.push({ role: "user", text: question });
      state.transcript.push({ role: "user", content: question });
      save();
      say("user", question);
      starters.hidden = true; // the conversation has started: the starters have done their job
    }
    var pending = say("bot", "Looking in the documents…", "note");
    post("/api/widget/ask", { question: question, history: state.questions.slice(-10) }).then(function (reply) {
      pending.remove();
      if (reply.status === 200) {
        state.questions.push(question);
        if (reply.body.kind === "answer") state.real.push(question);
        showAnswer(reply.body);
      } else if (reply.status === 429) {
        var wait = reply.retry || "a few";
        note("You're asking a little fast. Please wait " + wait + " seconds and try again.");
      } else if (reply.status === 401 && !retried) {
        startSession().then(function () {
          ask(question, true);
        }, function (error) {
          unavailable(error.message);
        });
      } else if (reply.status === 403) {
        unavailable(reply.body.detail);
      } else {
        note(reply.body.detail || "Something went wrong. Please try again.");
      }
    }, function () {
      pending.remove();
      note("The assistant could not be reached. Please try again later.");
    });
  }

  function field(labelText, id, type, multiline) {
    var wrap = el("div");
    wrap.appendChild(el("label", { for: id }, labelText));
    var control = multiline ? el("textarea", { id: id, rows: "3" }) : el("input", { id: id, type: type });
    var error = el("p", { class: "error", id: id + "-error", "aria-live": "assertive" });
    control.setAttribute("aria-describedby", id + "-error");
    wrap.appendChild(control);
    wrap.appendChild(error);
    return { wrap: wrap, control: control, error: error };
  }

  function openHandoff() {
    handoff.textContent = "";
    handoff.hidden = false;
    log.appendChild(handoff); // after the thread, which stays above it
    form.hidden = true;
    footer.hidden = true;
  }

  function closeHandoff(focusOn) {
    handoff.hidden = true;
    form.hidden = false;
    footer.hidden = false;
    (focusOn || input).focus();
  }

  function offerPerson() {
    if (!state.consent) return;
    openHandoff();
    handoff.appendChild(el("strong", {}, "Pass your question to a person?"));
    handoff.appendChild(el("p", {}, state.consent.text));
    handoff.appendChild(el("p", { class: "note" }, "Consent version " + state.consent.version));
    var row = el("div", { class: "row" });
    var agree = el("button", { class: "primary", type: "button" }, "I agree");
    var decline = el("button", { class: "secondary", type: "button" }, "No thanks");
    row.appendChild(agree);
    row.appendChild(decline);
    handoff.appendChild(row);
    handoff.scrollIntoView({ block: "nearest" });
    agree.focus();
    decline.addEventListener("click", function () {
      closeHandoff();
      note("No problem: nothing has been shared. You can keep asking questions here.");
    });
    agree.addEventListener("click", showForm);
  }

  var CHECKS = {
    name: function (v) { return v.trim() ? "" : "Please give your name."; },
    email: function (v) { return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v.trim()) ? "" : "Please give a valid e-mail address."; },
    message: function (v) { return v.trim() ? "" : "Please write a message."; },
  };

  function check(f, rule) {
    // The error beside its field, announced, and gone as soon as the field is right.
    var problem = rule(f.control.value);
    f.error.textContent = problem;
    f.control.setAttribute("aria-invalid", problem ? "true" : "false");
    return !problem;
  }

  function showForm() {
    openHandoff();
    var contact = el("form", { novalidate: "" });
    var fields = {
      name: field("Name", "ca-name", "text"),
      email: field("E-mail", "ca-email", "email"),
      organisation: field("Organisation (optional)", "ca-org", "text"),
      message: field("Message", "ca-message", "text", true),
    };
    // The visitor's last real question, not "Can I speak to someone?".
    fields.message.control.value = state.real.length ? state.real[state.real.length - 1] : "";
    Object.keys(fields).forEach(function (name) {
      contact.appendChild(fields[name].wrap);
      if (CHECKS[name]) {
        fields[name].control.addEventListener("input", function () {
          if (fields[name].control.getAttribute("aria-invalid") === "true") check(fields[name], CHECKS[name]);
        });
      }
    });
    var when = el("p", { class: "note", id: "ca-reply-time" }, "The team replies by e-mail.");
    contact.appendChild(when);
    var problem = el("p", { class: "error", "aria-live": "assertive" });
    var submit = el("button", { class: "primary", type: "submit" }, "Send to the team");
    var cancel = el("button", { class: "secondary", type: "button" }, "Cancel");
    var row = el("div", { class: "row" });
    row.appendChild(submit);
    row.appendChild(cancel);
    contact.appendChild(problem);
    contact.appendChild(row);
    handoff.appendChild(contact);
    handoff.scrollIntoView({ block: "start" });
    fields.name.control.focus();
    post("/api/widget/reply-time", { message: fields.message.control.value || "an enquiry" }).then(function (reply) {
      if (reply.status === 200 && reply.body.text) when.textContent = reply.body.text;
    });
    cancel.addEventListener("click", function () {
      closeHandoff(personButton);
    });
    contact.addEventListener("submit", function (event) {
      event.preventDefault();
      var wrong = Object.keys(CHECKS).filter(function (name) {
        return !check(fields[name], CHECKS[name]);
      });
      if (wrong.length) {
        fields[wrong[0]].control.focus();
        return;
      }
      post("/api/widget/enquiries", {
        name: fields.name.control.value,
        email: fields.email.control.value.trim(),
        organisation: fields.organisation.control.value || null,
        message: fields.message.control.value,
        consent: true,
        consent_version: state.consent.version,
        transcript: state.transcript,
      }).then(function (reply) {
        if (reply.status === 201) {
          closeHandoff();
          state.thread.push({ role: "bot", text: "Thank you: your enquiry (reference " + reply.body.reference +
            ") has been passed to the team." });
          save();
          say("bot", state.thread[state.thread.length - 1].text);
        } else if (reply.status === 429) {
          problem.textContent = "You're asking a little fast. Please wait " + (reply.retry || "a few") + " seconds.";
        } else {
          problem.textContent = "Please check the form: " + (reply.body.detail || "something is missing") + ".";
        }
      });
    });
  }

  function setOpen(open) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    // While open, the launcher is the control that closes it, and says so.
    launcher.textContent = open ? "Close the assistant" : CLOSED;
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
  var kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch (e) { /* nothing usable kept */ }
  if (kept && kept.token && kept.partner && Array.isArray(kept.thread)) {
    // The same visitor on another page of the site: the thread goes on (the server still checks the token).
    Object.keys(state).forEach(function (name) {
      if (kept[name] !== undefined && kept[name] !== null) state[name] = kept[name];
    });
    applyPartner(state.partner);
    draw();
    if (state.open) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcher.textContent = "Close the assistant";
    }
  } else {
    startSession().then(draw, function () {
      // A refusal carries no CORS headers (nothing about partners is readable from another site): say what we know.
      unavailable("not drawn: this page's origin (" + location.origin + ") must be in allowed_origins of partner '" +
        partnerId + "' in the cluster's partners file (or " + base + " could not be reached).");
    });
  }
})();
