// tokenpath browser app: implicit or authorization code + PKCE, no server of its own.
//
// Rules this file keeps (RFC 9700 §2.1, §4.2, §4.3; OAuth 2.0 for Browser-Based Apps):
// - the access token lives only in the `accessToken` variable below: never in localStorage,
//   sessionStorage, a cookie or the URL;
// - the response (query or fragment) is read once and removed from the address bar with
//   history.replaceState before anything else runs;
// - `state` is one-time and checked, `iss` must equal the configured issuer (RFC 9207);
// - only the in-flight `state`, PKCE verifier and chosen mode sit in sessionStorage, for the
//   length of one redirect, and are deleted when the response arrives.
"use strict";

(() => {
  let accessToken = null;
  let mode = null;
  let config = null;
  const PENDING = "tokenpath.pending";

  const $ = (id) => document.getElementById(id);

  function b64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(n) {
    return b64url(crypto.getRandomValues(new Uint8Array(n)));
  }

  async function s256(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return b64url(digest);
  }

  function showError(message) {
    const el = $("error");
    el.textContent = message;
    el.hidden = false;
  }

  async function discover() {
    const res = await fetch(`${config.issuer}/.well-known/oauth-authorization-server`);
    const meta = await res.json();
    if (meta.issuer !== config.issuer) throw new Error("discovery names another issuer");
    return meta;
  }

  async function start(chosen) {
    const meta = await discover();
    const state = randomString(24);
    const params = new URLSearchParams({
      client_id: chosen === "implicit" ? config.implicit_client_id : config.pkce_client_id,
      redirect_uri: config.redirect_uri,
      scope: config.scope,
      state,
    });
    const pending = { state, mode: chosen };
    if (chosen === "implicit") {
      params.set("response_type", "token");
    } else {
      pending.verifier = randomString(48);
      params.set("response_type", "code");
      params.set("code_challenge", await s256(pending.verifier));
      params.set("code_challenge_method", "S256");
    }
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    window.location.assign(`${meta.authorization_endpoint}?${params}`);
  }

  function takeResponse() {
    // Read the response once, then wipe it from the address bar (and so from this history entry).
    const fromFragment = new URLSearchParams(window.location.hash.slice(1));
    const fromQuery = new URLSearchParams(window.location.search);
    const source = fromFragment.has("state") || fromFragment.has("error") ? fromFragment : fromQuery;
    if (!source.has("state") && !source.has("error")) return null;
    history.replaceState(null, "", window.location.pathname);
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    return { params: source, pending, inFragment: source === fromFragment };
  }

  async function finish({ params, pending, inFragment }) {
    if (!pending || params.get("state") !== pending.state) {
      throw new Error("state does not match a request this page made; ignoring the response");
    }
    if (params.get("iss") !== config.issuer) {
      throw new Error("iss does not match the issuer (mix-up defence, RFC 9207)");
    }
    if (params.has("error")) {
      throw new Error(`${params.get("error")}: ${params.get("error_description") || ""}`);
    }
    mode = pending.mode;
    if (mode === "implicit") {
      if (!inFragment) throw new Error("a token response must arrive in the fragment");
      accessToken = params.get("access_token");
      return "in the URL fragment of the redirect (#access_token=…), read by this page's script";
    }
    const meta = await discover();
    const res = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: config.redirect_uri,
        client_id: config.pkce_client_id,
        code_verifier: pending.verifier,
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${body.error}: ${body.error_description || ""}`);
    accessToken = body.access_token;
    return "a one-time code in the query (?code=…), exchanged by this page at the token endpoint with its PKCE verifier";
  }

  function claimsOf(token) {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  }

  async function show(how) {
    $("choose").hidden = true;
    $("status").hidden = false;
    $("mode-name").textContent = mode === "implicit" ? "the implicit flow" : "code + PKCE";
    $("where").textContent =
      "In a JavaScript variable of this page only. Not in localStorage, sessionStorage, " +
      "cookies or the URL; reloading the page forgets it.";
    $("how").textContent = how;
    $("claims").textContent = JSON.stringify(claimsOf(accessToken), null, 2);
    const res = await fetch(`${config.api_base}/api/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    $("api").textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  }

  async function main() {
    const response = takeResponse();
    config = await (await fetch("/config.json")).json();
    $("login-pkce").addEventListener("click", () => start("pkce").catch((e) => showError(e.message)));
    if (config.implicit_client_id) {
      $("login-implicit").addEventListener("click", () => start("implicit").catch((e) => showError(e.message)));
    } else {
      $("login-implicit").disabled = true;
      $("implicit-note").hidden = false;
    }
    $("forget").addEventListener("click", () => {
      accessToken = null;
      window.location.assign("/");
    });
    if (response) {
      try {
        await show(await finish(response));
      } catch (e) {
        showError(e.message);
      }
    }
  }

  // For tests and the flow lab: what this page holds, read-only.
  window.tokenpathSpa = Object.freeze({
    heldToken: () => accessToken,
    mode: () => mode,
  });

  main().catch((e) => showError(e.message));
})();
