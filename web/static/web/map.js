/* KentCBS map viewer: the small script where folium stops.
 * folium defines the map and one vector-tile layer per readable layer; this file
 * binds the layer toggles, the building panel (click on the map), the search and
 * the cursor position. Every request goes to the app itself. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var t = JSON.parse(document.getElementById("map-strings").textContent);
  var map = window[cfg.map];
  window.kentcbsMap = map;
  var layers = {};
  Object.keys(cfg.layers).forEach(function (code) { layers[code] = window[cfg.layers[code]]; });
  window.kentcbsLayers = layers;
  var highlight = null;

  /* Permalink: #map=<zoom>/<lat>/<lon>&layers=a,b&sel=<layer>:<id> opens that view. */
  var hash = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    var i = part.indexOf("="); if (i > 0) { hash[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
  });
  window.kentcbsHash = hash;
  if (hash.layers !== undefined) {
    var wanted = hash.layers.split(",").filter(function (c) { return layers[c]; });
    Object.keys(layers).forEach(function (code) {
      var box = document.querySelector("#toggles input[data-layer='" + code + "']");
      if (box) { box.checked = wanted.indexOf(code) >= 0; }
    });
    cfg.visible = wanted;
  }
  if (hash.map) {
    var v = hash.map.split("/").map(Number);
    if (v.length === 3 && v.every(isFinite)) { map.setView([v[1], v[2]], v[0], {animate: false}); }
  }
  /* The layers shown at first are added once the first view is set (folium leaves them off). */
  cfg.visible.forEach(function (code) { if (layers[code] && !map.hasLayer(layers[code])) { layers[code].addTo(map); } });

  function esc(s) { var e = document.createElement("span"); e.textContent = s == null ? "" : String(s); return e.innerHTML; }
  function label(pair) { return esc(cfg.lang === "en" ? pair[1] : pair[0]); }

  /* Layer toggles (the list and legend are rendered by Django from the registry). */
  document.querySelectorAll("#toggles input[data-layer]").forEach(function (box) {
    box.addEventListener("change", function () {
      var layer = layers[box.getAttribute("data-layer")];
      if (!layer) { return; }
      if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
    });
  });
  function zoomHints() {
    document.querySelectorAll(".zoomhint").forEach(function (el) {
      el.classList.toggle("inactive", map.getZoom() < Number(el.getAttribute("data-min-zoom")));
    });
  }
  map.on("zoomend", zoomHints); zoomHints();

  /* The building panel. */
  function list(items, render) { return "<ul>" + items.map(function (i) { return "<li>" + render(i) + "</li>"; }).join("") + "</ul>"; }
  function showBuilding(id, fly) {
    return fetch("/map/building/" + id + ".json", {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (d) {
      var h = "<h3 id='bname'>" + esc(d.name) + "</h3><p class='meta'>" + esc(d.code) +
        (d.uavt_code ? " · UAVT " + esc(d.uavt_code) : "") + (d.neighbourhood ? " · " + esc(d.neighbourhood) : "") +
        (d.address ? " · " + esc(d.address) : "") + "</p>";
      if (d.departments.length) { h += "<p>" + esc(d.departments.join(", ")) + "</p>"; }
      h += "<h4>" + esc(t.floors) + ": " + d.floors.length + " · " + esc(t.rooms) + ": " + d.rooms.length + "</h4>";
      h += "<ul id='floors'>" + d.floors.map(function (f) {
        return "<li>" + esc(f.name || (t.floor + " " + f.number)) + ": " +
          f.rooms.map(function (r) { return esc(r.code + (r.name ? " " + r.name : "")); }).join(", ") + "</li>";
      }).join("") + "</ul>";
      if (d.assets_visible) {
        h += "<h4>" + esc(t.assets) + ": " + d.asset_count + "</h4><ul id='assets'>";
        d.assets_by_category_status.forEach(function (a) {
          h += "<li data-category='" + esc(a.category) + "' data-status='" + esc(a.status) + "'>" +
            label(a.category_label) + " / " + label(a.status_label) + ": " + a.n + "</li>";
        });
        h += "</ul><details><summary>" + esc(t.asset_list) + "</summary><ul id='asset-list'>";
        d.assets.forEach(function (a) {
          h += "<li>" + esc(a.inventory_number) + " " + esc(a.category) + (a.hostname ? " " + esc(a.hostname) : "") +
            (a.room ? " (" + esc(a.room) + ")" : "") + "</li>";
        });
        h += "</ul></details>";
      }
      if (d.links_visible) {
        h += "<h4>" + esc(t.links) + ": " + d.links.length + "</h4>" + list(d.links, function (l) {
          return "<span class='link-" + esc(l.status) + "'>" + label(l.medium_label) + ", " + label(l.status_label) +
            (l.capacity_mbps ? ", " + l.capacity_mbps + " Mbps" : "") + "</span> → " + esc(l.other_building);
        }).replace("<ul>", "<ul id='links'>");
      }
      d.panels.forEach(function (p) {
        h += "<div class='panel'><h4>" + esc(cfg.lang === "en" ? p.title_en : p.title_tr) + "</h4>" +
          list(p.lines, function (l) { return esc(l[0]) + ": " + esc(l[1]); }) +
          p.links.map(function (l) { return "<a href='" + esc(l[1]) + "'>" + esc(l[0]) + "</a>"; }).join(" · ") + "</div>";
      });
      document.getElementById("detail").innerHTML = h;
      if (highlight) { map.removeLayer(highlight); }
      highlight = L.geoJSON(d.footprint, {interactive: false,
        style: {color: "#e31a1c", weight: 3, fill: false}}).addTo(map);
      if (fly) { map.fitBounds(highlight.getBounds(), {maxZoom: 19, animate: false}); }
      document.body.setAttribute("data-building", d.id);
      return d;
    }).catch(function () {
      document.getElementById("detail").textContent = t.not_found;
    });
  }
  window.kentcbsShowBuilding = showBuilding;
  if (cfg.buildings) {
    map.on("click", function (ev) {
      var url = "/map/building-at.json?lon=" + ev.latlng.lng.toFixed(7) + "&lat=" + ev.latlng.lat.toFixed(7);
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
        if (d.id) { showBuilding(d.id, false); }
        /* No building here: identify (map_tools.js) already lists what is under the cursor. */
        else { document.getElementById("detail").textContent = ""; }
      });
    });
    if (cfg.building) { showBuilding(cfg.building, true); }
  }

  /* Search: fly to the first result, list the others. */
  document.getElementById("search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = document.getElementById("q").value;
    fetch("/map/search.json?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (d) {
        var box = document.getElementById("results"); box.innerHTML = "";
        if (!d.results.length) { box.textContent = t.no_result; return; }
        d.results.forEach(function (r) {
          var a = document.createElement("a"); a.href = "#"; a.textContent = r.label; a.className = "result";
          a.addEventListener("click", function (e) { e.preventDefault(); map.setView([r.lat, r.lon], 18, {animate: false}); showBuilding(r.id, false); });
          box.appendChild(a); box.appendChild(document.createElement("br"));
        });
        var first = d.results[0];
        map.setView([first.lat, first.lon], 18, {animate: false});
        showBuilding(first.id, false);
      });
  });

  /* "Ready": every layer shown at first has drawn its tiles (a mark for tests and bench/). */
  var pending = cfg.visible.filter(function (code) {
    var layer = layers[code];
    return layer && map.hasLayer(layer) && map.getZoom() >= (layer.options.minZoom || 0);
  });
  function ready() {
    performance.mark("kentcbs-map-ready");
    document.body.setAttribute("data-map-ready", "1");
  }
  if (!pending.length) { ready(); }
  pending.forEach(function (code) {
    layers[code].once("load", function () {
      pending = pending.filter(function (c) { return c !== code; });
      if (!pending.length) { ready(); }
    });
  });

  /* Cursor position in the municipality's TM zone (proj4 with the server's definition) and WGS84. */
  var tm = proj4("EPSG:4326", cfg.proj4);
  map.on("mousemove", function (ev) {
    var p = tm.forward([ev.latlng.lng, ev.latlng.lat]);
    document.getElementById("cursor").textContent = "EPSG:" + cfg.srid + " " + p[0].toFixed(1) + " " +
      p[1].toFixed(1) + " | WGS84 " + ev.latlng.lat.toFixed(6) + " " + ev.latlng.lng.toFixed(6);
  });
})();
