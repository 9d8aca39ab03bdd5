/**
 * Builds the web UI into web/dist, which the server serves at `/`. `npm run dev:web` serves it
 * with hot reload and proxies the API (HTTP and WebSockets) to a running server at CHATD_URL, so
 * the session cookie stays same-origin in development too.
 */
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const apiTarget = process.env.CHATD_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    port: 5173,
    proxy: { "/api": { target: apiTarget, ws: true, changeOrigin: false } },
  },
});
