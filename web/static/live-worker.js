// Hotline: the live hub. One per browser session, as a SharedWorker that
// every tab connects to (web/static/live.js), so that ten open tabs use
// one /events connection (and one /events/dashboard while a dashboard is
// open). Where SharedWorker is missing, live.js loads this same file into
// the page and runs one hub per tab.
//
// Protocol (MessagePort): a tab sends
//   {type: "hello", streams: {events: "/events", dashboard: "/events/dashboard"}, active: bool}
//   {type: "active"}            the tab was focused / shown: it beeps
//   {type: "dismiss", number}   a "new ticket" item was closed
//   {type: "bye"}               pagehide: the tab leaves (bfcache, close)
// and receives
//   {type: "items", items: [...]}      alarms and new tickets, the whole list
//   {type: "ticket", data: notice}     every notice of /events
//   {type: "changed", data: kind}      /events/dashboard
//   {type: "status", stream, up}       a stream connected or dropped
//   {type: "beep"}                     only the most recently active tab
// A stream nobody wants any more is closed at once.
(function (scope) {
  "use strict";
  function Hub() {
    this.clients = [];
    this.sources = {};
    this.items = {};
    this.order = [];
    this.beeper = null;
    var hub = this;
    this.timer = setInterval(function () { if (hub.loud()) hub.beep(); }, 5000);
  }
  Hub.prototype.connect = function (port) {
    var hub = this;
    var c = { port: port, streams: {} };
    port.onmessage = function (e) { hub.message(c, e.data || {}); };
    if (port.start) port.start();
    return c;
  };
  Hub.prototype.message = function (c, m) {
    if (m.type === "hello") {
      if (this.clients.indexOf(c) < 0) this.clients.push(c);
      c.streams = m.streams || {};
      if (m.active || !this.beeper) this.beeper = c;
      this.sync();
      this.send(c, { type: "items", items: this.list() });
      var self = this;
      Object.keys(c.streams).forEach(function (k) {
        var es = self.sources[k];
        if (es) self.send(c, { type: "status", stream: k, up: es.readyState === 1 });
      });
    } else if (m.type === "active") {
      this.beeper = c;
    } else if (m.type === "dismiss") {
      if (this.items[m.number] && this.items[m.number].alarm !== "loud" && this.items[m.number].alarm !== "quiet") {
        delete this.items[m.number];
        this.publish();
      }
    } else if (m.type === "bye") {
      var i = this.clients.indexOf(c);
      if (i >= 0) this.clients.splice(i, 1);
      if (this.beeper === c) this.beeper = this.clients[this.clients.length - 1] || null;
      this.sync();
    }
  };
  Hub.prototype.send = function (c, msg) {
    try { c.port.postMessage(msg); } catch (e) { /* a tab that went away */ }
  };
  Hub.prototype.broadcast = function (stream, msg) {
    var hub = this;
    this.clients.forEach(function (c) { if (c.streams[stream]) hub.send(c, msg); });
  };
  // Opens the streams some tab wants, closes the others.
  Hub.prototype.sync = function () {
    var want = {}, hub = this;
    this.clients.forEach(function (c) {
      Object.keys(c.streams).forEach(function (k) { if (c.streams[k]) want[k] = c.streams[k]; });
    });
    Object.keys(this.sources).forEach(function (k) {
      if (!want[k] || want[k] !== hub.sources[k].url0) {
        hub.sources[k].close();
        delete hub.sources[k];
        if (k === "events") { hub.items = {}; hub.order = []; }
      }
    });
    Object.keys(want).forEach(function (k) { if (!hub.sources[k]) hub.open(k, want[k]); });
  };
  Hub.prototype.open = function (key, url) {
    var hub = this;
    var es = new EventSource(url);
    es.url0 = url;
    this.sources[key] = es;
    es.addEventListener("open", function () {
      if (key === "events") {
        // The server sends every pending alarm again after (re)connecting.
        hub.items = {};
        hub.order = [];
        hub.publish();
      }
      hub.broadcast(key, { type: "status", stream: key, up: true });
    });
    es.addEventListener("error", function () {
      hub.broadcast(key, { type: "status", stream: key, up: false });
      if (es.readyState === 2) {
        // Closed for good (e.g. a 5xx): retry while someone still wants it.
        setTimeout(function () {
          if (hub.sources[key] === es) { delete hub.sources[key]; hub.sync(); }
        }, 5000);
      }
    });
    es.addEventListener("ticket", function (msg) {
      var n;
      try { n = JSON.parse(msg.data); } catch (e) { return; }
      hub.track(n);
      hub.broadcast(key, { type: "ticket", data: n });
    });
    es.addEventListener("changed", function (msg) {
      hub.broadcast(key, { type: "changed", data: msg.data });
    });
  };
  // Keeps what a tab shows: alarms (loud or quiet) and new tickets for the
  // viewer's unit, until the server says otherwise.
  Hub.prototype.track = function (n) {
    var keep = n.alarm === "loud" || n.alarm === "quiet" || (n.for_me && n.state === "awaiting_sign_for");
    var was = this.items[n.number];
    if (keep) {
      if (!was) this.order.push(n.number);
      this.items[n.number] = n;
    } else if (was) {
      delete this.items[n.number];
    }
    if (keep || was) this.publish();
    if (keep && n.alarm === "loud" && (!was || was.alarm !== "loud")) this.beep();
  };
  Hub.prototype.list = function () {
    var hub = this;
    this.order = this.order.filter(function (k) { return hub.items[k]; });
    return this.order.map(function (k) { return hub.items[k]; });
  };
  Hub.prototype.publish = function () {
    this.broadcast("events", { type: "items", items: this.list() });
  };
  Hub.prototype.loud = function () {
    var hub = this;
    return Object.keys(this.items).some(function (k) { return hub.items[k].alarm === "loud"; });
  };
  Hub.prototype.beep = function () {
    var c = this.beeper;
    if (c && this.clients.indexOf(c) >= 0 && c.streams.events) this.send(c, { type: "beep" });
  };

  if (typeof scope.SharedWorkerGlobalScope !== "undefined" && scope instanceof scope.SharedWorkerGlobalScope) {
    var hub = new Hub();
    scope.onconnect = function (e) { hub.connect(e.ports[0]); };
  } else {
    scope.HotlineLiveHub = Hub;
  }
})(self);
