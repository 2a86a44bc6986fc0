/** Serving and training off the JS thread (issue #13): fitInWorker, tensors in shared memory. */
export { fitInWorker, WORKER_SCHEDULERS, type AbortSignalLike, type FitInWorkerOptions, type FitInWorkerResult, type LRSchedulerSpec, type LRSchedulerType, type WorkerBatchLogs, type WorkerMetricSpec } from './fit.js';
export { shareMemory, isShared } from './share.js';
export { InferencePool, predictAsync, type InferencePoolOptions, type PoolPredictOptions } from './pool.js';
export { BatchingPredictor, type BatchingPredictorOptions, type BatchPredictOptions, type BatchingStats } from './batching.js';
// --- #13 api ---
export { closeWorkers, getMaxPredictWorkers, setMaxPredictWorkers, type PredictAsyncOptions } from './snapshot.js';
// --- end #13 api ---
