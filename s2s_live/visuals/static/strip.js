// s2s_live operator page, image strip: the last images, newest first.
(function () {
  "use strict";
  const ops = window.s2sOps;
  const MAX = 8;
  const strip = document.getElementById("strip");
  const seen = new Set();
  function add(m) {
    if (!m || seen.has(m.id)) return;
    seen.add(m.id);
    const fig = document.createElement("figure");
    const im = document.createElement("img");
    im.src = m.url + "?v=" + m.id; im.alt = ""; im.title = m.prompt || "";
    const cap = document.createElement("figcaption");
    cap.textContent = "#" + m.id + (m.genre ? " " + m.genre : "") + (m.emotion ? " \u00b7 " + m.emotion : "");
    fig.append(im, cap);
    fig.dataset.id = String(m.id);
    strip.prepend(fig);
    while (strip.children.length > MAX) strip.lastChild.remove();
  }
  ops.on("hello", m => { for (const r of m.recent || []) add(r); });
  ops.on("image", add);
})();
