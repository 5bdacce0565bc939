import react from "@vitejs/plugin-react";
import { resolve } from "node:path";
import { defineConfig, loadEnv, type Plugin, type ProxyOptions, type Rollup } from "vite";

// What GraphiQL's page may still import lazily: graphql-ws as @graphiql/toolkit imports it when
// given no WebSocket client (src/graphiql/main.tsx gives it one, so it never runs).
const NEVER_IMPORTED = /\/node_modules\/graphql-ws\//;

// GraphiQL's page loads everything it runs with the page (src/graphiql/main.tsx imports what its
// editors import() as they mount): a chunk its bundle imports lazily fails the build, so a new
// GraphiQL that imports another module on first use is seen here, not as a fetch failing late
// under load (issue 19).
function nothingLazyIn(entry: string): Plugin {
  return {
    name: "nothing-lazy-in-graphiql",
    generateBundle(_options, bundle: Rollup.OutputBundle) {
      const chunks = new Map<string, Rollup.OutputChunk>();
      for (const output of Object.values(bundle)) {
        if (output.type === "chunk") chunks.set(output.fileName, output);
      }
      const loaded = new Set<string>();
      const lazy = new Set<string>();
      const load = (chunk: Rollup.OutputChunk) => {
        if (loaded.has(chunk.fileName)) return;
        loaded.add(chunk.fileName);
        chunk.dynamicImports.forEach((file) => lazy.add(file));
        chunk.imports.forEach((file) => load(chunks.get(file)!));
      };
      [...chunks.values()].filter((c) => c.isEntry && c.name === entry).forEach(load);
      const late = [...lazy].filter(
        (file) =>
          !loaded.has(file) &&
          !(chunks.get(file)?.moduleIds ?? []).every((id) => NEVER_IMPORTED.test(id)),
      );
      if (late.length) {
        const modules = late.flatMap((file) => chunks.get(file)?.moduleIds ?? [file]);
        this.error(
          `GraphiQL's page would fetch ${late.join(", ")} after loading (${modules.join(", ")}): ` +
            "import those modules in src/graphiql/main.tsx",
        );
      }
    },
  };
}

// Two entries: the web app (index.html, served by the gateway at /) and GraphiQL
// (graphiql/index.html, served by the gateway on GET /graphql). Both are plain files in dist/:
// nothing is fetched from another host at run time.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), "");
  // `npm run dev` proxies the gateway's routes to GATEWAY_URL, so the browser sees one origin
  // (the session cookie and the gateway's same-origin checks work as in production).
  const gateway = env.GATEWAY_URL || "http://127.0.0.1:8000";
  const gatewayOrigin = new URL(gateway).origin;
  // The gateway checks a request's Origin against its own (a WebSocket with the cookie from
  // another origin is refused): through the proxy the page's requests are the gateway's own.
  const proxied: ProxyOptions = {
    target: gateway,
    changeOrigin: true,
    configure(proxy) {
      proxy.on("proxyReq", (request) => request.setHeader("origin", gatewayOrigin));
      proxy.on("proxyReqWs", (request) => request.setHeader("origin", gatewayOrigin));
    },
  };
  return {
    plugins: [react(), nothingLazyIn("graphiql")],
    build: {
      outDir: "dist",
      emptyOutDir: true,
      // The gateway answers hashed assets with `immutable`; index.html with `no-cache`.
      assetsDir: "assets",
      sourcemap: false,
      chunkSizeWarningLimit: 2048,
      rollupOptions: {
        input: {
          app: resolve(__dirname, "index.html"),
          graphiql: resolve(__dirname, "graphiql/index.html"),
        },
      },
    },
    server: {
      proxy: {
        "/graphql": { ...proxied, ws: true },
        "/config.json": proxied,
        "/api": proxied,
      },
    },
  };
});
