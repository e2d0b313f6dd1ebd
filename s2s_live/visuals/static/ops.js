// s2s_live operator page: the WebSocket and a tiny message bus shared by the panels.
// A panel is its own script: window.s2sOps.on(type, fn) receives server messages of that type
// ("*" = all), window.s2sOps.send(obj) sends a command. Load ops.js first, then the panels.
(function () {
  "use strict";
  const handlers = {};
  let ws = null;
  window.s2s = { connected: false, acks: 0, lastImage: null, errors: [] };
  const status = t => { const el = document.getElementById("status"); if (el) el.textContent = t; };
  const ops = window.s2sOps = {
    on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); },
    send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); },
    status,
  };
  function dispatch(m) {
    for (const fn of (handlers[m.type] || []).concat(handlers["*"] || [])) {
      try { fn(m); } catch (e) { console.error(e); }
    }
  }
  function connect() {
    ws = new WebSocket("ws://" + location.host + "/ws");
    ws.onopen = () => { window.s2s.connected = true; status("connected"); };
    ws.onclose = () => { window.s2s.connected = false; status("disconnected, retrying"); setTimeout(connect, 1000); };
    ws.onmessage = ev => {
      if (typeof ev.data !== "string") return;
      const m = JSON.parse(ev.data);
      if (m.type === "ack") window.s2s.acks++;
      else if (m.type === "error") { window.s2s.errors.push(m.reason); status("error: " + m.reason); }
      dispatch(m);
    };
  }
  ops.on("started", m => status("generating #" + m.id + ": " + m.prompt));
  ops.on("progress", m => status("generating #" + m.id + ": step " + m.step + "/" + m.total));
  addEventListener("load", connect);
})();
