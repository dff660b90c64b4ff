// Linkwatch Cypher console: highlighting, parameter inputs, results as table / graph, export, history.
(function () {
  "use strict";
  const csrf = document.getElementById("console-script").dataset.csrf;
  const query = document.getElementById("query");
  const highlight = document.getElementById("highlight");
  const paramsBox = document.getElementById("params");
  const statusLine = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const table = document.getElementById("results");
  let last = null;

  const KEYWORDS = /\b(MATCH|OPTIONAL|WHERE|RETURN|WITH|UNWIND|ORDER|BY|LIMIT|SKIP|DISTINCT|AS|AND|OR|NOT|IN|IS|NULL|CALL|YIELD|CASE|WHEN|THEN|ELSE|END|UNION|ALL|EXISTS|COUNT|DESC|ASC|CONTAINS|STARTS|ENDS|SHOW)\b/gi;

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // Tokens in one pass so that keywords inside strings or comments stay plain.
  function paint(text) {
    const token = /(\/\/[^\n]*)|('(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?)|(\$[A-Za-z_]\w*)|([A-Za-z_]\w*)|([\s\S])/g;
    let out = "", m;
    while ((m = token.exec(text)) !== null) {
      if (m[1]) out += '<span class="tok-comment">' + escapeHtml(m[1]) + "</span>";
      else if (m[2]) out += '<span class="tok-string">' + escapeHtml(m[2]) + "</span>";
      else if (m[3]) out += '<span class="tok-param">' + escapeHtml(m[3]) + "</span>";
      else if (m[4]) out += KEYWORDS.test(m[4]) ? '<span class="tok-keyword">' + m[4] + "</span>" : escapeHtml(m[4]);
      else out += escapeHtml(m[5]);
      KEYWORDS.lastIndex = 0;
    }
    highlight.innerHTML = out + "\n";
  }

  function setQuery(text, params) {
    query.value = text;
    paint(query.value);
    syncParams();
    paramsBox.querySelectorAll("input").forEach((input) => {
      if (params && input.name in params) {
        const value = params[input.name];
        input.value = typeof value === "string" ? value : JSON.stringify(value);
      }
    });
  }

  async function loadLibrary() {
    const search = new URLSearchParams({ q: document.getElementById("library-search").value,
                                         tag: document.getElementById("library-tag").value });
    const response = await fetch("/api/queries?" + search);
    if (!response.ok) return;
    const list = document.getElementById("library-list");
    list.innerHTML = "";
    (await response.json()).queries.forEach((item) => {
      const li = document.createElement("li");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "link";
      open.textContent = item.title;
      open.title = item.description;
      open.addEventListener("click", () => {
        setQuery(item.query, item.params);
        document.getElementById("query-description").textContent = item.description;
      });
      const meta = document.createElement("div");
      meta.className = "muted small";
      meta.textContent = (item.owner ? "mine · " : "") + item.tags.join(", ") + " · ";
      const exportLink = document.createElement("a");
      exportLink.href = "/api/queries/" + encodeURIComponent(item.id) + ".cypher";
      exportLink.textContent = "export";
      meta.appendChild(exportLink);
      li.append(open, meta);
      list.appendChild(li);
    });
  }

  async function saveQuery() {
    const title = window.prompt("Title for this query");
    if (!title) return;
    const tags = (window.prompt("Tags, comma-separated (optional)") || "").split(",");
    const response = await fetch("/api/queries", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ title: title, query: query.value, params: paramValues(), tags: tags }),
    });
    const body = await response.json();
    errorBox.textContent = response.ok ? "" : body.error;
    if (response.ok) { statusLine.textContent = "saved as " + body.id; loadLibrary(); }
  }

  async function importQuery(file) {
    const form = new FormData();
    form.append("file", file);
    const response = await fetch("/api/queries/import", { method: "POST", headers: { "X-CSRFToken": csrf }, body: form });
    const body = await response.json();
    errorBox.textContent = response.ok ? "" : body.error;
    if (response.ok) { statusLine.textContent = "imported " + body.title; loadLibrary(); }
  }

  function paramNames(text) {
    const stripped = text.replace(/\/\/[^\n]*/g, "").replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, "");
    return [...new Set([...stripped.matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]))];
  }

  function syncParams() {
    const names = paramNames(query.value);
    const old = {};
    paramsBox.querySelectorAll("input").forEach((input) => { old[input.name] = input.value; });
    paramsBox.innerHTML = "";
    names.forEach((name) => {
      const label = document.createElement("label");
      label.textContent = "$" + name + " ";
      const input = document.createElement("input");
      input.name = name;
      input.value = old[name] || "";
      input.placeholder = "value (JSON for numbers, lists, true/false)";
      label.appendChild(input);
      paramsBox.appendChild(label);
    });
  }

  function paramValues() {
    const params = {};
    paramsBox.querySelectorAll("input").forEach((input) => {
      const raw = input.value;
      try { params[input.name] = /^\s*[\[{\d\-tfn]/.test(raw) ? JSON.parse(raw) : raw; }
      catch (e) { params[input.name] = raw; }
    });
    return params;
  }

  function nodeText(node) {
    return "(" + node._labels.join(":") + " " + (node.account_id || node.value || node.name || node.template_id || node._id) + ")";
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") {
      if (value._labels) return nodeText(value);
      if (value._type) return "[:" + value._type + "]";
      if (value._nodes) {
        let text = nodeText(value._nodes[0]);
        value._relationships.forEach((rel, i) => { text += "-[:" + rel._type + "]-" + nodeText(value._nodes[i + 1]); });
        return text;
      }
      return JSON.stringify(value);
    }
    return String(value);
  }

  function renderTable(result) {
    table.innerHTML = "";
    const head = table.createTHead().insertRow();
    result.columns.forEach((c) => { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); });
    const body = table.createTBody();
    result.rows.forEach((row) => {
      const tr = body.insertRow();
      row.forEach((value) => { tr.insertCell().textContent = cellText(value); });
    });
  }

  // Drawn when the Graph tab is visible: vis-network lays out into the container's real size.
  function renderGraph(result) {
    const note = document.getElementById("graph-note");
    const container = document.getElementById("network");
    container.innerHTML = "";
    if (!result || document.getElementById("tab-graph").hidden) return;
    if (!result.graph) { note.textContent = "No nodes in this result."; return; }
    note.textContent = result.graph.shown < result.graph.total
      ? "Showing " + result.graph.shown + " of " + result.graph.total + " nodes." : result.graph.total + " nodes.";
    new vis.Network(container, { nodes: new vis.DataSet(result.graph.nodes), edges: new vis.DataSet(result.graph.edges) },
      result.graph.options);
  }

  async function run() {
    errorBox.textContent = "";
    statusLine.textContent = "running…";
    const response = await fetch("/api/cypher", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ query: query.value, params: paramValues() }),
    });
    const body = await response.json();
    if (!response.ok) {
      statusLine.textContent = "";
      errorBox.textContent = body.error || ("HTTP " + response.status);
      table.innerHTML = "";
      last = null;
      document.getElementById("export-csv").disabled = true;
      document.getElementById("export-json").disabled = true;
      document.querySelector(".tabs button[data-tab=table]").click();
      return;
    }
    last = body;
    statusLine.textContent = body.rows.length + " rows in " + body.ms + " ms" + (body.truncated ? " (truncated at the row cap)" : "");
    document.getElementById("export-csv").disabled = false;
    document.getElementById("export-json").disabled = false;
    renderTable(body);
    renderGraph(body);
    loadHistory();
  }

  function download(name, type, text) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: type }));
    link.download = name;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  // The rule of every CSV export (graph/csv_export.py, OWASP "CSV injection"): a text cell starting with
  // = + - @ TAB or CR gets a leading ' so that a spreadsheet shows it instead of running it; numbers stay numbers.
  const FORMULA_START = /^[=+\-@\t\r]/;

  function csvCell(value) {
    let text = cellText(value);
    if (typeof value !== "number" && FORMULA_START.test(text)) text = "'" + text;
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  async function loadHistory() {
    const response = await fetch("/api/cypher/history");
    if (!response.ok) return;
    const list = document.getElementById("history");
    list.innerHTML = "";
    (await response.json()).history.forEach((item) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = item.query;
      button.addEventListener("click", () => setQuery(item.query, item.params));
      li.appendChild(button);
      li.append(" " + item.at + (item.refused ? " · refused" : ""));
      list.appendChild(li);
    });
  }

  document.querySelectorAll(".tabs button").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((t) => t.classList.toggle("active", t === tab));
    document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== "tab-" + tab.dataset.tab; });
    if (tab.dataset.tab === "graph") renderGraph(last);
  }));
  query.addEventListener("input", () => {
    paint(query.value);
    syncParams();
    document.getElementById("query-description").textContent = "";
  });
  query.addEventListener("scroll", () => { highlight.scrollTop = query.scrollTop; });
  query.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  document.getElementById("run").addEventListener("click", run);
  document.getElementById("export-json").addEventListener("click", () =>
    download("result.json", "application/json", JSON.stringify(last, null, 2)));
  document.getElementById("export-csv").addEventListener("click", () =>
    download("result.csv", "text/csv", [last.columns.map(csvCell).join(",")]
      .concat(last.rows.map((r) => r.map(csvCell).join(","))).join("\n") + "\n"));
  document.getElementById("save").addEventListener("click", saveQuery);
  document.getElementById("library-search").addEventListener("input", loadLibrary);
  document.getElementById("library-tag").addEventListener("input", loadLibrary);
  document.getElementById("library-import").addEventListener("change", (e) => {
    if (e.target.files.length) importQuery(e.target.files[0]);
  });
  let initialParams = {};
  try { initialParams = JSON.parse(document.getElementById("console-script").dataset.params || "{}"); } catch (e) { /* ignore */ }
  setQuery(query.value, initialParams);
  loadHistory();
  loadLibrary();
})();
