// s2s_live projector page. WebGL2 shader scenes (scenes.js) driven by the fast stream (level,
// bands, onset, beat at the engine's block rate) and the state (genre/emotion/BPM/scene), the
// latest image as a texture; without WebGL2 (or with ?gl=0) the fallback: the latest image with
// a crossfade over the server-rendered live animation, and a notice saying so.
// Keys: o = overlay, f = fullscreen, l = live layer on/off (fallback).
// window.s2s.stats() -> {mode, fps, scale, width, height, scene, fade, frames, lastBeat, beats, ...}
(function () {
  "use strict";
  const q = new URLSearchParams(location.search);
  const num = (k, d, lo, hi) => { const v = parseFloat(q.get(k)); return isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d; };
  const opt = {
    gl: q.get("gl") !== "0",
    live: q.get("live") !== "0",
    fade: num("fade", 1.5, 0, 30),
    hold: q.has("hold") ? num("hold", 0, 0, 3600) : null,  // null = the server's default
    overlay: q.get("overlay") === "1",
    scale: q.has("scale") ? num("scale", 1, 0.1, 1) : null,  // fixed render scale, else automatic
    image: q.get("image") !== "0",  // 0: shader scenes only, no generated image
  };
  const overlay = document.getElementById("overlay");
  const progress = document.getElementById("progress");
  const info = { genre: null, emotion: null, bpm: null, key: null };
  const s2s = window.s2s = { imageId: null, frames: 0, connected: false, mode: "starting", log: null };
  let ws = null, onHello = null, onImage = null, onState = null, onFast = null, onViewer = null, onBinary = null;
  overlay.classList.toggle("on", opt.overlay);

  function drawOverlay() {
    const parts = [];
    if (info.genre) parts.push(info.genre);
    if (info.emotion) parts.push(info.emotion);
    if (info.bpm) parts.push(Math.round(info.bpm) + " BPM");
    if (info.key) parts.push(info.key);
    overlay.textContent = parts.join(" \u00b7 ") || "listening\u2026";
  }

  // ---------------------------------------------------------------- WebGL2 scenes
  function startGL() {
    const canvas = document.getElementById("gl");
    const gl = canvas.getContext("webgl2", { antialias: false, alpha: false, preserveDrawingBuffer: false });
    if (!gl || !window.S2S_SCENES) return "WebGL2 is unavailable in this browser";
    const S = window.S2S_SCENES;
    const VS = "#version 300 es\nin vec2 a;void main(){gl_Position=vec4(a,0.,1.);}";
    function shader(type, src) {
      const sh = gl.createShader(type); gl.shaderSource(sh, src); gl.compileShader(sh);
      if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(sh));
      return sh;
    }
    const progs = {};
    try {
      const vs = shader(gl.VERTEX_SHADER, VS);
      for (const name of S.ORDER) {
        const p = gl.createProgram();
        gl.attachShader(p, vs); gl.attachShader(p, shader(gl.FRAGMENT_SHADER, S.HEAD + S.SCENES[name] + S.FOOT));
        gl.bindAttribLocation(p, 0, "a"); gl.linkProgram(p);
        if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(name + ": " + gl.getProgramInfoLog(p));
        const u = {};
        for (let i = 0, n = gl.getProgramParameter(p, gl.ACTIVE_UNIFORMS); i < n; i++) {
          const nm = gl.getActiveUniform(p, i).name; u[nm] = gl.getUniformLocation(p, nm);
        }
        progs[name] = { p, u };
      }
    } catch (e) { return "WebGL2 shaders failed: " + String(e.message || e).slice(0, 200); }
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    function texture() {
      const t = gl.createTexture(); gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array([128, 128, 128, 255]));
      for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
      return t;
    }
    const tex = [texture(), texture()];  // [shown, next]
    const atlas = [{ n: 1, fps: 1 }, { n: 1, fps: 1 }];  // video mode: frames of each texture's sprite sheet
    const swap = () => { tex.reverse(); atlas.reverse(); };
    const img = { mix: 0, amt: 0, aspect: 1, fading: false, t0: 0 };

    // music: fast rows [t, level, low, mid, high, onset, beats, bpm] interpolated at display time
    const rows = [];
    const m = { level: 0, low: 0, mid: 0, high: 0, onset: 0, bpm: 0, valence: 0.5, arousal: 0.5,
      drift: [0, 0], target: "flow", params: [] };
    const view = { lock: null, intensity: 1, palette: 0 };
    let offset = null, beats = null, lastBeat = null, flashT = -1e9, kickT = -1e9, phase = 0;
    let scene = "flow", next = null, fadeT0 = 0, pendingSince = null;
    const DELAY = 0.03;  // s behind the newest block: one or two blocks to interpolate between
    onFast = v => {
      const now = performance.now() / 1000;
      for (const r of v) {
        if (!Array.isArray(r) || r.length < 8 || !r.every(isFinite)) continue;
        const off = now - r[0];
        offset = offset === null || off < offset ? off : offset + 0.001 * (off - offset);
        rows.push(r);
        if (beats !== null && r[6] > beats) {
          lastBeat = performance.now(); flashT = kickT = now;
          if (next === null && pendingSince !== null && (Math.round(r[6]) % 4 === 0 || now - pendingSince > 4)) beginFade(now);
        }
        beats = r[6];
        if (r[7] > 0) m.bpm = r[7];
      }
      while (rows.length > 128) rows.shift();
    };
    function sampleFast(now) {
      if (!rows.length || offset === null) return;
      const td = now - offset - DELAY;
      let i = rows.length - 1;
      while (i > 0 && rows[i - 1][0] > td) i--;
      const b = rows[i], a = rows[Math.max(0, i - 1)];
      const k = b[0] > a[0] ? Math.min(1, Math.max(0, (td - a[0]) / (b[0] - a[0]))) : 1;
      const L = j => a[j] + (b[j] - a[j]) * k;
      m.level = L(1); m.low = L(2); m.mid = L(3); m.high = L(4); m.onset = L(5);
    }
    onState = st => {
      if (isFinite(st.valence)) m.valence = st.valence;
      if (isFinite(st.arousal)) m.arousal = st.arousal;
      if (st.bpm > 0) m.bpm = st.bpm;
      const xy = Array.isArray(st.xy) ? st.xy : null, lat = Array.isArray(st.latent) ? st.latent : [];
      if (xy) m.drift = [xy[0] - 0.5, xy[1] - 0.5];
      else if (lat.length >= 2) m.drift = [Math.tanh(lat[0]) * 0.5, Math.tanh(lat[1]) * 0.5];
      if (S.ORDER.includes(st.scene)) m.target = st.scene;
      m.params = Array.isArray(st.params) ? st.params.filter(isFinite).slice(0, 3) : [];
      choose(false);
    };
    onViewer = v => {
      const changed = v.lock !== view.lock;
      view.lock = S.ORDER.includes(v.lock) ? v.lock : null;
      if (isFinite(v.intensity)) view.intensity = v.intensity;
      if (isFinite(v.palette)) view.palette = v.palette;
      choose(changed);
    };
    function choose(now) {  // a music change waits for a downbeat, an operator's lock does not
      const want = view.lock || m.target;
      const cur = next || scene;
      if (want === cur) { pendingSince = null; return; }
      if (next !== null) { scene = next; next = null; }  // finish the running fade at once
      if (now) { pendingSince = performance.now() / 1000; beginFade(pendingSince); }
      else if (pendingSince === null) pendingSince = performance.now() / 1000;
    }
    function beginFade(now) {
      const want = view.lock || m.target;
      pendingSince = null;
      if (want === scene) return;
      next = want; fadeT0 = now;
    }
    onImage = msg => {
      if (!opt.image) return;
      const im = new Image();
      im.onload = () => {
        gl.bindTexture(gl.TEXTURE_2D, tex[1]);
        gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, true);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, im);
        const n = msg.type === "video" && msg.frames > 1 ? Math.min(64, Math.round(msg.frames)) : 1;
        atlas[1] = { n, fps: n > 1 && msg.fps > 0 ? msg.fps : 1 };
        img.aspect = im.width / n / Math.max(1, im.height);
        if (img.amt === 0) { swap(); img.amt = 0.5; img.mix = 0; }  // the first image: at once
        else { img.fading = true; img.t0 = performance.now() / 1000; }
        s2s.imageId = msg.id; document.body.dataset.image = String(msg.id);
        s2s.video = msg.type === "video" ? msg.id : null;
      };
      im.src = msg.url + "?v=" + msg.id;
      progress.style.width = "0";
    };

    let scale = opt.scale || 0.5, fps = 0, fpsN = 0, fpsT0 = performance.now(), tPrev = performance.now() / 1000;
    let settled = 0;
    function resize() {
      const dpr = window.devicePixelRatio || 1;
      const W = Math.min(3840, Math.round(innerWidth * dpr)), H = Math.min(2160, Math.round(innerHeight * dpr));
      const w = Math.max(16, Math.round(W * scale)), h = Math.max(16, Math.round(H * scale));
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    }
    addEventListener("resize", resize);
    const probe = new Uint8Array(32 * 32 * 4);
    function draw(name, alpha, t) {
      const { p, u } = progs[name];
      gl.useProgram(p);
      const f = (k, v) => { if (u[k]) gl.uniform1f(u[k], v); };
      const I = view.intensity;
      f("uTime", t); f("uPhase", phase); f("uLevel", Math.min(1, m.level)); f("uOnset", Math.min(1, m.onset));
      f("uVal", m.valence); f("uAro", m.arousal); f("uPal", view.palette); f("uInt", I);
      f("uFlash", Math.exp(-(t - flashT) / 0.09)); f("uKick", Math.exp(-(t - kickT) / 0.25));
      const P = k => (m.params.length > k ? m.params[k] - 0.5 : 0);  // Wekinator/mapper outputs 0..1
      f("uDensity", Math.min(2, Math.max(0, 0.3 + 1.4 * m.level + 0.6 * m.onset + 0.8 * P(0))));
      f("uImgMix", img.mix); f("uImgAmt", img.amt);
      if (u.uRes) gl.uniform2f(u.uRes, canvas.width, canvas.height);
      if (u.uDrift) gl.uniform2f(u.uDrift, m.drift[0] + P(1) + 0.02 * Math.sin(t * 0.05), m.drift[1] + P(2) + 0.02 * Math.cos(t * 0.04));
      if (u.uBands) gl.uniform3f(u.uBands, Math.min(1, m.low * 3), Math.min(1, m.mid * 3), Math.min(1, m.high * 3));
      if (u.uImgScale) {  // cover: fill the screen, crop the overflow
        const sa = canvas.width / canvas.height;
        gl.uniform2f(u.uImgScale, sa > img.aspect ? 1 : sa / img.aspect, sa > img.aspect ? img.aspect / sa : 1);
      }
      for (const [k, a] of [["uAtlas0", atlas[0]], ["uAtlas1", atlas[1]]]) {
        if (!u[k]) continue;
        const c = Math.floor(t * a.fps) % Math.max(1, 2 * a.n - 2);  // ping-pong: a seamless loop
        gl.uniform2f(u[k], a.n, a.n > 1 ? (c < a.n ? c : 2 * a.n - 2 - c) : 0);
      }
      if (u.uImg0) { gl.activeTexture(gl.TEXTURE0); gl.bindTexture(gl.TEXTURE_2D, tex[0]); gl.uniform1i(u.uImg0, 0); }
      if (u.uImg1) { gl.activeTexture(gl.TEXTURE1); gl.bindTexture(gl.TEXTURE_2D, tex[1]); gl.uniform1i(u.uImg1, 1); }
      if (alpha < 1) { gl.enable(gl.BLEND); gl.blendColor(0, 0, 0, alpha); gl.blendFunc(gl.CONSTANT_ALPHA, gl.ONE_MINUS_CONSTANT_ALPHA); }
      else gl.disable(gl.BLEND);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
    function frame() {
      requestAnimationFrame(frame);
      const t = performance.now() / 1000, dt = Math.min(0.25, t - tPrev);
      tPrev = t;
      sampleFast(t);
      if (pendingSince !== null && t - pendingSince > 4) beginFade(t);  // no downbeat came (no drums)
      phase += dt * (m.bpm > 0 ? m.bpm : 90) / 60 * (0.25 + 0.75 * Math.min(2, view.intensity));
      if (img.fading) {
        img.mix = opt.fade > 0 ? Math.min(1, (t - img.t0) / opt.fade) : 1;
        if (img.mix >= 1) { swap(); img.mix = 0; img.fading = false; }
      }
      resize();
      gl.viewport(0, 0, canvas.width, canvas.height);
      let fade = 0;
      draw(scene, 1, t);
      if (next !== null) {
        fade = opt.fade > 0 ? Math.min(1, (t - fadeT0) / opt.fade) : 1;
        draw(next, fade, t);
        if (fade >= 1) { scene = next; next = null; fade = 0; }
      }
      s2s.frames++;
      if (s2s.log) {  // test/benchmark trace: mean luma of the centre block of this frame
        const x = Math.max(0, (canvas.width >> 1) - 16), y = Math.max(0, (canvas.height >> 1) - 16);
        gl.readPixels(x, y, 32, 32, gl.RGBA, gl.UNSIGNED_BYTE, probe);
        let s = 0; for (let i = 0; i < probe.length; i += 4) s += 0.2126 * probe[i] + 0.7152 * probe[i + 1] + 0.0722 * probe[i + 2];
        s2s.log.push({ frame: s2s.frames, beats, luma: s / 1024 });
        if (s2s.log.length > 2000) s2s.log.shift();
      }
      fpsN++;
      const el = performance.now() - fpsT0;
      if (el >= 1000) {  // once a second: measure, then scale the render resolution to hold 30 fps
        fps = fpsN * 1000 / el; fpsN = 0; fpsT0 = performance.now();
        if (opt.scale === null) {
          if (fps < 30 && scale > 0.1) { scale = Math.max(0.1, scale * Math.max(0.5, fps / 36)); settled = 0; }
          else if (fps > 50 && scale < 1) { scale = Math.min(1, scale * 1.15); settled = 0; }
          else settled++;
        }
      }
    }
    s2s.stats = () => ({
      mode: "webgl", fps: Math.round(fps * 10) / 10, scale: Math.round(scale * 1000) / 1000,
      width: canvas.width, height: canvas.height, settled, scene, next, frames: s2s.frames,
      lastBeat, beats, level: Math.round(m.level * 1000) / 1000, lock: view.lock, intensity: view.intensity, palette: view.palette,
      target: m.target, imageId: s2s.imageId, video: s2s.video || null, renderer,
    });
    const dbg = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    s2s.mode = "webgl"; document.body.dataset.mode = "webgl";
    canvas.style.display = "block";
    resize();
    requestAnimationFrame(frame);
    return null;
  }

  // ---------------------------------------------------------------- fallback: server frames
  function startFallback(why) {
    const canvas = document.getElementById("live");
    const ctx = canvas.getContext("2d");
    const imgs = [document.getElementById("imgA"), document.getElementById("imgB")];
    const notice = document.getElementById("notice");
    let front = 0, hold = 0, holdTimer = null, liveOn = opt.live;
    notice.textContent = why + ": showing server-rendered frames";
    notice.classList.add("on");
    canvas.style.display = "block";
    imgs.forEach(im => { im.style.display = "block"; im.style.transitionDuration = opt.fade + "s"; });
    function resize() { canvas.width = innerWidth; canvas.height = innerHeight; }
    addEventListener("resize", resize); resize();
    onHello = m => { hold = opt.hold !== null ? opt.hold : m.hold; };
    onImage = msg => {
      const back = imgs[1 - front];
      back.onload = () => {
        back.style.opacity = 1;
        imgs[front].style.opacity = 0;
        front = 1 - front;
        s2s.imageId = msg.id;
        document.body.dataset.image = String(msg.id);
        if (holdTimer) clearTimeout(holdTimer);
        if (hold > 0) holdTimer = setTimeout(() => { imgs[front].style.opacity = 0; }, hold * 1000);
      };
      back.src = msg.url + "?v=" + msg.id;
      progress.style.width = "0";
    };
    onBinary = blob => {
      if (!liveOn) return;
      createImageBitmap(blob).then(bmp => {  // cover: fill the screen, crop the overflow
        const s = Math.max(canvas.width / bmp.width, canvas.height / bmp.height);
        const w = bmp.width * s, h = bmp.height * s;
        ctx.drawImage(bmp, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
        bmp.close();
        s2s.frames++;
      }).catch(() => {});
    };
    addEventListener("keydown", ev => {
      if (ev.key !== "l") return;
      liveOn = !liveOn;
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ cmd: "live", on: liveOn }));
      if (!liveOn) ctx.clearRect(0, 0, canvas.width, canvas.height);
    });
    s2s.stats = () => ({ mode: "fallback", reason: why, fps: null, frames: s2s.frames, scene: null, imageId: s2s.imageId });
    s2s.mode = "fallback"; document.body.dataset.mode = "fallback";
    return () => liveOn;
  }

  const glError = opt.gl ? startGL() : "WebGL is off (?gl=0)";
  const liveWanted = glError ? startFallback(glError) : null;

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.binaryType = "blob";
    ws.onopen = () => {
      s2s.connected = true;
      if (liveWanted) { if (liveWanted()) ws.send(JSON.stringify({ cmd: "live", on: true })); }
      else ws.send(JSON.stringify({ cmd: "fast", on: true }));
    };
    ws.onclose = () => { s2s.connected = false; setTimeout(connect, 1000); };  // worker restarted
    ws.onmessage = ev => {
      if (typeof ev.data !== "string") { if (onBinary) onBinary(ev.data); return; }
      const m = JSON.parse(ev.data);
      if (m.type === "fast") { if (onFast && Array.isArray(m.v)) onFast(m.v); }
      else if (m.type === "hello") {
        s2s.disabled = !!m.disabled;  // visuals disabled after crashes: the last image stays
        const notice = document.getElementById("notice");
        if (m.disabled) {
          notice.textContent = "visuals disabled after repeated crashes (/s2s/visuals/restart): showing the last image";
          notice.classList.add("on");
        } else if (notice.textContent.startsWith("visuals disabled")) notice.classList.remove("on");
        if (onHello) onHello(m);
        if (m.viewer && onViewer) onViewer(m.viewer);
        if (m.image && m.image.id !== s2s.imageId) onImage(m.image.video && !liveWanted ? m.image.video : m.image);
      } else if (m.type === "image") {
        Object.assign(info, { genre: m.genre || info.genre, emotion: m.emotion || info.emotion, bpm: m.bpm || info.bpm });
        drawOverlay(); onImage(m);
      } else if (m.type === "state") {
        Object.assign(info, { genre: m.genre, emotion: m.emotion, bpm: m.bpm, key: m.key }); drawOverlay();
        if (onState) onState(m);
      } else if (m.type === "video") { if (!liveWanted) onImage(m); }  // the fallback shows stills
      else if (m.type === "viewer") { if (onViewer) onViewer(m); }
      else if (m.type === "progress") progress.style.width = (100 * m.step / m.total) + "%";
    };
  }

  addEventListener("keydown", ev => {
    if (ev.key === "o") { overlay.classList.toggle("on"); drawOverlay(); }
    else if (ev.key === "f") { if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen(); }
  });
  drawOverlay();
  connect();
})();
