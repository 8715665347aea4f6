// Drag and drop on the board: SortableJS moves the card in the page, then tells the server
// which card it now follows. The server answers with the fresh columns (htmx out-of-band swaps).
(function () {
  "use strict";

  function initColumns(root) {
    var board = document.getElementById("board");
    if (!board || board.dataset.canEdit !== "true" || !window.Sortable) return;
    root.querySelectorAll(".cards[data-column]").forEach(function (list) {
      if (list.sortable) return;
      list.sortable = Sortable.create(list, {
        group: "board",
        animation: 150,
        filter: "details, select, button, input",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          var card = event.item;
          var previous = card.previousElementSibling;
          htmx.ajax("POST", card.dataset.moveUrl, {
            source: card,
            swap: "none",
            values: {
              column: event.to.dataset.column,
              after: previous ? previous.dataset.card : "",
              place: previous ? "" : "top",
            },
          });
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initColumns(document);
    htmx.onLoad(function (element) {
      initColumns(element.parentElement || element);
    });
  });
})();
