/**
 * The bench CNN's training step as raw Backend kernel calls (lib/backend/backend.ts), at exactly
 * the net's shapes: what the step would cost if it were nothing but its kernels. cnn.js times each
 * one and sets the sum against the measured step; the rest is autograd / JS overhead (the tape,
 * tensor allocation and zero-fill, argument checks, zeroGrad).
 *
 * The list mirrors what the public step does today: conv2d with its bias in the kernel epilogue,
 * ReLU as its own unary kernel after a conv (after a Linear it is fused into biasAct), the conv
 * bias gradient as a reduce, dx of conv1 skipped (the input needs no gradient), one sgdStep per
 * parameter. If Sequential fuses Conv2d + ReLU, the two ReLU rows move into the conv epilogue and
 * its backward (biasActBackward over the conv output): about the same memory traffic.
 * The layer sizes come from cases.cnnLayers(), not from literals.
 */
import { cnnLayers, CNN } from './cases.js';

/** Deterministic fill in [-1, 1) (values only matter for max-pool ties and ReLU signs). */
function filled(len, seed) {
  const a = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

const prod = (s) => s.reduce((a, b) => a * b, 1);

/**
 * Kernel calls of one training step at batch n on backend `be`: [{ id, label, family, phase, fn }]
 * in execution order (forward, then backward, then the optimizer), with `flops` (2 × multiply-adds,
 * null for memory-bound kernels). Every fn runs one kernel call (SGD: one per parameter) on
 * buffers allocated here, once; values are fixed pseudo-random, so ReLU and pooling branch as on data.
 */
export function cnnStepKernels(be, n = CNN.trainBatch) {
  const layers = cnnLayers();
  const list = [];
  // flops: the kernel's multiply-adds × 2 (null for the memory-bound ones)
  const add = (phase, family, id, label, fn, flops = null) => list.push({ phase, family, id, label, fn, flops });
  const bwd = []; // backward calls: each layer's block put in front of the previous layer's
  const params = [];
  let seed = 1;
  let nConv = 0, nPool = 0, nLin = 0;
  let x = filled(n * prod(CNN.input), seed++); // the activation entering the current layer
  let dx = null; // its gradient buffer (null: the input, no gradient needed)
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const layerBwd = [];
    const size = n * prod(l.outShape);
    if (l.type === 'conv') {
      const k = ++nConv;
      const [c, h, w] = l.inShape;
      const [o, oh, ow] = l.outShape;
      const g = { n, c, h, w, o, kh: l.k, kw: l.k, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, oh, ow };
      const wt = filled(o * c * l.k * l.k, seed++), b = filled(o, seed++);
      const y = new Float32Array(size), dy = filled(size, seed++);
      const dw = new Float32Array(wt.length), db = new Float32Array(o);
      params.push([wt, dw], [b, db]);
      const xin = x, dxin = dx;
      const shape = `${n}×${c}×${h}×${w} * ${o}×${c}×${l.k}×${l.k}`;
      const f = n * l.flops; // forward, data gradient and weight gradient: the same multiply-adds
      add('forward', 'conv2d', `conv${k}`, `conv${k} conv2d (+ bias) ${shape}`, () => be.conv2d(g, xin, wt, b, 'none', y), f);
      if (dxin) layerBwd.push(['conv2dBackwardData', `conv${k}.dx`, `conv${k} conv2dBackwardData → ${n}×${c}×${h}×${w}`, () => be.conv2dBackwardData(g, dy, wt, dxin), f]);
      layerBwd.push(['conv2dBackwardWeight', `conv${k}.dw`, `conv${k} conv2dBackwardWeight → ${o}×${c}×${l.k}×${l.k}`, () => be.conv2dBackwardWeight(g, xin, dy, dw), f]);
      layerBwd.push(['conv bias grad', `conv${k}.db`, `conv${k} bias grad (reduce sum over N, H, W)`, () => be.reduce('sum', [n, o, oh * ow], dy, [0, 1, 0], db)]);
      x = y;
      dx = dy;
    } else if (l.type === 'relu' && layers[i - 1].type === 'conv') {
      const y = new Float32Array(size), dy = filled(size, seed++);
      const xin = x, dxin = dx;
      add('forward', 'ReLU', `relu${nConv}`, `relu (after conv${nConv}) ${n}×${l.outShape.join('×')}`, () => be.unary('relu', xin, y, 0, 0));
      layerBwd.push(['ReLU', `relu${nConv}.dx`, `relu (after conv${nConv}) backward`, () => be.unaryBackward('relu', xin, y, dy, dxin, 0, 0)]);
      x = y;
      dx = dy;
    } else if (l.type === 'pool') {
      const k = ++nPool;
      const [c, h, w] = l.inShape;
      const [, oh, ow] = l.outShape;
      const g = { nc: n * c, h, w, oh, ow, kh: l.k, kw: l.k, sh: l.k, sw: l.k, ph: 0, pw: 0, dh: 1, dw: 1 };
      const y = new Float32Array(size), dy = filled(size, seed++);
      const xin = x, dxin = dx;
      add('forward', 'maxPool2d', `pool${k}`, `pool${k} maxPool2d ${n}×${c}×${h}×${w} → ${oh}×${ow}`, () => be.maxPool2d(g, xin, y));
      layerBwd.push(['maxPool2d', `pool${k}.dx`, `pool${k} maxPool2dBackward`, () => be.maxPool2dBackward(g, xin, dy, dxin)]);
      x = y;
      dx = dy;
    } else if (l.type === 'linear') {
      const k = ++nLin;
      const inF = l.inShape[0], out = l.out;
      const act = layers[i + 1]?.type === 'relu' ? 'relu' : 'none';
      const wt = filled(out * inF, seed++), b = filled(out, seed++);
      const y = new Float32Array(size), dy = filled(size, seed++), dz = new Float32Array(size);
      const dw = new Float32Array(wt.length), db = new Float32Array(out);
      params.push([wt, dw], [b, db]);
      const xin = x, dxin = dx;
      const f = n * l.flops;
      add('forward', 'linear GEMM', `fc${k}.gemm`, `fc${k} GEMM X·Wᵀ ${n}×${out}×${inF}`, () => be.gemm(false, true, n, out, inF, 1, xin, wt, 0, y), f);
      add('forward', 'linear epilogue', `fc${k}.act`, `fc${k} biasAct (bias${act === 'relu' ? ' + ReLU' : ''})`, () => be.biasAct(n, out, y, b, act));
      layerBwd.push(['linear epilogue', `fc${k}.dz`, `fc${k} biasActBackward (${act === 'relu' ? 'ReLU′, ' : ''}bias grad)`, () => be.biasActBackward(n, out, y, dy, dz, db, act)]);
      if (dxin) layerBwd.push(['linear GEMM', `fc${k}.dx`, `fc${k} GEMM dX = dZ·W ${n}×${inF}×${out}`, () => be.gemm(false, false, n, inF, out, 1, dz, wt, 0, dxin), f]);
      layerBwd.push(['linear GEMM', `fc${k}.dw`, `fc${k} GEMM dW = dZᵀ·X ${out}×${inF}×${n}`, () => be.gemm(true, false, out, inF, n, 1, dz, xin, 0, dw), f]);
      x = y;
      dx = dy;
      if (act === 'relu') i++; // the ReLU is fused into the epilogue
    } else if (l.type !== 'flatten') {
      throw new Error(`cnnStepKernels: unexpected layer '${l.type}' at ${i}`);
    }
    bwd.unshift(...layerBwd.map(([family, id, label, fn, flops = null]) => ({ phase: 'backward', family, id, label, fn, flops })));
  }
  // Loss: softmax cross-entropy from the logits x [n, classes] with integer labels.
  const d = CNN.classes;
  const labels = Int32Array.from({ length: n }, (_, r) => r % d);
  const prob = new Float32Array(n * d);
  const logits = x, dlogits = dx;
  add('forward', 'softmax-CE', 'xent', `softmax cross-entropy ${n}×${d}`, () => be.xentLabels(n, d, logits, labels, prob));
  add('backward', 'softmax-CE', 'xent.dx', 'softmax cross-entropy backward', () => be.xentLabelsBackward(n, d, prob, labels, 1, dlogits));
  for (const b of bwd) list.push(b); // last layer first, each layer's calls in the order autograd makes them
  const sgd = { lr: CNN.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };
  const nParams = params.reduce((a, [w]) => a + w.length, 0);
  const vs = params.map(([w]) => new Float32Array(w.length));
  add('optimizer', 'SGD', 'sgd', `SGD step, ${params.length} parameters (${nParams.toLocaleString('en-US')} values)`,
    () => params.forEach(([w, g], j) => be.sgdStep(w, g, vs[j], sgd, false)));
  return list;
}
