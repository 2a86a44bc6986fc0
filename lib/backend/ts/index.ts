/**
 * The pure-TypeScript backend: plain loops over Float32Arrays, float64
 * arithmetic rounded on store. It is the readable reference every native
 * kernel is compared against, and the fallback where no native binary loads.
 * One file per kernel family under kernels/, named as on the native side
 * (native/kernels/ref/*.cc).
 */
import type { Backend } from '../backend.js';
import { checked } from '../checked.js';
import { binary, binaryBroadcast, unary, unaryBackward } from './kernels/elementwise.js';
import { gemm } from './kernels/gemm.js';
import { biasAct, biasActBackward } from './kernels/bias_act.js';
import { maxout, maxoutBackward } from './kernels/maxout.js';
import { argmax, copy, fill, transpose2d } from './kernels/layout.js';
import { optimStep, sgdStep } from './kernels/optim.js';
import { randNormal, randUniform } from './kernels/random.js';
import { reduce } from './kernels/reduce.js';
import { softmax, softmaxBackward } from './kernels/softmax.js';
import { mse, mseBackward, xentLabels, xentLabelsBackward, xentProbs, xentProbsBackward } from './kernels/xent.js';
import { dropout } from './kernels/dropout.js';
// normalisation
import { batchNormBackward, batchNormForward, batchNormStats, layerNormBackward, layerNormForward } from './kernels/norm.js';
// conv
import { conv2d, conv2dBackwardData, conv2dBackwardWeight } from './kernels/conv.js';
// pooling
import { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, adaptiveAvgPool2d, adaptiveAvgPool2dBackward } from './kernels/pool.js';
// --- #11 cells ---
import { rnnBackward, rnnForward } from './kernels/rnn.js';
// --- end #11 cells ---
// --- #11 natops ---
import { cumsum, gather, gatherBackward, indexSelect, indexSelectBackward, whereBroadcast } from './kernels/tensorops.js';
// --- end #11 natops ---
// --- #13 rawinfer ---
import { linearChain, linearForward } from './kernels/linear.js'; // linearChain: #13 infer
// --- end #13 rawinfer ---

/** The raw loops, unchecked (tests of the kernels themselves use this). */
export const tsKernels: Backend = {
  name: 'ts',
  unary,
  unaryBackward,
  binary,
  binaryBroadcast,
  reduce,
  softmax,
  softmaxBackward,
  xentLabels,
  xentLabelsBackward,
  xentProbs,
  xentProbsBackward,
  mse,
  mseBackward,
  transpose2d,
  argmax,
  fill,
  copy,
  randUniform,
  randNormal,
  gemm,
  biasAct,
  biasActBackward,
  maxout,
  maxoutBackward,
  sgdStep,
  optimStep,
  dropout,
  // normalisation
  batchNormStats,
  batchNormForward,
  batchNormBackward,
  layerNormForward,
  layerNormBackward,
 
  conv2d,
  conv2dBackwardData,
  conv2dBackwardWeight,
 
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  // --- #11 cells ---
  rnnForward,
  rnnBackward,
  // --- end #11 cells ---
  // --- #11 natops ---
  indexSelect,
  indexSelectBackward,
  gather,
  gatherBackward,
  cumsum,
  whereBroadcast,
  // --- end #11 natops ---
  // --- #13 rawinfer ---
  linearForward,
  // --- end #13 rawinfer ---
  // --- #13 infer ---
  linearChain,
  // --- end #13 infer ---
};

/** The TS backend as handed out: every kernel validates its arguments first (checked.ts). */
export const tsBackend: Backend = checked(tsKernels);
