import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // NO_MINIFY=1 builds readable code for profiling (scripts/bench/pwa-streaming.ts with BENCH_PROFILE=1).
    minify: !process.env.NO_MINIFY,
    // No inline <script>/<style> and no data: modules: the daemon's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  plugins: [
    preact(),
    {
      // The stylesheet first: it is what the first paint (the app shell in index.html) waits for, so
      // it is requested before the scripts that share the phone's bandwidth with it.
      name: 'errand-stylesheet-first',
      enforce: 'post',
      transformIndexHtml: {
        order: 'post',
        handler(html: string) {
          const css = html.match(/\s*<link rel="stylesheet"[^>]*>/);
          if (!css) return html;
          const rest = html.replace(css[0], '');
          const at = rest.search(/\s*<script type="module"/);
          return at < 0 ? html : `${rest.slice(0, at)}${css[0]}${rest.slice(at)}`;
        },
      },
    },
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectRegister: false,
      registerType: 'prompt',
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        maximumFileSizeToCacheInBytes: 1024 * 1024,
      },
      manifest: {
        id: '/',
        name: 'Errand',
        short_name: 'Errand',
        description: "The remote for your desktop's AI agent.",
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#1f3a8a',
        background_color: '#111827',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
});
