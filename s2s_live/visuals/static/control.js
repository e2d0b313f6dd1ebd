// s2s_live operator page: template editing, manual trigger, auto mode.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  let ws = null;
  window.s2s = { connected: false, acks: 0, lastImage: null, errors: [] };
  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }
  function connect() {
    ws = new WebSocket("ws://" + location.host + "/ws");
    ws.onopen = () => { window.s2s.connected = true; $("status").textContent = "connected"; };
    ws.onclose = () => { window.s2s.connected = false; $("status").textContent = "disconnected, retrying"; setTimeout(connect, 1000); };
    ws.onmessage = ev => {
      if (typeof ev.data !== "string") return;
      const m = JSON.parse(ev.data);
      if (m.type === "hello" || m.type === "template") {
        $("template").value = m.template; $("negative").value = m.negative;
        if (m.settings) applySettings(m.settings);
        if (m.image) showImage(m.image);
      } else if (m.type === "settings") applySettings(m);
      else if (m.type === "image") showImage(m);
      else if (m.type === "started") $("status").textContent = "generating #" + m.id + ": " + m.prompt;
      else if (m.type === "progress") $("status").textContent = "generating #" + m.id + ": step " + m.step + "/" + m.total;
      else if (m.type === "ack") window.s2s.acks++;
      else if (m.type === "error") { window.s2s.errors.push(m.reason); $("status").textContent = "error: " + m.reason; }
    };
  }
  function applySettings(s) {
    if ("auto" in s) $("auto").checked = !!s.auto;
    if ("interval" in s) $("interval").value = s.interval;
  }
  function showImage(m) {
    window.s2s.lastImage = m.id;
    $("last").src = m.url + "?v=" + m.id; $("lastprompt").textContent = "#" + m.id + ": " + m.prompt;
    $("status").textContent = "image #" + m.id + " ready";
  }
  $("save").onclick = () => send({ cmd: "template", template: $("template").value, negative: $("negative").value });
  $("generate").onclick = () => send({ cmd: "generate", prompt: $("prompt").value || null });
  $("auto").onchange = () => send({ cmd: "auto", on: $("auto").checked });
  $("setinterval").onclick = () => send({ cmd: "interval", seconds: parseFloat($("interval").value) });
  connect();
})();
