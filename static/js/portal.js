// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Warn before an idle session ends, so the person can choose to stay logged in.
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-session-seconds") || "0", 10);
  var warnBefore = parseInt(body.getAttribute("data-session-warning") || "0", 10);
  var banner = document.getElementById("session-warning");
  if (seconds > 0 && banner) {
    window.setTimeout(function () { banner.hidden = false; }, Math.max(0, (seconds - warnBefore) * 1000));
    // Once the session has ended, reload: the person sees the log-in page instead of a page
    // whose buttons would no longer work.
    window.setTimeout(function () { window.location.reload(); }, (seconds + 2) * 1000);
  }
  // Move focus to an error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Buttons that ask for confirmation carry data-confirm (no inline script: CSP).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
