// The undo offer disappears when it expires (the server refuses it after that time anyway).
(function () {
  "use strict";
  var banner = document.getElementById("undo-banner");
  if (!banner) { return; }
  var expires = parseInt(banner.getAttribute("data-expires"), 10) * 1000;
  if (!expires) { return; }
  function hide() { banner.parentNode && banner.parentNode.removeChild(banner); }
  var wait = expires - Date.now();
  if (wait <= 0) { hide(); } else { window.setTimeout(hide, Math.min(wait, 2147483647)); }
})();
