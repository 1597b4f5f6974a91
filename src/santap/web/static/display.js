// The customer-facing display at the counter: redrawn from the server whenever the staff
// stream says its order changed (paid, expired, cancelled).
(function () {
  "use strict";
  var display = document.getElementById("display");
  var order = display.getAttribute("data-order");
  if (!order) return;
  var refreshing = false;

  function refresh() {
    if (refreshing) return;
    refreshing = true;
    fetch(display.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html !== null) display.innerHTML = html; })
      .finally(function () { refreshing = false; });
  }

  var events = new EventSource("/api/v1/staff/events");
  ["order_status", "payment_status"].forEach(function (kind) {
    events.addEventListener(kind, function (e) {
      if (String(JSON.parse(e.data).order_id) === order) refresh();
    });
  });
  // After a lost connection the stream resumes from its last event; redraw once in case.
  var opened = false;
  events.addEventListener("open", function () { if (opened) refresh(); opened = true; });
})();
