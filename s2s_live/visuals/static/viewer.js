// s2s_live projector page: latest image fullscreen with a crossfade over the live animation.
// Keys: o = overlay (genre / emotion / BPM), f = fullscreen, l = live layer on/off.
(function () {
  "use strict";
  const q = new URLSearchParams(location.search);
  const opt = {
    live: q.get("live") !== "0",
    fade: q.has("fade") ? parseFloat(q.get("fade")) : 1.5,
    hold: q.has("hold") ? parseFloat(q.get("hold")) : null,  // null = the server's default
    overlay: q.get("overlay") === "1",
  };
  const canvas = document.getElementById("live");
  const ctx = canvas.getContext("2d");
  const imgs = [document.getElementById("imgA"), document.getElementById("imgB")];
  const overlay = document.getElementById("overlay");
  const progress = document.getElementById("progress");
  let front = 0, hold = 0, holdTimer = null, ws = null, liveOn = opt.live, frames = 0;
  const info = { genre: null, emotion: null, bpm: null, key: null };
  window.s2s = { imageId: null, frames: 0, connected: false };
  imgs.forEach(im => { im.style.transitionDuration = opt.fade + "s"; });
  overlay.classList.toggle("on", opt.overlay);

  function resize() { canvas.width = innerWidth; canvas.height = innerHeight; }
  addEventListener("resize", resize); resize();

  function drawOverlay() {
    const parts = [];
    if (info.genre) parts.push(info.genre);
    if (info.emotion) parts.push(info.emotion);
    if (info.bpm) parts.push(Math.round(info.bpm) + " BPM");
    if (info.key) parts.push(info.key);
    overlay.textContent = parts.join(" \u00b7 ") || "listening\u2026";
  }

  function showImage(msg) {
    const back = imgs[1 - front];
    back.onload = () => {
      back.style.opacity = 1;
      imgs[front].style.opacity = 0;
      front = 1 - front;
      window.s2s.imageId = msg.id;
      document.body.dataset.image = String(msg.id);
      if (holdTimer) clearTimeout(holdTimer);
      if (hold > 0) holdTimer = setTimeout(() => { imgs[front].style.opacity = 0; }, hold * 1000);
    };
    back.src = msg.url + "?v=" + msg.id;
    progress.style.width = "0";
  }

  function drawFrame(blob) {
    createImageBitmap(blob).then(bmp => {
      // cover: fill the screen, crop the overflow
      const s = Math.max(canvas.width / bmp.width, canvas.height / bmp.height);
      const w = bmp.width * s, h = bmp.height * s;
      ctx.drawImage(bmp, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      bmp.close();
      window.s2s.frames = ++frames;
    }).catch(() => {});
  }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.binaryType = "blob";
    ws.onopen = () => { window.s2s.connected = true; if (liveOn) ws.send(JSON.stringify({ cmd: "live", on: true })); };
    ws.onclose = () => { window.s2s.connected = false; setTimeout(connect, 1000); };  // worker restarted
    ws.onmessage = ev => {
      if (typeof ev.data !== "string") { if (liveOn) drawFrame(ev.data); return; }
      const m = JSON.parse(ev.data);
      if (m.type === "hello") {
        hold = opt.hold !== null ? opt.hold : m.hold;
        if (m.image && m.image.id !== window.s2s.imageId) showImage(m.image);
      } else if (m.type === "image") {
        Object.assign(info, { genre: m.genre || info.genre, emotion: m.emotion || info.emotion, bpm: m.bpm || info.bpm });
        drawOverlay(); showImage(m);
      } else if (m.type === "state") {
        Object.assign(info, { genre: m.genre, emotion: m.emotion, bpm: m.bpm, key: m.key }); drawOverlay();
      } else if (m.type === "progress") {
        progress.style.width = (100 * m.step / m.total) + "%";
      }
    };
  }

  addEventListener("keydown", ev => {
    if (ev.key === "o") { overlay.classList.toggle("on"); drawOverlay(); }
    else if (ev.key === "f") { if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen(); }
    else if (ev.key === "l") {
      liveOn = !liveOn;
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ cmd: "live", on: liveOn }));
      if (!liveOn) ctx.clearRect(0, 0, canvas.width, canvas.height);
    }
  });
  drawOverlay();
  connect();
})();
