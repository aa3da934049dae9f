// The improvement plan's "tick all" box: ticks or unticks every item shown, for one bulk
// change. Without JavaScript it stays hidden and each row is ticked by hand.
(function () {
  "use strict";

  function reveal() {
    document.querySelectorAll("input[data-tick-all]").forEach(function (box) {
      box.hidden = false;
    });
  }

  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-tick-all]")) return;
    var selector = 'input[type=checkbox][name=items][form="' + all.dataset.tickAll + '"]';
    document.querySelectorAll(selector).forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("DOMContentLoaded", reveal);
  // The table comes back from the server after a filter or a bulk change.
  document.addEventListener("htmx:afterSettle", reveal);
})();
