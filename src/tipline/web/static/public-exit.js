/* Quick exit: the button, or Esc pressed twice within a second, replaces this page with a neutral
   one and takes its place in the history, so "Back" does not return here. Without JavaScript the
   button is an ordinary link to the same neutral page. */
(function () {
  "use strict";
  var button = document.getElementById("quick-exit");
  if (!button) {
    return;
  }
  var target = button.getAttribute("data-exit");
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    document.title = "";
    document.body.innerHTML = "";
    window.location.replace(target);
  }
  button.addEventListener("click", leave);
  var last = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var now = Date.now();
    if (now - last < 1000) {
      leave(event);
    }
    last = now;
  });
}());
