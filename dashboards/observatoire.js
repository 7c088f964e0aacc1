/* Observatoire : choix du territoire et de la période, sans serveur.
 *
 * Lit le bloc JSON #donnees-page écrit par dashboards/views.py, remplit la barre de sélection,
 * charge les fichiers de figures et de tableaux (donnees/*.js) dont la sélection a besoin,
 * redessine les figures (Plotly.react), montre les lignes et les blocs du territoire choisi et
 * prépare le CSV de la sélection. Le choix est gardé dans l'adresse (#territoire=…&periode=…)
 * et suit l'analyste d'une page à l'autre par les liens de navigation.
 */
(function () {
  "use strict";

  var ALL = "*";
  var page = JSON.parse(document.getElementById("donnees-page").textContent);
  var byKey = {};
  page.territoires.forEach(function (t) { byKey[t.k] = t; });
  var periods = page.periodes.map(function (p) { return p[0]; });
  var state = { territoire: ALL, periode: page.periode };
  var selects = {
    region: document.getElementById("choix-region"),
    departement: document.getElementById("choix-departement"),
    epci: document.getElementById("choix-epci"),
    programme: document.getElementById("choix-programme"),
    periode: document.getElementById("choix-periode")
  };
  var figures = {};  // figure number -> figure, filled by the files of donnees/
  var fileOf = [];  // figure number -> its file under donnees/
  var firstOf = {};  // fragment -> the number of its first figure
  page.fragments.forEach(function (fragment) {
    firstOf[fragment[0]] = fragment[1];
    fragment[2].forEach(function (chunk, index) {
      fileOf[fragment[1] + index] = page.fichiers + fragment[0] + "-" + chunk + ".js";
    });
  });
  var tableRows = {};  // lazy table -> its rows [territory keys, period, cells…]
  var scripts = {};
  var generation = 0;
  var FIRST_ROWS = 100;

  /* A figure file holds figures of one fragment, numbered within it. */
  window.observatoireFigures = function (fragment, part) {
    Object.keys(part).forEach(function (index) {
      figures[firstOf[fragment] + Number(index)] = part[index];
    });
  };
  window.observatoireTableau = function (slug, rows) { tableRows[slug] = rows; };

  /* A script file next to the page: <script> works from file://, where fetch does not. */
  function loadScript(src) {
    if (!scripts[src]) {
      scripts[src] = new Promise(function (resolve, reject) {
        var element = document.createElement("script");
        element.src = src;
        element.charset = "utf-8";
        element.onload = resolve;
        element.onerror = function () { reject(new Error("Fichier de données absent : " + src)); };
        document.head.appendChild(element);
      });
    }
    return scripts[src];
  }

  function loadFigures(indices) {
    var files = [];
    indices.forEach(function (index) {
      var file = fileOf[index];
      if (!(index in figures) && files.indexOf(file) < 0) { files.push(file); }
    });
    return Promise.all(files.map(loadScript));
  }

  function ancestors(key) {
    var found = [];
    var frontier = byKey[key] ? byKey[key].p.slice() : [];
    while (frontier.length) {
      var parent = frontier.shift();
      if (found.indexOf(parent) < 0 && byKey[parent]) {
        found.push(parent);
        frontier = frontier.concat(byKey[parent].p);
      }
    }
    return found;
  }

  function chain(key) {
    return key === ALL ? [ALL] : [key].concat(ancestors(key), [ALL]);
  }

  function nameOf(key) {
    return key === ALL ? "Tous les territoires" : (byKey[key] ? byKey[key].n : key);
  }

  function within(key, parentKey) {
    return !parentKey || ancestors(key).indexOf(parentKey) >= 0;
  }

  /* The first view of a slot for the territory, then its ancestors, then "*" (unless the
   * slot only speaks of the chosen territory and its ancestors). */
  function resolve(views, key, period, container) {
    var keys = chain(key);
    if (container.getAttribute("data-repli-global") === "non" && key !== ALL) {
      keys = keys.slice(0, -1);
    }
    for (var i = 0; i < keys.length; i++) {
      var candidates = [keys[i] + "|" + period, keys[i] + "|" + ALL];
      for (var j = 0; j < candidates.length; j++) {
        if (Object.prototype.hasOwnProperty.call(views, candidates[j])) {
          return { territoire: keys[i], vue: candidates[j], valeur: views[candidates[j]] };
        }
      }
    }
    return null;
  }

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  }

  /* ---- the selection bar ---- */

  function fill(select, first, territories, chosen) {
    select.innerHTML = "";
    select.add(new Option(first, ""));
    territories.forEach(function (t) { select.add(new Option(t.n, t.k)); });
    select.value = territories.some(function (t) { return t.k === chosen; }) ? chosen : "";
    select.disabled = territories.length === 0;
  }

  function ofLevels(levels, parentKey) {
    return page.territoires.filter(function (t) {
      return levels.indexOf(t.l) >= 0 && within(t.k, parentKey);
    });
  }

  function fillTerritories(chosen) {
    fill(selects.region, "Toutes", ofLevels(["region"], ""), chosen.region);
    var region = selects.region.value;
    fill(selects.departement, "Tous", ofLevels(["departement"], region), chosen.departement);
    var departement = selects.departement.value;
    fill(selects.epci, "Tous", ofLevels(["epci"], departement || region), chosen.epci);
    var upper = selects.epci.value || departement || region;
    fill(selects.programme, "Aucun", ofLevels(["territoire_sante", "programme"], upper),
      chosen.programme);
  }

  function chosenFromKey(key) {
    var chosen = { region: "", departement: "", epci: "", programme: "" };
    if (!byKey[key]) { return chosen; }
    var level = byKey[key].l;
    if (level === "territoire_sante" || level === "programme") {
      chosen.programme = key;
      return chosen;
    }
    chosen[level] = key;
    ancestors(key).forEach(function (a) {
      if (byKey[a].l in chosen && !chosen[byKey[a].l]) { chosen[byKey[a].l] = a; }
    });
    return chosen;
  }

  function selectedKey() {
    return selects.programme.value || selects.epci.value || selects.departement.value ||
      selects.region.value || ALL;
  }

  function fillPeriods() {
    var select = selects.periode;
    select.innerHTML = "";
    document.getElementById("libelle-periode").textContent = page.libelle_periode;
    if (!page.periodes.length) {
      select.add(new Option("—", ""));
      select.disabled = true;
      return;
    }
    page.periodes.forEach(function (p) { select.add(new Option(p[1], p[0])); });
    select.value = state.periode;
  }

  /* ---- the address: #territoire=…&periode=… ---- */

  function readHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var key = params.get("territoire");
    var period = params.get("periode");
    state.territoire = key && byKey[key] ? key : ALL;
    state.periode = period && periods.indexOf(period) >= 0 ? period : page.periode;
    state.periodeDemandee = period;
  }

  function hashText() {
    var params = new URLSearchParams();
    if (state.territoire !== ALL) { params.set("territoire", state.territoire); }
    var period = page.periodes.length ? state.periode : state.periodeDemandee;
    if (period) { params.set("periode", period); }
    return params.toString();
  }

  function writeHash() {
    var text = hashText();
    try {
      window.history.replaceState(null, "", text ? "#" + text : window.location.pathname);
    } catch (error) {
      window.location.hash = text;
    }
    linkPages(text);
  }

  function linkPages(text) {
    document.querySelectorAll("nav a[href], .cards a[href], ul.pages a[href]").forEach(
      function (a) {
        var target = a.getAttribute("href").split("#")[0];
        if (/\.html$/.test(target)) { a.setAttribute("href", text ? target + "#" + text : target); }
      });
  }

  /* ---- drawing ---- */

  function note(container, resolved) {
    var element = container.querySelector(".note-vue");
    var fallback = resolved && resolved.territoire !== state.territoire &&
      container.getAttribute("data-note") !== "non";
    element.hidden = !fallback;
    if (fallback) {
      element.textContent = (resolved.territoire === ALL ? "Vue de l'ensemble des territoires"
        : "Vue de « " + nameOf(resolved.territoire) + " »") + " : pas de vue propre à « " +
        nameOf(state.territoire) + " » pour ce graphique.";
    }
  }

  function empty(container, resolved) {
    var element = container.querySelector(".vide");
    var message = container.getAttribute("data-vide");
    element.hidden = !!resolved || !message;
    element.textContent = message || "";
    container.hidden = !resolved && !message;
  }

  function selected(keys, period) {
    var territoryOk = state.territoire === ALL || !keys ||
      keys.split(" ").indexOf(state.territoire) >= 0;
    var periodOk = state.periode === ALL || !period || period === state.periode ||
      !page.periodes.length;
    return territoryOk && periodOk;
  }

  function filterElements() {
    document.querySelectorAll("[data-t], [data-p]").forEach(function (element) {
      element.hidden = !selected(element.getAttribute("data-t"), element.getAttribute("data-p"));
    });
    var sections = document.querySelectorAll("section.programme");
    var none = document.querySelector(".vide-section");
    if (none) {
      none.hidden = Array.prototype.some.call(sections, function (s) { return !s.hidden; });
    }
  }

  function drawBlocks() {
    document.querySelectorAll(".emplacement.blocs").forEach(function (container) {
      var blocks = {};
      container.querySelectorAll(".vue").forEach(function (block) {
        blocks[block.getAttribute("data-vue")] = block;
      });
      var resolved = resolve(blocks, state.territoire, state.periode, container);
      Object.keys(blocks).forEach(function (key) {
        blocks[key].hidden = !resolved || key !== resolved.vue;
      });
      note(container, resolved);
      empty(container, resolved);
    });
  }

  /* Figures far below the screen are drawn when the analyst scrolls near them (or prints):
   * a page opens as fast as its first figures draw. */
  var pending = new Map();
  var observer = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting && pending.has(entry.target)) { drawPending(entry.target); }
    });
  }, { rootMargin: "400px 0px" }) : null;

  /* Only the figures on the screen are drawn before the page says it is ready; the observer
   * draws the others 400 pixels before they scroll into view. */
  function nearScreen(div) {
    var box = div.getBoundingClientRect();
    return box.top < window.innerHeight && box.bottom > 0;
  }

  function draw(div, index) {
    var figure = JSON.parse(JSON.stringify(figures[index]));
    figure.layout.template = page.modele;
    div.setAttribute("data-figure", String(index));
    div.style.minHeight = "";
    return window.Plotly.react(div, figure.data, figure.layout);
  }

  function drawPending(div) {
    var index = pending.get(div);
    pending.delete(div);
    if (observer) { observer.unobserve(div); }
    var vue = div.getAttribute("data-vue");
    return loadFigures([index]).then(function () {
      var unchanged = div.getAttribute("data-vue") === vue && !div.hidden && !pending.has(div);
      if (unchanged && div.getAttribute("data-figure") === null) { return draw(div, index); }
    });
  }

  /* Resolves every slot at once, loads the figure files the views need, then draws. A newer
   * selection made while files load wins: the older drawing stops. */
  function drawFigures(mine) {
    var plan = [];
    document.querySelectorAll(".emplacement.figure").forEach(function (container) {
      var slot = container.getAttribute("data-emplacement");
      var div = document.getElementById(slot);
      if (container.parentElement.closest("[hidden]")) { return; }
      var resolved = resolve(page.vues[slot] || {}, state.territoire, state.periode, container);
      note(container, resolved);
      empty(container, resolved);
      div.hidden = !resolved;
      pending.delete(div);
      if (!resolved) {
        if (window.Plotly) { window.Plotly.purge(div); }
        div.removeAttribute("data-figure");
        return;
      }
      div.setAttribute("data-vue", resolved.vue);
      if (div.getAttribute("data-figure") === String(resolved.valeur)) { return; }
      if (observer && !nearScreen(div)) {
        if (div.hasAttribute("data-figure")) { window.Plotly.purge(div); }
        div.removeAttribute("data-figure");
        div.style.minHeight = page.hauteurs[resolved.valeur] + "px";
        pending.set(div, resolved.valeur);
        observer.observe(div);
        return;
      }
      plan.push({ div: div, index: resolved.valeur });
    });
    return loadFigures(plan.map(function (p) { return p.index; })).then(function () {
      if (mine !== generation) { return []; }
      return Promise.all(plan.map(function (p) { return draw(p.div, p.index); }));
    });
  }

  function drawAll() {
    return Promise.all(Array.from(pending.keys()).map(drawPending));
  }

  /* ---- the CSV of the selection, built in the browser ---- */

  function csvCell(text) {
    return /[;"\r\n]/.test(text) ? "\"" + text.replace(/"/g, "\"\"") + "\"" : text;
  }

  function tableCsv(table) {
    var lines = [Array.prototype.map.call(table.tHead.rows[0].cells, function (cell) {
      return csvCell(cell.textContent);
    }).join(";")];
    if (table.hasAttribute("data-source")) {
      lazyRows(table).forEach(function (row) {
        lines.push(row.slice(2).map(function (cell) {
          return csvCell(cell === null ? "" : typeof cell === "string" ? cell
            : Array.isArray(cell) ? cell[1] : "< seuil");
        }).join(";"));
      });
    } else {
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        if (row.hidden) { return; }
        lines.push(Array.prototype.map.call(row.cells, function (cell) {
          var text = cell.getAttribute("data-csv");
          return csvCell(text === null ? cell.textContent : text);
        }).join(";"));
      });
    }
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  /* ---- long tables: rows loaded from their file, the first ones of the selection shown ---- */

  function lazyRows(table) {
    return (tableRows[table.getAttribute("data-tableau")] || []).filter(function (row) {
      return selected(row[0], row[1]);
    });
  }

  function cellElement(cell, tag) {
    var element = document.createElement(tag);
    if (cell !== null && typeof cell === "object" && !Array.isArray(cell)) {
      var abbr = document.createElement("abbr");
      abbr.title = cell.m;
      abbr.textContent = "< seuil";
      element.className = "num masque";
      element.appendChild(abbr);
    } else if (Array.isArray(cell)) {
      element.className = "num";
      element.setAttribute("data-csv", cell[1]);
      element.textContent = cell[0];
    } else {
      element.textContent = cell || "";
    }
    return element;
  }

  function showRows(table, count) {
    var rows = lazyRows(table);
    var body = table.tBodies[0];
    var shown = Math.min(count, rows.length);
    var fragment = document.createDocumentFragment();
    rows.slice(body.rows.length, shown).forEach(function (row) {
      var line = document.createElement("tr");
      row.slice(2).forEach(function (cell, i) { line.appendChild(cellElement(cell, i ? "td" : "th")); });
      fragment.appendChild(line);
    });
    body.appendChild(fragment);
    var more = table.closest("figure").querySelector(".plus");
    more.hidden = shown >= rows.length;
    more.querySelector("button").textContent = "Afficher les " +
      Math.min(FIRST_ROWS, rows.length - shown) + " lignes suivantes (" + shown + " sur " +
      rows.length + " affichées)";
  }

  function fillTable(table) {
    table.setAttribute("data-charge", "oui");
    table.tBodies[0].innerHTML = "";
    showRows(table, FIRST_ROWS);
    prepareDownload(table);
  }

  function loadTable(table) {
    return loadScript(table.getAttribute("data-source")).then(function () {
      if (table.getAttribute("data-charge") !== "oui") { fillTable(table); }
    });
  }

  var tableObserver = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        tableObserver.unobserve(entry.target);
        loadTable(entry.target);
      }
    });
  }, { rootMargin: "600px 0px" }) : null;

  function setUpLazyTables() {
    document.querySelectorAll("table[data-source]").forEach(function (table) {
      var figure = table.closest("figure");
      figure.querySelector(".plus button").addEventListener("click", function () {
        showRows(table, table.tBodies[0].rows.length + FIRST_ROWS);
      });
      var link = figure.querySelector("a.csv-selection");
      if (link) {
        link.addEventListener("click", function (event) {
          if (table.getAttribute("data-charge") === "oui") { return; }
          event.preventDefault();
          loadTable(table).then(function () { link.click(); });
        });
      }
      if (tableObserver) { tableObserver.observe(table); } else { loadTable(table); }
    });
  }

  function csvName(table) {
    var name = table.getAttribute("data-tableau") + "_" +
      (state.territoire === ALL ? "tous-territoires" : slugify(nameOf(state.territoire)));
    var byPeriod = table.hasAttribute("data-source")
      ? (tableRows[table.getAttribute("data-tableau")] || []).some(function (row) { return row[1]; })
      : !!table.querySelector("tr[data-p]");
    if (byPeriod && page.periodes.length) {
      name += "_" + (state.periode === ALL ? "toutes-periodes" : slugify(state.periode));
    }
    return name + ".csv";
  }

  function prepareDownload(table) {
    var lazy = table.hasAttribute("data-source");
    if (lazy && table.getAttribute("data-charge") !== "oui") { return; }
    var rows = lazy ? tableRows[table.getAttribute("data-tableau")] : table.tBodies[0].rows;
    var shown = lazy ? lazyRows(table).length
      : Array.prototype.filter.call(rows, function (row) { return !row.hidden; }).length;
    var figure = table.closest("figure");
    var message = figure.querySelector(".vide");
    message.hidden = shown > 0 || rows.length === 0;
    message.textContent = "Aucune ligne pour « " + nameOf(state.territoire) + " »" +
      (page.periodes.length && state.periode !== ALL ? " en " +
        selects.periode.options[selects.periode.selectedIndex].text : "") + ".";
    var link = figure.querySelector("a.csv-selection");
    if (!link) { return; }
    var old = link.getAttribute("data-url");
    if (old) { URL.revokeObjectURL(old); }
    var url = URL.createObjectURL(new Blob([tableCsv(table)], { type: "text/csv" }));
    link.setAttribute("data-url", url);
    link.href = url;
    link.download = csvName(table);
  }

  function prepareDownloads() {
    document.querySelectorAll("table[data-tableau]").forEach(function (table) {
      if (table.getAttribute("data-charge") === "oui") {
        fillTable(table);
      } else {
        prepareDownload(table);
      }
    });
  }

  function render() {
    var mine = ++generation;
    var scope = document.querySelector(".note-portee");
    scope.hidden = !page.note_portee;
    scope.textContent = page.note_portee || "";
    document.documentElement.setAttribute("data-etat", "dessin");
    filterElements();
    drawBlocks();
    prepareDownloads();
    return drawFigures(mine).then(function () {
      if (mine !== generation) { return; }
      document.documentElement.setAttribute("data-etat", "pret");
      if (!performance.getEntriesByName("observatoire-pret").length) {
        performance.mark("observatoire-pret");
      }
    });
  }

  function choose() {
    fillTerritories({
      region: selects.region.value, departement: selects.departement.value,
      epci: selects.epci.value, programme: selects.programme.value
    });
    state.territoire = selectedKey();
    if (page.periodes.length) { state.periode = selects.periode.value; }
    writeHash();
    render();
  }

  function start() {
    readHash();
    fillTerritories(chosenFromKey(state.territoire));
    fillPeriods();
    linkPages(hashText());
    ["region", "departement", "epci", "programme"].forEach(function (level, index, levels) {
      selects[level].addEventListener("change", function () {
        levels.slice(index + 1).forEach(function (lower) { selects[lower].value = ""; });
        choose();
      });
    });
    selects.periode.addEventListener("change", function () {
      state.periodeDemandee = selects.periode.value;
      choose();
    });
    window.addEventListener("beforeprint", drawAll);
    setUpLazyTables();
    window.addEventListener("hashchange", function () {
      readHash();
      fillTerritories(chosenFromKey(state.territoire));
      fillPeriods();
      render();
    });
    render();
  }

  start();
}());
