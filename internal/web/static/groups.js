// Roster: the group pages. Unfold or fold the whole tree, and ask before removing a member.
// Everything works without it.
(function () {
  "use strict";
  function setAll(open) {
    document.querySelectorAll(".group-tree details").forEach(function (d) { d.open = open; });
  }
  [["groups-expand", true], ["groups-collapse", false]].forEach(function (b) {
    var el = document.getElementById(b[0]);
    if (!el) { return; }
    el.hidden = false;
    el.addEventListener("click", function () { setAll(b[1]); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
