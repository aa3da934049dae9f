// Every page: a request that htmx could not complete is said out loud, never dropped silently.
// A save that failed is undone on the page (a checkbox goes back) and the next poll fetches
// the stored state from the server, so what people see is what was stored.
(function () {
  "use strict";

  var resync = false;
  var shown = ""; // "save" stays until a save succeeds; "connection" until any request does

  function banner() {
    return document.getElementById("request-problem");
  }

  function say(text) {
    var box = banner();
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  // A failed save may still have been stored (the database can fail after the commit), so the
  // message does not claim either way: the next poll shows what the server holds.
  function explain(status, saving) {
    if (status === 404) {
      // The question left the lens in an upgrade of the review, or the workload was deleted.
      var gone = "this page shows something that is no longer there (the review may have been upgraded to a new version of its lens). Reload the page or go back to the review.";
      return saving ? "Not saved: " + gone : "Note: " + gone;
    }
    if (!saving) {
      return "Connection lost: changes made by others are not shown until it is back.";
    }
    if (status === 0 || status === 502 || status === 503 || status === 504) {
      return "Your last change may not have been saved: the server could not be reached. This page shows what is stored again as soon as the server answers.";
    }
    if (status === 403) {
      return "Not saved: you may not change this, or your session has ended. Reload the page.";
    }
    return "Your last change may not have been saved: the server had a problem (error " + status + "). Check it, try again, and tell your administrator if it keeps happening.";
  }

  function failed(event) {
    var detail = event.detail;
    var config = detail.requestConfig || {};
    var saving = (config.verb || "get").toLowerCase() !== "get";
    var status = detail.xhr ? detail.xhr.status : 0;
    if (saving) {
      var changed = config.triggeringEvent && config.triggeringEvent.target;
      if (changed && changed.matches && changed.matches("input[type=checkbox]")) {
        changed.checked = !changed.checked;
      }
      resync = true;
    }
    shown = saving ? "save" : shown || "connection";
    say(explain(status, saving));
  }

  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);

  // After a failed save the page may differ from the server: make the next poll send it all.
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (resync && detail.verb === "get" && /\/poll\//.test(detail.path)) {
      // The token is in the URL (overview) or sent by the polling element itself (question).
      detail.path = detail.path.replace(/([?&]v=)[^&]*/, "$1resync");
      if (detail.parameters && detail.parameters.v !== undefined) detail.parameters.v = "resync";
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var config = event.detail.requestConfig || {};
    if (config.verb === "get" && /\/poll\//.test(config.path || "") && event.detail.xhr.status === 200) {
      resync = false;
    }
    var saved = (config.verb || "get") !== "get";
    var box = banner();
    if (box && !box.hidden && (saved || shown === "connection")) {
      box.hidden = true;
      shown = "";
    }
  });
})();
