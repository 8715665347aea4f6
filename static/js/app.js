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
})();
