// Hotline: the leader dashboard and the wallboard update in place.
// `/events/dashboard` sends "changed" (at most every 2 s) when tickets
// change — through the live hub of web/static/live.js, one stream shared
// by every tab — and the page then re-reads GET /api/v1/reports/dashboard
// and writes the numbers and lists. Text goes in with textContent only. The wallboard
// also shows a clock, and F toggles the browser's full screen.
(function () {
  "use strict";
  var root = document.querySelector("[data-dashboard]");
  if (!root) return;
  var wall = root.hasAttribute("data-wall");

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function pct(f) {
    if (f.den === null || f.den === undefined) return String(f.num);
    if (f.den === 0) return "—";
    return (f.num / f.den * 100).toFixed(1) + "%";
  }
  function change(v) {
    var d = v.change.delta;
    if (d === null || d === undefined) return "—";
    var sign = d > 0 ? "+" : "";
    if (v.current.den !== null && v.current.den !== undefined) return sign + d.toFixed(1) + " 个百分点";
    var p = v.change.percent;
    return sign + d.toFixed(0) + (p === null || p === undefined ? "" : " (" + (p > 0 ? "+" : "") + p.toFixed(1) + "%)");
  }
  var BAD_UP = { yellow_cards: 1, red_cards: 1, reopen_rate: 1, return_rate: 1 };
  function trend(v) {
    var d = v.change.delta;
    if (!d) return "flat";
    var up = d > 0;
    var good = BAD_UP[v.kpi] ? !up : up;
    return (up ? "up " : "down ") + (good ? "good" : "bad");
  }
  function minutes(m) {
    if (m < 60) return m + " 分钟";
    if (m < 48 * 60) return Math.floor(m / 60) + " 小时 " + (m % 60) + " 分";
    return Math.floor(m / 1440) + " 天 " + Math.floor(m % 1440 / 60) + " 小时";
  }
  function setText(el, text) {
    text = String(text);
    if (el.textContent !== text) {
      el.textContent = text;
      el.classList.remove("flash");
      void el.offsetWidth; // restart the highlight
      el.classList.add("flash");
    }
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  var COLS = {
    link: function (tr, e) {
      var td = cell(tr, "");
      var a = document.createElement("a");
      a.href = "/tickets/" + encodeURIComponent(e.number);
      a.textContent = e.number;
      td.appendChild(a);
    },
    number: function (tr, e) { cell(tr, e.number); },
    title: function (tr, e) { cell(tr, e.title, "t"); },
    unit: function (tr, e) { cell(tr, e.unit, "t"); },
    alarm: function (tr, e) {
      var table = root.querySelector("[data-rows='emergencies'][data-cols*='alarm']");
      var label = e.acknowledged ? "acknowledged" : e.escalated ? "escalated" : "waiting";
      cell(tr, table ? table.getAttribute("data-" + label) || "" : "", "alarm " + label);
      if (e.escalated) tr.className = "escalated";
    },
    dispatched_at: function (tr, e) { cell(tr, e.dispatched_at); },
    minutes: function (tr, e) { cell(tr, minutes(e.minutes), "num"); },
    overdue: function (tr, u) { cell(tr, u.overdue, "num"); },
    yellow: function (tr, u) { cell(tr, u.yellow, "num"); },
    red: function (tr, u) { cell(tr, u.red, "num"); }
  };

  function apply(d) {
    root.querySelectorAll("[data-k]").forEach(function (el) {
      var v = get(d, el.getAttribute("data-k"));
      if (v !== undefined && v !== null) setText(el, v);
    });
    root.querySelectorAll("[data-kpi]").forEach(function (el) {
      var v = (d.kpis || []).filter(function (k) { return k.kpi === el.getAttribute("data-kpi"); })[0];
      if (!v) return;
      var rate = v.current.den !== null && v.current.den !== undefined;
      var q = function (s) { return el.querySelector(s); };
      if (q(".v")) setText(q(".v"), rate ? pct(v.current) : v.current.num);
      if (q(".p")) setText(q(".p"), rate ? pct(v.previous) : v.previous.num);
      if (q(".c")) setText(q(".c"), change(v));
      var chg = q(".chg");
      if (chg) chg.className = "chg " + trend(v);
    });
    root.querySelectorAll("[data-counts]").forEach(function (el) {
      (get(d, el.getAttribute("data-counts")) || []).forEach(function (c) {
        var row = el.querySelector('[data-key="' + c.key + '"] .n');
        if (row) setText(row, c.count);
      });
    });
    root.querySelectorAll("[data-bars]").forEach(function (el) {
      var list = get(d, el.getAttribute("data-bars")) || [];
      var max = list.reduce(function (m, c) { return Math.max(m, c.count); }, 0);
      list.forEach(function (c) {
        var li = el.querySelector('[data-key="' + c.key + '"]');
        if (!li) return;
        setText(li.querySelector(".n"), c.count);
        li.querySelector(".bar i").style.width = (max > 0 ? c.count / max * 100 : 0).toFixed(1) + "%";
      });
    });
    root.querySelectorAll("[data-rows]").forEach(function (table) {
      var key = table.getAttribute("data-rows");
      var list = get(d, key) || [];
      var limit = parseInt(table.getAttribute("data-limit") || "0", 10);
      if (limit > 0) list = list.slice(0, limit);
      var cols = table.getAttribute("data-cols").split(",");
      var body = document.createElement("tbody");
      list.forEach(function (item) {
        var tr = document.createElement("tr");
        cols.forEach(function (c) { COLS[c](tr, item); });
        body.appendChild(tr);
      });
      table.replaceChild(body, table.querySelector("tbody"));
      table.hidden = list.length === 0;
      if (table.hasAttribute("data-paged")) paginate(table);
      var empty = root.querySelector('[data-empty="' + key + '"]');
      if (empty) empty.hidden = list.length > 0;
    });
    var spikes = document.getElementById("spikes");
    if (spikes) {
      var ul = spikes.querySelector("[data-list]");
      var s = d.spikes || [];
      ul.textContent = s.map(function (x) {
        return x.district + " " + x.street + " · " + x.category + "：" + x.count;
      }).join("；");
      spikes.hidden = s.length === 0;
    }
  }

  // Wallboard lists longer than their panel show one page at a time and
  // turn the page every ROTATE_MS: as many rows as fit above the pager.
  // The table carries data-page / data-pages / data-per-page.
  var ROTATE_MS = 8000;
  function paginate(table) {
    var key = table.getAttribute("data-rows");
    var pager = root.querySelector('[data-pager="' + key + '"]');
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.forEach(function (r) { r.hidden = false; });
    if (table.hidden || rows.length === 0) {
      if (pager) pager.hidden = true;
      return;
    }
    var panel = table.closest(".wall-panel");
    if (pager) { pager.hidden = false; pager.textContent = "\u00a0"; }
    var pad = parseFloat(getComputedStyle(panel).paddingBottom) || 0;
    var bottom = panel.getBoundingClientRect().bottom - pad -
      (pager ? pager.getBoundingClientRect().height : 0);
    var top = table.tBodies[0].getBoundingClientRect().top;
    var rowH = rows[0].getBoundingClientRect().height || 1;
    var per = Math.max(1, Math.floor((bottom - top) / rowH));
    var pages = Math.ceil(rows.length / per);
    var page = (table._page || 0) % pages;
    table._page = page;
    table._pages = pages;
    rows.forEach(function (r, i) { r.hidden = Math.floor(i / per) !== page; });
    table.setAttribute("data-page", page + 1);
    table.setAttribute("data-pages", pages);
    table.setAttribute("data-per-page", per);
    if (pager) {
      pager.hidden = pages < 2;
      pager.textContent = pager.getAttribute("data-text").replace("{p}", page + 1)
        .replace("{n}", pages).replace("{total}", rows.length);
    }
  }
  function pagedTables() { return root.querySelectorAll("table[data-paged]"); }
  if (wall) {
    root.querySelectorAll(".bar i[data-w]").forEach(function (i) {
      i.style.width = i.getAttribute("data-w") + "%";
    });
    pagedTables().forEach(paginate);
    window.addEventListener("resize", function () { pagedTables().forEach(paginate); });
    setInterval(function () {
      pagedTables().forEach(function (t) {
        if ((t._pages || 1) > 1) { t._page = (t._page + 1) % t._pages; paginate(t); }
      });
    }, ROTATE_MS);
  }

  // Server-rendered charts (dashboard page): swap them from a fresh copy
  // of the page.
  function refreshCharts() {
    var slots = root.querySelectorAll("[data-slot]");
    if (slots.length === 0) return;
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        slots.forEach(function (slot) {
          var fresh = doc.querySelector('[data-slot="' + slot.getAttribute("data-slot") + '"]');
          if (fresh) slot.replaceChildren.apply(slot, Array.prototype.slice.call(fresh.childNodes));
        });
      })
      .catch(function () {});
  }

  var loading = false, again = false;
  function reload() {
    if (loading) { again = true; return; }
    loading = true;
    fetch(root.getAttribute("data-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (d) { apply(d); root.setAttribute("data-loaded", d.generated_at); }
        refreshCharts();
      })
      .catch(function () {})
      .then(function () {
        loading = false;
        if (again) { again = false; reload(); }
      });
  }

  var status = root.querySelector("[data-live-status]");
  var liveText = status ? status.textContent : "";
  var down = false;
  document.addEventListener("hotline:changed", reload);
  document.addEventListener("hotline:status", function (e) {
    if (!e.detail || e.detail.stream !== "dashboard") return;
    if (e.detail.up) {
      if (status) { status.textContent = liveText; status.classList.remove("off"); }
      // Re-read after a reconnect, in case something changed meanwhile.
      if (down) reload();
      down = false;
    } else {
      down = true;
      if (status) { status.textContent = status.getAttribute("data-offline"); status.classList.add("off"); }
    }
  });
  // A page shown again from the back/forward cache missed the changes.
  window.addEventListener("pageshow", function (e) { if (e.persisted) reload(); });
  // A slow safety net: deadlines pass and minutes grow without any event.
  setInterval(reload, 60000);

  if (wall) {
    var clock = document.getElementById("clock");
    var date = document.getElementById("clock-date");
    // The center's time, whatever the zone of the PC driving the TV.
    var zone = root.getAttribute("data-tz") || undefined;
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch (e) {
      fmt = new Intl.DateTimeFormat("en-CA", { hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
    var tick = function () {
      var p = {};
      fmt.formatToParts(new Date()).forEach(function (x) { p[x.type] = x.value; });
      if (clock) clock.textContent = p.hour + ":" + p.minute + ":" + p.second;
      if (date) date.textContent = p.year + "-" + p.month + "-" + p.day;
    };
    tick();
    setInterval(tick, 1000);
    document.addEventListener("keydown", function (e) {
      if ((e.key === "f" || e.key === "F") && !e.ctrlKey && !e.metaKey && !e.altKey) {
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (document.documentElement.requestFullscreen) {
          document.documentElement.requestFullscreen().catch(function () {});
        }
      }
    });
  }
})();

// The wallboard's bars come with their width in data-w (a style= attribute
// would break the Content-Security-Policy); setting it from script is allowed.
(function () {
  "use strict";
  var set = function () {
    document.querySelectorAll(".bar i[data-w]").forEach(function (i) {
      i.style.width = i.getAttribute("data-w") + "%";
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", set);
  else set();
})();
