// Monaco's base worker (web/explorer/workers.ts starts it for editors of no other language).
import 'monaco-editor/esm/vs/editor/editor.worker.js';
