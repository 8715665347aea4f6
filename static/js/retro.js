// The retro page: other attendees' findings appear without a reload, and "copy as markdown".
(function () {
  "use strict";

  var POLL_MS = 4000;
  var lastTyped = 0;

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#findings")) lastTyped = Date.now();
  });

  // Ask for the findings list with the ETag we hold: a 304 costs the server one small query.
  // Never replace the list while someone is typing in it.
  function pollFindings() {
    var list = document.getElementById("findings");
    if (!list || !list.dataset.pollUrl || document.hidden) return;
    if (list.contains(document.activeElement) || Date.now() - lastTyped < 3000) return;
    fetch(list.dataset.pollUrl, {
      headers: { "If-None-Match": list.dataset.etag || "", "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status !== 200) return null;
        return response.text();
      })
      .then(function (html) {
        var current = document.getElementById("findings");
        if (!html || !current || current.contains(document.activeElement)) return;
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.querySelector("#findings");
        if (!fresh) return;
        current.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copyTarget);
      var status = document.getElementById("copy-status");
      if (!source) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { if (status) status.textContent = "Copied."; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done, function () {
            source.select();
            if (status) status.textContent = "Selected: press Ctrl+C to copy.";
          });
        } else {
          source.select();
          if (status) status.textContent = "Selected: press Ctrl+C to copy.";
        }
      });
    });
  }

  // A finding being typed but not yet added survives a closed tab: keep a draft locally
  // until the server has it.
  function keepDraft() {
    var form = document.getElementById("finding-form");
    if (!form || !window.localStorage) return;
    var key = "wallbreaker:draft:" + form.getAttribute("action");
    var area = function () { return document.querySelector("#finding-form textarea[name=text]"); };
    if (area() && !area().value && localStorage.getItem(key)) area().value = localStorage.getItem(key);
    document.addEventListener("input", function (event) {
      if (event.target === area()) localStorage.setItem(key, event.target.value);
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful && event.detail.elt.id === "finding-form") {
        var fresh = area();
        if (!fresh || !fresh.value) localStorage.removeItem(key);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    keepDraft();
    var list = document.getElementById("findings");
    if (list && list.dataset.pollUrl) {
      var interval = parseInt(list.dataset.pollInterval || POLL_MS, 10);
      window.setInterval(pollFindings, interval);
    }
  });
})();
