#!/usr/bin/env python3
"""Wire-compatibility check of a running Tessera server against python-keycloak and Authlib.

Environment:
  TESSERA_URL            base URL, e.g. http://127.0.0.1:8080
  TESSERA_REALM          realm name
  TESSERA_CLIENT_ID      confidential client id
  TESSERA_CLIENT_SECRET  its secret
  TESSERA_SCOPE          optional scope to request (must be allowed for the client)
  TESSERA_AUDIENCE       expected `aud` of tokens (default: account)

Exits 0 when every check passes, 1 otherwise.
"""

import os
import sys

from authlib.integrations.requests_client import OAuth2Session
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"FAIL: environment variable {name} is not set")
    return value


URL = env("TESSERA_URL").rstrip("/")
REALM = env("TESSERA_REALM")
CLIENT_ID = env("TESSERA_CLIENT_ID")
CLIENT_SECRET = env("TESSERA_CLIENT_SECRET")
SCOPE = os.environ.get("TESSERA_SCOPE") or None
AUDIENCE = env("TESSERA_AUDIENCE", "account")

passed, failed = 0, 0


def check(name, fn):
    """Runs one check; returns its result, or None after reporting the failure."""
    global passed, failed
    try:
        result = fn()
    except Exception as error:  # report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {type(error).__name__}: {error}")
        return None
    passed += 1
    print(f"ok   {name}")
    return result


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def assert_token_response(token):
    expect(isinstance(token, dict), f"token response is not a JSON object: {token!r}")
    expect(token.get("access_token"), f"no access_token in {sorted(token)}")
    expect(token.get("token_type") == "Bearer", f"token_type is {token.get('token_type')!r}, not 'Bearer'")
    expires_in = token.get("expires_in")
    expect(
        isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0,
        f"expires_in is {expires_in!r}, not a positive integer",
    )
    return token


keycloak = KeycloakOpenID(
    server_url=URL + "/", realm_name=REALM, client_id=CLIENT_ID, client_secret_key=CLIENT_SECRET
)


def discovery():
    config = keycloak.well_known()
    for field in ("issuer", "token_endpoint", "jwks_uri"):
        expect(config.get(field), f"discovery has no {field}")
    expect(config["issuer"].endswith(f"/realms/{REALM}"), f"issuer {config['issuer']!r} does not name the realm")
    return config


config = check("python-keycloak well_known() returns issuer, token_endpoint, jwks_uri", discovery)
issuer = config["issuer"] if config else None

extra = {"scope": SCOPE} if SCOPE else {}
token = check(
    "python-keycloak token(grant_type='client_credentials') (client_secret_post)",
    lambda: assert_token_response(keycloak.token(grant_type="client_credentials", **extra)),
)

check("python-keycloak certs() returns a non-empty JWKS", lambda: expect(keycloak.certs().get("keys"), "no keys"))


def verify(access_token):
    # decode_token fetches the realm's certs itself and checks the signature and `exp`.
    claims = keycloak.decode_token(access_token, check_claims={"iss": issuer, "aud": AUDIENCE, "exp": None})
    expect(claims.get("azp") == CLIENT_ID, f"azp is {claims.get('azp')!r}, not {CLIENT_ID!r}")
    return claims


if token and issuer:
    check("python-keycloak decode_token() verifies signature, iss = discovery issuer, aud", lambda: verify(token["access_token"]))
    tampered = token["access_token"][:-6] + ("AAAAAA" if not token["access_token"].endswith("AAAAAA") else "BBBBBB")

    def rejects_tampered():
        try:
            keycloak.decode_token(tampered)
        except Exception:
            return
        raise AssertionError("a token with a modified signature was accepted")

    check("python-keycloak decode_token() rejects a modified signature", rejects_tampered)


def wrong_secret_refused():
    wrong = KeycloakOpenID(server_url=URL + "/", realm_name=REALM, client_id=CLIENT_ID, client_secret_key=CLIENT_SECRET + "x")
    try:
        wrong.token(grant_type="client_credentials")
    except KeycloakError as error:
        expect(error.response_code == 401, f"status {error.response_code}, expected 401")
        return
    raise AssertionError("a wrong secret was accepted")


check("python-keycloak token() with a wrong secret is refused with 401", wrong_secret_refused)

if config:
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(CLIENT_ID, CLIENT_SECRET, token_endpoint_auth_method=method, scope=SCOPE)
        authlib_token = check(
            f"authlib OAuth2Session fetch_token ({method})",
            lambda: assert_token_response(dict(session.fetch_token(config["token_endpoint"], grant_type="client_credentials"))),
        )
        if authlib_token and issuer:
            check(f"authlib token ({method}) verifies against the JWKS", lambda: verify(authlib_token["access_token"]))

print(f"compat: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
