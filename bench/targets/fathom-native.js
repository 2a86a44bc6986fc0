/** Target: fathom on its native addon (C++ SIMD kernels, thread pool). */
import { nativeBinding } from '../../dist/backend/index.js';
import { fathom, makeMlp, makeData, makeCnn, makeCnnData, trainStep, infer } from './fathom.js';

const binding = nativeBinding();

export default {
  name: 'fathom-native',
  /** null when usable, else why not. */
  unavailable: binding ? null : `native addon did not load: ${fathom.info().nativeError ?? 'unknown'}`,
  /** Threads the pool can use (the "all threads" column). */
  maxThreads: binding ? binding.info().maxThreads : 1,
  threads: () => binding.info().threads,
  setThreads(n) {
    return binding.setNumThreads(n);
  },
  activate() {
    fathom.setBackend('native');
  },
  /** A closure that runs one GEMM on prepared operands through the raw addon. */
  gemm(c, ops) {
    const { transA, transB, m, n, k } = c;
    const { a, b, c: out } = ops;
    return () => binding.gemm(transA, transB, m, n, k, 1, a, b, 0, out);
  },
  makeMlp,
  makeData,
  makeCnn,
  makeCnnData,
  trainStep,
  infer,
};
