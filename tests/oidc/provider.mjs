// A real OpenID provider on a loopback port for the single sign-on tests (tests/sso/).
//
//   node provider.mjs
//
// Environment:
//   ACCOUNTS_FILE   JSON file {"<login>": {claims}}; read again at every look-up, so a test can
//                   change someone's groups between two sign-ins.
//   REDIRECT_URIS   space-separated callback addresses of the relying party (the live server's
//                   port is only known once it runs).
//   CLIENT_SECRET   the secret of both clients.
//
// Two clients: "archlens", and "archlens-short", whose authorization codes last two seconds
// (the tests hold a callback back for longer to see an expired code refused).
// The provider's own development login page accepts any login name with any password; the
// name picks the account in ACCOUNTS_FILE. There is no consent page. It prints one line, {"issuer": "http://127.0.0.1:N"},
// once it listens.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const accountsFile = process.env.ACCOUNTS_FILE;
const redirectUris = (process.env.REDIRECT_URIS || '').split(' ').filter(Boolean);
const clientSecret = process.env.CLIENT_SECRET || 'archlens-test-secret';
const SHORT_CODE_SECONDS = 2;

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'tests', alg: 'RS256', use: 'sig' };

const client = (clientId) => ({
  client_id: clientId,
  client_secret: clientSecret,
  redirect_uris: redirectUris,
  post_logout_redirect_uris: redirectUris.map((uri) => new URL('/', uri).href),
  token_endpoint_auth_method: 'client_secret_post',
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [client('archlens'), client('archlens-short')],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['archlens-tests-cookie-key'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    ttl: {
      AuthorizationCode: (ctx, code, oidcClient) =>
        oidcClient.clientId === 'archlens-short' ? SHORT_CODE_SECONDS : 60,
      AccessToken: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    // The clients are Archlens itself: consent is taken as given, so there is no consent page.
    async loadExistingGrant(ctx) {
      const { client, session, result, params } = ctx.oidc;
      const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      if (!session.accountId) {
        return undefined;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(params.scope);
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      const claims = accounts()[id];
      if (!claims) {
        return undefined;
      }
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
  });
  // A failure inside the provider shows in the test's captured output.
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
