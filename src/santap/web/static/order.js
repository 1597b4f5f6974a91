// The order page follows its order live (Server-Sent Events; the order's cookie is the proof).
(function () {
  "use strict";
  var script = document.currentScript;
  var orderId = script.getAttribute("data-order");
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var status = document.getElementById("status");
  var pay = document.getElementById("pay");
  var expired = document.getElementById("expired");

  function show(orderStatus) {
    status.setAttribute("data-status", orderStatus);
    status.textContent = labels[orderStatus] || orderStatus;
    if (pay) pay.hidden = orderStatus !== "pending_payment";
    if (orderStatus !== "pending_payment" && expired) expired.hidden = true;
  }

  var events = new EventSource("/api/v1/orders/" + orderId + "/events");
  events.addEventListener("snapshot", function (e) { show(JSON.parse(e.data).status); });
  events.addEventListener("order_status", function (e) { show(JSON.parse(e.data).status); });
  events.addEventListener("payment_status", function (e) {
    var change = JSON.parse(e.data);
    if (change.method === "qris" && change.status === "expired" &&
        status.getAttribute("data-status") === "pending_payment") {
      var qris = document.querySelector(".qris");
      if (qris) qris.hidden = true;
      expired.hidden = false;
    }
  });

  var expiry = document.querySelector("[data-expires]");
  var countdown = document.getElementById("countdown");
  if (expiry && countdown) {
    var until = Date.parse(expiry.getAttribute("data-expires"));
    var tick = function () {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      countdown.textContent = "(" + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + ")";
      if (left > 0) setTimeout(tick, 1000);
    };
    tick();
  }
})();
