/** Peer: TensorFlow.js, `wasm` backend (XNNPACK, WebAssembly SIMD; .wasm files from node_modules). */
import { tfjsTarget, loadWasm } from './tfjs.js';

export default tfjsTarget('tfjs-wasm', 'wasm', async () => (await loadWasm()).error);
