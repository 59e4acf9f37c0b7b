// The time zone offer on first sign-in: fills in the zone the browser reports.
(function () {
  "use strict";
  var field = document.querySelector("[data-browser-zone]");
  if (!field || typeof Intl === "undefined") {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    field.value = zone;
  }
})();
