/** Peer: TensorFlow.js, `cpu` backend (pure JavaScript kernels). */
import { tfjsTarget } from './tfjs.js';

export default tfjsTarget('tfjs-cpu', 'cpu');
