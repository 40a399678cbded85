// The /transactions/sync loop with the official Node SDK (`plaid` on npm), as Plaid's docs
// write it. Usage: node sync_node.js <base-url>. Prints one JSON line.
const { Configuration, PlaidApi } = require('plaid');

const client = new PlaidApi(new Configuration({
  basePath: process.argv[2],
  baseOptions: { headers: { 'PLAID-CLIENT-ID': 'bench-client', 'PLAID-SECRET': 'bench-secret' } },
}));

(async () => {
  const start = process.hrtime.bigint();
  let cursor;
  let added = [];
  let pages = 0;
  let hasMore = true;
  while (hasMore) {
    const request = { access_token: 'access-sandbox-bench', count: 500 };
    if (cursor) request.cursor = cursor;
    const { data } = await client.transactionsSync(request);
    added = added.concat(data.added);
    hasMore = data.has_more;
    cursor = data.next_cursor;
    pages += 1;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ transactions: added.length, pages, seconds: Number(seconds.toFixed(4)) }));
})().catch((e) => { console.error(e.message); process.exit(1); });
