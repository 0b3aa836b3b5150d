/* KentCBS map tools: identify on every visible layer, attribute tables (OGC API items with
 * CQL2 filters) and their export, labels, measuring in the TM zone, printing, the permalink
 * and the phone drawer. Every URL comes from the page's configuration (map-config). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var t = JSON.parse(document.getElementById("map-strings").textContent);
  var tools = cfg.tools, urls = tools.urls;
  var map = window.kentcbsMap, layers = window.kentcbsLayers;
  var tm = proj4("EPSG:4326", cfg.proj4);
  var selected = null, selection = null, measuring = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function url(template, code, fmt) { return template.replace("CODE", encodeURIComponent(code)).replace("FMT", fmt || ""); }
  function visibleCodes() { return Object.keys(layers).filter(function (c) { return map.hasLayer(layers[c]); }); }
  function shown(value, field) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "boolean") { return value ? t.yes : t.no; }
    return field && field.label ? field.label : String(value);
  }
  var phone = window.matchMedia("(max-width: 760px)");

  /* Selection highlight (identify, table rows) and the permalink. */
  function select(code, id, geometry, fit) {
    if (selection) { map.removeLayer(selection); selection = null; }
    selected = code && id !== undefined ? code + ":" + id : null;
    if (geometry) {
      selection = L.geoJSON(geometry, {interactive: false, style: {color: "#e31a1c", weight: 4, fill: false},
        pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 9, color: "#e31a1c", weight: 3, fill: false}); }
      }).addTo(map);
      if (fit) {
        var panel = document.getElementById("tablepanel");
        var below = panel.hidden ? 0 : panel.getBoundingClientRect().height;
        map.fitBounds(selection.getBounds(), {maxZoom: 18, animate: false, paddingTopLeft: [20, 20],
          paddingBottomRight: [20, 20 + below]});
      }
    }
    writeHash();
  }
  function writeHash() {
    var c = map.getCenter();
    var h = "#map=" + map.getZoom() + "/" + c.lat.toFixed(6) + "/" + c.lng.toFixed(6) +
      "&layers=" + visibleCodes().join(",") + (selected ? "&sel=" + encodeURIComponent(selected) : "");
    history.replaceState(null, "", h);
  }
  map.on("moveend", writeHash);
  document.querySelectorAll("#toggles input[data-layer]").forEach(function (box) {
    box.addEventListener("change", function () { writeHash(); refreshLabels(); });
  });
  document.getElementById("permalink").addEventListener("click", function (ev) {
    ev.preventDefault(); writeHash();
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(location.href); }
    document.getElementById("measure-out").textContent = t.copied;
  });

  /* Identify: every visible layer under the cursor (one request; the server asks PostGIS). */
  function identifyAt(latlng) {
    var box = document.getElementById("identify");
    box.textContent = t.loading;
    var q = urls.identify + "?lon=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7) +
      "&zoom=" + map.getZoom() + "&layers=" + encodeURIComponent(visibleCodes().join(","));
    return fetch(q, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      box.textContent = "";
      box.appendChild(el("h3", {}, t.identify));
      if (!d.layers || !d.layers.length) { box.appendChild(el("p", {"class": "none"}, t.nothing_here)); return d; }
      d.layers.forEach(function (layer) {
        var section = el("div", {"class": "identified", "data-layer": layer.code});
        section.appendChild(el("h4", {}, layer.title + " (" + layer.features.length + ")"));
        layer.features.forEach(function (f, i) {
          var div = el("div", {"class": "feature", "data-id": String(f.id)});
          var table = el("table");
          f.fields.forEach(function (field) {
            if (field.value === null || field.value === "") { return; }
            var tr = el("tr"); tr.appendChild(el("th", {}, field.title)); tr.appendChild(el("td", {}, shown(field.value, field)));
            table.appendChild(tr);
          });
          div.appendChild(table);
          div.addEventListener("click", function () { select(layer.code, f.id, f.geometry, false); });
          section.appendChild(div);
          if (i === 0 && layer === d.layers[0]) { select(layer.code, f.id, f.geometry, false); }
        });
        box.appendChild(section);
      });
      document.body.setAttribute("data-identified", d.layers.map(function (l) { return l.code; }).join(","));
      var side = document.getElementById("side");
      side.scrollTop = box.offsetTop - side.offsetTop - 4;
      if (phone.matches) { drawer(true); }
      return d;
    });
  }
  window.kentcbsIdentify = identifyAt;
  map.on("click", function (ev) { if (!measuring) { identifyAt(ev.latlng); } });

  /* Labels: where the layer's standard names a label field, from its minimum zoom (at least 15). */
  var labelGroups = {};
  function refreshLabels() {
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(6); }).join(",");
    Object.keys(tools.labels).forEach(function (code) {
      var group = labelGroups[code] || (labelGroups[code] = L.layerGroup());
      var on = layers[code] && map.hasLayer(layers[code]) && map.getZoom() >= Math.max(15, tools.min_zoom[code] || 0);
      if (!on) { group.clearLayers(); if (map.hasLayer(group)) { map.removeLayer(group); } return; }
      fetch(url(urls.labels, code) + "?bbox=" + bbox, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (d) {
          group.clearLayers();
          (d.labels || []).forEach(function (l) {
            var span = el("span", {}, l.text);
            group.addLayer(L.marker([l.lat, l.lon], {interactive: false, keyboard: false,
              icon: L.divIcon({className: "maplabel maplabel-" + code, html: span.outerHTML, iconSize: null})}));
          });
          group.addTo(map);
        });
    });
  }
  map.on("moveend", refreshLabels); refreshLabels();

  /* Measuring in the municipality's TM zone (planar metres, proj4 with the server's definition). */
  var measureLayer = L.layerGroup().addTo(map), points = [];
  function projected() { return points.map(function (p) { return tm.forward([p.lng, p.lat]); }); }
  function lengthOf(xy, closed) {
    var s = 0, n = xy.length;
    for (var i = 1; i < n; i++) { s += Math.hypot(xy[i][0] - xy[i - 1][0], xy[i][1] - xy[i - 1][1]); }
    if (closed && n > 2) { s += Math.hypot(xy[0][0] - xy[n - 1][0], xy[0][1] - xy[n - 1][1]); }
    return s;
  }
  function areaOf(xy) {
    var a = 0;
    for (var i = 0, n = xy.length; i < n; i++) { var j = (i + 1) % n; a += xy[i][0] * xy[j][1] - xy[j][0] * xy[i][1]; }
    return Math.abs(a) / 2;
  }
  function fmt(n, unit) { return n.toLocaleString(cfg.lang === "en" ? "en-GB" : "tr-TR", {maximumFractionDigits: 1}) + " " + unit; }
  function drawMeasure() {
    measureLayer.clearLayers();
    if (!points.length) { return; }
    var xy = projected(), out = document.getElementById("measure-out");
    if (measuring === "area" && points.length > 2) {
      L.polygon(points, {color: "#d95f02", weight: 2, interactive: false}).addTo(measureLayer);
      out.textContent = t.area + ": " + fmt(areaOf(xy), "m²") + " · " + fmt(lengthOf(xy, true), "m");
    } else {
      L.polyline(points, {color: "#d95f02", weight: 3, dashArray: "6 4", interactive: false}).addTo(measureLayer);
      out.textContent = t.distance + ": " + fmt(lengthOf(xy, false), "m");
    }
    out.setAttribute("data-metres", String(measuring === "area" ? areaOf(xy) : lengthOf(xy, false)));
  }
  function startMeasure(kind) {
    measuring = kind; points = []; measureLayer.clearLayers();
    document.getElementById("measure-out").textContent = t.measure_hint;
    map.doubleClickZoom.disable();
    map.getContainer().style.cursor = "crosshair";
  }
  map.on("click", function (ev) { if (measuring) { points.push(ev.latlng); drawMeasure(); } });
  map.on("dblclick", function () {
    if (!measuring) { return; }
    measuring = measuring === "area" ? "area-done" : "line-done";
    map.doubleClickZoom.enable(); map.getContainer().style.cursor = "";
    var kind = measuring; measuring = kind.indexOf("area") === 0 ? "area" : "line"; drawMeasure(); measuring = null;
  });
  document.getElementById("measure-line").addEventListener("click", function () { startMeasure("line"); });
  document.getElementById("measure-area").addEventListener("click", function () { startMeasure("area"); });
  window.kentcbsMeasure = {start: startMeasure, add: function (lat, lon) { points.push(L.latLng(lat, lon)); drawMeasure(); }};

  /* Print: the server draws the PDF of the current view and the visible layers. */
  document.getElementById("print").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var b = map.getBounds();
    var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(6); }).join(",") +
      "&layers=" + encodeURIComponent(visibleCodes().join(",")) +
      "&paper=" + document.getElementById("print-paper").value +
      "&orientation=" + document.getElementById("print-orientation").value +
      "&title=" + encodeURIComponent(document.getElementById("print-title").value);
    window.open(urls.print + q, "_blank");
  });

  /* Attribute table: OGC API items, sorted and filtered (CQL2 text) on the server. */
  var PAGE = 50, table = {code: null, offset: 0, sort: null, filters: []};
  var OPS = {string: ["=", "<>", "LIKE"], integer: ["=", "<>", "<", "<=", ">", ">="], boolean: ["="]};
  OPS.decimal = OPS.integer; OPS.date = OPS.integer; OPS.datetime = OPS.integer;
  function cqlValue(value, type) {
    if (type === "integer" || type === "decimal") { return String(Number(value)); }
    if (type === "boolean") { return /^(1|true|yes|evet|e)$/i.test(value) ? "TRUE" : "FALSE"; }
    if (type === "date") { return "DATE('" + value.replace(/'/g, "''") + "')"; }
    if (type === "datetime") { return "TIMESTAMP('" + value.replace(/'/g, "''") + "')"; }
    return "'" + value.replace(/'/g, "''") + "'";
  }
  function cql() {
    return table.filters.map(function (f) {
      var value = f.op === "LIKE" ? "'%" + f.value.replace(/'/g, "''") + "%'" : cqlValue(f.value, f.type);
      return f.field + " " + f.op + " " + value;
    }).join(" AND ");
  }
  function fieldsOf(code) { return tools.fields[code] || []; }
  function openTable(code) {
    table = {code: code, offset: 0, sort: null, filters: []};
    var panel = document.getElementById("tablepanel");
    panel.hidden = false;
    document.body.classList.remove("drawer-open");
    document.getElementById("table-title").textContent = tools.titles[code];
    var select = document.getElementById("filter-field"); select.textContent = "";
    fieldsOf(code).forEach(function (f) { select.appendChild(el("option", {value: f.name}, f.title)); });
    fillOps();
    loadTable();
  }
  function fillOps() {
    var field = fieldsOf(table.code).filter(function (f) { return f.name === document.getElementById("filter-field").value; })[0];
    var ops = document.getElementById("filter-op"); ops.textContent = "";
    (OPS[field ? field.type : "string"] || OPS.string).forEach(function (op) {
      ops.appendChild(el("option", {value: op}, op === "LIKE" ? t.contains : op));
    });
    /* A field with words for its values (code list, enum) offers them; the filter sends the code. */
    var list = document.getElementById("filter-values"); list.textContent = "";
    var words = field && field.labels ? field.labels : {};
    Object.keys(words).forEach(function (code) { list.appendChild(el("option", {value: words[code]})); });
  }
  function codeOf(field, value) {
    var words = field.labels || {}, folded = value.toLocaleLowerCase(cfg.lang === "en" ? "en" : "tr");
    var hit = Object.keys(words).filter(function (code) { return words[code].toLocaleLowerCase(cfg.lang === "en" ? "en" : "tr") === folded; })[0];
    return hit !== undefined ? hit : value;
  }
  document.getElementById("filter-field").addEventListener("change", fillOps);
  function exportQuery() { var f = cql(); return f ? "?filter=" + encodeURIComponent(f) : ""; }
  function loadTable() {
    var code = table.code, fields = fieldsOf(code), f = cql();
    var q = "?f=json&limit=" + PAGE + "&offset=" + table.offset +
      (table.sort ? "&sortby=" + encodeURIComponent(table.sort) : "") + (f ? "&filter=" + encodeURIComponent(f) : "");
    ["csv", "xlsx", "gpkg"].forEach(function (fmt) { document.getElementById("export-" + fmt).href = url(urls["export"], code, fmt) + exportQuery(); });
    var list = document.getElementById("filter-list"); list.textContent = "";
    table.filters.forEach(function (flt) { list.appendChild(el("span", {"class": "chip"}, flt.title + " " + (flt.op === "LIKE" ? t.contains : flt.op) + " " + (flt.shown || flt.value))); });
    document.getElementById("table-count").textContent = t.loading;
    return fetch(url(urls.items, code) + q, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
      .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, d: d}; }); })
      .then(function (res) {
        var head = document.querySelector("#attr-table thead"), body = document.querySelector("#attr-table tbody");
        head.textContent = ""; body.textContent = "";
        if (!res.ok) { document.getElementById("table-count").textContent = t.filter_error; return; }
        var d = res.d, tr = el("tr");
        fields.forEach(function (fld) {
          var mark = table.sort === fld.name ? " ▲" : table.sort === "-" + fld.name ? " ▼" : "";
          var th = el("th", {"data-field": fld.name, scope: "col"}, fld.title + mark);
          th.addEventListener("click", function () {
            table.sort = table.sort === fld.name ? "-" + fld.name : fld.name; table.offset = 0; loadTable();
          });
          tr.appendChild(th);
        });
        head.appendChild(tr);
        d.features.forEach(function (feat) {
          var row = el("tr", {"data-id": String(feat.id)});
          fields.forEach(function (fld) {
            var value = feat.properties[fld.name], word = fld.labels && value !== null && value !== undefined ? fld.labels[String(value)] : null;
            row.appendChild(el("td", {"data-value": value === null || value === undefined ? "" : String(value)}, shown(value, word ? {label: word} : null)));
          });
          row.addEventListener("click", function () { select(code, feat.id, feat.geometry, true); });
          body.appendChild(row);
        });
        var total = d.numberMatched;
        document.getElementById("table-count").textContent = "(" + (total !== undefined ? total : (table.offset + d.numberReturned) + "+") + " " + t.rows + ")";
        document.getElementById("page-info").textContent = d.numberReturned ? (table.offset + 1) + "–" + (table.offset + d.numberReturned) : "0";
        document.getElementById("page-prev").disabled = table.offset === 0;
        document.getElementById("page-next").disabled = !d.links.some(function (l) { return l.rel === "next"; });
        document.body.setAttribute("data-table-loaded", code + ":" + table.offset + ":" + d.numberReturned);
      });
  }
  document.querySelectorAll(".open-table").forEach(function (b) {
    b.addEventListener("click", function () { openTable(b.getAttribute("data-table")); });
  });
  document.getElementById("table-close").addEventListener("click", function () { document.getElementById("tablepanel").hidden = true; });
  document.getElementById("page-prev").addEventListener("click", function () { table.offset = Math.max(0, table.offset - PAGE); loadTable(); });
  document.getElementById("page-next").addEventListener("click", function () { table.offset += PAGE; loadTable(); });
  document.getElementById("filter-clear").addEventListener("click", function () { table.filters = []; table.offset = 0; loadTable(); });
  document.getElementById("table-filter").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = document.getElementById("filter-field").value, value = document.getElementById("filter-value").value;
    var field = fieldsOf(table.code).filter(function (f) { return f.name === name; })[0];
    if (!field || value === "") { return; }
    var op = document.getElementById("filter-op").value, code = op === "LIKE" ? value : codeOf(field, value);
    table.filters.push({field: name, title: field.title, type: field.type, op: op, value: code, shown: value});
    table.offset = 0; loadTable();
  });
  window.kentcbsOpenTable = openTable;

  /* Phone: the side panel is a drawer. */
  var toggle = document.getElementById("drawer-toggle");
  function drawer(open) {
    document.body.classList.toggle("drawer-open", open);
    document.getElementById("drawer-toggle").setAttribute("aria-expanded", String(open));
  }
  toggle.addEventListener("click", function () { drawer(!document.body.classList.contains("drawer-open")); });
  document.getElementById("drawer-close").addEventListener("click", function () { drawer(false); });

  /* A permalink's selected feature: identify it again from the server. */
  var sel = (window.kentcbsHash || {}).sel;
  if (sel && sel.indexOf(":") > 0) {
    var code = sel.split(":")[0], id = sel.split(":").slice(1).join(":");
    if (layers[code]) {
      fetch(url(urls.items, code) + "/" + encodeURIComponent(id) + "?f=json", {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (f) { if (f) { select(code, f.id, f.geometry, false); } });
    }
  }
})();
