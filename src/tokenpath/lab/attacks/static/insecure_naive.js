// DELIBERATELY VULNERABLE (tokenpath lab only): an implicit client that believes any access
// token that arrives in its URL fragment (RFC 9700 §4.6). With data-check="audience" it refuses
// a token issued to another client (RFC 9068 client_id), which is what this page lacks otherwise.
"use strict";

(() => {
  const cfg = document.getElementById("lab-config").dataset;
  const result = { done: false, signedInAs: null, refused: null };
  const out = document.getElementById("result");

  function finish(text) {
    out.textContent = text;
    result.done = true;
  }

  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (e) {
      return {};
    }
  }

  async function accept(token) {
    if (cfg.check === "audience" && claimsOf(token).client_id !== cfg.clientId) {
      result.refused = "the token was issued to another client";
      finish(`Refused: ${result.refused} (${claimsOf(token).client_id}).`);
      return;
    }
    const res = await fetch(`${cfg.api}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    const me = await res.json();
    if (!res.ok) {
      result.refused = `the API answered ${res.status}`;
      finish(`Refused: ${result.refused}.`);
      return;
    }
    result.signedInAs = me.sub;
    finish(`Signed in as subject ${me.sub} (the token came from client ${me.client_id}).`);
  }

  function start() {
    const params = new URLSearchParams({
      response_type: "token",
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      scope: "notes:read",
    }); // no state: the naive page checks nothing
    window.location.assign(`${cfg.issuer}/authorize?${params}`);
  }

  document.getElementById("start-implicit").addEventListener("click", start);
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (fragment.has("access_token")) {
    accept(fragment.get("access_token")).catch((e) => finish(`Error: ${e.message}`));
  } else {
    finish("Not signed in.");
  }
  window.labInsecurePage = Object.freeze({ result: () => ({ ...result }) });
})();
