import { defineConfig } from "vite";

// The console is served by `openwatch serve` under /console/ (crates/ow-api/src/console.rs).
// Nothing is loaded from another origin: no CDN, no web fonts.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` proxies the API to a local `openwatch serve`.
    proxy: { "^/$": { target: "http://127.0.0.1:4566", changeOrigin: false } },
  },
});
