import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The bank node serves dist/ at /; in `npm run dev -w @dpn/dashboard` the API is proxied to
// DPN_NODE_URL (default: a node on the CLI's default port).
const nodeUrl = process.env.DPN_NODE_URL ?? "http://127.0.0.1:7070";

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the bundle works wherever the node mounts it.
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Everything is bundled (React, d3-geo, the world outline, uPlot): no CDN at run time.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  // The device's Web Worker is an ES module: it loads snarkjs (≈ 1 MB) as a chunk of its own on
  // the first Groth16 task, which the default IIFE worker format cannot split.
  worker: { format: "es" },
  server: {
    proxy: { "/v1": nodeUrl, "/openapi.json": nodeUrl },
  },
});
