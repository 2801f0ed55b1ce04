// oauth4webapi (v3), unmodified, signs in with a pushed authorization request (RFC 9126).
//
//   node oauth4webapi_flow.mjs '<json options>'
//
// options: {issuer, client_id, client_secret, redirect_uri, scope, dpop, api}; client_secret
// null for a public client (token endpoint authentication "none"); dpop true for DPoP-bound
// tokens (RFC 9449); api, with dpop, a resource server to call GET <api>/api/me at with them.
//
// The conversation with the test is one JSON object per line:
//   stdout  {"authorization_url": "...", "pushed": {...}}   a person must now sign in there
//   stdin   the callback URL the authorization server redirected to
//   stdout  {"claims": {...}, "token_type": "...", ...}      or {"error": "...", ...}, exit 1
//
// The library does the protocol: discovery with its issuer check, the push to
// pushed_authorization_request_endpoint with client authentication, the authorization URL with
// client_id and request_uri alone, state and iss in the response (RFC 9207), PKCE, and the ID
// token's checks (signature, iss, aud, exp, iat, nonce). The only option is
// allowInsecureRequests, because the test server speaks http on loopback.
//
// Sender-constrained tokens (RFC 9449) slot in at one place: `dpopHandle` returns the
// library's DPoP handle when asked, and every request below passes it on: the push (which binds
// the code to the key, §10.1), the token request and the API call, each retried once when the
// server answers use_dpop_nonce (the handle keeps the nonce it was given).
import { webcrypto } from "node:crypto";
import { createInterface } from "node:readline";

// Node 18 (Debian 12's nodejs) has Web Crypto only as a module; the library expects the globals
// that Node 20 and later define, so they are set before it is loaded.
globalThis.crypto ??= webcrypto;
globalThis.CryptoKey ??= webcrypto.CryptoKey;
const oauth = await import("oauth4webapi");

const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function oneLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error("stdin closed before the callback URL arrived");
}

async function dpopHandle(options, client) {
  if (!options.dpop) return undefined;
  return oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
}

async function onceMoreForNonce(DPoP, call) {
  try {
    return await call();
  } catch (error) {
    if (!DPoP || !oauth.isDPoPNonceError(error)) throw error;
    return call();
  }
}

async function callApi(options, accessToken, DPoP, insecure) {
  if (!options.api) return null;
  const url = new URL(`${options.api}/api/me`);
  const response = await onceMoreForNonce(DPoP, () =>
    oauth.protectedResourceRequest(accessToken, "GET", url, new Headers(), null, { ...insecure, DPoP }),
  );
  return { status: response.status, body: await response.json() };
}

async function main() {
  const options = JSON.parse(process.argv[2]);
  const insecure = { [oauth.allowInsecureRequests]: true };
  const issuer = new URL(options.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, insecure),
  );
  const client = { client_id: options.client_id };
  const auth = options.client_secret ? oauth.ClientSecretBasic(options.client_secret) : oauth.None();
  const DPoP = await dpopHandle(options, client);

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const parameters = {
    response_type: "code",
    redirect_uri: options.redirect_uri,
    scope: options.scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  };
  let pushedResponse;
  const pushed = await onceMoreForNonce(DPoP, async () => {
    pushedResponse = await oauth.pushedAuthorizationRequest(as, client, auth, parameters, {
      ...insecure,
      DPoP,
    });
    return oauth.processPushedAuthorizationResponse(as, client, pushedResponse);
  });
  const authorizationUrl = new URL(as.authorization_endpoint);
  authorizationUrl.searchParams.set("client_id", client.client_id);
  authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
  say({ authorization_url: authorizationUrl.href, pushed, status: pushedResponse.status });

  const callback = new URL(await oneLine());
  const answer = oauth.validateAuthResponse(as, client, callback, state);
  const tokens = await onceMoreForNonce(DPoP, async () => {
    const tokenResponse = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      answer,
      options.redirect_uri,
      verifier,
      { ...insecure, DPoP },
    );
    return oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
      expectedNonce: nonce,
      requireIdToken: true,
    });
  });
  say({
    claims: oauth.getValidatedIdTokenClaims(tokens),
    token_type: tokens.token_type,
    scope: tokens.scope ?? null,
    issuer: as.issuer,
    par_endpoint: as.pushed_authorization_request_endpoint,
    access_token: options.dpop ? tokens.access_token : undefined,
    api: await callApi(options, tokens.access_token, DPoP, insecure),
  });
}

async function describe(cause) {
  if (cause instanceof Response) {
    return { status: cause.status, url: cause.url, body: await cause.text().catch(() => "") };
  }
  return cause === undefined ? null : String(cause);
}

main().catch(async (error) => {
  say({ error: String(error?.message ?? error), code: error?.code ?? null, cause: await describe(error?.cause) });
  process.exit(1);
});
