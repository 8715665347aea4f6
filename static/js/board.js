// The board: drag and drop with SortableJS, the card dialog, and polling for other people's
// changes. The server decides every order: a drop only tells it which card the moved one now
// follows (or precedes), and the answer carries just the changed columns (htmx out-of-band
// swaps). When a move fails, the affected columns are fetched again so the page never lies.
// The markup this script relies on (ids, classes, data-* attributes, events) is listed in one
// place: the module docstring of improvements/board_cards.py. Change them together.
(function () {
  "use strict";

  var POLL_SECONDS = 4;
  var dragging = false;
  var busy = 0;
  var pollTimer = null;
  var opener = null;

  function boardElement() {
    return document.getElementById("board");
  }

  function announce(text) {
    var status = document.getElementById("board-status");
    if (status) status.textContent = text;
  }

  // --- Live updates -------------------------------------------------------------------------

  // Text typed on the page and not sent yet: a quick-add title, a card being edited.
  function unsentText() {
    return Array.prototype.some.call(
      document.querySelectorAll("main input[type=text], main input:not([type]), main textarea"),
      function (field) { return field.value !== field.defaultValue; }
    );
  }

  // The columns themselves changed (settings): only a reload shows that right, but never at
  // the cost of what someone is typing; the next poll asks again.
  function reloadForNewColumns() {
    if (unsentText()) {
      announce("The board's columns were changed; reload the page to see them.");
      return;
    }
    window.location.reload();
  }

  function columnIds(root) {
    return Array.prototype.map.call(root.querySelectorAll("section.board-column"), function (s) {
      return s.id;
    });
  }

  function applyColumns(html) {
    var board = boardElement();
    var incoming = document.createElement("template");
    incoming.innerHTML = html;
    var known = columnIds(board);
    var fresh = columnIds(incoming.content);
    var missing = fresh.some(function (id) { return known.indexOf(id) === -1; });
    if (missing) {
      reloadForNewColumns();
      return;
    }
    htmx.swap(board, html, { swapStyle: "none" });
    initColumns(board);
  }

  // Fetch the board's columns (or just `columns`) and swap in what changed. With `force` the
  // ETag is left out, so the server answers with fresh columns even if it thinks we have them.
  function refresh(force, columns) {
    var board = boardElement();
    if (!board || dragging || (busy && !force)) return Promise.resolve();
    var url = new URL(board.dataset.pollUrl, window.location.href);
    (columns || []).forEach(function (id) { url.searchParams.append("column", id); });
    var headers = { "HX-Request": "true", "X-Board-Poll": "1" };
    if (!force && board.dataset.etag) headers["If-None-Match"] = board.dataset.etag;
    return fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.headers.get("X-Board-Layout") === "changed") {
          reloadForNewColumns();
          return;
        }
        if (response.status === 304 || !response.ok) return;
        var etag = response.headers.get("ETag");
        return response.text().then(function (html) {
          if (dragging) return;
          applyColumns(html);
          if (etag && !(columns && columns.length)) board.dataset.etag = etag;
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function schedulePoll() {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(function () {
      var run = document.hidden ? Promise.resolve() : refresh(false);
      run.then(schedulePoll);
    }, POLL_SECONDS * 1000);
  }

  // --- Move controls ------------------------------------------------------------------------

  // One toolbar for the whole board: ↑, ↓ and Move… come into a card while it is hovered or
  // holds the focus (WCAG 2.2 SC 2.5.7: a single-pointer way to do whatever a drag does); on
  // touch, a tap opens the card, whose dialog has Move… first. The cards themselves carry no
  // form, which keeps each under 400 bytes.
  var tools = null;

  function cardId(card) {
    return card.id.replace("card-", "");
  }

  function cardTitle(card) {
    var link = card.querySelector(":scope > a");
    return link ? link.textContent : "";
  }

  function buildTools() {
    var bar = document.createElement("div");
    bar.className = "card-moves";
    bar.setAttribute("role", "group");
    bar.hidden = true;
    [["up", "↑"], ["down", "↓"], ["pick", "Move…"]].forEach(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.id = "card-move-" + item[0];
      button.dataset.move = item[0];
      button.textContent = item[1];
      bar.appendChild(button);
    });
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move]");
      var card = bar.closest("li.board-card");
      if (button && card && !button.disabled) moveByButton(card, button.dataset.move);
    });
    return bar;
  }

  function labelTools(card) {
    var title = cardTitle(card);
    var up = tools.querySelector("[data-move=up]");
    var down = tools.querySelector("[data-move=down]");
    tools.setAttribute("aria-label", "Move “" + title + "”");
    up.setAttribute("aria-label", "Move up: " + title);
    down.setAttribute("aria-label", "Move down: " + title);
    tools.querySelector("[data-move=pick]").setAttribute("aria-label", "Move to…: " + title);
    up.disabled = !card.previousElementSibling;
    down.disabled = !card.nextElementSibling;
  }

  function showTools(card) {
    if (!tools) return;
    if (tools.parentElement !== card) card.appendChild(tools);
    labelTools(card);
    tools.hidden = false;
  }

  function hideToolsUnlessUsed(card) {
    if (!tools || tools.parentElement !== card) return;
    if (card.matches(":hover") || card.contains(document.activeElement)) return;
    tools.hidden = true;
  }

  // After a move the server sends only the moved card's headers, so the ↑/↓ of the card that
  // holds the toolbar are set again from the order on the page.
  function renumber() {
    var card = tools && tools.parentElement;
    if (card && card.matches("li.board-card")) labelTools(card);
  }

  function moveByButton(card, kind) {
    var url = moveUrl(card);
    if (kind === "pick") {
      htmx.ajax("GET", url, { source: card, target: "#card-dialog-body", swap: "innerHTML" });
      return;
    }
    var list = card.parentElement;
    var neighbour = kind === "up" ? card.previousElementSibling : card.nextElementSibling;
    if (!neighbour) return;
    var values = { column: list.dataset.column };
    values[kind === "up" ? "before" : "after"] = cardId(neighbour);
    card.dataset.affected = list.dataset.column;
    htmx.ajax("POST", url, { source: card, swap: "none", values: values });
  }

  function initTools() {
    var board = boardElement();
    if (!board || board.dataset.canEdit !== "true") return;
    tools = buildTools();
    board.addEventListener("focusin", function (event) {
      var card = event.target.closest("li.board-card");
      if (card) showTools(card);
    });
    board.addEventListener("mouseover", function (event) {
      var card = event.target.closest("li.board-card");
      if (card && !dragging) showTools(card);
    });
    board.addEventListener("mouseout", function (event) {
      var card = event.target.closest("li.board-card");
      if (card && !card.contains(event.relatedTarget)) hideToolsUnlessUsed(card);
    });
    board.addEventListener("focusout", function (event) {
      var card = event.target.closest("li.board-card");
      if (card && !card.contains(event.relatedTarget)) {
        window.setTimeout(function () { hideToolsUnlessUsed(card); }, 0);
      }
    });
  }

  // A card's title opens the card in the dialog; a modified click opens its page as usual.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#board li.board-card > a");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    htmx.ajax("GET", link.getAttribute("href"), {
      source: link, target: "#card-dialog-body", swap: "innerHTML",
    });
  });

  // --- Drag and drop ------------------------------------------------------------------------

  // The board names the move URL once, for card 0; a card's own has its id instead.
  function moveUrl(card) {
    return boardElement().dataset.moveUrl.replace("/0/", "/" + cardId(card) + "/");
  }

  function initColumns(root) {
    var board = boardElement();
    if (!board || board.dataset.canEdit !== "true" || !window.Sortable) return;
    root.querySelectorAll(".cards[data-column]").forEach(function (list) {
      if (list.sortable) return;
      list.sortable = Sortable.create(list, {
        group: "board",
        animation: 150,
        filter: ".card-moves, details, select, button, input",
        preventOnFilter: false,
        onStart: function () { dragging = true; },
        onEnd: function (event) {
          dragging = false;
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          var card = event.item;
          var previous = card.previousElementSibling;
          var next = card.nextElementSibling;
          var values = { column: event.to.dataset.column };
          if (previous) values.after = cardId(previous);
          else if (next) values.before = cardId(next);
          else values.place = "top";
          var affected = [event.from.dataset.column, event.to.dataset.column];
          card.dataset.affected = affected.join(",");
          renumber();
          htmx.ajax("POST", moveUrl(card), { source: card, swap: "none", values: values });
        },
      });
    });
  }

  // --- Requests: focus, errors, the dialog --------------------------------------------------

  var focusBefore = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    busy += 1;
    var active = document.activeElement;
    focusBefore = active && active.id ? active.id : null;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    busy = Math.max(0, busy - 1);
    var elt = event.detail.elt;
    var failed = !event.detail.successful;
    var onBoard = elt && elt.closest && (elt.closest("#board") || elt.closest("#card-dialog"));
    if (failed && onBoard && boardElement()) {
      // The server refused or never answered: show the columns as they really are.
      var affected = elt.dataset && elt.dataset.affected ? elt.dataset.affected.split(",") : null;
      refresh(true, affected);
    }
  });

  // A move's answer names the neighbour to land next to; if this page no longer shows it,
  // fetch the board as it is.
  document.addEventListener("htmx:oobErrorNoTarget", function () {
    refresh(true);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (boardElement()) renumber();
  });

  document.addEventListener("htmx:sendError", function () {
    announce("The server could not be reached; the board shows the last known state.");
  });

  // Put a moved card where the server says: next to the neighbour the move named. A drag has
  // already put it there; the buttons and the move dialog have not. If the neighbour is not
  // on this page, fetch the board as it is.
  function land(detail) {
    var card = document.getElementById("card-" + detail.card);
    var list = document.getElementById("cards-" + detail.column);
    var neighbour = document.getElementById("card-" + (detail.after || detail.before));
    if (!card || !list || ((detail.after || detail.before) && !neighbour)) {
      refresh(true);
      return;
    }
    if (detail.after) neighbour.after(card);
    else if (detail.before) neighbour.before(card);
    else if (detail.bottom) list.append(card);
    else list.prepend(card);
    renumber();
  }

  // Keep focus on the card that moved (WCAG 2.2 SC 2.5.7: the buttons are the non-drag way).
  document.addEventListener("cardMoved", function (event) {
    land(event.detail);
    var dialog = document.getElementById("card-dialog");
    if (dialog && dialog.open) dialog.close();
    var card = document.getElementById("card-" + event.detail.card);
    if (!card) return;
    // The toolbar hid while the dialog had the focus; it comes back with it.
    if (tools && tools.parentElement === card) showTools(card);
    var active = document.activeElement;
    if (active && card.contains(active) && !active.disabled) return;
    var wanted = focusBefore ? document.getElementById(focusBefore) : null;
    var candidates = [wanted, card.querySelector("button:not([disabled])"), card.querySelector("a")];
    for (var i = 0; i < candidates.length; i++) {
      var candidate = candidates[i];
      if (candidate && card.contains(candidate) && !candidate.disabled) {
        candidate.focus();
        return;
      }
    }
  });

  document.addEventListener("cardAdded", function (event) {
    var card = document.getElementById("card-" + event.detail.card);
    if (card) card.scrollIntoView({ block: "nearest" });
  });

  document.addEventListener("cardChanged", function (event) {
    announce(event.detail.message || "Saved.");
    refresh(false);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "card-dialog-body") return;
    var dialog = document.getElementById("card-dialog");
    if (!dialog) return;
    if (!dialog.open) {
      opener = document.activeElement;
      dialog.showModal();
    }
    var first = dialog.querySelector("#move-column") || dialog.querySelector("h1, h2");
    if (first) {
      if (!first.matches("select")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  });

  function initDialog() {
    var dialog = document.getElementById("card-dialog");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      document.getElementById("card-dialog-body").textContent = "";
      var card = opener && opener.closest && opener.closest("li.board-card");
      if (card && tools && card.contains(tools)) showTools(card);
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
    // A click on the backdrop closes the dialog too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
  }

  // In the move form, offer only the cards of the chosen column as neighbours.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "move-column") return;
    var place = document.getElementById("move-place");
    if (!place) return;
    var column = event.target.value;
    place.querySelectorAll("optgroup").forEach(function (group) {
      var other = group.dataset.column !== column;
      group.disabled = other;
      group.hidden = other;
    });
    var chosen = place.options[place.selectedIndex];
    if (!chosen || chosen.parentElement.disabled) place.value = "top";
  });

  document.addEventListener("htmx:load", function (event) {
    var column = event.detail.elt.querySelector && event.detail.elt.querySelector("#move-column");
    if (column) column.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("DOMContentLoaded", function () {
    initDialog();
    var board = boardElement();
    if (!board) return;
    initTools();
    initColumns(document);
    htmx.onLoad(function (element) {
      if (element.querySelectorAll) initColumns(element.parentElement || element);
    });
    schedulePoll();
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh(false);
    });
  });
})();
