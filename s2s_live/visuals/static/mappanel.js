// s2s_live operator page, mapping panel: the mapper's outputs as sliders (the values recorded
// with each example), record / train / run, delete the examples, the example count per output,
// and a live plot of the mapper's inputs and outputs. The same commands as
// /wekinator/control/* and /s2s/map/* over OSC: the engine runs them through the control port's
// command table and answers with ack or error.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const ops = window.s2sOps;
  const SPAN = 10;  // seconds shown by the plot
  const COLORS = ["#f66", "#6cf", "#fc6", "#9f6", "#f9f", "#6ff", "#fa6", "#aaf"];
  let status = null, layout = "", lastSend = 0, timer = null, rows = [], names = { inputs: [], outputs: [] }, dirty = false;
  window.s2s.map = null;
  window.s2s.mapRows = 0;
  const send = (name, args) => ops.send({ cmd: "map", name, args: args || [] });

  function sliderValues() {
    return Array.from($("mapsliders").querySelectorAll("input[type=range]"), el => parseFloat(el.value));
  }
  function sendValues(now) {
    clearTimeout(timer);
    const wait = 50 - (performance.now() - lastSend);
    if (now || wait <= 0) { lastSend = performance.now(); send("outputs", sliderValues()); }
    else timer = setTimeout(() => sendValues(true), wait);
  }
  function build(s) {  // one row per output: name, slider, value, example count
    const box = $("mapsliders");
    box.textContent = "";
    s.outputs.forEach((o, i) => {
      const row = document.createElement("div"); row.className = "maprow"; row.dataset.index = String(i);
      const name = document.createElement("span"); name.className = "mapname"; name.textContent = o.name;
      const sl = document.createElement("input"); sl.type = "range"; sl.id = "mapout" + i;
      if (o.classes) { sl.min = 1; sl.max = o.classes; sl.step = 1; } else { sl.min = 0; sl.max = 1; sl.step = 0.01; }
      sl.value = (s.values && s.values[i] !== undefined) ? s.values[i] : sl.min;
      const val = document.createElement("span"); val.className = "mapval"; val.textContent = Number(sl.value).toFixed(o.classes ? 0 : 2);
      const ex = document.createElement("span"); ex.className = "mapexamples"; ex.id = "mapex" + i;
      const kind = document.createElement("span"); kind.className = "mapkind";
      kind.textContent = o.algo + (o.classes ? ", " + o.classes + " classes" : "");
      sl.oninput = () => { val.textContent = Number(sl.value).toFixed(o.classes ? 0 : 2); sendValues(false); };
      sl.onchange = () => sendValues(true);
      row.append(name, sl, val, ex, kind);
      box.append(row);
    });
  }
  function show(s) {
    status = window.s2s.map = s;
    $("panel-map").hidden = false;  // shown once the engine says it runs a mapper
    const key = s.outputs.map(o => o.name + ":" + o.classes).join(",");
    if (key !== layout) { layout = key; build(s); }
    s.outputs.forEach((o, i) => { const el = $("mapex" + i); if (el) el.textContent = o.examples + " examples"; });
    $("maprecord").textContent = s.recording ? "Stop recording" : "Record";
    $("maprecord").classList.toggle("on", !!s.recording);
    $("maprun").textContent = s.running ? "Stop running" : "Run";
    $("maprun").classList.toggle("on", !!s.running);
    $("maprun").disabled = !s.trained && !s.running;
    $("maptrain").textContent = s.training ? "Cancel training" : "Train";
    const st = [s.examples + " examples", s.training ? "training\u2026" : (s.trained ? "trained" : "not trained"),
                s.recording ? "recording" : "", s.running ? "running" : ""].filter(Boolean);
    $("mapstate").textContent = st.join(" \u00b7 ");
    $("maperror").textContent = s.error ? "training: " + s.error : "";
  }
  ops.on("hello", m => { if (m.panels && m.panels.map) show(m.panels.map); });  // else the next push (0.5 s)
  ops.on("map", show);
  ops.on("error", m => { if (String(m.cmd || "").startsWith("map")) $("maperror").textContent = m.reason; });
  ops.on("ack", m => { if (String(m.cmd || "").startsWith("map")) $("maperror").textContent = ""; });
  $("maprecord").onclick = () => {
    if (status && status.recording) send("stopRecording");
    else { send("outputs", sliderValues()); send("startRecording"); }
  };
  $("maptrain").onclick = () => send(status && status.training ? "cancelTrain" : "train");
  $("maprun").onclick = () => send(status && status.running ? "stopRunning" : "startRunning");
  $("mapdelete").onclick = () => send("deleteAllExamples");

  // ------------------------------------------------------------------ live plot
  ops.on("mapplot", m => {
    if (!Array.isArray(m.v)) return;
    names = { inputs: m.inputs || [], outputs: m.outputs || [] };
    for (const r of m.v) if (Array.isArray(r) && r.length >= 3) rows.push(r);
    window.s2s.mapRows += m.v.length;
    const tmax = rows.length ? rows[rows.length - 1][0] : 0;
    while (rows.length && rows[0][0] < tmax - SPAN) rows.shift();
    dirty = true;
  });
  function draw() {
    requestAnimationFrame(draw);
    if (!dirty) return;
    dirty = false;
    const cv = $("mapplot"), g = cv.getContext("2d"), W = cv.width, H = cv.height;
    g.fillStyle = "#181818"; g.fillRect(0, 0, W, H);
    if (!rows.length) return;
    const tmax = rows[rows.length - 1][0], x = t => W - (tmax - t) / SPAN * W;
    const half = H / 2 - 4;
    const trace = (get, lo, hi, y0, color, width) => {
      g.strokeStyle = color; g.lineWidth = width; g.beginPath();
      rows.forEach((r, k) => {
        const v = get(r); const f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        const y = y0 + half - Math.min(1, Math.max(0, f)) * half;
        if (k) g.lineTo(x(r[0]), y); else g.moveTo(x(r[0]), y);
      });
      g.stroke();
    };
    const nIn = rows[rows.length - 1][1].length, nOut = rows[rows.length - 1][2].length;
    for (let i = 0; i < nIn; i++) {  // inputs, each scaled to its own range over the window (top half)
      let lo = Infinity, hi = -Infinity;
      for (const r of rows) { const v = r[1][i]; if (v < lo) lo = v; if (v > hi) hi = v; }
      trace(r => r[1][i], lo, hi, 2, COLORS[i % COLORS.length] + "99", 1);
    }
    for (let j = 0; j < nOut; j++) {  // outputs, 0..1 or 1..classes (bottom half)
      const o = status && status.outputs[j];
      const lo = o && o.classes ? 1 : 0, hi = o && o.classes ? o.classes : 1;
      trace(r => r[2][j], lo, hi, H / 2 + 2, COLORS[j % COLORS.length], 2);
    }
    g.fillStyle = "#888"; g.font = "11px monospace";
    g.fillText("inputs: " + names.inputs.join(", "), 4, 12);
    g.fillText("outputs" + (rows[rows.length - 1][3] ? " (running)" : " (slider values)") + ": " + names.outputs.join(", "), 4, H / 2 + 14);
  }
  requestAnimationFrame(draw);
})();
