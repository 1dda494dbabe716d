import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * uPlot hangs every path builder and helper on the class as a static, so none
 * of them can be tree-shaken. The dashboard draws lines, bars and points only:
 * the stepped and spline builders, `uPlot.join` and `uPlot.tzDate` (the charts
 * use format.ts's zonedDate, which keeps its formatter) are unhooked here so the
 * minifier drops them (about 1.7 KB gzip). Using `uPlot.paths.stepped`,
 * `uPlot.paths.spline`, `uPlot.join` or `uPlot.tzDate` means deleting its
 * line(s) below. The build fails if uPlot's source no longer has a line this removes.
 */
const UPLOT_UNUSED = [
  /^\tuPlot\.join = join;$/m,
  /^\t\(paths\.stepped = stepped\);$/m,
  /^\t\(paths\.spline {2}= monotoneCubic\);$/m,
  /^\tuPlot\.tzDate {2}= tzDate;$/m,
  // Read by tzDate alone; an Intl call at import otherwise.
  /^const localTz = new Intl\.DateTimeFormat\(\)\.resolvedOptions\(\)\.timeZone;$/m,
];

/**
 * uPlot functions the dashboard never reaches, though uPlot refers to them:
 * the ranges, splits and tick filters of log and asinh scales (`distr` 3 and
 * 4; every scale here is linear or time) and the clipping of series bands (no
 * chart sets `bands`). Each is replaced by a stub that throws, so its body is
 * dropped (about 0.5 KB gzip) and a chart that starts using one fails loudly:
 * then delete its name here.
 */
const UPLOT_STUBBED = [
  'rangeLog',
  'rangeAsinh',
  'logAxisSplits',
  'asinhAxisSplits',
  'log10AxisValsFilt',
  'log2AxisValsFilt',
  'clipBandLine',
];

function trimUplot(): Plugin {
  return {
    name: 'dashboard:trim-uplot',
    apply: 'build',
    transform: {
      filter: { id: /uplot[\\/]dist[\\/]uPlot\.esm\.js$/ },
      handler(code) {
        let trimmed = code;
        for (const line of UPLOT_UNUSED) {
          if (!line.test(trimmed))
            this.error(`uPlot changed: ${line} not found; update trimUplot in vite.config.ts`);
          trimmed = trimmed.replace(line, '');
        }
        for (const name of UPLOT_STUBBED) {
          const declaration = new RegExp(`^function ${name}\\(`, 'm');
          if (!declaration.test(trimmed))
            this.error(`uPlot changed: function ${name} not found; update trimUplot in vite.config.ts`);
          // The original, renamed, is referenced by nothing and left out of the bundle.
          trimmed = trimmed.replace(
            declaration,
            `function ${name}() { return uplotTrimmed('${name}'); }\nfunction trimmed_${name}(`,
          );
        }
        const stub = `function uplotTrimmed(name) { throw new Error(\`uPlot \${name} is trimmed: see frontend/vite.config.ts\`); }`;
        return { code: `${trimmed}\n${stub}\n`, map: null };
      },
    },
  };
}

/**
 * Vite wraps every dynamic import in a preload helper (about 1 KB gzip) that
 * fetches the imported chunk's JS and CSS dependencies in parallel. Here all
 * CSS is one file loaded by index.html (cssCodeSplit off) and the lazy chunks
 * import only from the entry chunk, which is already loaded, so the helper
 * has nothing to do: it is replaced by a plain call of the import.
 */
function plainDynamicImport(): Plugin {
  return {
    name: 'dashboard:plain-dynamic-import',
    apply: 'build',
    transform: {
      filter: { id: /^\0vite\/preload-helper\.js$/ },
      handler() {
        return { code: 'export const __vitePreload = (load) => load();', map: null };
      },
    },
  };
}

/**
 * The dashboard build. Served by the local runtime (frontend/dist at `/`) and,
 * deployed, by CloudFront from S3; both put the API at `/api` on the same origin.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [preact(), trimUplot(), plainDynamicImport()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No preloading of lazy chunks' dependencies (see plainDynamicImport); no polyfill either.
    modulePreload: false,
    // One CSS file, linked from index.html: a lazy chunk never needs a stylesheet of its own.
    cssCodeSplit: false,
    // The CSP forbids inline scripts; never inline assets as data: URLs either.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    rolldownOptions: {
      output: {
        // Everything index.html loads at start in one chunk: split into several shared
        // chunks (as the lazy tabs would otherwise cause) it compresses worse (about 1 KB gzip).
        codeSplitting: { groups: [{ name: 'app', tags: ['$initial'] }] },
      },
    },
  },
  server: {
    // `vite --config frontend/vite.config.ts` during development proxies the API to a running `npm start`.
    proxy: { '/api': process.env.API_ORIGIN ?? 'http://127.0.0.1:3000' },
  },
});
