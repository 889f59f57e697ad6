// Hotline: the assisting-unit picker on the case file (issue 11). A filter
// box over the tree of checkboxes: typing hides the units whose name does
// not contain the text (ticked ones and the parents of matches stay), and
// the legend counts what is ticked.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-unit-picker]").forEach(function (box) {
      var filter = box.querySelector(".unit-filter");
      var labels = Array.prototype.slice.call(box.querySelectorAll("label[data-name]"));
      var picked = box.querySelector("[data-picked]");
      var depth = function (l) {
        var m = /depth-(\d+)/.exec(l.className);
        return m ? Number(m[1]) : 0;
      };
      var count = function () {
        var n = labels.filter(function (l) { return l.querySelector("input").checked; }).length;
        if (picked) picked.textContent = n > 0 ? "（" + n + "）" : "";
      };
      var apply = function () {
        var q = filter.value.trim();
        var show = labels.map(function (l) {
          return !q || l.getAttribute("data-name").indexOf(q) >= 0 || l.querySelector("input").checked;
        });
        // Keep the parents of shown units visible, for context.
        for (var i = labels.length - 1; i >= 0; i--) {
          if (!show[i] || !q) continue;
          var d = depth(labels[i]);
          for (var j = i - 1; j >= 0 && d > 0; j--) {
            if (depth(labels[j]) < d) { show[j] = true; d = depth(labels[j]); }
          }
        }
        labels.forEach(function (l, i) { l.hidden = !show[i]; });
      };
      if (filter) {
        filter.addEventListener("input", apply);
        // Enter in the filter must not submit the dispatch form.
        filter.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
      }
      box.addEventListener("change", count);
      count();
    });
  });
})();
