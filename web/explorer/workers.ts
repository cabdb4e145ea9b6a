/**
 * Where Monaco (GraphiQL's editor) finds its Web Workers: the scripts scripts/build-web.mjs
 * builds from the *.worker.ts files next to this one, served by this server. GraphiQL's own
 * setups load them from esm.sh or expect a Vite or webpack build; neither fits here.
 */
const base = '/assets/explorer';

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    const name = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new Worker(`${base}/${name}.worker.js`);
  },
};
