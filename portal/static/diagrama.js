// Draws the Mermaid diagrams of the procedure pages (<pre class="mermaid">).
window.addEventListener("DOMContentLoaded", function () {
  if (!window.mermaid) { return; }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", flowchart: { htmlLabels: false } });
  window.mermaid.run({ querySelector: "pre.mermaid" });
});
