/* Upload progress: poll progress.json, move the bar, open the report when done. */
(function () {
  "use strict";
  var box = document.getElementById("upload-progress");
  if (!box) { return; }
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var reason = document.getElementById("progress-reason");
  var link = document.getElementById("report-link");
  var delay = 500;

  function show(data) {
    if (data.percent !== null && data.percent !== undefined) { bar.value = data.percent; }
    var line = data.phase_label || "";
    if (data.done) {
      line += " · " + data.done + (data.total ? " / " + data.total : "") + " " +
        box.dataset.labelFeatures;
    }
    text.textContent = line;
    if (data.report_url) { link.href = data.report_url; link.hidden = false; }
    if (data.message && (data.refused || data.status === "error" || data.status === "interrupted")) {
      document.getElementById("reason-code").textContent =
        data.reason_code ? "[" + data.reason_code + "]" : "";
      document.getElementById("reason-message").textContent = data.message;
      reason.hidden = false;
    }
  }

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store",
                            headers: {"Accept": "application/json"}})
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); })
      .then(function (data) {
        show(data);
        if (data.status === "done") {
          if (!data.refused && data.report_url) {
            text.textContent = box.dataset.labelDone;
            window.location.assign(data.report_url);
          }
          return;
        }
        if (data.status === "error" || data.status === "interrupted") {
          if (!data.message) { text.textContent = box.dataset.labelError; }
          return;
        }
        delay = Math.min(delay * 1.3, 3000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 5000); window.setTimeout(poll, delay); });
  }
  poll();
}());
