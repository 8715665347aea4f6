// Small progressive enhancements shared by every page.
(function () {
  "use strict";
  // Show server error messages from htmx requests instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var status = document.getElementById("board-status") || document.querySelector("[aria-live]");
    var text = event.detail.xhr.responseText || "Something went wrong.";
    if (status) {
      status.textContent = text.slice(0, 300);
      status.classList.remove("visually-hidden");
      status.classList.add("message", "error");
    } else {
      window.alert(text.slice(0, 300));
    }
  });

  // A table wider than its box scrolls inside it; keyboard users reach that scroll only if
  // the box can take focus (WCAG 2.1.1), so such a box becomes a named, focusable region.
  function focusableScrollBoxes(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) return;
      var table = box.querySelector("table");
      var caption = table && (table.getAttribute("aria-label") ||
        (table.caption && table.caption.textContent) ||
        (table.getAttribute("aria-labelledby") &&
          (document.getElementById(table.getAttribute("aria-labelledby")) || {}).textContent));
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (caption || "Table").trim() + " (scrolls sideways)");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { focusableScrollBoxes(document); });
  document.addEventListener("htmx:load", function (event) { focusableScrollBoxes(event.detail.elt); });
})();
