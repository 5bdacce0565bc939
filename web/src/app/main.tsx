import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadRuntimeConfig } from "./config";
import "./styles.css";
import "./events.css";

async function start(root: HTMLElement) {
  const config = await loadRuntimeConfig();
  createRoot(root).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
}

const root = document.getElementById("root");
if (root) void start(root);
