// Hotline: a little hand-written JavaScript. Nothing here is required for a
// page to work; it adds the caller history on the intake page and keys.
// Live notices and alarms are in live.js (and live-worker.js).
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
    // The review form shows the period only for "back", the unit only for "transfer".
    var outcome = document.getElementById("review-outcome");
    if (outcome) {
      var sync = function () {
        outcome.form.querySelectorAll("[data-when]").forEach(function (el) {
          el.hidden = el.dataset.when !== outcome.value;
        });
      };
      outcome.addEventListener("change", sync);
      sync();
    }
    // Alt+Q signs for the ticket on its page.
    document.addEventListener("keydown", function (e) {
      if (e.altKey && (e.key === "q" || e.key === "Q")) {
        var b = document.getElementById("act-sign-for");
        if (b) { e.preventDefault(); b.click(); }
      }
    });
    // Intake: knowledge-base answers while the content is typed (focus
    // stays in the content field); Alt+1…Alt+5 put an answer into the
    // answer field.
    var content = document.getElementById("content");
    var kb = document.getElementById("kb-suggest");
    var answer = document.getElementById("answer");
    if (content && kb) {
      var kbTimer = null, kbLast = "", kbHits = [], kbSeq = 0, kbSearchId = 0;
      var insert = function (i) {
        var h = kbHits[i];
        if (!h || !answer) return false;
        answer.value = answer.value.trim() ? answer.value.replace(/\s+$/, "") + "\n" + h.answer : h.answer;
        var used = document.getElementById("kb_used");
        if (used && (("," + used.value + ",").indexOf("," + h.article.id + ",") < 0)) {
          used.value = used.value ? used.value + "," + h.article.id : String(h.article.id);
        }
        var sid = document.getElementById("kb_search");
        if (sid) sid.value = String(kbSearchId);
        var at = kb.querySelector('[data-i="' + i + '"]');
        if (at) at.classList.add("used");
        // Show what went in right below the content, where the operator
        // is typing (the answer field itself may be below the fold).
        var shown = document.getElementById("kb-inserted");
        if (shown) {
          shown.textContent = shown.dataset.text.replace("{n}", String(i + 1))
            .replace("{text}", h.answer.length > 120 ? h.answer.slice(0, 120) + "…" : h.answer);
          shown.hidden = false;
        }
        return true;
      };
      var render = function (res) {
        kbHits = (res && res.hits) || [];
        kbSearchId = (res && res.search_id) || 0;
        if (kbHits.length === 0) {
          kb.innerHTML = '<p class="muted">' + esc(kb.dataset.empty) + "</p>";
          return;
        }
        // title_html and snippet come escaped from the server, with <mark> only.
        kb.innerHTML = "<ol class=\"kb-hits\">" + kbHits.slice(0, 5).map(function (h, i) {
          var a = h.article;
          return '<li data-i="' + i + '"><a href="/kb/' + a.id + '?search_id=' + res.search_id +
            '" target="_blank" class="kb-title">' + h.title_html + "</a>" +
            ' <span class="muted">' + esc(a.category) + "</span>" +
            '<p class="kb-snippet">' + h.snippet + "</p>" +
            '<button type="button" class="kb-insert" data-i="' + i + '">' + esc(kb.dataset.insert) + " (Alt+" + (i + 1) + ")</button> " +
            '<a class="muted" target="_blank" href="/kb/' + a.id + '/edit?note=' + encodeURIComponent(kb.dataset.stale) + '">' + esc(kb.dataset.stale) + "</a></li>";
        }).join("") + "</ol>";
      };
      var kbSearch = function () {
        var v = content.value.trim();
        if (v === kbLast) return;
        kbLast = v;
        if (v.length < 2) { kbHits = []; return; }
        var seq = ++kbSeq;
        var sim = document.getElementById("similar");
        if (sim) {
          fetch("/api/v1/tickets/similar?limit=3&q=" + encodeURIComponent(v.slice(0, 600)), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (list) {
              if (seq !== kbSeq || !list) return;
              if (list.length === 0) { sim.innerHTML = '<p class="muted">' + esc(sim.dataset.empty) + "</p>"; return; }
              sim.innerHTML = "<ul class=\"similar\">" + list.map(function (t) {
                var how = (t.reply || t.answer || "").slice(0, 80);
                return '<li><a target="_blank" href="/tickets/' + encodeURIComponent(t.number) + '">' + esc(t.number) + "</a> " +
                  esc(t.title) + ' <span class="muted">' + esc(STATES[t.state] || t.state) + "</span>" +
                  (how ? '<p class="kb-snippet">' + esc(how) + "</p>" : "") + "</li>";
              }).join("") + "</ul>";
            })
            .catch(function () {});
        }
        fetch("/api/v1/kb/search?limit=5&q=" + encodeURIComponent(v.slice(0, 200)), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (res) { if (seq === kbSeq && res) render(res); })
          .catch(function () {});
      };
      // Danger words (gas, fire, collapse, shock, flooding): suggest
      // 抢险 / 特急 (domain::triage on the server).
      var danger = document.getElementById("danger-hint");
      var dangerLast = "", dangerHint = null;
      var dangerCheck = function () {
        var v = content.value.trim();
        if (!danger || v === dangerLast) return;
        dangerLast = v;
        fetch("/api/v1/tickets/danger?q=" + encodeURIComponent(v.slice(0, 600)), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (d) {
            if (!d || content.value.trim() !== v) return;
            dangerHint = d.emergency ? d : null;
            var at = document.getElementById("appeal_type"), ur = document.getElementById("urgency");
            var applied = dangerHint && at && ur && at.value === d.appeal_type && ur.value === d.urgency;
            danger.hidden = !dangerHint || applied;
            if (dangerHint) danger.querySelector("span").textContent = danger.dataset.text.replace("{kinds}", d.kinds.join("、"));
          })
          .catch(function () {});
      };
      var dangerApply = document.getElementById("danger-apply");
      if (dangerApply) dangerApply.addEventListener("click", function () {
        if (!dangerHint) return;
        var at = document.getElementById("appeal_type"), ur = document.getElementById("urgency");
        if (at) at.value = dangerHint.appeal_type;
        if (ur) ur.value = dangerHint.urgency;
        danger.hidden = true;
        content.focus();
      });
      content.addEventListener("input", function () {
        clearTimeout(kbTimer);
        kbTimer = setTimeout(function () { kbSearch(); dangerCheck(); }, 200);
      });
      // The form came back (an error): search for what is already there.
      if (content.value.trim().length >= 2) { kbSearch(); dangerCheck(); }
      // Enter in the category field picks the entry, it does not save.
      var cat = document.getElementById("category");
      if (cat) cat.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) e.preventDefault();
      });
      kb.addEventListener("click", function (e) {
        var b = e.target.closest ? e.target.closest("button.kb-insert") : null;
        if (b) { insert(Number(b.dataset.i)); }
      });
      document.addEventListener("keydown", function (e) {
        if (e.altKey && !e.ctrlKey && e.key >= "1" && e.key <= "5") {
          if (insert(Number(e.key) - 1)) e.preventDefault();
        }
      });
    }
    // Backup page: a progress bar while a backup runs (read from the
    // status API while the form's request is under way, or after a reload).
    var bp = document.getElementById("backup-progress");
    if (bp) {
      var bar = bp.querySelector("progress"), label = bp.querySelector("span");
      var polling = false;
      var poll = function (reloadWhenDone) {
        if (polling) return;
        polling = true;
        bp.hidden = false;
        var tick = function () {
          fetch("/api/v1/admin/backups/status", { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (st) {
              if (st && st.progress) {
                bar.value = st.progress.percent;
                label.textContent = st.progress.percent + "% · " + st.progress.phase_zh + " · " +
                  Math.round(st.progress.done_bytes / 1e6) + " / " + Math.round(st.progress.total_bytes / 1e6) + " MB";
              } else if (st && !st.running && reloadWhenDone) {
                window.location.reload();
                return;
              }
              setTimeout(tick, 500);
            })
            .catch(function () { setTimeout(tick, 1000); });
        };
        tick();
      };
      var bf = document.getElementById("backup-now");
      if (bf) bf.addEventListener("submit", function () { poll(false); });
      if (bp.dataset.running === "true") poll(true);
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

// Behaviour that used to sit in on*= attributes, which the
// Content-Security-Policy (no 'unsafe-inline') blocks: a <select
// class="autosubmit"> sends its form when changed; a [data-print] button
// prints the page.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("select.autosubmit") && t.form) t.form.submit();
  });
  document.addEventListener("click", function (e) {
    var t = e.target && e.target.closest ? e.target.closest("[data-print]") : null;
    if (t) { e.preventDefault(); window.print(); }
  });
})();
