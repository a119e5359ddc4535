// The staff console's keyboard and small comforts. No inline script anywhere: the pages' CSP forbids it.
(function () {
  "use strict";
  // Times are rendered on the server in the reader's zone: tell it which one (read on the next page).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("ca_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "ca_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=strict";
    }
  } catch (e) { /* no Intl: the server's default zone is used */ }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#results tr[data-row]")); }
  function typing(target) {
    return target && target.closest && target.closest("input, textarea, select, [contenteditable], dialog[open]");
  }
  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var at = all.findIndex(function (row) { return row.classList.contains("current"); });
    var next = Math.min(all.length - 1, Math.max(0, at === -1 ? 0 : at + step));
    all.forEach(function (row) { row.classList.remove("current"); row.removeAttribute("aria-current"); });
    all[next].classList.add("current");
    all[next].setAttribute("aria-current", "true");
    var link = all[next].querySelector("a.open");
    if (link) { link.focus(); }  // Enter then opens it, as any link
  }
  function go(id) { var link = document.getElementById(id); if (link) { link.click(); } }

  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { event.preventDefault(); window.location.assign("/staff/"); }
      return;
    }
    if (key === "j") { event.preventDefault(); move(1); }
    else if (key === "k") { event.preventDefault(); move(-1); }
    else if (key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); }
    else if (key === "r") {
      var reply = document.getElementById("reply");
      if (reply) { event.preventDefault(); reply.focus(); }
    }
    else if (key === "[") { go("previous"); }
    else if (key === "]") { go("next"); }
    else if (key === "?") { event.preventDefault(); openKeys(); }
  });

  function openKeys() {
    var dialog = document.getElementById("keys");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }
  // After an in-place update, say what happened where focus is: the outcome of the action (or its error).
  document.body.addEventListener("htmx:afterSwap", function () {
    var outcome = document.querySelector("#enquiry .flash, #enquiry .error");
    if (outcome) { outcome.setAttribute("tabindex", "-1"); outcome.focus(); }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("#keys-open")) { openKeys(); return; }
    // A click anywhere on an inbox row opens it (the subject is the link keyboards and screen readers use).
    var row = event.target.closest("tr[data-row]");
    if (row && !event.target.closest("a, button, input, select, textarea")) {
      window.location.assign(row.getAttribute("data-href"));
    }
  });
})();
