// openid-client (v6), unmodified, signs in against an issuer it knows only by URL.
//
//   node openid_client_flow.mjs '<json options>'
//
// options: {issuer, redirect_uri, scope, client_id, client_secret} for a client registered by an
// operator, or {issuer, redirect_uri, scope, initial_access_token, client_name} to register one
// first (RFC 7591 through dynamicClientRegistration).
//
// The conversation with the test is one JSON object per line:
//   stdout  {"authorization_url": "...", "client_id": "..."}   a person must now sign in there
//   stdin   the callback URL the authorization server redirected to
//   stdout  {"claims": {...}, "userinfo": {...}, ...}           or {"error": "...", ...}, exit 1
//
// Everything the library validates stays switched on: discovery's issuer match, state, iss in the
// authorization response (RFC 9207), PKCE, and the ID token's signature, iss, aud, exp, iat and
// nonce (OIDC Core §3.1.3.7), and userinfo's sub against the ID token's (§5.3.2). The only
// option is allowInsecureRequests, because the test server speaks http on loopback.
import { webcrypto } from "node:crypto";
import { createInterface } from "node:readline";

// Node 18 (Debian 12's nodejs) has Web Crypto only as a module; the library expects the globals
// that Node 20 and later define, so they are set before it is loaded.
globalThis.crypto ??= webcrypto;
globalThis.CryptoKey ??= webcrypto.CryptoKey;
const client = await import("openid-client");

const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function oneLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error("stdin closed before the callback URL arrived");
}

async function configure(options) {
  const insecure = { execute: [client.allowInsecureRequests] };
  const issuer = new URL(options.issuer);
  if (options.initial_access_token === undefined) {
    return client.discovery(issuer, options.client_id, options.client_secret, undefined, insecure);
  }
  const metadata = {
    client_name: options.client_name,
    redirect_uris: [options.redirect_uri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    // openid-client authenticates with client_secret_post unless told otherwise; say so
    token_endpoint_auth_method: "client_secret_post",
    scope: options.scope,
  };
  return client.dynamicClientRegistration(issuer, metadata, undefined, {
    ...insecure,
    initialAccessToken: options.initial_access_token,
  });
}

async function main() {
  const options = JSON.parse(process.argv[2]);
  const config = await configure(options);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirect_uri,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    nonce,
    state,
  });
  const registered = config.clientMetadata();
  say({ authorization_url: authorizationUrl.href, client_id: registered.client_id });

  const callback = new URL(await oneLine());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  say({
    claims,
    userinfo,
    token_type: tokens.token_type,
    scope: tokens.scope ?? null,
    issuer: config.serverMetadata().issuer,
    client_id: registered.client_id,
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
