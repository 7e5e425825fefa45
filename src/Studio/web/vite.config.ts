import { defineConfig } from 'vite';

// No React plugin: esbuild's automatic JSX runtime is all the studio needs (no fast refresh in dev).
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../wwwroot',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:5080', '/openapi': 'http://127.0.0.1:5080' },
  },
});
