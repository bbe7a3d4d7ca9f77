// Wellness on the report page: a picture is revealed only by a deliberate click (the server records
// it), and every revealed picture is blurred again as soon as the analyst leaves the page or window.
(function () {
  "use strict";
  var token = function (form) {
    var field = form.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  };
  // the sign-in's exposure counter (_exposure_counter.html), as the server counted it after this reveal
  var countExposure = function (figures) {
    var counter = document.getElementById("exposure-counter");
    if (!counter || !figures) { return; }
    counter.querySelector("[data-exposure-files]").textContent = String(figures.files);
    counter.querySelector("[data-exposure-minutes]").textContent = String(figures.minutes);
    var reminder = document.getElementById("break-reminder");
    if (reminder) { reminder.hidden = !figures.break_due; }
  };
  var reblurAll = function () {
    document.querySelectorAll("figure.preview.revealed img").forEach(function (img) {
      img.src = img.getAttribute("data-blurred-src");
      img.alt = img.alt.replace(/^Preview/, "Blurred greyscale preview");
      var figure = img.closest("figure");
      figure.classList.remove("revealed");
      var button = figure.querySelector("button[data-hide]");
      if (button) { button.textContent = "Reveal"; button.removeAttribute("data-hide"); }
    });
  };
  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var figure = form.closest("figure");
      var img = figure.querySelector("img");
      var button = form.querySelector("button");
      if (button.hasAttribute("data-hide")) { reblurAll(); return; }
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": token(form) }
      }).then(function (response) {
        if (!response.ok) { throw new Error("reveal refused (" + response.status + ")"); }
        return response.json();
      }).then(function (body) {
        img.src = body.url;
        countExposure(body.exposure);
        img.alt = img.alt.replace(/^Blurred greyscale preview/, "Preview");
        figure.classList.add("revealed");
        button.textContent = "Hide";
        button.setAttribute("data-hide", "");
      }).catch(function (error) {
        button.textContent = "Could not reveal";
        button.title = String(error);
      });
    });
  });
  document.addEventListener("visibilitychange", function () { if (document.hidden) { reblurAll(); } });
  window.addEventListener("blur", reblurAll);
  window.addEventListener("pagehide", reblurAll);
})();

// Review at speed: keyboard shortcuts on the report page (the list is on the page: press ?). They never fire
// while the analyst types in a field, nor with Ctrl, Alt or Meta held. `r` presses the file's own Reveal
// button (the same audited request, one picture at a time); `c` sends the Claim form; nothing else changes.
(function () {
  "use strict";
  var main = document.querySelector("main[data-report]");
  if (!main) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll('#files tr[id^="file-"]'));
  var current = -1;
  var live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  live.id = "shortcut-status";
  main.appendChild(live);
  var say = function (text) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 30); };
  rows.forEach(function (row, index) {
    row.setAttribute("tabindex", "-1");
    row.addEventListener("focusin", function () { choose(index, false); });
  });
  var choose = function (index, focus) {
    if (current >= 0 && rows[current]) { rows[current].classList.remove("current-file"); }
    current = index;
    var row = rows[current];
    row.classList.add("current-file");
    if (focus) {
      row.focus();
      row.scrollIntoView({ block: "center" });
      say("File " + (index + 1) + " of " + rows.length);
    }
  };
  var typing = function (element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  };
  var panel = document.getElementById("shortcuts");
  var toggleList = function (show) {
    if (!panel) { return; }
    panel.hidden = !show;
    if (show) { panel.focus(); }
  };
  if (panel) {
    panel.querySelector("[data-close-shortcuts]").addEventListener("click", function () { toggleList(false); });
  }
  var submit = function (form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (event.key === "Escape") {
      if (panel && !panel.hidden) { toggleList(false); event.preventDefault(); return; }
      if (typing(document.activeElement)) { document.activeElement.blur(); }
      return;
    }
    if (typing(event.target)) { return; }
    switch (event.key) {
      case "j":
      case "k":
        if (!rows.length) { say("This report has no files."); break; }
        choose(event.key === "j" ? Math.min(current + 1, rows.length - 1) : Math.max(current - 1, 0), true);
        break;
      case "r": {
        var row = rows[current];
        if (!row) { say("Choose a file first: press j."); break; }
        var reveal = row.querySelector("form[data-reveal]");
        var button = reveal && reveal.querySelector("button");
        if (!reveal || !button) { say("This file has no picture to reveal."); break; }
        if (button.hasAttribute("data-hide")) { say("Already revealed."); break; }
        submit(reveal);
        break;
      }
      case "v": {
        var chosen = rows[current];
        var large = chosen && chosen.querySelector("a[data-view-large]");
        if (large) { window.location.assign(large.href); } else { say(chosen ? "This file has no picture to view." : "Choose a file first: press j."); }
        break;
      }
      case "c": {
        var claim = document.querySelector('#review form[action$="/claim"]');
        if (claim) { submit(claim); } else { say("This report cannot be claimed now."); }
        break;
      }
      case "d": {
        var first = document.querySelector("#review .decisions select, #review .decisions input:not([type=hidden]), #review .decisions button, #review .actions button, #review .actions select");
        if (first) { first.focus(); first.scrollIntoView({ block: "center" }); } else { say("No decision is open to you on this report."); }
        break;
      }
      case "n": {
        var next = document.querySelector("a[data-next-report]");
        if (next) { window.location.assign(next.href); }
        break;
      }
      case "?":
        toggleList(panel ? panel.hidden : false);
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
