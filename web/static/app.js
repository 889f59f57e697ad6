// Hotline: a little hand-written JavaScript. Nothing here is required for a
// page to work; it adds the caller history on the intake page and keys.
(function () {
  "use strict";
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  var STATES = {
    pending_dispatch: "待派单", awaiting_sign_for: "待签收", in_progress: "办理中",
    awaiting_approval: "待审批", awaiting_review: "待复核", awaiting_callback: "待回访",
    awaiting_decision: "待裁定", closed: "已办结", voided: "已作废", merged: "已并案"
  };
  document.addEventListener("DOMContentLoaded", function () {
    var phone = document.getElementById("caller_phone");
    var box = document.getElementById("history");
    if (phone && box) {
      var timer = null, last = "";
      var lookup = function () {
        var v = phone.value.replace(/[\s-]/g, "");
        if (v === last) return;
        last = v;
        if (v.length < 5) { box.innerHTML = '<p class="muted">—</p>'; return; }
        fetch("/api/v1/tickets?limit=10&caller_phone=" + encodeURIComponent(v), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (page) {
            if (!page.items || page.items.length === 0) {
              box.innerHTML = '<p class="muted">' + esc(box.dataset.empty) + "</p>";
              return;
            }
            box.innerHTML = page.items.map(function (t) {
              return '<div class="history-item"><a href="/tickets/' + esc(t.number) + '" target="_blank">' + esc(t.number) +
                "</a> " + esc(t.created_at.slice(0, 10)) + "<br>" + esc(t.title) + ' <span class="state st-' + esc(t.state) + '">' + esc(STATES[t.state] || t.state) + "</span></div>";
            }).join("");
          })
          .catch(function () {});
      };
      phone.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 250); });
      phone.addEventListener("change", lookup);
      if (phone.value) lookup();
    }
    // Ctrl+Enter saves any form with a primary button.
    document.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        var f = e.target && e.target.form;
        if (f) { e.preventDefault(); f.requestSubmit ? f.requestSubmit() : f.submit(); }
      }
    });
  });
})();
