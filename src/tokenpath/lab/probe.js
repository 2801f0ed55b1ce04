// tokenpath flow lab: the script the lab injects into every page of a lab run.
//
// It reports what only the browser sees, to the lab (through the binding __tokenpathLab):
// the address bar (fragment included) when a document starts, when it has loaded, and after
// every history.pushState/replaceState or hashchange; the values the page's own script holds,
// read through its read-only hook (window.tokenpathSpa); and the origin's Web Storage. Between
// those events it looks again every 100 ms and reports only a change. It changes nothing.
"use strict";
(() => {
  if (window.top !== window || typeof window.__tokenpathLab !== "function") return;
  const held = () => {
    const js = {};
    const spa = window.tokenpathSpa;
    if (spa && typeof spa.heldToken === "function") {
      const token = spa.heldToken();
      if (token) js["browser app: accessToken variable"] = String(token);
    }
    return js;
  };
  const storage = () => {
    const found = {};
    try {
      for (const [name, area] of [["localStorage", localStorage], ["sessionStorage", sessionStorage]]) {
        for (let i = 0; i < area.length; i += 1) {
          const key = area.key(i);
          found[`${location.origin} ${name} ${key}`] = String(area.getItem(key));
        }
      }
    } catch (e) {
      // an opaque origin (about:blank) has no storage
    }
    return found;
  };
  let last = "";
  const report = (event) => {
    const seen = { url: location.href, js: held(), storage: storage() };
    const text = JSON.stringify(seen);
    if (event === "poll" && text === last) return;
    last = text;
    window.__tokenpathLab({ event, ...seen }).catch(() => {});
  };
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function patched(...args) {
      const result = original.apply(this, args);
      report(name);
      return result;
    };
  }
  addEventListener("hashchange", () => report("hashchange"));
  addEventListener("DOMContentLoaded", () => report("loaded"));
  Object.defineProperty(window, "__tokenpathLabFinal", { value: () => report("final") });
  report("navigation");
  setInterval(() => report("poll"), 100);
})();
