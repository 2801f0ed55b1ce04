// A browser app that uses oidc-client-ts as its documentation shows, with the user kept in
// memory only: the access token never reaches localStorage or sessionStorage. Only the
// short-lived sign-in state (state, PKCE verifier) goes to Web Storage, because the page is left
// for the authorization server and must find it again on return; signinCallback removes it.
const { UserManager, WebStorageStateStore, InMemoryWebStorage } = oidc;

const manager = new UserManager({
  authority: window.interopConfig.authority,
  client_id: window.interopConfig.client_id,
  redirect_uri: window.interopConfig.redirect_uri,
  response_type: "code",
  scope: "openid profile email",
  // the profile claims come from /userinfo: in the code flow the ID token names the user only
  // (OpenID Connect Core §5.4); the library checks that userinfo's sub is the ID token's
  loadUserInfo: true,
  userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
});

const finish = (state, value) => {
  window.interop[state === "signed-in" ? "result" : "error"] = value;
  document.getElementById("result").textContent = JSON.stringify(value, null, 2);
  document.body.dataset.state = state;
};

window.interop = { manager, result: null, error: null };
document.getElementById("sign-in").addEventListener("click", () => {
  manager.signinRedirect().catch((error) => finish("error", String(error)));
});

if (location.pathname === "/callback.html") {
  manager
    .signinCallback()
    .then(async (user) => {
      const kept = await manager.getUser();
      finish("signed-in", {
        profile: user.profile,
        token_type: user.token_type,
        scope: user.scope,
        access_token: user.access_token,
        id_token: user.id_token,
        kept_in_memory: kept !== null && kept.access_token === user.access_token,
      });
    })
    .catch((error) => finish("error", String(error)));
}
