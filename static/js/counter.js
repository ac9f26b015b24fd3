// Counter receipts: a print button, shown only when JavaScript runs (the page says how to print without it).
(function () {
  "use strict";
  var buttons = document.querySelectorAll(".js-print");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
