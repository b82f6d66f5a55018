// Roster: the import batch page. While the batch applies, poll its progress every second and
// move the bar; when it is done (or stopped), reload the page to show the report. Without it,
// the page offers a link to reload.
(function () {
  "use strict";
  var box = document.getElementById("import-progress-box");
  if (!box) { return; }
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("import-progress-text");
  var url = box.getAttribute("data-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (p.status !== "applying") { window.location.reload(); return; }
        bar.max = p.rows_total;
        bar.value = p.rows_done;
        text.textContent = p.rows_done + " / " + p.rows_total;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
