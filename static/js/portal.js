// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Warn before an idle session ends, so the person can choose to stay logged in without
  // losing what they typed: the warning is a fixed dialog that takes focus wherever the page
  // is scrolled; "stay logged in" renews the session in the background (no reload).
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-session-seconds") || "0", 10);
  var warnBefore = parseInt(body.getAttribute("data-session-warning") || "0", 10);
  var loginUrl = body.getAttribute("data-login-url") || "/accounts/login/";
  var dialog = document.getElementById("session-warning");
  var form = document.getElementById("session-extend-form");
  var warnTimer = null;
  var endTimer = null;
  var returnFocus = null;

  function showWarning() {
    returnFocus = document.activeElement;
    dialog.hidden = false;
    var stay = document.getElementById("session-stay");
    (stay || dialog).focus();
  }
  function sessionEnded() {
    var here = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + "?expired=1&next=" + encodeURIComponent(here));
  }
  function schedule(total) {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(showWarning, Math.max(0, (total - warnBefore) * 1000));
    endTimer = window.setTimeout(sessionEnded, (total + 1) * 1000);
  }
  if (seconds > 0 && dialog && form) {
    schedule(seconds);
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; }  // old browsers: the form posts and the page reloads
      event.preventDefault();
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      window.fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
        body: new FormData(form)
      }).then(function (response) {
        if (!response.ok) { sessionEnded(); return null; }
        return response.json();
      }).then(function (data) {
        if (!data) { return; }
        dialog.hidden = true;
        schedule(data.seconds || seconds);
        if (returnFocus && returnFocus !== document.body && document.contains(returnFocus)) {
          returnFocus.focus();
        }
      }).catch(function () { form.submit(); });
    });
  }
  // Move focus to an error summary, an answer or a notice so screen readers announce it and
  // keyboard users continue from there (without JavaScript, the form's #anchor scrolls there).
  var target = document.getElementById("error-summary") || document.querySelector("[data-autofocus]");
  if (target) { target.focus(); }
})();
