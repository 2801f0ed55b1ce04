// tokenpath browser app: implicit or authorization code + PKCE, no server of its own.
//
// Code + PKCE obtains DPoP-bound tokens (RFC 9449) when the server advertises ES256 for DPoP:
// - the key is a WebCrypto ECDSA P-256 pair generated with `extractable: false`, so script
//   (ours or an injected one) can sign with it but never read the private key out; it sits in
//   IndexedDB only across the redirect to the server and back (a CryptoKey is stored as an
//   opaque object, still not extractable), then in memory, and is deleted with the token;
// - the authorization request names the key (`dpop_jkt`, §10), and /token and the API get a
//   fresh proof per request (`htm`, `htu`, `iat`, `jti`, and `ath` for the API); a
//   `use_dpop_nonce` answer is retried once with the `DPoP-Nonce` it carried (§8, §9);
// - a token stolen from this page is therefore useless without the key: the "replay" button
//   shows the API refusing it as Bearer and with another key's proof.
// Implicit cannot use DPoP: its token arrives in the redirect, with no request to prove on.
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
  let dpopKey = null;
  let tokenType = null;
  const dpopNonces = {};
  const PENDING = "tokenpath.pending";
  const DPOP_DB = "tokenpath-dpop";

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

  // --- DPoP (RFC 9449): a non-extractable key, proofs, nonces --------------------------------

  function keyStore(mode, act) {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(DPOP_DB, 1);
      open.onupgradeneeded = () => open.result.createObjectStore("keys");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction("keys", mode);
        const request = act(tx.objectStore("keys"));
        tx.oncomplete = () => { db.close(); resolve(request.result); };
        tx.onerror = () => { db.close(); reject(tx.error); };
      };
    });
  }

  const saveKey = (pair) => keyStore("readwrite", (store) => store.put(pair, "pending"));
  const takeKey = async () => {
    const pair = await keyStore("readonly", (store) => store.get("pending"));
    await dropKey();
    return pair || null;
  };
  const dropKey = () => keyStore("readwrite", (store) => store.delete("pending"));

  function newDpopKey() {
    // extractable: false: the private key can sign, never be exported (the public one always can)
    return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  }

  async function publicJwk(pair) {
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return { kty, crv, x, y };
  }

  async function thumbprint(pair) {
    // RFC 7638: the required members in lexical order, no whitespace
    const { crv, kty, x, y } = await publicJwk(pair);
    const canonical = JSON.stringify({ crv, kty, x, y });
    return b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  }

  const b64urlText = (text) => b64url(new TextEncoder().encode(text));

  async function dpopProof(pair, method, url, { token, nonce } = {}) {
    const header = { typ: "dpop+jwt", alg: "ES256", jwk: await publicJwk(pair) };
    const claims = {
      jti: randomString(18),
      htm: method,
      htu: url.split(/[?#]/)[0],
      iat: Math.floor(Date.now() / 1000),
    };
    if (token) claims.ath = await s256(token); // base64url SHA-256 of the token (§4.2)
    if (nonce) claims.nonce = nonce;
    const input = `${b64urlText(JSON.stringify(header))}.${b64urlText(JSON.stringify(claims))}`;
    // WebCrypto's ECDSA signature is raw r||s: exactly the JWS ES256 format
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(input),
    );
    return `${input}.${b64url(signature)}`;
  }

  async function asksForNonce(res) {
    if (!res.headers.get("DPoP-Nonce")) return false;
    if (res.status === 401) {
      return (res.headers.get("WWW-Authenticate") || "").includes('error="use_dpop_nonce"');
    }
    if (res.status !== 400) return false;
    const body = await res.clone().json().catch(() => ({}));
    return body.error === "use_dpop_nonce";
  }

  async function dpopFetch(pair, url, init, token) {
    // a proof per request; one retry when the server asks for its nonce (RFC 9449 §8, §9)
    const origin = new URL(url).origin;
    for (let attempt = 0; ; attempt += 1) {
      const headers = new Headers(init.headers || {});
      const proof = await dpopProof(pair, init.method || "GET", url, { token, nonce: dpopNonces[origin] });
      headers.set("DPoP", proof);
      if (token) headers.set("Authorization", `DPoP ${token}`);
      const res = await fetch(url, { ...init, headers });
      const retry = attempt === 0 && (await asksForNonce(res));
      if (res.headers.get("DPoP-Nonce")) dpopNonces[origin] = res.headers.get("DPoP-Nonce");
      if (!retry) return res;
    }
  }

  const offersDpop = (meta) => (meta.dpop_signing_alg_values_supported || []).includes("ES256");

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
      if (offersDpop(meta)) {
        const pair = await newDpopKey();
        await saveKey(pair);
        pending.dpop = true;
        params.set("dpop_jkt", await thumbprint(pair)); // the code is bound to this key (§10)
      }
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
      tokenType = params.get("token_type");
      return "in the URL fragment of the redirect (#access_token=…), read by this page's script";
    }
    const meta = await discover();
    const pair = pending.dpop ? await takeKey() : null;
    if (pending.dpop && !pair) throw new Error("the DPoP key of this sign-in is gone; sign in again");
    const init = {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: config.redirect_uri,
        client_id: config.pkce_client_id,
        code_verifier: pending.verifier,
      }),
    };
    const res = pair ? await dpopFetch(pair, meta.token_endpoint, init) : await fetch(meta.token_endpoint, init);
    const body = await res.json();
    if (!res.ok) throw new Error(`${body.error}: ${body.error_description || ""}`);
    if (pair && body.token_type !== "DPoP") throw new Error("a DPoP proof was sent, but the token is not DPoP-bound");
    dpopKey = pair;
    tokenType = body.token_type;
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

  function callApi(path) {
    const url = `${config.api_base}${path}`;
    if (dpopKey) return dpopFetch(dpopKey, url, {}, accessToken);
    return fetch(url, { headers: { Authorization: `Bearer ${accessToken}` } });
  }

  async function answer(res) {
    const challenge = res.headers.get("WWW-Authenticate");
    const body = await res.json().catch(() => ({}));
    const lines = [`${res.status}`];
    if (challenge) lines.push(`WWW-Authenticate: ${challenge}`);
    lines.push(JSON.stringify(body, null, 2));
    return lines.join("\n");
  }

  function describeBinding() {
    if (mode === "implicit") {
      return "Bearer: not bound to any key. Implicit cannot use DPoP: the token arrives in the " +
        "redirect, with no request on which this page could prove a key.";
    }
    const jkt = (claimsOf(accessToken).cnf || {}).jkt;
    if (!dpopKey || !jkt) return `${tokenType}: not bound to a key (the server offers no DPoP).`;
    return `token_type ${tokenType}, bound to this page's key: cnf.jkt = ${jkt}. ` +
      "The private key was created non-extractable: script can sign with it, nobody can copy it.";
  }

  async function replayWithoutKey() {
    // what a thief holding only the token gets: the token alone as Bearer, and the token with
    // a proof signed by another key; next to it, the page's own call with its key
    const url = `${config.api_base}/api/me`;
    const asBearer = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}` } });
    $("replay-bearer").textContent = await answer(asBearer);
    const otherKey = await newDpopKey();
    const proof = await dpopProof(otherKey, "GET", url, { token: accessToken });
    const asOther = await fetch(url, { headers: { Authorization: `DPoP ${accessToken}`, DPoP: proof } });
    $("replay-other-key").textContent = await answer(asOther);
    $("replay-own-key").textContent = await answer(await callApi("/api/me"));
    $("replay-results").hidden = false;
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
    $("binding").textContent = describeBinding();
    $("replay").hidden = !dpopKey;
    const res = await callApi("/api/me");
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
      dpopKey = null;
      dropKey().finally(() => window.location.assign("/"));
    });
    $("replay-button").addEventListener("click", () => replayWithoutKey().catch((e) => showError(e.message)));
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
    tokenType: () => tokenType,
    // the key itself stays inside: only whether there is one, and that it cannot be exported
    dpopKeyExtractable: () => (dpopKey ? dpopKey.privateKey.extractable : null),
  });

  main().catch((e) => showError(e.message));
})();
