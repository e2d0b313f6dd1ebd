// s2s_live operator page, scene panel: lock a scene family (or follow the music), intensity,
// palette bias. The same settings as /s2s/visuals/scene and /s2s/visuals/intensity over OSC.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const ops = window.s2sOps;
  window.s2s.viewer = null;
  function show(v) {
    window.s2s.viewer = { lock: v.lock, intensity: v.intensity, palette: v.palette };
    $("scene").value = v.lock || "auto";
    $("intensity").value = v.intensity; $("intensityv").textContent = Number(v.intensity).toFixed(2);
    $("palette").value = v.palette; $("palettev").textContent = Number(v.palette).toFixed(2);
  }
  ops.on("hello", m => {
    const sel = $("scene");
    if (sel.options.length <= 1) for (const s of m.scenes || []) sel.add(new Option(s, s));
    if (m.viewer) show(m.viewer);
  });
  ops.on("viewer", show);
  ops.on("state", m => { if (m.scene) $("scenenow").textContent = m.scene + (m.genre ? " (" + m.genre + ", " + (m.emotion || "?") + ")" : ""); });
  $("scene").onchange = () => ops.send({ cmd: "scene", name: $("scene").value });
  $("intensity").onchange = () => ops.send({ cmd: "intensity", value: parseFloat($("intensity").value) });
  $("palette").onchange = () => ops.send({ cmd: "palette", value: parseFloat($("palette").value) });
})();
