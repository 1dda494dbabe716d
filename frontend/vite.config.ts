import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The dashboard build. Served by the local runtime (frontend/dist at `/`) and,
 * deployed, by CloudFront from S3; both put the API at `/api` on the same origin.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill is for browsers without modulepreload; every supported browser has it.
    modulePreload: { polyfill: false },
    // The CSP forbids inline scripts; never inline assets as data: URLs either.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    // `vite --config frontend/vite.config.ts` during development proxies the API to a running `npm start`.
    proxy: { '/api': process.env.API_ORIGIN ?? 'http://127.0.0.1:3000' },
  },
});
