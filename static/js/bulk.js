// Bulk pages: the form shows only the fields the chosen operation uses, and a job's page keeps
// its progress bar live from status.json until the job is over, then reloads to show results.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var SLOW_POLL_MS = 5000;
  // Unit names in the page's language (templates/base.html); the job page carries its words.
  var NAMES = (document.documentElement.getAttribute("data-units") || "d,h,min,s").split(",");
  var UNITS = [[NAMES[0], 86400], [NAMES[1], 3600], [NAMES[2], 60], [NAMES[3], 1]];

  function duration(seconds) {
    if (seconds <= 0) { return "0 " + NAMES[3]; }
    var parts = [];
    UNITS.forEach(function (unit) {
      var count = Math.floor(seconds / unit[1]);
      seconds -= count * unit[1];
      if (count) { parts.push(count + " " + unit[0]); }
    });
    // Two units are plenty for an estimate.
    return parts.slice(0, 2).join(" ");
  }

  function showFieldsFor(form) {
    var checked = form.querySelector("[data-bulk-operation] input:checked");
    var operation = checked ? checked.value : "lookup";
    var lengths = form.querySelector("[data-bulk-lengths]");
    var reason = form.querySelector("[data-bulk-reason]");
    if (lengths) { lengths.hidden = operation !== "set"; }
    if (reason) { reason.hidden = operation === "lookup"; }
  }

  // Picking a rule sets the notify box to the rule's default (the form lists the rules that
  // notify); the moderator may still change it.
  function notifyFromRule(form, code) {
    var choice = form.querySelector("[data-notify-rules]");
    var notify = form.querySelector("[name=notify]");
    if (!choice || !notify) { return; }
    notify.checked = Boolean(code) && choice.getAttribute("data-notify-rules").split(" ").indexOf(code) !== -1;
  }

  function setField(root, name, text) {
    var out = root.querySelector("[data-field='" + name + "']");
    if (out) { out.textContent = text; }
  }

  function watch(panel) {
    var url = panel.getAttribute("data-status-url");
    var progress = panel.querySelector("[data-progress]");
    var live = panel.querySelector("[data-live]");

    function show(status) {
      progress.max = Math.max(status.total, 1);
      progress.value = status.done;
      progress.textContent = status.done + " / " + status.total;
      var state = panel.getAttribute("data-text-" + status.state) || status.state;
      if (status.cancel_requested && status.state === "running") {
        state += " " + panel.getAttribute("data-text-cancelling");
      }
      setField(panel, "state", state);
      ["done", "total", "ok", "errors", "calls_per_second"].forEach(function (name) {
        setField(panel, name, String(status[name]));
      });
      setField(panel, "eta", status.eta_seconds === null
        ? panel.getAttribute("data-text-estimating")
        : panel.getAttribute("data-text-about").replace("%(eta)s", duration(status.eta_seconds)));
    }

    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (status) {
          if (live) { live.textContent = ""; }
          show(status);
          if (status.state === "done" || status.state === "cancelled") {
            // The results table is rendered by the server.
            window.location.reload();
            return;
          }
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function () {
          if (live) { live.textContent = panel.getAttribute("data-text-lost"); }
          window.setTimeout(poll, SLOW_POLL_MS);
        });
    }

    var state = panel.getAttribute("data-state");
    if (state === "scheduled" || state === "queued" || state === "running") {
      window.setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-bulk-form]").forEach(function (form) {
      showFieldsFor(form);
      form.addEventListener("change", function () { showFieldsFor(form); });
      var rule = form.querySelector("select[name=rule]");
      if (rule) { rule.addEventListener("change", function () { notifyFromRule(form, rule.value); }); }
    });
    document.querySelectorAll("[data-bulk-job]").forEach(watch);
  });
}());
