// Draws every element with a data-network attribute (pyvis-built nodes, edges and options) with vis-network:
// the layout settles, then physics stops (data-physics="stopped"); a search box highlights matching nodes; a click
// opens the side panel with the node's details and a link to its page; "Save as PNG" downloads the canvas.
(function () {
  "use strict";
  document.querySelectorAll("[data-network]").forEach((container) => {
    const data = JSON.parse(container.dataset.network);
    const nodes = new vis.DataSet(data.nodes);
    const options = Object.assign({}, data.options);
    const network = new vis.Network(container, { nodes: nodes, edges: new vis.DataSet(data.edges) }, options);
    container.visNetwork = network; // for tests and the browser console
    const root = container.closest("section, main") || document;
    const state = root.querySelector(".network-state");
    const stop = () => {
      network.setOptions({ physics: false });
      container.dataset.physics = "stopped";
      if (state) state.textContent = nodes.length + " nodes, layout settled";
    };
    network.once("stabilizationIterationsDone", stop);
    network.once("stabilized", stop);

    const search = root.querySelector(".network-search");
    if (search) {
      search.addEventListener("input", () => {
        const text = search.value.trim().toLowerCase();
        const hits = text ? nodes.get({ filter: (n) => String(n.title || "").toLowerCase().includes(text) }) : [];
        network.selectNodes(hits.map((n) => n.id));
        container.dataset.highlighted = String(hits.length);
        if (hits.length) network.fit({ nodes: hits.map((n) => n.id), animation: false });
      });
    }

    const panel = root.querySelector(".network-panel");
    if (panel) {
      network.on("click", (event) => {
        if (!event.nodes.length) { panel.hidden = true; return; }
        const node = nodes.get(event.nodes[0]);
        panel.querySelector(".network-panel-text").textContent = String(node.title || node.id);
        const link = panel.querySelector(".network-panel-link");
        const href = node.href || "";
        link.hidden = !href;
        if (href) link.setAttribute("href", href);
        panel.hidden = false;
      });
      panel.querySelector(".network-panel-close").addEventListener("click", () => { panel.hidden = true; });
    }

    const png = root.querySelector(".network-png");
    if (png) {
      png.addEventListener("click", () => {
        const canvas = container.querySelector("canvas");
        const link = document.createElement("a");
        link.download = "network.png";
        link.href = canvas.toDataURL("image/png");
        link.click();
      });
    }
  });
})();
