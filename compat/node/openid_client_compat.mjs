// Wire-compatibility check of a running Tessera server against openid-client and jose.
//
// Environment:
//   TESSERA_URL            base URL, e.g. http://127.0.0.1:8080
//   TESSERA_REALM          realm name
//   TESSERA_CLIENT_ID      confidential client id
//   TESSERA_CLIENT_SECRET  its secret
//   TESSERA_SCOPE          optional scope to request (must be allowed for the client)
//   TESSERA_AUDIENCE       expected `aud` of tokens (default: account)
//
// Exits 0 when every check passes, 1 otherwise.
import * as client from "openid-client";
import * as jose from "jose";

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`FAIL: environment variable ${name} is not set`);
    process.exit(1);
  }
  return value;
}

const url = env("TESSERA_URL").replace(/\/+$/, "");
const realm = env("TESSERA_REALM");
const clientId = env("TESSERA_CLIENT_ID");
const clientSecret = env("TESSERA_CLIENT_SECRET");
const scope = process.env.TESSERA_SCOPE || undefined;
const audience = env("TESSERA_AUDIENCE", "account");

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    const result = await fn();
    passed += 1;
    console.log(`ok   ${name}`);
    return result;
  } catch (error) {
    failed += 1;
    const detail = error.status ? ` (HTTP ${error.status}${error.error ? `, ${error.error}` : ""})` : "";
    const cause = error.cause?.code ?? error.cause?.message;
    console.log(`FAIL ${name}: ${error.name}: ${error.message}${detail}${cause ? ` (${cause})` : ""}`);
    return undefined;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Plain http is fine for a server on a test machine; openid-client refuses it unless told.
const insecure = url.startsWith("http:") ? { execute: [client.allowInsecureRequests] } : undefined;
const issuerUrl = new URL(`${url}/realms/${realm}`);
const discover = (secret, auth) => client.discovery(issuerUrl, clientId, secret, auth, insecure);

const methods = [
  ["client_secret_post", undefined], // openid-client's default for a client with a secret
  ["client_secret_basic", client.ClientSecretBasic(clientSecret)],
];

for (const [method, auth] of methods) {
  const config = await check(`openid-client discovery (${method})`, async () => {
    const config = await discover(clientSecret, auth);
    const metadata = config.serverMetadata();
    expect(metadata.token_endpoint, "discovery has no token_endpoint");
    expect(metadata.jwks_uri, "discovery has no jwks_uri");
    return config;
  });
  if (!config) continue;
  const metadata = config.serverMetadata();

  const tokens = await check(`openid-client clientCredentialsGrant (${method})`, async () => {
    const tokens = await client.clientCredentialsGrant(config, scope ? { scope } : {});
    expect(typeof tokens.access_token === "string" && tokens.access_token, "no access_token");
    // openid-client lower-cases token_type; the server sends "Bearer".
    expect(tokens.token_type === "bearer", `token_type is ${JSON.stringify(tokens.token_type)}`);
    expect(typeof tokens.expires_in === "number" && tokens.expires_in > 0, `expires_in is ${JSON.stringify(tokens.expires_in)}`);
    expect(tokens.expiresIn() > 0, "expiresIn() is not positive");
    return tokens;
  });
  if (!tokens) continue;

  await check(`jose jwtVerify (${method}): signature via JWKS, iss = discovery issuer, aud = ${audience}`, async () => {
    const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
    const { payload } = await jose.jwtVerify(tokens.access_token, jwks, { issuer: metadata.issuer, audience });
    expect(payload.azp === clientId, `azp is ${JSON.stringify(payload.azp)}, not ${JSON.stringify(clientId)}`);
  });
}

await check("openid-client clientCredentialsGrant with a wrong secret is refused with 401", async () => {
  const config = await discover(`${clientSecret}x`);
  try {
    await client.clientCredentialsGrant(config, scope ? { scope } : {});
  } catch (error) {
    expect(error.status === 401, `refused with ${error.name} status ${error.status}, expected 401`);
    return;
  }
  throw new Error("a wrong secret was accepted");
});

console.log(`compat: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
