// tokenpath browser app: implicit or authorization code + PKCE, no server of its own.
//
// Rules this file keeps (RFC 9700 §2.1, §4.2, §4.3; OAuth 2.0 for Browser-Based Apps):
// - the access token lives only in the `accessToken` variable below: never in localStorage,
//   sessionStorage, a cookie or the URL;
// - the response (query or fragment) is read once and removed from the address bar with
//   history.replaceState before anything else runs;
// - `state` is one-time and checked, `iss` must equal the configured issuer (RFC 9207);
// - only the in-flight `state`, `nonce`, PKCE verifier and chosen mode sit in sessionStorage,
//   for the length of one redirect, and are deleted when the response arrives;
// - with `openid` in scope, the ID token is checked by this file's own code before its claims
//   are shown (OpenID Connect Core §3.1.3.7): ES256 signature with WebCrypto against the
//   issuer's JWKS (a JWS ES256 signature is raw r||s, the format WebCrypto verifies), `typ`,
//   `iss`, `aud`/`azp`, `exp`, `nonce`.
"use strict";

(() => {
  let accessToken = null;
  let mode = null;
  let config = null;
  let idClaims = null;
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

  function b64urlBytes(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  function b64urlJson(text) {
    return JSON.parse(new TextDecoder().decode(b64urlBytes(text)));
  }

  const wantsIdToken = () => config.scope.split(" ").includes("openid");

  async function checkIdToken(idToken, meta, nonce, clientId) {
    const [h, p, sig] = idToken.split(".");
    if (!sig) throw new Error("the ID token is not a JWS");
    const header = b64urlJson(h);
    if (header.alg !== "ES256") throw new Error("the ID token is not signed with ES256");
    if (header.typ && header.typ.toLowerCase() !== "jwt") throw new Error("the ID token has the wrong typ");
    const jwks = await (await fetch(meta.jwks_uri)).json();
    const jwk = jwks.keys.find((k) => k.kid === header.kid && k.kty === "EC" && k.crv === "P-256");
    if (!jwk) throw new Error("the ID token's key is not in the issuer's JWKS");
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const signed = new TextEncoder().encode(`${h}.${p}`);
    const valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" }, key, b64urlBytes(sig), signed,
    );
    if (!valid) throw new Error("the ID token's signature does not verify");
    const claims = b64urlJson(p);
    if (claims.iss !== config.issuer) throw new Error("the ID token's iss is not the issuer");
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(clientId)) throw new Error("the ID token was issued to another client");
    if (aud.length > 1 && claims.azp !== clientId) throw new Error("the ID token's azp is not this client");
    if (typeof claims.exp !== "number" || claims.exp <= Date.now() / 1000 - 60) {
      throw new Error("the ID token has expired");
    }
    if (claims.nonce !== nonce) throw new Error("the ID token's nonce is not the one this page sent");
    return claims;
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
    if (wantsIdToken()) {
      pending.nonce = randomString(24);
      params.set("nonce", pending.nonce);
    }
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
    if (wantsIdToken()) {
      if (!body.id_token) throw new Error("openid was asked for, but no ID token came back");
      idClaims = await checkIdToken(body.id_token, meta, pending.nonce, config.pkce_client_id);
    }
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
    if (idClaims) {
      $("id-token").hidden = false;
      $("id-claims").textContent = JSON.stringify(idClaims, null, 2);
    }
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
    idClaims: () => idClaims,
    mode: () => mode,
  });

  main().catch((e) => showError(e.message));
})();
