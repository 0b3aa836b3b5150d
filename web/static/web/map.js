/* KentCBS map viewer: layers by bbox from the OGC API; no external host. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map("map", {attributionControl: false}).setView([cfg.centre[1], cfg.centre[0]], 15);
  window.kentcbsMap = map;
  if (cfg.tile_url) { L.tileLayer(cfg.tile_url, {maxZoom: 20}).addTo(map); }
  var layers = {};
  function styleOf(s) {
    return {color: s.color, fillColor: s.fill_color, weight: s.weight, opacity: s.opacity,
            fillOpacity: s.fill_opacity, radius: s.radius};
  }
  function showBuilding(id) {
    fetch("/map/building/" + id + ".json").then(function (r) { return r.json(); }).then(function (d) {
      var h = "<h3 id='bname'>" + esc(d.name) + "</h3><p>UAVT: " + esc(d.uavt_code || "") + "</p><h4>Kat / Floors: " +
        d.floors.length + ", Oda / Rooms: " + d.rooms.length + "</h4><ul id='assets'>";
      d.assets_by_category_status.forEach(function (a) { h += "<li>" + esc(a.category) + " / " + esc(a.status) + ": " + a.n + "</li>"; });
      h += "</ul><ul id='asset-list'>";
      d.assets.forEach(function (a) { h += "<li>" + esc(a.inventory_number) + " " + esc(a.category) + "</li>"; });
      h += "</ul><h4>Bağlantılar / Links: " + d.links.length + "</h4>";
      document.getElementById("detail").innerHTML = h;
    });
  }
  function esc(s) { var e = document.createElement("span"); e.textContent = String(s); return e.innerHTML; }
  function load(code) {
    var e = layers[code]; if (!map.hasLayer(e.group)) return;
    if (map.getZoom() < (e.def.style.min_zoom || 0) - 3) { e.group.clearLayers(); return; }
    var b = map.getBounds();
    var url = "/ogc/collections/" + code + "/items?f=json&limit=5000&bbox=" +
      [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(",");
    fetch(url).then(function (r) { return r.ok ? r.json() : {features: []}; }).then(function (fc) {
      e.group.clearLayers(); e.group.addData(fc);
    });
  }
  var toggles = document.getElementById("toggles");
  cfg.layers.forEach(function (def) {
    var st = styleOf(def.style || {});
    var group = L.geoJSON(null, {style: function () { return st; },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, st); },
      onEachFeature: function (f, lyr) {
        if (def.code === "bina_hizmet") { lyr.on("click", function () {
          var bid = (f.properties && (f.properties.building_id || f.properties.id)) || f.id; showBuilding(bid); }); }
      }});
    layers[def.code] = {def: def, group: group};
    var label = document.createElement("label");
    label.innerHTML = "<input type='checkbox' data-layer='" + def.code + "'> <span class='sw' style='background:" +
      esc(st.fillColor || st.color || "#888") + "'></span>" + esc(cfg.lang === "en" ? def.title_en : def.title_tr) + "<br>";
    var box = label.querySelector("input");
    box.checked = ["bina_hizmet", "mahalle"].indexOf(def.code) >= 0;
    if (box.checked) group.addTo(map);
    box.addEventListener("change", function () {
      if (box.checked) { group.addTo(map); load(def.code); } else { map.removeLayer(group); }
    });
    toggles.appendChild(label);
  });
  function reload() { Object.keys(layers).forEach(load); }
  map.on("moveend", reload); reload();
  /* Transverse Mercator (GRS80, k0=1, FE 500000) for the TM zone of cfg.srid. */
  var cm = {5253: 27, 5254: 30, 5255: 33}[cfg.srid] || 30;
  function tm(lat, lon) {
    var a = 6378137, f = 1 / 298.257222101, e2 = f * (2 - f), ep2 = e2 / (1 - e2), d = Math.PI / 180;
    var p = lat * d, N = a / Math.sqrt(1 - e2 * Math.sin(p) * Math.sin(p)), T = Math.tan(p) * Math.tan(p);
    var C = ep2 * Math.cos(p) * Math.cos(p), A = (lon - cm) * d * Math.cos(p);
    var M = a * ((1 - e2 / 4 - 3 * e2 * e2 / 64 - 5 * e2 * e2 * e2 / 256) * p - (3 * e2 / 8 + 3 * e2 * e2 / 32 + 45 * e2 * e2 * e2 / 1024) * Math.sin(2 * p)
      + (15 * e2 * e2 / 256 + 45 * e2 * e2 * e2 / 1024) * Math.sin(4 * p) - (35 * e2 * e2 * e2 / 3072) * Math.sin(6 * p));
    var x = 500000 + N * (A + (1 - T + C) * Math.pow(A, 3) / 6 + (5 - 18 * T + T * T + 72 * C - 58 * ep2) * Math.pow(A, 5) / 120);
    var y = M + N * Math.tan(p) * (A * A / 2 + (5 - T + 9 * C + 4 * C * C) * Math.pow(A, 4) / 24 + (61 - 58 * T + T * T + 600 * C - 330 * ep2) * Math.pow(A, 6) / 720);
    return [x, y];
  }
  map.on("mousemove", function (ev) {
    var t = tm(ev.latlng.lat, ev.latlng.lng);
    document.getElementById("cursor").textContent = "EPSG:" + cfg.srid + " " + t[0].toFixed(1) + " " + t[1].toFixed(1) +
      " | WGS84 " + ev.latlng.lat.toFixed(6) + " " + ev.latlng.lng.toFixed(6);
  });
  document.getElementById("search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    fetch("/map/search.json?q=" + encodeURIComponent(document.getElementById("q").value))
      .then(function (r) { return r.json(); }).then(function (d) {
        var box = document.getElementById("results"); box.innerHTML = "";
        d.results.forEach(function (r) {
          var a = document.createElement("a"); a.href = "#"; a.textContent = r.label; a.className = "result";
          a.addEventListener("click", function (e) { e.preventDefault(); map.flyTo([r.lat, r.lon], 18); showBuilding(r.id); });
          box.appendChild(a); box.appendChild(document.createElement("br"));
        });
        if (d.results.length) { map.flyTo([d.results[0].lat, d.results[0].lon], 18); showBuilding(d.results[0].id); }
      });
  });
})();
