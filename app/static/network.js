// Draws every element with a data-network attribute (pyvis-built nodes, edges and options) with vis-network.
(function () {
  "use strict";
  document.querySelectorAll("[data-network]").forEach((container) => {
    const data = JSON.parse(container.dataset.network);
    const options = Object.assign({}, data.options, { physics: { stabilization: { iterations: 300 } } });
    const network = new vis.Network(container, { nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges) }, options);
    network.once("stabilizationIterationsDone", () => network.setOptions({ physics: false }));
  });
})();
