// The account page: live countdowns for each mute, a fresh query when one runs out,
// and the custom-length inputs shown only when "Custom…" is picked.
// The change form's seen_* fields keep the state the page was drawn with: the server runs it
// down by the time since seen_at, so the countdown needs no copy of its own in the form.
(function () {
  "use strict";

  var PERMANENT = 4294967295;
  // Unit names in the page's language (templates/base.html).
  var NAMES = (document.documentElement.getAttribute("data-units") || "d,h,min,s").split(",");
  var UNITS = [[NAMES[0], 86400], [NAMES[1], 3600], [NAMES[2], 60], [NAMES[3], 1]];
  // Each ticking card's end, as a timestamp of this browser's clock.
  var endsAt = new WeakMap();
  var refreshing = false;

  function duration(seconds) {
    if (seconds <= 0) { return "0 " + NAMES[3]; }
    var parts = [];
    UNITS.forEach(function (unit) {
      var count = Math.floor(seconds / unit[1]);
      seconds -= count * unit[1];
      if (count) { parts.push(count + " " + unit[0]); }
    });
    return parts.join(" ");
  }

  function startCountdowns(root) {
    var now = Date.now();
    root.querySelectorAll("[data-mute][data-remaining-seconds]").forEach(function (card) {
      var left = Number(card.getAttribute("data-remaining-seconds"));
      if (left > 0 && left !== PERMANENT) {
        endsAt.set(card, now + left * 1000);
      }
    });
  }

  function tick() {
    var expired = false;
    var now = Date.now();
    document.querySelectorAll("[data-mute][data-remaining-seconds]").forEach(function (card) {
      var end = endsAt.get(card);
      if (end === undefined) { return; }
      // Worked out from the end time, so a throttled background tab never drifts.
      var left = Math.max(0, Math.ceil((end - now) / 1000));
      card.setAttribute("data-remaining-seconds", String(left));
      var out = card.querySelector("[data-countdown]");
      if (out) { out.textContent = duration(left); }
      if (left === 0) {
        endsAt.delete(card);
        expired = true;
      }
    });
    if (expired) { refresh(); }
  }

  function refresh() {
    var cards = document.querySelector("[data-mute-cards]");
    if (!cards || refreshing) { return; }
    refreshing = true;
    var status = cards.querySelector("[data-refresh-status]");
    if (status) { status.textContent = cards.getAttribute("data-text-checking"); }
    fetch(cards.getAttribute("data-refresh-url"), {
      credentials: "same-origin",
      headers: {"Accept": "text/html"}
    }).then(function (response) {
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-mute-cards]");
        if (!fresh) { throw new Error("unexpected answer"); }
        cards.replaceWith(fresh);
        startCountdowns(fresh);
      });
    }).catch(function () {
      if (status) { status.textContent = cards.getAttribute("data-text-failed"); }
    }).finally(function () {
      refreshing = false;
    });
  }

  function toggleCustom(fieldset) {
    var select = fieldset.querySelector("select");
    var custom = fieldset.querySelector("[data-custom]");
    if (select && custom) { custom.hidden = select.value !== "custom"; }
  }

  // The change form offers "Request approval" instead of Apply while a length chosen is above
  // the user's limit (the server decides either way; this only keeps the button honest).
  var UNIT_SECONDS = {minutes: 60, hours: 3600, days: 86400};

  function chosenSeconds(form, kind) {
    var select = form.querySelector("[name=" + kind + "_seconds]");
    if (!select || select.value === "") { return null; }
    if (select.value !== "custom") { return Number(select.value); }
    var amount = Number((form.querySelector("[name=" + kind + "_custom]") || {}).value);
    var unit = (form.querySelector("[name=" + kind + "_custom_unit]") || {}).value || "hours";
    return amount > 0 ? amount * (UNIT_SECONDS[unit] || 3600) : null;
  }

  function aboveLimit(form) {
    return ["c2c", "group"].some(function (kind) {
      var seconds = chosenSeconds(form, kind);
      if (seconds === null || seconds === 0) { return false; }
      if (seconds === PERMANENT && form.hasAttribute("data-second-person")) { return true; }
      return seconds > Number(form.getAttribute("data-limit-" + kind));
    });
  }

  function updateButtons(form) {
    var apply = form.querySelector("[data-apply]");
    var request = form.querySelector("[data-request-approval]");
    if (!apply || !request) { return; }
    var above = aboveLimit(form);
    apply.hidden = above;
    request.hidden = !above;
  }

  // Picking a rule reloads the page with ?rule= so the server pre-selects the next step of its
  // ladder; a reason typed so far is kept for the reloaded form (in this tab only).
  var REASON_KEY = "muteadmin-reason:" + window.location.pathname;

  // Whether a rule's changes notify the account by default (the form lists those that do).
  function notifiesByDefault(form, code) {
    var choice = form.querySelector("[data-notify-rules]");
    if (!choice || !code) { return false; }
    return choice.getAttribute("data-notify-rules").split(" ").indexOf(code) !== -1;
  }

  function followRule(select) {
    var notify = select.form.querySelector("[name=notify]");
    if (notify) { notify.checked = notifiesByDefault(select.form, select.value); }
    var reason = select.form.querySelector("[name=reason]");
    if (reason && reason.value) { window.sessionStorage.setItem(REASON_KEY, reason.value); }
    var url = new URL(window.location.href);
    if (select.value) { url.searchParams.set("rule", select.value); } else { url.searchParams.delete("rule"); }
    window.location.assign(url.toString());
  }

  function restoreReason() {
    var kept = window.sessionStorage.getItem(REASON_KEY);
    window.sessionStorage.removeItem(REASON_KEY);
    var reason = document.querySelector("form.change [name=reason]");
    if (kept && reason && !reason.value) { reason.value = kept; }
  }

  // The notice preview: shown while the notify box is ticked, and drawn again by the server
  // (from the rule's template, in the language picked) whenever the form changes.
  var previewTimer = null;
  var previewAsked = 0;

  function showPreview(form) {
    var notify = form.querySelector("[name=notify]");
    var preview = form.querySelector("[data-notice-preview]");
    if (notify && preview) { preview.hidden = !notify.checked; }
  }

  function refreshPreview(form) {
    var choice = form.querySelector("[data-preview-url]");
    var notify = form.querySelector("[name=notify]");
    showPreview(form);
    if (!choice || !notify || !notify.checked) { return; }
    var asked = ++previewAsked;
    fetch(choice.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      body: new FormData(form)
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      // An older answer arriving after a newer one is dropped.
      if (asked !== previewAsked) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-notice-preview]");
      var preview = form.querySelector("[data-notice-preview]");
      if (fresh && preview) {
        preview.replaceWith(fresh);
        showPreview(form);
      }
    }).catch(function () {
      var preview = form.querySelector("[data-notice-preview]");
      if (preview && asked === previewAsked) {
        preview.textContent = "The notice's text could not be shown now; you see it again before it is sent.";
      }
    });
  }

  function watchPreview(form) {
    function later() {
      showPreview(form);
      window.clearTimeout(previewTimer);
      previewTimer = window.setTimeout(function () { refreshPreview(form); }, 300);
    }
    form.addEventListener("change", later);
    form.addEventListener("input", later);
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreReason();
    document.querySelectorAll("form.change").forEach(function (form) {
      if (!form.querySelector("[data-preview-url]")) { return; }
      watchPreview(form);
      // A reason kept across a rule's reload fills {reason}: draw the preview with it.
      if ((form.querySelector("[name=reason]") || {}).value) { refreshPreview(form); }
    });
    document.querySelectorAll("form.change select[name=rule]").forEach(function (select) {
      select.addEventListener("change", function () { followRule(select); });
    });
    document.querySelectorAll("form[data-limits]").forEach(function (form) {
      updateButtons(form);
      form.addEventListener("change", function () { updateButtons(form); });
      form.addEventListener("input", function () { updateButtons(form); });
    });
    startCountdowns(document);
    window.setInterval(tick, 1000);
    document.querySelectorAll("[data-length]").forEach(function (fieldset) {
      toggleCustom(fieldset);
      fieldset.addEventListener("change", function () { toggleCustom(fieldset); });
    });
  });
}());
