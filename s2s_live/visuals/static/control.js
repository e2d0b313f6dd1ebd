// s2s_live operator page, prompt panel: template editing, manual trigger, auto mode, latest image.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const ops = window.s2sOps;
  function applySettings(s) {
    if ("auto" in s) $("auto").checked = !!s.auto;
    if ("interval" in s) $("interval").value = s.interval;
  }
  function showImage(m) {
    window.s2s.lastImage = m.id;
    $("last").src = m.url + "?v=" + m.id; $("lastprompt").textContent = "#" + m.id + ": " + m.prompt;
    ops.status("image #" + m.id + " ready");
  }
  ops.on("hello", m => {
    $("template").value = m.template; $("negative").value = m.negative;
    if (m.settings) applySettings(m.settings);
    if (m.image) showImage(m.image);
  });
  ops.on("template", m => { $("template").value = m.template; $("negative").value = m.negative; });
  ops.on("settings", applySettings);
  ops.on("image", showImage);
  $("save").onclick = () => ops.send({ cmd: "template", template: $("template").value, negative: $("negative").value });
  $("generate").onclick = () => ops.send({ cmd: "generate", prompt: $("prompt").value || null });
  $("auto").onchange = () => ops.send({ cmd: "auto", on: $("auto").checked });
  $("setinterval").onclick = () => ops.send({ cmd: "interval", seconds: parseFloat($("interval").value) });
})();
