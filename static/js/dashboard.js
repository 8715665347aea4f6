// Dashboard sections as tabs (WAI-ARIA tabs pattern). Without JavaScript they stay what the
// page sends: anchored sections one after another. The headline above stays in view; a link
// to a panel (#panel-elapsed) opens the tab that holds it.
(function () {
  "use strict";

  function init() {
    var nav = document.querySelector(".dash-sections");
    if (!nav) return;
    var links = Array.prototype.filter.call(nav.querySelectorAll("a[href^='#section-']"), function (a) {
      return a.getAttribute("href") !== "#section-overview";
    });
    var panels = links.map(function (a) { return document.getElementById(a.getAttribute("href").slice(1)); });
    if (!links.length || panels.some(function (panel) { return !panel; })) return;

    var list = nav.querySelector("ul");
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", "Dashboard sections");
    nav.removeAttribute("aria-label");
    var overview = list.querySelector("a[href='#section-overview']");
    if (overview) overview.parentElement.remove();  // the headline is always in view
    links.forEach(function (link, index) {
      link.parentElement.setAttribute("role", "presentation");
      link.setAttribute("role", "tab");
      link.id = "tab-" + panels[index].id;
      link.setAttribute("aria-controls", panels[index].id);
      panels[index].setAttribute("role", "tabpanel");
      panels[index].setAttribute("aria-labelledby", link.id);
    });
    nav.classList.add("tabs");

    function select(index, focus) {
      links.forEach(function (link, i) {
        var chosen = i === index;
        link.setAttribute("aria-selected", chosen ? "true" : "false");
        link.tabIndex = chosen ? 0 : -1;
        panels[i].hidden = !chosen;
      });
      if (focus) links[index].focus();
    }

    function fromHash(scroll) {
      var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
      var section = target && target.closest(".dash-section");
      var index = section ? panels.indexOf(section) : -1;
      select(index === -1 ? 0 : index, false);
      if (scroll && target && section) target.scrollIntoView({ block: "start" });
    }

    links.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        select(index, false);
        history.replaceState(null, "", link.getAttribute("href"));
      });
      link.addEventListener("keydown", function (event) {
        var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: links.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select((next + links.length) % links.length, true);
      });
    });
    window.addEventListener("hashchange", function () { fromHash(true); });
    fromHash(true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
