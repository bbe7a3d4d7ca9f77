// The evidence viewer: keys and zoom on top of a page that works without script. Each step towards clear
// is its form's audited POST (the server answers with the page at the new look); blurring again, greyscale,
// zoom and moving between files are plain links. Leaving the window blurs the file again at once.
(function () {
  "use strict";
  var viewer = document.getElementById("viewer");
  if (!viewer) { return; }
  var media = viewer.querySelector(".viewer-media");
  var zooms = viewer.getAttribute("data-zooms").split(",").map(Number);
  var zoom = Number(viewer.getAttribute("data-zoom"));
  var zoomWords = viewer.querySelector("[data-zoom-words]");
  var setZoom = function (level) {
    if (zooms.indexOf(level) < 0 || !media) { return; }
    media.classList.remove("zoom-" + zoom);
    zoom = level;
    media.classList.add("zoom-" + zoom);
    viewer.setAttribute("data-zoom", String(zoom));
    if (zoomWords) { zoomWords.textContent = String(zoom); }
    document.querySelectorAll('input[name="zoom"]').forEach(function (input) { input.value = String(zoom); });
  };
  var stepZoom = function (direction) {
    var at = zooms.indexOf(zoom) + direction;
    if (at >= 0 && at < zooms.length) { setZoom(zooms[at]); }
  };
  var hook = function (selector, direction) {
    var link = document.querySelector(selector);
    if (link) { link.addEventListener("click", function (event) { event.preventDefault(); stepZoom(direction); }); }
  };
  hook("[data-zoom-in]", 1);
  hook("[data-zoom-out]", -1);
  // swap the picture at once; after a lost focus (not while leaving the page) also load the page blurred again
  var blurAgain = function (reload) {
    if (!media || viewer.hasAttribute("data-blurred-again")) { return; }
    if (viewer.getAttribute("data-look") === "strong-grey") { return; }
    viewer.setAttribute("data-blurred-again", "");
    if (media.tagName === "VIDEO") { media.pause(); }
    var still = document.createElement("img");
    still.className = media.className.replace(/look-\S+/, "");
    still.src = viewer.getAttribute("data-blurred-src");
    still.alt = "Blurred again: the window lost focus";
    media.replaceWith(still);
    media = still;
    var again = document.querySelector("[data-blur-again]");
    if (again && reload) { window.location.replace(again.href); }
  };
  document.addEventListener("visibilitychange", function () { if (document.hidden) { blurAgain(false); } });
  window.addEventListener("blur", function () { blurAgain(true); });
  window.addEventListener("pagehide", function () { blurAgain(false); });
  var typing = function (element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  };
  var submit = function (form) {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  };
  var follow = function (selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.assign(link.href); }
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || typing(event.target)) { return; }
    switch (event.key) {
      case "j": follow("[data-next-file]"); break;
      case "k": follow("[data-previous-file]"); break;
      case "u": {
        var less = document.querySelector("[data-less-blur]");
        submit(less && less.form);
        break;
      }
      case "b": follow("[data-more-blur]"); break;
      case "g": {
        var colour = document.querySelector("[data-colour]");
        if (colour) { submit(colour.form); } else { follow("[data-grey]"); }
        break;
      }
      case "+": case "=": stepZoom(1); break;
      case "-": stepZoom(-1); break;
      case "0": setZoom(zooms[0]); break;
      case "Escape": window.location.assign(viewer.getAttribute("data-back")); break;
      default: return;
    }
    event.preventDefault();
  });
})();
