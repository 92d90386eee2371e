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
const server = create({ keepAlive: true }).listen(parseInt(option("-p", "--port") || "0", 10), hostname, () => {
  const { port } = server.address();
  console.log(`Ready to accept HTTP${args.includes("--no-ssl") ? "" : "S"} connections at ${hostname}:${port}`);
});
