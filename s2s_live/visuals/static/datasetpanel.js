// s2s_live operator page, dataset panel: record N seconds of the live input as one-second
// clips with a label into a dataset folder (a name under the engine's dataset root, never a
// path), cancel it (the complete clips so far are kept, the unfinished second is dropped), and
// the clip count per label. The engine records and writes (s2s_live/operator.py).
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const ops = window.s2sOps;
  window.s2s.dataset = null;
  const folder = () => $("dsname").value.trim() || $("dsfolders").value;
  function showFolders(list) {
    const sel = $("dsfolders"), keep = sel.value;
    sel.textContent = "";
    for (const n of list || []) sel.add(new Option(n, n));
    if (keep && (list || []).includes(keep)) sel.value = keep;
  }
  function showCounts(name, counts) {
    $("dscountsof").textContent = name || "";
    const tb = $("dscounts"); tb.textContent = "";
    let total = 0;
    for (const [label, n] of Object.entries(counts || {})) {
      const tr = document.createElement("tr");
      const a = document.createElement("td"); a.textContent = label;
      const b = document.createElement("td"); b.textContent = String(n); b.dataset.label = label;
      tr.append(a, b); tb.append(tr); total += n;
    }
    $("dstotal").textContent = counts ? total + " clips" : "";
  }
  function show(m) {
    window.s2s.dataset = m;
    $("panel-dataset").hidden = false;  // shown once the engine says it records datasets
    if (m.folders) showFolders(m.folders);
    if (m.counts) showCounts(m.folder, m.counts);
    const r = m.recording, l = m.last;
    let text = "";
    if (r) text = "recording " + r.done + " / " + r.want + " s of '" + r.label + "' into " + r.folder;
    else if (l && l.cancelled) text = "cancelled: kept " + l.done + " of " + l.want + " clips of '" + l.label + "' in " + l.folder;
    else if (l && l.error) text = "stopped: kept " + l.done + " of " + l.want + " clips of '" + l.label + "' in " + l.folder;
    else if (l) text = "recorded " + l.done + " clips of '" + l.label + "' into " + l.folder;
    $("dsprogress").textContent = text;
    $("dsrecord").disabled = !!r;
    $("dscancel").disabled = !r;
  }
  ops.on("hello", m => { if (m.panels && m.panels.dataset) show(m.panels.dataset); });  // else the next push
  ops.on("dataset", show);
  ops.on("error", m => { if (String(m.cmd || "").startsWith("dataset")) $("dserror").textContent = m.reason; });
  ops.on("ack", m => { if (String(m.cmd || "").startsWith("dataset")) $("dserror").textContent = ""; });
  $("dsrecord").onclick = () => ops.send({ cmd: "dataset", action: "record", folder: folder(),
                                           label: $("dslabel").value.trim() || "live", seconds: parseFloat($("dsseconds").value) });
  $("dscancel").onclick = () => ops.send({ cmd: "dataset", action: "cancel" });
  $("dslist").onclick = () => ops.send({ cmd: "dataset", action: "list", folder: folder() });
  $("dsfolders").onchange = () => { $("dsname").value = ""; ops.send({ cmd: "dataset", action: "list", folder: folder() }); };
})();
