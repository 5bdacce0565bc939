import react from "@vitejs/plugin-react";
import { resolve } from "node:path";
import { defineConfig, loadEnv, type ProxyOptions } from "vite";

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
    plugins: [react()],
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
