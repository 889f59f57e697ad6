// Forms with data-confirm ask before they are sent (e.g. voiding a ticket).
// No inline handlers: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!(f instanceof HTMLFormElement)) return;
    var msg = f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  }, true);
})();
