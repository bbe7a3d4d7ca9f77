/* The public report form works without this script. With it: the browser's time zone goes with the
   report (so "18:30" means the reporter's 18:30), and files over the limits are pointed out before
   they are sent. Nothing here talks to the network. */
(function () {
  "use strict";
  var zone = document.getElementById("tz");
  if (zone && !zone.value && window.Intl && Intl.DateTimeFormat) {
    try {
      zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (ignored) {
      zone.value = "";
    }
  }

  var input = document.getElementById("attachments");
  var status = document.getElementById("attachments-check");
  if (!input || !status) {
    return;
  }
  input.addEventListener("change", function () {
    var maxFiles = Number(input.dataset.maxFiles);
    var maxEach = Number(input.dataset.maxFileBytes);
    var maxAll = Number(input.dataset.maxTotalBytes);
    var messages = [];
    var total = 0;
    var files = input.files || [];
    if (files.length > maxFiles) {
      messages.push("You chose " + files.length + " files. Please choose at most " + maxFiles + ".");
    }
    for (var i = 0; i < files.length; i += 1) {
      total += files[i].size;
      if (files[i].size > maxEach) {
        messages.push("\u201c" + files[i].name + "\u201d is more than " + input.dataset.maxFileText +
          ". Choose a smaller file or a screenshot, or tell us where the file is.");
      }
    }
    if (total > maxAll) {
      messages.push("Together the files are more than " + input.dataset.maxTotalText + ". Please choose fewer or smaller files.");
    }
    status.textContent = messages.join(" ");
    if (messages.length) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  });
})();
