// The console's live parts, kept small: the timeline and the status panel follow the server-sent
// event stream the page names; the chart and the score are re-fetched as server-rendered markup.
(function () {
  "use strict";
  var body = document.body;
  var leaving = false;  // a form was sent: its answer is the next page, so no reload may cut it off
  document.addEventListener("submit", function () { leaving = true; });

  function refresh(url, target, every) {
    if (!url || !target) { return; }
    setInterval(function () {
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { target.innerHTML = html; } })
        .catch(function () {});
    }, every);
  }

  var streamUrl = body.dataset.stream;
  if (streamUrl && window.EventSource) {
    var source = new EventSource(streamUrl);
    var timeline = document.getElementById("timeline");
    var status = document.getElementById("status");
    var findings = document.getElementById("findings");
    source.addEventListener("timeline", function (m) {
      var e = JSON.parse(m.data);
      if (timeline && !timeline.querySelector('tr[data-id="' + e.id + '"]')) {
        timeline.insertAdjacentHTML("beforeend", e.html);
      }
      if (e.finding && findings && !document.getElementById("finding-" + e.id)) {
        var none = document.getElementById("no-findings");
        if (none) { none.remove(); }
        findings.insertAdjacentHTML("afterbegin", e.finding);
      }
    });
    source.addEventListener("tick", function (m) {
      var t = JSON.parse(m.data);
      if (status) { status.innerHTML = t.html; }
      if (t.phase !== body.dataset.phase && !leaving) { location.reload(); }
    });
    source.addEventListener("drill", function () { source.close(); if (!leaving) { location.reload(); } });
  }
  refresh(body.dataset.chart, document.getElementById("chart"), 2000);
  refresh(body.dataset.score, document.getElementById("score"), 3000);
})();
