// The GraphQL client: urql over fetch for queries and mutations, graphql-ws for subscriptions.
// Both carry the gateway's httpOnly session cookie, never a token in script.
// A new client is made whenever the signed-in user changes: the cache holds nothing of the
// previous user, and the WebSocket reconnects with the new cookie (a cookie rides only on the
// socket's handshake).
//
// Queries and mutations go as Automatic Persisted Queries (docs/api.md PQ-1): the SHA-256 of the
// document's text first, the text with it only when the gateway answers PersistedQueryNotFound.
// The text hashed is @urql/core's stringifyDocument of the document, the same text the build's
// manifest (web/dist/persisted-operations.json, the allow-list of PQ-3) registers for every
// operation exported by a module of operations/, and the same text sent on a miss.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { CREDENTIALS, GRAPHQL_URL, GRAPHQL_WS_URL } from "./config";

// The document's SHA-256 by WebCrypto, which browsers give secure contexts only (https:,
// localhost). Elsewhere (plain HTTP on another host: the dev overlay's ingress) the operation goes
// by its text: the exchange's own fallback tries `new Function` (Node's crypto), which the pages'
// Content-Security-Policy forbids as eval (docs/security.md).
async function sha256(text: string): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export interface Connection {
  urql: Client;
  close(): void;
}

export function connect(): Connection {
  const ws: WsClient = createWsClient({
    url: GRAPHQL_WS_URL,
    lazy: true,
    // A dropped socket (a deploy, a laptop waking up) comes back, and so do its subscriptions.
    retryAttempts: Infinity,
    shouldRetry: () => true,
  });
  const urql = new Client({
    url: GRAPHQL_URL,
    fetchOptions: { credentials: CREDENTIALS, headers: { accept: "application/json" } },
    requestPolicy: "cache-and-network",
    // POST with a JSON body, never GET: the gateway refuses a GET operation carrying the session
    // cookie as a possible cross-site request (gateway/csrf.py).
    preferGetMethod: false,
    exchanges: [
      cacheExchange,
      persistedExchange({
        // POST for hashed queries too: a GET carrying the session cookie needs a preflight
        // header (CSRF guard), which a gateway on another origin would have to allow by CORS.
        preferGetForPersistedQueries: false,
        enableForMutation: true,
        // Subscriptions go over graphql-ws by text (registered operations may be sent by text).
        enableForSubscriptions: false,
        generateHash: sha256,
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const operation = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              return { unsubscribe: ws.subscribe(operation, sink) };
            },
          };
        },
      }),
    ],
  });
  return { urql, close: () => void ws.dispose() };
}
