// Wellness on the report page: a picture is revealed only by a deliberate click (the server records
// it), and every revealed picture is blurred again as soon as the analyst leaves the page or window.
(function () {
  "use strict";
  var token = function (form) {
    var field = form.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
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
