// Report pages: the print button, and from/to only for a custom period.
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
  var preset = document.getElementById('preset');
  if (!preset) return;
  var form = preset.form;
  function sync() {
    var custom = preset.value === 'custom';
    ['from', 'to'].forEach(function (n) {
      var i = form.elements[n];
      if (i) i.disabled = !custom;
    });
  }
  preset.addEventListener('change', sync);
  sync();
})();
