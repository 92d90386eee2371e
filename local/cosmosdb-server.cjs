#!/usr/bin/env node
// Launches @vercel/cosmosdb-server (the local stand-in for Cosmos DB) with two fixes. The first:
// in 1.0.1, a point read of an item that does not exist, with a partition key, dereferences
// `undefined` and answers 500 instead of Cosmos DB's 404. Real Cosmos DB and the official
// emulator answer 404, which the service relies on. The routes table captures handlers when it
// loads, so the wrapper is installed before the CLI (and with it the routes) is required.
"use strict";

const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");

const original = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return original(account, req, res, params);
  } catch (error) {
    if (error instanceof TypeError) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
    throw error;
  }
};

// The second: its transactional batch route reads each operation's partition key from the
// operation itself, which the SDKs never send (they send it once, in the request's
// x-ms-documentdb-partitionkey header), so a batch with a replace failed to parse "undefined".
// The route's body reader is wrapped to give each operation the request's partition key. The
// route still runs the operations in order and stops at the first failure WITHOUT undoing the
// earlier ones (Cosmos DB undoes them): the repository's batches are built so that this differs
// only in a case its roll-forward already handles (docs/storage.md).
const json = require("@vercel/cosmosdb-server/lib/json");

const readJson = json.default;
json.default = async (req) => {
  const body = await readJson(req);
  const partitionKey = req.headers["x-ms-documentdb-partitionkey"];
  if (req.headers["x-ms-cosmos-is-batch-request"] && Array.isArray(body) && partitionKey) {
    for (const operation of body) {
      if (operation && operation.partitionKey === undefined) {
        operation.partitionKey = partitionKey;
      }
    }
  }
  return body;
};

// The package's CLI serves every answer with `Connection: close`, so each SDK call opened a new
// TCP connection (urllib3's "Resetting dropped connection"); its library takes `keepAlive`, which
// the CLI never passes. Same options as the CLI (--no-ssl, --host, -p), served with keep-alive.
const { createHttpServer, createHttpsServer } = require("@vercel/cosmosdb-server");

const args = process.argv.slice(2);
const option = (...names) => {
  const index = args.findIndex((arg) => names.includes(arg));
  return index >= 0 ? args[index + 1] : undefined;
};
const create = args.includes("--no-ssl") ? createHttpServer : createHttpsServer;
const hostname = option("--host");
const server = create({ keepAlive: true });
// Node closes a keep-alive connection after 5 s idle by default. A client pool whose connections
// were all last used together reuses them together, and when that lands on the 5 s mark the
// close races the request: a suite run saw four such resets at once (ECONNRESET, a 503), not
// reproduced on demand. Idle connections are kept 30 s, under Node's 60 s headers timeout;
// urllib3 reconnects by itself to one closed while it was idle.
server.keepAliveTimeout = 30_000;
server.listen(parseInt(option("-p", "--port") || "0", 10), hostname, () => {
  const { port } = server.address();
  console.log(`Ready to accept HTTP${args.includes("--no-ssl") ? "" : "S"} connections at ${hostname}:${port}`);
});
