// The run page: watchers see each step change without reloading (polling with ETag/304,
// like the board and the retro), and the note form empties itself once the note is in.
(function () {
  "use strict";

  var POLL_MS = 3000;
  var lastTyped = 0;

  function live() { return document.getElementById("run-live"); }

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#run-live")) lastTyped = Date.now();
  });

  function busy(region) {
    var active = document.activeElement;
    var typing = active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    return typing || Date.now() - lastTyped < 3000;
  }

  // A 304 costs the server next to nothing (docs/performance.md#polls); a 200 brings the whole
  // live part.
  function poll(force) {
    var region = live();
    if (!region || !region.dataset.pollUrl) return;
    if (!force && (document.hidden || busy(region))) return;
    fetch(region.dataset.pollUrl, {
      headers: { "If-None-Match": region.dataset.etag || "", "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) { return response.status === 200 ? response.text() : null; })
      .then(function (html) {
        var current = live();
        if (!html || !current || (!force && busy(current))) return;
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.querySelector("#run-live");
        if (!fresh) return;
        // Keep open what the reader had opened (how-tos, restart forms).
        current.querySelectorAll("details[open]").forEach(function (details) {
          var id = details.closest("[id^=step-]");
          var twin = id && fresh.querySelector("#" + id.id + " details." + details.className.split(" ")[0]);
          if (twin) twin.open = true;
        });
        var keep = focusedPlace(current);
        current.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        if (keep) refocus(keep);
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  // Keyboard users keep their place when a step is redrawn: focus returns to the same
  // button if it is still there, else to the step's first button (Start -> Done).
  function focusedPlace(region) {
    var active = document.activeElement;
    if (!active || !region.contains(active)) return null;
    var step = active.closest("[id^=step-]");
    return step ? { step: step.id, label: active.getAttribute("aria-label") } : null;
  }

  function refocus(place) {
    var step = document.getElementById(place.step);
    if (!step) return;
    var same = place.label && Array.prototype.find.call(
      step.querySelectorAll("button[aria-label]"),
      function (button) { return button.getAttribute("aria-label") === place.label; }
    );
    var target = same || step.querySelector(".run-step-actions button.primary, .run-step-actions button");
    if (!target) {
      step.setAttribute("tabindex", "-1");
      target = step;
    }
    target.focus();
  }

  var pressed = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    pressed = target && /^step-/.test(target.id) ? { step: target.id, label: null } : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pressed) { refocus(pressed); pressed = null; }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var status = document.getElementById("run-status");
    if (event.detail.successful) {
      if (status) { status.textContent = ""; status.className = "visually-hidden"; }
      if (event.detail.elt.id === "run-note-form") event.detail.elt.reset();
    } else if (event.detail.xhr && event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) {
      // Someone else pressed first (409): show what is true now.
      poll(true);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (live()) window.setInterval(function () { poll(false); }, POLL_MS);
  });
})();
