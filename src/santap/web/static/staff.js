// The cashier's board: refreshed from the server whenever the staff stream says something
// changed (the staff cookie is the proof); cash forms show the change before confirming.
(function () {
  "use strict";
  var orders = document.getElementById("orders");
  var search = document.getElementById("search");
  var format = new Intl.NumberFormat("id-ID");

  function filter() {
    var wanted = (search.value || "").trim().toLowerCase();
    orders.querySelectorAll(".ticket").forEach(function (ticket) {
      var hit = !wanted || ticket.getAttribute("data-order") === wanted.replace("#", "") ||
        ticket.getAttribute("data-table").toLowerCase() === wanted;
      ticket.hidden = !hit;
    });
  }

  function wire() {
    orders.querySelectorAll("form.cash").forEach(function (form) {
      var total = Number(form.getAttribute("data-total"));
      var input = form.querySelector("input[name=amount_tendered]");
      var change = form.querySelector(".change");
      function show() {
        var given = Number(String(input.value).replace(/\D/g, ""));
        if (!given) { change.textContent = ""; return; }
        change.textContent = given >= total
          ? change.getAttribute("data-change-label") + " Rp" + format.format(given - total)
          : change.getAttribute("data-short-label") + " Rp" + format.format(total - given);
      }
      change.setAttribute("data-change-label", document.documentElement.lang === "en" ? "Change:" : "Kembalian:");
      change.setAttribute("data-short-label", document.documentElement.lang === "en" ? "Short by" : "Kurang");
      input.addEventListener("input", show);
      form.querySelectorAll("button[data-amount]").forEach(function (button) {
        button.addEventListener("click", function () {
          input.value = button.getAttribute("data-amount");
          show();
        });
      });
    });
    filter();
  }

  var refreshing = null;
  function refresh(changed) {
    if (refreshing) return;
    refreshing = fetch(orders.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        refreshing = null;
        if (html === null) return;
        var typing = orders.contains(document.activeElement);
        if (typing) { setTimeout(function () { refresh(changed); }, 1500); return; }
        orders.innerHTML = html;
        wire();
        if (changed) {
          var ticket = orders.querySelector('[data-order="' + changed + '"]');
          if (ticket) ticket.classList.add("fresh");
        }
      });
  }

  search.addEventListener("input", filter);
  wire();
  var events = new EventSource("/api/v1/staff/events");
  ["order_placed", "order_status", "payment_status", "payment_flag"].forEach(function (kind) {
    events.addEventListener(kind, function (e) { refresh(JSON.parse(e.data).order_id); });
  });
})();
