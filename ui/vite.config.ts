// Builds the UI into the control plane's package, so that a wheel of weir-controlplane
// carries it and `pip install` users need no Node.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../controlplane/weir_controlplane/ui_static",
    emptyOutDir: true,
    // Hashed names under /assets-static/ are cached for good; the path cannot collide
    // with the /assets/<key> pages of the UI or with /<service>/<method> API routes.
    assetsDir: "static",
    chunkSizeWarningLimit: 1500,
  },
});
