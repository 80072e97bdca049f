import { defineConfig } from 'vite';

// Preact's JSX through esbuild, no plugin. The server sends a strict CSP
// (script-src 'self', style-src 'self'): Vite's output has no inline script or style.
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` forwards the API to a local `reftrack serve`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
