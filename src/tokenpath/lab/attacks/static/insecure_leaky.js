// DELIBERATELY VULNERABLE (tokenpath lab only): a careless page. It keeps the authorization
// response in its address (and, for a token, "bookmarks" it in the query so a reload keeps the
// session, the RFC 6750 §2.3 habit RFC 9700 §4.3.2 warns about), and loads a third-party image
// while the server sends Referrer-Policy: unsafe-url. The same page runs implicit or code + PKCE.
"use strict";

(() => {
  const cfg = document.getElementById("lab-config").dataset;
  const PENDING = "lab.leaky.pending";
  let token = null;
  const state = { done: false };
  const out = document.getElementById("result");

  function b64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function thirdParty() {
    const img = new Image(1, 1);
    img.alt = "";
    img.onload = img.onerror = () => {
      state.done = true;
    };
    img.src = cfg.pixel;
    document.getElementById("third-party").appendChild(img);
  }

  async function start(flow) {
    const params = new URLSearchParams({
      redirect_uri: cfg.redirectUri,
      scope: "notes:read",
      state: b64url(crypto.getRandomValues(new Uint8Array(16))),
    });
    const pending = { flow, state: params.get("state") };
    if (flow === "implicit") {
      params.set("response_type", "token");
      params.set("client_id", cfg.clientId);
    } else {
      pending.verifier = b64url(crypto.getRandomValues(new Uint8Array(48)));
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pending.verifier));
      params.set("response_type", "code");
      params.set("client_id", cfg.pkceClientId);
      params.set("code_challenge", b64url(digest));
      params.set("code_challenge_method", "S256");
    }
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    window.location.assign(`${cfg.issuer}/authorize?${params}`);
  }

  async function redeem(code, pending) {
    const res = await fetch(`${cfg.issuer}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: cfg.redirectUri,
        client_id: cfg.pkceClientId,
        code_verifier: pending.verifier,
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error);
    return body.access_token;
  }

  async function main() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const query = new URLSearchParams(window.location.search);
    if (fragment.has("access_token")) {
      // careless: move the token into the query "so a reload keeps the session"
      window.location.replace(`${cfg.redirectUri}?access_token=${fragment.get("access_token")}`);
      return;
    }
    if (query.has("access_token")) {
      token = query.get("access_token");
    } else if (query.has("code")) {
      const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
      if (pending && pending.state === query.get("state")) token = await redeem(query.get("code"), pending);
    } else if (query.get("start")) {
      await start(query.get("start"));
      return;
    }
    out.textContent = token ? "Signed in; the page's address still holds the response." : "Not signed in.";
    thirdParty();
  }

  document.getElementById("start-implicit").addEventListener("click", () => start("implicit"));
  const code = document.getElementById("start-code");
  if (code) code.addEventListener("click", () => start("code"));
  window.labInsecurePage = Object.freeze({ heldToken: () => token, done: () => state.done });
  main().catch((e) => {
    out.textContent = `Error: ${e.message}`;
    state.done = true;
  });
})();
