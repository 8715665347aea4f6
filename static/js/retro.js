// The retro page as a meeting: quick inputs per kind, live updates from other attendees,
// grouping by drag and drop, and "copy as markdown".
//
// Contract with the server (templates/retros/retro_detail.html, retros/views/meeting.py): the
// polled fragment holds parts marked data-live, each with an id; a part is swapped whole.
(function () {
  "use strict";

  var POLL_MS = 4000;
  document.documentElement.classList.add("js");

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function isTyping(element) {
    if (!element || !element.matches) return false;
    return element.matches("textarea, select, input:not([type=submit]):not([type=button]):not([type=radio]):not([type=checkbox])");
  }

  // Swap in the live parts of a fragment. A part someone is typing in waits for the next
  // poll; a focused button is replaced and its successor (same id) takes the focus.
  // Returns true when every part was swapped.
  function applyLive(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var complete = true;
    template.content.querySelectorAll("[data-live][id]").forEach(function (fresh) {
      var current = document.getElementById(fresh.id);
      if (!current) return;
      var active = document.activeElement;
      var focused = active && active !== document.body && current.contains(active);
      if (focused && isTyping(active)) {
        complete = false;
        return;
      }
      if (fresh.id === "phase-bar" && current.dataset.status !== fresh.dataset.status) {
        window.location.reload();  // submitted meanwhile: the whole page changes
        return;
      }
      fresh.removeAttribute("hx-swap-oob");
      current.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      if (focused && active.id) {
        var again = document.getElementById(active.id);
        if (again) again.focus();
      }
    });
    return complete;
  }

  // The answer to a meeting action: the live parts (marked out of band for htmx) and the
  // notice that says why an action was refused.
  function applyAnswer(html) {
    applyLive(html);
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.querySelector("#meeting-notice");
    var current = document.getElementById("meeting-notice");
    if (fresh && current) current.replaceWith(fresh);
  }

  function postMeeting(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) applyAnswer(html); })
      .catch(function () { /* offline: the next poll shows where things stand */ });
  }

  // Votes, groups and phases post with fetch, not htmx attributes: a control swapped in a
  // moment ago works at once (htmx would only take it over after its settle delay).
  function meetingForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-meeting-form]")) return;
      event.preventDefault();
      postMeeting(form.getAttribute("action"), new URLSearchParams(new FormData(form, event.submitter)));
    });
    document.addEventListener("change", function (event) {
      var form = event.target.form;
      if (form && form.matches("form[data-meeting-form].group-title")) form.requestSubmit();
    });
  }

  // Ask for the meeting with the ETag we hold: a 304 costs the server next to nothing
  // (docs/performance.md#polls).
  function poll() {
    var meeting = document.getElementById("meeting");
    if (!meeting || !meeting.dataset.pollUrl || document.hidden) return;
    fetch(meeting.dataset.pollUrl, {
      headers: { "If-None-Match": meeting.dataset.etag || "", "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status !== 200) return null;
        return response.text().then(function (html) {
          if (applyLive(html)) meeting.dataset.etag = response.headers.get("ETag") || "";
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  // Enter adds the finding and keeps the focus in the same input; Shift+Enter is a new line.
  function quickAdd() {
    document.addEventListener("keydown", function (event) {
      var area = event.target;
      if (!area.matches || !area.matches("textarea[data-quick-add]")) return;
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (!area.value.trim()) return;
      area.form.requestSubmit();
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var form = event.detail.elt;
      if (!form.classList || !form.classList.contains("quick-add")) return;
      var retargeted = event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Retarget");
      if (!event.detail.successful || retargeted) return;
      var area = form.querySelector("textarea");
      area.value = "";
      area.removeAttribute("aria-invalid");
      form.querySelector("[role=status]").textContent = "";
      if (window.localStorage) localStorage.removeItem(draftKey(form));
      area.focus();
    });
  }

  // A finding being typed but not yet added survives a closed tab.
  function draftKey(form) {
    return "wallbreaker:draft:" + form.getAttribute("action") + ":" + form.id;
  }

  function keepDrafts() {
    if (!window.localStorage) return;
    document.querySelectorAll("form.quick-add").forEach(function (form) {
      var area = form.querySelector("textarea");
      var saved = localStorage.getItem(draftKey(form));
      if (area && !area.value && saved) area.value = saved;
    });
    document.addEventListener("input", function (event) {
      var area = event.target;
      if (area.matches && area.matches("textarea[data-quick-add]")) {
        localStorage.setItem(draftKey(area.form), area.value);
      }
    });
  }

  // After an htmx change the control used may have been swapped: focus its successor.
  function keepFocus() {
    var lastId = null;
    document.body.addEventListener("htmx:beforeRequest", function () {
      var active = document.activeElement;
      lastId = active && active.id ? active.id : null;
    });
    function restore() {
      if (!lastId) return;
      var active = document.activeElement;
      if (active && active !== document.body && document.contains(active)) return;
      var again = document.getElementById(lastId);
      if (again) again.focus();
    }
    document.body.addEventListener("htmx:afterSettle", restore);
    document.body.addEventListener("htmx:afterRequest", function () { window.setTimeout(restore, 50); });
  }

  // Grouping: drop a finding on another finding or on a group.
  function dragToGroup() {
    var meeting = document.getElementById("meeting");
    if (!meeting) return;
    var dragged = null;
    meeting.addEventListener("dragstart", function (event) {
      var item = event.target.closest && event.target.closest("[data-finding][draggable=true]");
      if (!item) return;
      dragged = item.dataset.finding;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged);
      item.classList.add("dragging");
    });
    meeting.addEventListener("dragend", function (event) {
      dragged = null;
      meeting.querySelectorAll(".dragging, .drop-target").forEach(function (el) {
        el.classList.remove("dragging", "drop-target");
      });
    });
    function dropTarget(event) {
      if (!dragged || !event.target.closest) return null;
      var finding = event.target.closest("[data-finding]");
      if (finding && finding.dataset.finding !== dragged) return finding;
      var group = event.target.closest("[data-group]");
      return group || null;
    }
    meeting.addEventListener("dragover", function (event) {
      var target = dropTarget(event);
      meeting.querySelectorAll(".drop-target").forEach(function (el) {
        if (el !== target) el.classList.remove("drop-target");
      });
      if (!target) return;
      event.preventDefault();
      target.classList.add("drop-target");
    });
    meeting.addEventListener("drop", function (event) {
      var target = dropTarget(event);
      var form = document.getElementById("group-form");
      if (!target || !form) return;
      event.preventDefault();
      var body = new URLSearchParams();
      body.set("finding", dragged);
      body.set("target", target.dataset.finding ? "f" + target.dataset.finding : "g" + target.dataset.group);
      body.set("csrfmiddlewaretoken", csrfToken());
      postMeeting(form.getAttribute("action"), body);
    });
  }

  // "Group with…" on a finding picks it in the grouping form and moves there.
  function groupPicker() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-group-pick]");
      var select = document.getElementById("group-finding");
      if (!link || !select) return;
      event.preventDefault();
      select.value = link.dataset.groupPick;
      var target = document.getElementById("group-target");
      target.scrollIntoView({ block: "center" });
      target.focus();
    });
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

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    quickAdd();
    keepDrafts();
    keepFocus();
    meetingForms();
    dragToGroup();
    groupPicker();
    var meeting = document.getElementById("meeting");
    if (meeting && meeting.dataset.pollUrl) {
      var interval = parseInt(meeting.dataset.pollInterval || POLL_MS, 10);
      window.setInterval(poll, interval);
    }
  });
})();
