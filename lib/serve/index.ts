/** Serving and training off the JS thread (issue #13): fitInWorker, tensors in shared memory. */
export { fitInWorker, WORKER_SCHEDULERS, type AbortSignalLike, type FitInWorkerOptions, type FitInWorkerResult, type LRSchedulerSpec, type LRSchedulerType, type WorkerBatchLogs, type WorkerMetricSpec } from './fit.js';
export { shareMemory, isShared } from './share.js';
