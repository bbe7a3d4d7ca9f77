// A refused form's page is the answer to a POST: show the page's own address, so that reloading it
// draws the page afresh instead of sending the refused form again (tipline.web.refusals adds this).
(function () {
  "use strict";
  var page = document.querySelector('meta[name="tipline-page"]');
  if (page && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", page.getAttribute("content"));
  }
})();
