/** Target: fathom on its pure-TypeScript backend (the reference and the fallback; one thread). */
import { getBackendByName } from '../../dist/backend/index.js';
import { fathom, makeMlp, makeData, makeCnn, makeCnnData, trainStep, infer } from './fathom.js';

const ts = getBackendByName('ts');

export default {
  name: 'fathom-ts',
  unavailable: null,
  maxThreads: 1,
  threads: () => 1,
  activate() {
    fathom.setBackend('ts');
  },
  gemm(c, ops) {
    const { transA, transB, m, n, k } = c;
    const { a, b, c: out } = ops;
    return () => ts.gemm(transA, transB, m, n, k, 1, a, b, 0, out);
  },
  makeMlp,
  makeData,
  makeCnn,
  makeCnnData,
  trainStep,
  infer,
};
