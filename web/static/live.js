// Hotline: live notices on every page. The tab connects to the live hub
// (web/static/live-worker.js: one SharedWorker per session, shared by all
// tabs; without SharedWorker, a hub in this page), leaves it on pagehide
// (so a page kept in the back/forward cache holds no connection) and
// rejoins on pageshow.
//
// What a viewer is told about an emergency comes from the server
// (domain::alarm): "loud" (red banner and a beep every 5 s, where the
// viewer's unit can sign for it, or escalated for a team lead), "quiet"
// (a count in the menu bar, no sound) or nothing. New tickets for the
// viewer's unit show in the banner until dismissed or signed for. Pages
// marked data-live (inbox, queues) refresh their lists in place; the
// dashboard pages get "hotline:changed" / "hotline:status" events.
(function () {
  "use strict";
  var body = document.body;
  var events = body.dataset.liveUrl;
  var dash = document.querySelector("[data-dashboard]");
  var streams = {};
  if (events) streams.events = events;
  if (dash && dash.getAttribute("data-events")) streams.dashboard = dash.getAttribute("data-events");
  if (!streams.events && !streams.dashboard) return;
  var workerUrl = body.dataset.liveWorker;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // ---- sound: the AudioContext only after a user gesture (browsers refuse
  // to start one before, with a console warning).
  var audio = null;
  function unlock() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!audio) audio = new Ctx();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  document.addEventListener("pointerdown", unlock, true);
  document.addEventListener("keydown", unlock, true);
  function beep() {
    if (!audio) return;
    try {
      var o = audio.createOscillator(), g = audio.createGain();
      o.type = "square"; o.frequency.value = 880; g.gain.value = 0.15;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio device */ }
  }

  // ---- what the page shows
  var banner = document.getElementById("live-banner");
  var quiet = document.getElementById("live-quiet");
  var quietList = document.getElementById("live-quiet-list");
  var items = [];
  function render() {
    var loud = items.filter(function (n) { return n.alarm === "loud" || (n.alarm !== "quiet" && n.for_me); });
    var calm = items.filter(function (n) { return n.alarm === "quiet"; });
    if (banner) {
      if (loud.length === 0) {
        banner.hidden = true;
        banner.innerHTML = "";
      } else {
        banner.hidden = false;
        banner.className = "live-banner" + (loud.some(function (n) { return n.alarm === "loud"; }) ? " alarm" : "");
        banner.innerHTML = loud.map(function (n) {
          var em = n.alarm === "loud";
          return '<div class="live-item' + (em ? " emergency" : "") + '">' +
            esc(em ? banner.dataset.emergency : banner.dataset.new) +
            (em && n.escalated ? ' <span class="tag">' + esc(banner.dataset.escalated || "") + "</span>" : "") +
            ' <a href="/tickets/' + esc(n.number) + '">' + esc(n.number) + "</a> " + esc(n.title) +
            (em ? "" : ' <button type="button" class="link" data-dismiss="' + esc(n.number) + '">×</button>') + "</div>";
        }).join("");
      }
    }
    if (quiet) {
      quiet.hidden = calm.length === 0;
      var b = quiet.querySelector("b");
      if (b) b.textContent = String(calm.length);
      if (quietList) {
        if (calm.length === 0) quietList.hidden = true;
        quietList.innerHTML = calm.map(function (n) {
          return '<div class="live-item"><a href="/tickets/' + esc(n.number) + '">' + esc(n.number) + "</a> " + esc(n.title) +
            (n.escalated ? ' <span class="tag">' + esc(quietList.dataset.escalated || "") + "</span>" : "") + "</div>";
        }).join("");
      }
    }
  }
  if (banner) {
    banner.addEventListener("click", function (e) {
      var k = e.target && e.target.dataset && e.target.dataset.dismiss;
      if (k && port) port.postMessage({ type: "dismiss", number: k });
    });
  }
  if (quiet && quietList) {
    quiet.addEventListener("click", function () { quietList.hidden = !quietList.hidden; });
  }

  var liveSection = document.querySelector("[data-live]");
  var refreshTimer = null;
  function refresh() {
    if (!liveSection) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch(location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-live]");
          if (fresh) liveSection.innerHTML = fresh.innerHTML;
        })
        .catch(function () {});
    }, 300);
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }
  function onMessage(e) {
    var m = e.data || {};
    if (m.type === "items") { items = m.items || []; render(); }
    else if (m.type === "ticket") { if (m.data && m.data.kind !== "pending") refresh(); emit("hotline:ticket", m.data); }
    else if (m.type === "changed") emit("hotline:changed", m.data);
    else if (m.type === "status") emit("hotline:status", m);
    else if (m.type === "beep") beep();
  }

  // ---- the connection to the hub
  var port = null, localHub = null, localClient = null;
  var noWorker = !window.SharedWorker || !workerUrl;
  // localStorage "hotline.live.noWorker" = "1" forces the in-page hub
  // (tests/e2e_live.rs runs the walk both ways).
  try { if (window.localStorage && localStorage.getItem("hotline.live.noWorker") === "1") noWorker = true; } catch (e) { /* storage off */ }
  body.dataset.liveMode = noWorker ? "page" : "shared";
  function visible() { return document.visibilityState === "visible"; }
  function join(p) {
    port = p;
    port.onmessage = onMessage;
    if (port.start) port.start();
    port.postMessage({ type: "hello", streams: streams, active: visible() && document.hasFocus() });
  }
  function connect() {
    if (port) return;
    if (!noWorker) {
      try {
        // One worker per session: a new login gets a new stream.
        var w = new SharedWorker(workerUrl, { name: "hotline-live-" + (body.dataset.csrf || "") });
        join(w.port);
        return;
      } catch (e) { noWorker = true; body.dataset.liveMode = "page"; }
    }
    var local = function () {
      if (!localHub) localHub = new window.HotlineLiveHub();
      var ch = new MessageChannel();
      localClient = localHub.connect(ch.port1);
      join(ch.port2);
    };
    if (window.HotlineLiveHub) { local(); return; }
    if (!workerUrl || !window.EventSource) return;
    var s = document.createElement("script");
    s.src = workerUrl;
    s.onload = function () { if (!port && window.HotlineLiveHub) local(); };
    document.head.appendChild(s);
  }
  function disconnect() {
    if (!port) return;
    if (localClient) {
      // In this page: leave at once, a message would only be delivered
      // after the page is frozen in the back/forward cache.
      localHub.message(localClient, { type: "bye" });
      localClient = null;
    } else {
      try { port.postMessage({ type: "bye" }); } catch (e) { /* gone */ }
    }
    try { port.close(); } catch (e) { /* gone */ }
    port = null;
  }
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", function () { connect(); });
  var active = function () { if (port && visible()) port.postMessage({ type: "active" }); };
  window.addEventListener("focus", active);
  document.addEventListener("visibilitychange", active);
  document.addEventListener("pointerdown", active, true);
  connect();
})();
