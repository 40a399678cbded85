// The official Node SDK (npm `plaid`) against the offline sandbox's binary: a Link-less flow
// a Node app makes, and a webhook verified with Node's own crypto, not this project's code.
//
//   node sandbox/tests/node/flow.js <node_modules with plaid> <sandbox base URL> <client id> <secret>
//
// Exits non-zero, naming the step, on the first thing that is not as Plaid documents it.
'use strict';
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const assert = require('assert/strict');

const [modules, basePath, clientId, secret] = process.argv.slice(2);
if (!secret) {
  console.error('usage: node flow.js <node_modules> <base URL> <client id> <secret>');
  process.exit(2);
}
const { Configuration, PlaidApi, Products, CountryCode } = require(path.join(path.resolve(modules), 'plaid'));

const plaid = new PlaidApi(
  new Configuration({
    basePath,
    baseOptions: {
      headers: { 'PLAID-CLIENT-ID': clientId, 'PLAID-SECRET': secret, 'Plaid-Version': '2020-09-14' },
      proxy: false,
    },
  }),
);

async function step(name, f) {
  try {
    const out = await f();
    console.log(`ok    ${name}`);
    return out;
  } catch (e) {
    const body = e.response ? JSON.stringify(e.response.data) : '';
    console.error(`FAIL  ${name}: ${e.message} ${body}`);
    process.exit(1);
  }
}

/// A local webhook receiver: `hooks.first(code)` resolves with the headers and raw body of the
/// first webhook with that code (Plaid also sends INITIAL_UPDATE and HISTORICAL_UPDATE when it
/// has pulled a new Item's transactions).
function receiver() {
  const received = [];
  const waiting = [];
  const settle = () => {
    for (const w of waiting.splice(0)) {
      const hit = received.find((d) => JSON.parse(d.body).webhook_code === w.code);
      if (hit) w.resolve(hit); else waiting.push(w);
    }
  };
  const first = (code) => new Promise((resolve) => { waiting.push({ code, resolve }); settle(); });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200).end();
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      settle();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/hook`, first })),
  );
}

(async () => {
  const hooks = await receiver();
  const linkToken = await step('linkTokenCreate', async () => {
    const r = await plaid.linkTokenCreate({
      client_name: 'Node app',
      language: 'en',
      country_codes: [CountryCode.Us],
      user: { client_user_id: 'node-user-1' },
      products: [Products.Transactions],
    });
    assert.match(r.data.link_token, /^link-sandbox-/);
    return r.data.link_token;
  });
  await step('linkTokenGet', async () => {
    const r = await plaid.linkTokenGet({ link_token: linkToken });
    assert.deepEqual(r.data.metadata.initial_products, ['transactions']);
  });
  const publicToken = await step('sandboxPublicTokenCreate', async () => {
    const r = await plaid.sandboxPublicTokenCreate({
      institution_id: 'ins_109508',
      initial_products: [Products.Transactions, Products.Auth, Products.Identity],
      options: { webhook: hooks.url },
    });
    assert.match(r.data.public_token, /^public-sandbox-/);
    return r.data.public_token;
  });
  const { access_token: accessToken, item_id: itemId } = await step('itemPublicTokenExchange', async () => {
    const r = await plaid.itemPublicTokenExchange({ public_token: publicToken });
    assert.match(r.data.access_token, /^access-sandbox-/);
    return r.data;
  });
  await step('exchange is single-use', async () => {
    await assert.rejects(plaid.itemPublicTokenExchange({ public_token: publicToken }), (e) => {
      assert.equal(e.response.status, 400);
      assert.equal(e.response.data.error_code, 'INVALID_PUBLIC_TOKEN');
      return true;
    });
  });
  await step('itemGet', async () => {
    const r = await plaid.itemGet({ access_token: accessToken });
    assert.equal(r.data.item.item_id, itemId);
    assert.equal(r.data.item.institution_id, 'ins_109508');
  });
  const accounts = await step('accountsGet', async () => {
    const r = await plaid.accountsGet({ access_token: accessToken });
    assert.equal(r.data.accounts[0].name, 'Plaid Checking');
    assert.equal(r.data.accounts[0].mask, '0000');
    return r.data.accounts;
  });
  await step('authGet', async () => {
    const r = await plaid.authGet({ access_token: accessToken });
    const checking = r.data.numbers.ach.find((n) => n.account_id === accounts[0].account_id);
    assert.equal(checking.account, '1111222233330000');
    assert.equal(checking.routing, '011401533');
    assert.equal(checking.wire_routing, '021000021');
  });
  await step('identityGet', async () => {
    const r = await plaid.identityGet({ access_token: accessToken });
    assert.deepEqual(r.data.accounts[0].owners[0].names, ['Alberta Bobbeth Charleson']);
  });
  const added = await step('transactionsSync (every page)', async () => {
    let cursor = undefined;
    let added = 0;
    let more = true;
    for (let page = 0; page < 100 && more; page++) {
      const r = await plaid.transactionsSync({ access_token: accessToken, cursor, count: 100 });
      added += r.data.added.length;
      cursor = r.data.next_cursor;
      more = r.data.has_more;
    }
    assert.ok(!more, 'the loop ended at 100 pages with has_more still true');
    assert.ok(added > 100, `${added} transactions`);
    return added;
  });
  await step('sandboxItemFireWebhook SYNC_UPDATES_AVAILABLE', async () => {
    const r = await plaid.sandboxItemFireWebhook({ access_token: accessToken, webhook_code: 'SYNC_UPDATES_AVAILABLE' });
    assert.equal(r.data.webhook_fired, true);
  });
  await step('the webhook verifies with Node crypto (ES256, body SHA-256)', async () => {
    const { headers, body } = await Promise.race([
      hooks.first('SYNC_UPDATES_AVAILABLE'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no webhook in 10 s')), 10_000)),
    ]);
    const jwt = headers['plaid-verification'];
    const [h, p, s] = jwt.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    assert.equal(header.alg, 'ES256');
    const key = (await plaid.webhookVerificationKeyGet({ key_id: header.kid })).data.key;
    const publicKey = crypto.createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, format: 'jwk' });
    const valid = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    assert.ok(valid, 'signature');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    assert.equal(claims.request_body_sha256, crypto.createHash('sha256').update(body).digest('hex'));
    assert.ok(Math.abs(Date.now() / 1000 - claims.iat) < 300, 'iat');
    const event = JSON.parse(body);
    assert.equal(event.webhook_code, 'SYNC_UPDATES_AVAILABLE');
    assert.equal(event.item_id, itemId);
  });
  await step('errors in Plaid\'s shape', async () => {
    await assert.rejects(plaid.accountsGet({ access_token: 'access-sandbox-00000000-0000-0000-0000-000000000000' }), (e) => {
      assert.equal(e.response.data.error_type, 'INVALID_INPUT');
      assert.equal(e.response.data.error_code, 'INVALID_ACCESS_TOKEN');
      assert.ok(e.response.data.request_id);
      return true;
    });
  });
  await step('a spec-driven operation answers (signalEvaluate)', async () => {
    const r = await plaid.signalEvaluate({ access_token: accessToken, account_id: accounts[0].account_id, client_transaction_id: 'tx-1', amount: 12.5 });
    assert.ok(r.data.request_id);
  });
  hooks.server.close();
  console.log(`node flow: ${added} transactions synced, webhook verified, all steps passed`);
})();
