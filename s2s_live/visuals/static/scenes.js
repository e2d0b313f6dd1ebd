// s2s_live shader scenes: one WebGL2 fragment shader per family, sharing a header (uniforms,
// palette, noise) and a footer (latest image as a texture, beat flash, level). No build step.
// The families, in the order of s2s_live.visuals.state.SCENES:
//   flow      domain-warped noise flowing with the beat phase
//   tunnel    polar tunnel rushing forward at the tempo, the image on its walls
//   kaleido   mirrored segments (more with arousal) rotating per beat over the image
//   particles glowing points in drifting layers (more with level/onset), pushed out on beats
//   reaction  labyrinth Turing-pattern look (procedural, no simulation), slowly growing
//   grid      rotating squares on a grid that breathe with the bass and flip on beats
(function () {
  "use strict";
  const HEAD = `#version 300 es
precision highp float;
uniform vec2 uRes, uDrift, uImgScale;
uniform vec3 uBands;
uniform float uTime, uPhase, uFlash, uKick, uLevel, uOnset, uVal, uAro, uPal, uInt, uDensity, uImgMix, uImgAmt;
uniform vec2 uAtlas0, uAtlas1;  // video mode: (frames in the sprite sheet, frame shown); stills (1, 0)
uniform sampler2D uImg0, uImg1;
out vec4 fragColor;
const float TAU = 6.2831853;
vec3 hsv(vec3 c) { vec3 p = abs(fract(c.xxx + vec3(0., 2. / 3., 1. / 3.)) * 6. - 3.);
  return c.z * mix(vec3(1.), clamp(p - 1., 0., 1.), c.y); }
// hue by quadrant, blended over valence/arousal: sad blue, calm teal, tense red-magenta, happy
// orange; arousal adds saturation and hue spread; uPal -1..1 shifts cooler..warmer
vec3 pal(float t) {
  float h = mix(mix(0.62, 0.45, uVal), mix(-0.04, 0.08, uVal), uAro) - 0.12 * uPal;
  return hsv(vec3(h + (0.05 + 0.1 * uAro) * sin(TAU * t), 0.35 + 0.6 * uAro, 1.)); }
float hash(vec2 p) { p = fract(p * vec2(123.34, 456.21)); p += dot(p, p + 45.32); return fract(p.x * p.y); }
vec2 hash2(vec2 p) { float h = hash(p); return vec2(h, hash(p + h)); }
float noise(vec2 p) { vec2 i = floor(p), f = fract(p); vec2 u = f * f * (3. - 2. * f);
  return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y); }
float fbm(vec2 p) { float s = 0., a = .5; for (int i = 0; i < 4; i++) { s += a * noise(p); p = p * 2.03 + 1.7; a *= .5; } return s; }
mat2 rot(float a) { float c = cos(a), s = sin(a); return mat2(c, -s, s, c); }
vec3 img(vec2 uv) { uv = 0.5 + (uv - 0.5) * uImgScale; uv = clamp(uv, 0.001, 0.999);
  vec2 a0 = vec2((uAtlas0.y + uv.x) / uAtlas0.x, uv.y), a1 = vec2((uAtlas1.y + uv.x) / uAtlas1.x, uv.y);
  return mix(texture(uImg0, a0).rgb, texture(uImg1, a1).rgb, uImgMix); }
`;
  const FOOT = `
void main() {
  vec2 uv = gl_FragCoord.xy / uRes;
  vec2 p = (gl_FragCoord.xy - 0.5 * uRes) / uRes.y;
  vec2 w = vec2(0.);
  vec3 c = scene(p, uv, w);
  // the image: warped by the scene's field, zoom-pulsed on the beat, lit by the scene's colour
  vec2 iuv = 0.5 + (uv - 0.5) * (1. - 0.05 * uKick * uInt) + w * 0.06 * uInt;
  vec3 im = img(iuv);
  c = mix(c, im * (0.45 + 0.9 * c), uImgAmt);
  c *= 0.35 + 0.75 * clamp(uLevel * 1.5, 0., 1.);
  c = mix(c, vec3(1.), clamp(uFlash * 0.7 * min(uInt, 1.4), 0., 1.));
  fragColor = vec4(c, 1.);
}`;
  const SCENES = {
    flow: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  float t = uTime * 0.05 * (0.3 + uInt) + uPhase * 0.06;
  vec2 q = vec2(fbm(p * 1.8 + uDrift * 2. + t), fbm(p * 1.8 + vec2(5.2, 1.3) - t));
  float r = fbm(p * 1.8 + (3. + 2. * uDensity) * q + uPhase * 0.12);
  w = q - 0.5;
  return pal(r + q.x * 0.6) * (0.25 + 1.2 * r * r + 0.3 * uBands.x);
}`,
    tunnel: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  p *= rot(uPhase * 0.15 * uInt + uDrift.x * 3.);
  float r = max(length(p), 1e-3), a = atan(p.y, p.x) / TAU;
  float z = 0.35 / r + uPhase * 0.5 * (0.3 + uInt);
  float n = floor(5. + 4. * uDensity);
  float rings = 0.5 + 0.5 * sin(TAU * z * 2.);
  float spokes = 0.5 + 0.5 * sin(TAU * (a * n + z * 0.25));
  float v = rings * spokes;
  w = vec2(a, fract(z)) - 0.5;
  return pal(z * 0.15 + a) * (0.15 + 1.3 * v) * smoothstep(0.0, 0.35, r) + pal(0.5) * 0.3 * uBands.z;
}`,
    kaleido: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  float n = floor(4. + 6. * uAro);
  p *= rot(uPhase * 0.125 * uInt + uDrift.y * 3.);
  float r = length(p), a = atan(p.y, p.x);
  float seg = TAU / n;
  a = abs(mod(a, seg) - 0.5 * seg);
  vec2 k = vec2(cos(a), sin(a)) * r;
  float f = fbm(k * (3. + uDensity) - uPhase * 0.1);
  float lines = smoothstep(0.05, 0.0, abs(fract(r * 4. - uPhase * 0.25) - 0.5) - 0.2);
  w = k - 0.5 * p;
  vec3 c = pal(f + r * 0.5) * (0.2 + f * 1.4) + pal(r) * lines * 0.5;
  return mix(c, c * img(0.5 + k * 0.8), 0.5 * uImgAmt);
}`,
    particles: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  vec3 c = vec3(0.02);
  float push = 1. + 0.25 * uKick * uInt;
  for (int l = 0; l < 3; l++) {
    float fl = float(l);
    float k = 5. + 5. * fl + 4. * uDensity;
    vec2 q = p * k / push + vec2(uTime * 0.05 * (fl + 1.), uPhase * 0.1) + uDrift * 4.;
    vec2 id = floor(q), f = fract(q) - 0.5;
    vec2 o = (hash2(id + fl * 7.) - 0.5) * 0.7;
    o += 0.15 * vec2(sin(uTime + id.x * 3.), cos(uTime * 1.3 + id.y * 2.));
    float d = length(f - o);
    float sz = 0.04 + 0.05 * hash(id + 3.1) + 0.05 * uOnset;
    float glow = smoothstep(sz * 3., 0., d) + 0.6 * smoothstep(sz, 0., d);
    c += pal(hash(id) * 0.5 + fl * 0.2) * glow * (0.6 + 0.4 * uBands.y);
  }
  w = p * 0.5;
  return c;
}`,
    reaction: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  float t = uTime * 0.02 + uPhase * 0.01;
  vec2 q = p * (2.5 + uDensity) + uDrift * 2.;
  q += 0.6 * vec2(fbm(q + t), fbm(q - t + 3.7));
  float f = fbm(q * 1.5);
  float v = sin(f * (28. + 8. * uAro) + uPhase * 0.2);
  float band = smoothstep(-0.2, 0.25, v);
  w = vec2(v, f) * 0.5;
  return mix(pal(0.1) * 0.12, pal(f * 2.) * 1.1, band) + pal(0.7) * 0.25 * (1. - band) * uBands.y;
}`,
    grid: `
vec3 scene(vec2 p, vec2 uv, out vec2 w) {
  float n = 4. + 3. * uDensity;
  vec2 q = p * n + uDrift * 3.;
  vec2 id = floor(q), f = fract(q) - 0.5;
  float beat = floor(uPhase);
  float flip = step(0.5, hash(id + beat));
  f *= rot((uPhase + hash(id)) * 0.25 * TAU * uInt * (flip * 2. - 1.) * 0.25);
  float s = 0.25 + 0.15 * uBands.x + 0.1 * sin(uPhase * TAU * 0.5 + hash(id) * TAU);
  float d = max(abs(f.x), abs(f.y));
  float edge = smoothstep(0.03, 0.0, abs(d - s));
  float fill = smoothstep(s, s - 0.02, d) * (0.25 + 0.5 * flip);
  w = f;
  return pal(hash(id) * 0.6 + beat * 0.05) * (fill + 1.2 * edge) + vec3(0.02);
}`,
  };
  window.S2S_SCENES = { HEAD, FOOT, SCENES, ORDER: ["flow", "tunnel", "kaleido", "particles", "reaction", "grid"] };
})();
