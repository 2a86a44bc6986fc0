/**
 * bench/rnn-kernels.js — the recurrent bench model's training step (cases.RNN: one LSTM or GRU
 * layer, last step → dense 10, softmax cross-entropy, SGD) as raw Backend kernel calls
 * (lib/backend/backend.ts) at exactly its shapes: what the step costs with no autograd at all.
 * rnn.js times each group alone and all back to back, in alternation with the whole step, and
 * sets them against it; step − back to back = autograd / JS overhead.
 *
 * Groups (the `family` of each entry):
 *   projection   x W_ihᵀ + b_ih for all N·T rows: one GEMM + the bias epilogue
 *   recurrence → rnnForward (per-step products with W_hh, gates, state; workspace kept)
 *   dense + loss the last h → logits (GEMM + bias), softmax cross-entropy and its backward, the dense layer's
 *                dW, db and dh GEMMs
 *   recurrence ← rnnBackward (per-step gate derivatives and dh products, then dW_hh as one GEMM
 *                over all N·T rows and db_hh); the dW_hh GEMM is also timed alone (`part of`)
 *   dW_ih        dxProjᵀ x (one GEMM over N·T rows) and db_ih (a column sum)
 *   SGD          one sgdStep per parameter (6)
 * The input needs no gradient (no dx GEMM), as in the public step.
 */
import { RNN, rnnGates, rnnForwardFlops } from './cases.js';

function filled(len, seed, scale = 1) {
  const a = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = scale * (s / 2147483648 - 1);
  }
  return a;
}

/** [{ id, label, family, flops, fn, partOf? }] of one step at batch n on backend `be`, in execution order. */
export function rnnStepKernels(be, mode = 'lstm', n = RNN.trainBatch) {
  const { input: I, hidden: H, steps: T, classes: C } = RNN;
  const G = rnnGates(mode), GH = G * H, NT = n * T;
  const f = rnnForwardFlops(mode);
  const lstm = mode === 'lstm';
  const k = 1 / Math.sqrt(H);
  const x = filled(NT * I, 1), wIh = filled(GH * I, 2, k), bIh = filled(GH, 3, k), wHh = filled(GH * H, 4, k), bHh = filled(GH, 5, k);
  const wOut = filled(C * H, 6, k), bOut = filled(C, 7, k);
  const xp = new Float32Array(NT * GH), h0 = new Float32Array(n * H), c0 = lstm ? new Float32Array(n * H) : null;
  const out = new Float32Array(NT * H), hN = new Float32Array(n * H), cN = lstm ? new Float32Array(n * H) : null;
  const g = { mode, n, t: T, h: H, lengths: null, reverse: false };
  const ws = new Float32Array(n * T * H * (1 + G + 1));
  const logits = new Float32Array(n * C), prob = new Float32Array(n * C), dlogits = new Float32Array(n * C);
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  const dwOut = new Float32Array(C * H), dbOut = new Float32Array(C), dhN = new Float32Array(n * H);
  const dOut = new Float32Array(NT * H), dcN = lstm ? new Float32Array(n * H) : null;
  const dxp = new Float32Array(NT * GH), dh0 = new Float32Array(n * H), dc0 = lstm ? new Float32Array(n * H) : null;
  const dwHh = new Float32Array(GH * H), dbHh = new Float32Array(GH), dwIh = new Float32Array(GH * I), dbIh = new Float32Array(GH);
  const params = [[wIh, dwIh], [wHh, dwHh], [bIh, dbIh], [bHh, dbHh], [wOut, dwOut], [bOut, dbOut]];
  const vs = params.map(([w]) => new Float32Array(w.length));
  const sgd = { lr: RNN.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };
  // Run the forward once so the backward's workspace holds real gates.
  be.gemm(false, true, NT, GH, I, 1, x, wIh, 0, xp);
  be.biasAct(NT, GH, xp, bIh, 'none');
  be.rnnForward(g, xp, h0, c0, wHh, bHh, out, hN, cN, ws);
  const hprev = ws.subarray(0, NT * H);
  const dwTmp = new Float32Array(GH * H);
  const proj = `${NT}×${I} · ${I}×${GH}`;
  return [
    { id: 'proj', family: 'projection', label: `input projection GEMM ${proj} + b_ih`, flops: n * f.projection,
      fn: () => { be.gemm(false, true, NT, GH, I, 1, x, wIh, 0, xp); be.biasAct(NT, GH, xp, bIh, 'none'); } },
    { id: 'rfwd', family: 'recurrence →', label: `rnnForward (${T} steps of ${n}×${H} · ${H}×${GH}, gates)`, flops: n * f.recurrence,
      fn: () => be.rnnForward(g, xp, h0, c0, wHh, bHh, out, hN, cN, ws) },
    { id: 'dense', family: 'dense + loss', label: `dense ${H}→${C}, softmax cross-entropy, their backward`, flops: 3 * n * f.dense,
      fn: () => {
        be.gemm(false, true, n, C, H, 1, hN, wOut, 0, logits);
        be.biasAct(n, C, logits, bOut, 'none');
        be.xentLabels(n, C, logits, labels, prob);
        be.xentLabelsBackward(n, C, prob, labels, 1 / n, dlogits);
        be.gemm(true, false, C, H, n, 1, dlogits, hN, 0, dwOut);
        be.biasActBackward(n, C, logits, dlogits, dlogits, dbOut, 'none');
        be.gemm(false, false, n, H, C, 1, dlogits, wOut, 0, dhN);
      } },
    { id: 'rbwd', family: 'recurrence ←', label: `rnnBackward (${T} steps: gates + ${n}×${GH} · ${GH}×${H}; dW_hh, db_hh)`, flops: 2 * n * f.recurrence,
      fn: () => be.rnnBackward(g, wHh, ws, c0, dOut, dhN, dcN, dxp, dh0, dc0, dwHh, dbHh) },
    { id: 'dwhh', family: 'recurrence ←', partOf: 'rbwd', label: `of which dW_hh GEMM ${GH}×${NT} · ${NT}×${H}`, flops: n * f.recurrence,
      fn: () => be.gemm(true, false, GH, H, NT, 1, dxp, hprev, 0, dwTmp) },
    { id: 'dwih', family: 'dW_ih', label: `dW_ih GEMM ${GH}×${NT} · ${NT}×${I} + db_ih`, flops: n * f.projection,
      fn: () => { be.gemm(true, false, GH, I, NT, 1, dxp, x, 0, dwIh); be.biasActBackward(NT, GH, xp, dxp, dxp, dbIh, 'none'); } },
    { id: 'sgd', family: 'SGD', label: 'sgdStep × 6 parameters', flops: null,
      fn: () => params.forEach(([w, gr], j) => be.sgdStep(w, gr, vs[j], sgd, false)) },
  ];
}
