/* The asset picker of the ticket form: type a few letters of an inventory number, a room or a
 * building; choose with the mouse or the arrow keys and Enter. Asks only the app itself
 * (helpdesk:asset_search) and fills the form's inventory number, building and room. */
(function () {
  "use strict";
  var input = document.getElementById("picker-q");
  var list = document.getElementById("picker-results");
  var chosen = document.getElementById("picker-chosen");
  var form = document.getElementById("ticket-form");
  if (!input || !list || !form) { return; }
  var inventory = form.querySelector("[name=inventory_number]");
  var building = form.querySelector("[name=building]");
  var room = form.querySelector("[name=room]");
  var results = [], active = -1, timer = null, asked = "";

  function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
  function mark() {
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === active ? "true" : "false");
    });
  }
  function choose(item) {
    inventory.value = item.inventory_number || "";
    building.value = item.building || "";
    room.value = item.room || "";
    chosen.textContent = item.label + (item.detail ? " · " + item.detail : "");
    input.value = "";
    close();
  }
  function show(items) {
    results = items;
    list.innerHTML = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.kind = item.kind;
      li.textContent = item.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = (input.dataset["kind" + item.kind] || item.kind) + (item.detail ? " · " + item.detail : "");
      li.appendChild(kind);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(results[i]); });
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
    active = -1;
  }
  function search() {
    var q = input.value.trim();
    if (q.length < 2) { show([]); return; }
    asked = q;
    fetch(input.dataset.url + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {results: []}; })
      .then(function (data) { if (asked === q) { show(data.results); } })
      .catch(function () { show([]); });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 150); });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) { return; }
    if (event.key === "ArrowDown") { active = Math.min(results.length - 1, active + 1); mark(); event.preventDefault(); }
    else if (event.key === "ArrowUp") { active = Math.max(0, active - 1); mark(); event.preventDefault(); }
    else if (event.key === "Enter" && active >= 0) { choose(results[active]); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", close);
})();
