// GraphiQL as the gateway serves it on GET /graphql: every script, style and font comes from
// this build (the gateway's /assets/), nothing from another host. Requests go to the page's
// own URL with the session cookie (same-origin), subscriptions over graphql-ws on the same path.

// GraphiQL's editors import CodeMirror and these addons with import() as they mount (@graphiql/
// react's editor/*.js). Imported here, they are part of this page's own bundle and every such
// import() resolves with no request: nothing is fetched after the page has loaded. Fetched
// lazily, under load one of them failed mid-test ("Failed to fetch dynamically imported module
// .../lint-*.js", issue 19). vite.config.ts fails the build if GraphiQL's bundle is left with a
// chunk it imports lazily; tests/browser/test_graphiql.py checks that nothing is fetched late.
import "codemirror";
import "codemirror/addon/comment/comment.js";
import "codemirror/addon/dialog/dialog.js";
import "codemirror/addon/edit/closebrackets.js";
import "codemirror/addon/edit/matchbrackets.js";
import "codemirror/addon/fold/brace-fold.js";
import "codemirror/addon/fold/foldgutter.js";
import "codemirror/addon/hint/show-hint.js";
import "codemirror/addon/lint/lint.js";
import "codemirror/addon/search/jump-to-line.js";
import "codemirror/addon/search/search.js";
import "codemirror/addon/search/searchcursor.js";
import "codemirror/keymap/sublime.js";
import "codemirror/mode/javascript/javascript.js";
import "codemirror-graphql/esm/hint.js";
import "codemirror-graphql/esm/info.js";
import "codemirror-graphql/esm/jump.js";
import "codemirror-graphql/esm/lint.js";
import "codemirror-graphql/esm/mode.js";
import "codemirror-graphql/esm/results/mode.js";
import "codemirror-graphql/esm/utils/info-addon.js";
import "codemirror-graphql/esm/variables/hint.js";
import "codemirror-graphql/esm/variables/lint.js";
import "codemirror-graphql/esm/variables/mode.js";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import "@graphiql/plugin-explorer/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./graphiql.css";

const DEFAULT_QUERY = `# The ticketing gateway. Ctrl-Enter runs the query.
# After the signUp or signIn mutation, the session
# cookie signs in every request from this page.
# Ids are opaque global ids; prices are Money.

query Tickets {
  tickets(first: 10) {
    nodes {
      id
      title
      price { amount currencyCode }
      state
      seller { id }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

const endpoint = new URL(window.location.pathname, window.location.origin);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

const fetcher = createGraphiQLFetcher({
  url: endpoint.toString(),
  fetch: (input, init) => fetch(input, { ...init, credentials: "same-origin" }),
  // The browser sends the session cookie with the WebSocket handshake (same origin).
  wsClient: createClient({ url: socket.toString(), lazy: true }),
});

const explorer = explorerPlugin();
// `?q=...` opens GraphiQL on that document (a link to share). Not `query`: GET /graphql?query=
// is a GraphQL request, answered with JSON.
const shared = new URLSearchParams(window.location.search).get("q") ?? undefined;

const root = document.getElementById("graphiql");
if (root) {
  root.textContent = "";
  createRoot(root).render(
    <StrictMode>
      <GraphiQL
        fetcher={fetcher}
        defaultQuery={DEFAULT_QUERY}
        query={shared}
        plugins={[explorer]}
        defaultEditorToolsVisibility
        isHeadersEditorEnabled
        inputValueDeprecation
      />
    </StrictMode>,
  );
}
