#!/usr/bin/env node
// Launches @vercel/cosmosdb-server (the local stand-in for Cosmos DB) with one fix:
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

require("@vercel/cosmosdb-server/lib/cli");
