// Optimizers: one fused update over the flat parameter arena per step, with PyTorch's update rules.
// Their state lives in arenas of the parameters' layout, named as torch.optim names them.
import type { Backend, FloatSpan } from '../backend/types.js';
import { Span } from '../backend/types.js';
import type { OptimizerName, TrainConfig } from './config.js';

export type OptimizerOptions = Pick<
  TrainConfig,
  'optimizer' | 'momentum' | 'nesterov' | 'weightDecay' | 'alpha' | 'beta1' | 'beta2' | 'eps'
>;

/** PyTorch's default epsilon of each optimizer. */
export const DEFAULT_EPS: Record<OptimizerName, number> = {
  sgd: 0,
  adagrad: 1e-10,
  rmsprop: 1e-8,
  adam: 1e-8,
  adamw: 1e-8,
};

function stateNames(o: OptimizerOptions): string[] {
  switch (o.optimizer) {
    case 'sgd':
      return o.momentum > 0 ? ['momentum_buffer'] : [];
    case 'adagrad':
      return ['sum'];
    case 'rmsprop':
      return ['square_avg'];
    case 'adam':
    case 'adamw':
      return ['exp_avg', 'exp_avg_sq'];
  }
}

export class Optimizer {
  /** Updates done so far (Adam's t, momentum's "first step"). */
  stepCount = 0;
  /** State buffers by torch.optim name, each laid out like the parameters. */
  readonly state: Map<string, FloatSpan>;

  constructor(
    private readonly backend: Backend,
    readonly options: OptimizerOptions,
    parameterCount: number,
  ) {
    this.state = new Map(stateNames(options).map((name) => [name, Span.of(backend.allocFloat(parameterCount))]));
  }

  /** Frees the state buffers; the optimizer is unusable afterwards. */
  dispose(): void {
    for (const span of this.state.values()) this.backend.free?.(span.buf);
  }

  private buffer(name: string): FloatSpan {
    return this.state.get(name)!;
  }

  step(params: FloatSpan, grads: FloatSpan, lr: number): void {
    const o = this.options,
      backend = this.backend;
    const eps = o.eps ?? DEFAULT_EPS[o.optimizer];
    const weightDecay = o.weightDecay ?? (o.optimizer === 'adamw' ? 0.01 : 0);
    this.stepCount++;
    switch (o.optimizer) {
      case 'sgd':
        if (o.momentum > 0)
          backend.momentumUpdate(
            params,
            grads,
            this.buffer('momentum_buffer'),
            lr,
            o.momentum,
            0,
            o.nesterov,
            weightDecay,
            this.stepCount === 1,
          );
        else backend.sgdUpdate(params, grads, lr, weightDecay);
        break;
      case 'adagrad':
        backend.adagradUpdate(params, grads, this.buffer('sum'), lr, eps, weightDecay);
        break;
      case 'rmsprop':
        backend.rmspropUpdate(params, grads, this.buffer('square_avg'), lr, o.alpha, eps, weightDecay);
        break;
      case 'adam':
      case 'adamw':
        backend.adamUpdate(
          params,
          grads,
          this.buffer('exp_avg'),
          this.buffer('exp_avg_sq'),
          lr,
          o.beta1,
          o.beta2,
          eps,
          weightDecay,
          o.optimizer === 'adamw',
          this.stepCount,
        );
        break;
    }
  }
}

/**
 * Clips by value (each element to ±clipValue), then by global norm (scale all when the norm exceeds
 * clipNorm, as torch.nn.utils.clip_grad_norm_); 0 turns either off. Returns the global norm before any
 * clipping (NaN or Infinity when the gradient is not finite).
 */
export function clipGradients(backend: Backend, grads: FloatSpan, clipValue: number, clipNorm: number): number {
  const norm = Math.sqrt(backend.sumSquares(grads));
  if (clipValue > 0) backend.clipValue(grads, clipValue);
  if (clipNorm > 0) {
    const clippedNorm = clipValue > 0 ? Math.sqrt(backend.sumSquares(grads)) : norm;
    const coefficient = clipNorm / (clippedNorm + 1e-6);
    if (coefficient < 1) backend.scale(grads, coefficient);
  }
  return norm;
}
