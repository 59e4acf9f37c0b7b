// A local OpenID Connect provider for the single sign-on tests (node's oidc-provider package).
//
// Test use only: plain http on 127.0.0.1, development signing keys, one static confidential
// client, people read from a JSON file the tests rewrite between sign-ins:
//   {"alice": {"password": "...", "name": "Alice", "groups": ["leads"]}, ...}
// Its own sign-in and consent pages are small HTML forms (no script), which the tests fill in
// as a person would. On start it prints one JSON line: {"issuer": "http://127.0.0.1:<port>"}.
//
// Environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (space-separated),
// OIDC_USERS_FILE.

import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.js: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUris = env('OIDC_REDIRECT_URIS').split(' ');
const usersFile = env('OIDC_USERS_FILE');

const people = () => JSON.parse(readFileSync(usersFile, 'utf8'));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const send = (res, status, html) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
};

function configuration() {
  return {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    // Claims each scope releases; `groups` carries the person's groups, as many providers do.
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key-not-a-secret'] },
    async findAccount(ctx, id) {
      const person = people()[id];
      if (!person) return undefined;
      return {
        accountId: id,
        async claims() {
          const current = people()[id] || {};
          return {
            sub: id,
            name: current.name || id,
            preferred_username: id,
            email: `${id}@example.test`,
            email_verified: true,
            groups: current.groups || [],
          };
        },
      };
    },
  };
}

async function interaction(provider, req, res, path) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt } = details;
  if (req.method === 'GET' && path === `/interaction/${uid}`) {
    if (prompt.name === 'login') {
      return send(res, 200, page('Sign in to the test provider', `
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`));
    }
    return send(res, 200, page('Allow access', `
<p>Allow ${escape(details.params.client_id)} to know who you are and your groups?</p>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>`));
  }
  if (req.method === 'POST' && path === `/interaction/${uid}/login`) {
    const form = await readForm(req);
    const person = people()[form.get('username')];
    if (!person || person.password !== form.get('password')) {
      return send(res, 200, page('Sign in to the test provider', `
<p>Wrong username or password.</p>
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`));
    }
    return provider.interactionFinished(req, res, { login: { accountId: form.get('username') } }, {
      mergeWithLastSubmission: false,
    });
  }
  if (req.method === 'POST' && path === `/interaction/${uid}/confirm`) {
    await readForm(req);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  }
  return send(res, 404, page('Not found', ''));
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (!path.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, path).catch((error) => {
      console.error(error);
      if (!res.headersSent) send(res, 400, page('Sign-in failed', `<p>${escape(error.message)}</p>`));
    });
  });
  console.log(JSON.stringify({ issuer }));
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
