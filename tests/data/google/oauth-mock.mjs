// Starts oauth2-mock-server (a real OAuth 2.0 authorization server) for the Google OAuth tests,
// with the behaviour Google has and the mock lacks:
// - refresh tokens are only valid if this server issued them and they were not revoked
//   (POST /revoke?token=..., as Google's revoke endpoint); otherwise `invalid_grant`;
// - the code exchange requires PKCE (code_verifier) and the client secret;
// - /authorize refuses (error=invalid_request in the redirect) a request without
//   access_type=offline, prompt=consent, code_challenge_method=S256 and a state.
// Usage: node oauth-mock.mjs <path to oauth2-mock-server/dist/index.mjs> <port> <client secret>
// Prints one JSON line {"issuer": URL} when listening.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const [modPath, port, secret] = process.argv.slice(2);
const { OAuth2Server } = await import(pathToFileURL(modPath).href);

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const issued = new Set();

// Two tokens signed in the same second would be byte-identical; Google's never are.
server.service.on('beforeTokenSigning', (token) => {
  token.payload.jti = randomUUID();
});
const revoked = new Set();

server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const q = req.query;
  const missing = [];
  if (q.access_type !== 'offline') missing.push('access_type=offline');
  if (q.prompt !== 'consent') missing.push('prompt=consent');
  if (q.code_challenge_method !== 'S256' || !q.code_challenge) missing.push('PKCE S256');
  if (!q.state) missing.push('state');
  if (missing.length) {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'invalid_request');
    redirect.url.searchParams.set('error_description', 'missing ' + missing.join(', '));
  }
});

server.service.on('beforeResponse', (resp, req) => {
  const b = req.body;
  const fail = (status, error, description) => {
    resp.statusCode = status;
    resp.body = { error, error_description: description };
  };
  if (b.client_secret !== secret) return fail(401, 'invalid_client', 'Unauthorized');
  if (b.grant_type === 'authorization_code' && !b.code_verifier) {
    return fail(400, 'invalid_grant', 'Missing code verifier.');
  }
  if (b.grant_type === 'refresh_token') {
    if (!issued.has(b.refresh_token) || revoked.has(b.refresh_token)) {
      return fail(400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    // Google does not rotate refresh tokens: the refresh answer carries none.
    delete resp.body.refresh_token;
    if (b.client_id === 'short-lived') resp.body.expires_in = 60;
    return;
  }
  if (resp.body.refresh_token) issued.add(resp.body.refresh_token);
});

server.service.on('beforeRevoke', (resp, req) => {
  const token = new URL(req.url, 'http://x').searchParams.get('token');
  if (!token) { resp.statusCode = 400; return; }
  revoked.add(token);
});

await server.start(Number(port), '127.0.0.1');
console.log(JSON.stringify({ issuer: server.issuer.url }));
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
