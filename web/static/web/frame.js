/* KentCBS app frame: the collapsing header menu and the module menu groups.
 * Served by the app; no library. Everything works without it except the phone menu. */
(function () {
  "use strict";
  var header = document.getElementById("top");
  var toggle = document.getElementById("nav-toggle");
  if (header && toggle) {
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  /* One module group open at a time; a click elsewhere closes it. */
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.menu-group"));
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      if (!group.open) { return; }
      groups.forEach(function (other) { if (other !== group) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    groups.forEach(function (group) {
      if (group.open && !group.contains(event.target)) { group.open = false; }
    });
  });
  /* Tables whose rows link somewhere: a click on the row follows its first link. */
  document.querySelectorAll("tr[data-href]").forEach(function (row) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, button, input, select, label")) { return; }
      window.location.href = row.getAttribute("data-href");
    });
  });
})();
